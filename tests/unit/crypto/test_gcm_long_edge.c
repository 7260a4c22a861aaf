/*
 * Long-IV AES-GCM edges: the GF(2^128) multiply against a second, bytewise
 * implementation; the inc32 counter wrap from a chosen J0 against a reference
 * built here from AES-ECB and that multiply; and CKM_AES_GCM's limits and
 * size queries for IVs of 129..256 bytes (0 and 257 refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/gcm_ghash.h"
#include "crypto/gcm_long.h"
#include "suites.h"

static uint64_t g_rng = 0x243f6a8885a308d3u;
static void rnd_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_rng ^= g_rng >> 12, g_rng ^= g_rng << 25, g_rng ^= g_rng >> 27;
        p[i] = (uint8_t)((g_rng * 0x2545f4914f6cdd1dULL) >> 56);
    }
}

/* SP 800-38D Algorithm 1 on bytes, written independently of gcm_ghash.c's 64-bit one. */
static void ref_mul(const uint8_t x[16], const uint8_t y[16], uint8_t z[16])
{
    uint8_t v[16], r[16] = {0};
    memcpy(v, y, 16);
    for (int i = 0; i < 128; i++) {
        if (x[i / 8] & (0x80 >> (i % 8)))
            for (int k = 0; k < 16; k++)
                r[k] ^= v[k];
        int lsb = v[15] & 1;
        for (int k = 15; k > 0; k--)
            v[k] = (uint8_t)((v[k] >> 1) | (v[k - 1] << 7));
        v[0] >>= 1;
        if (lsb)
            v[0] ^= 0xe1;
    }
    memcpy(z, r, 16);
}

/* y = (y XOR block) * H for each zero-padded 16-byte block of p. */
static void ref_ghash(uint8_t y[16], const uint8_t h[16], const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 16) {
        uint8_t b[16] = {0};
        memcpy(b, p + off, n - off < 16 ? n - off : 16);
        for (int k = 0; k < 16; k++)
            b[k] ^= y[k];
        ref_mul(b, h, y);
    }
}

static void test_gcm_gf_mul(void **state)
{
    uint8_t x[16], y[16], want[16], got[16], one[16] = {0x80};
    (void)state;
    for (int i = 0; i < 200; i++) {
        rnd_fill(x, 16), rnd_fill(y, 16);
        ref_mul(x, y, want);
        chsm_gcm_gf_mul(x, y, got);
        assert_memory_equal(got, want, 16);
        chsm_gcm_gf_mul(y, x, got); /* commutative */
        assert_memory_equal(got, want, 16);
    }
    chsm_gcm_gf_mul(x, one, got); /* 0x80 00.. is the field's 1 in GCM bit order */
    assert_memory_equal(got, x, 16);
}

static void ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    assert_int_equal(EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL), 1);
    assert_int_equal(EVP_EncryptUpdate(x, out, &n, in, 16), 1);
    assert_int_equal(n, 16);
    EVP_CIPHER_CTX_free(x);
}

/* Reference GCM from a given J0 (SP 800-38D 7.1 steps 3-6) with inc32 done by hand. */
static void ref_seal(const uint8_t key[16], const uint8_t j0[16], const uint8_t *aad, size_t al, const uint8_t *msg,
                     size_t ml, uint8_t *out)
{
    uint8_t h[16], zero[16] = {0}, cb[16], ks[16], y[16] = {0}, lens[16] = {0};
    uint32_t ctr = (uint32_t)j0[12] << 24 | (uint32_t)j0[13] << 16 | (uint32_t)j0[14] << 8 | j0[15];
    ecb(key, zero, h);
    memcpy(cb, j0, 16);
    for (size_t off = 0; off < ml; off += 16) {
        ctr++; /* wraps modulo 2^32: only the low 32 bits of the block change */
        cb[12] = (uint8_t)(ctr >> 24), cb[13] = (uint8_t)(ctr >> 16), cb[14] = (uint8_t)(ctr >> 8), cb[15] = (uint8_t)ctr;
        ecb(key, cb, ks);
        for (size_t i = off; i < ml && i < off + 16; i++)
            out[i] = msg[i] ^ ks[i - off];
    }
    ref_ghash(y, h, aad, al);
    ref_ghash(y, h, out, ml);
    lens[7] = (uint8_t)(al * 8), lens[6] = (uint8_t)(al * 8 >> 8);
    lens[15] = (uint8_t)(ml * 8), lens[14] = (uint8_t)(ml * 8 >> 8);
    ref_ghash(y, h, lens, 16);
    ecb(key, j0, ks);
    for (int k = 0; k < 16; k++)
        out[ml + (size_t)k] = y[k] ^ ks[k];
}

static void wrap_case(uint32_t low)
{
    uint8_t key[16], j0[16], aad[5], msg[70], want[86], got[86], back[70];
    struct chsm_gcm_long *g = NULL;
    rnd_fill(key, 16), rnd_fill(j0, 12), rnd_fill(aad, 5), rnd_fill(msg, 70);
    j0[12] = (uint8_t)(low >> 24), j0[13] = (uint8_t)(low >> 16), j0[14] = (uint8_t)(low >> 8), j0[15] = (uint8_t)low;
    ref_seal(key, j0, aad, 5, msg, 70, want);
    /* Pieces that straddle the wrap point mid-block. */
    assert_int_equal(chsm_gcm_long_new_j0(key, 16, j0, aad, 5, &g), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, msg, 7, got), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, msg + 7, 30, got + 7), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, msg + 37, 33, got + 37), CKR_OK);
    assert_int_equal(chsm_gcm_long_tag(g, got + 70, 16), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, msg, 1, back), CKR_OPERATION_NOT_INITIALIZED); /* one message per context */
    assert_int_equal(chsm_gcm_long_tag(g, back, 16), CKR_OPERATION_NOT_INITIALIZED);
    chsm_gcm_long_free(g);
    assert_memory_equal(got, want, sizeof(want));
    assert_int_equal(chsm_gcm_long_new_j0(key, 16, j0, aad, 5, &g), CKR_OK);
    assert_int_equal(chsm_gcm_long_open(g, got, 70, got + 70, 16, back), CKR_OK);
    assert_memory_equal(back, msg, 70);
    assert_int_equal(chsm_gcm_long_open(g, got, 70, got + 70, 16, back), CKR_OPERATION_NOT_INITIALIZED);
    chsm_gcm_long_free(g);
}

static void test_gcm_long_counter_wrap(void **state)
{
    (void)state;
    wrap_case(0xfffffffdu); /* wraps after two blocks */
    wrap_case(0xffffffffu); /* inc32(J0) itself is already wrapped */
    wrap_case(0x00000001u); /* no wrap: the reference itself is checked on the ordinary path */
    assert_int_equal(chsm_gcm_long_new_j0((const uint8_t *)"0123456789abcdef", 16, NULL, NULL, 0,
                                          &(struct chsm_gcm_long *){NULL}),
                     CKR_ARGUMENTS_BAD);
}

/* SP 800-38D's 2^36-32 byte limit is checked before any byte is touched (the pointers are never read). */
static void test_gcm_long_length_limit(void **state)
{
    uint8_t key[16] = {1}, iv[130] = {2}, buf[32] = {0}, tag[16] = {0};
    struct chsm_gcm_long *g = NULL;
    (void)state;
    if (SIZE_MAX <= UINT32_MAX)
        skip();
    size_t huge = (size_t)((UINT64_C(1) << 36) - 31);
    assert_int_equal(chsm_gcm_long_new(key, 16, iv, sizeof(iv), NULL, 0, &g), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, buf, 16, buf), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, buf, huge - 16, buf), CKR_DATA_LEN_RANGE);
    assert_int_equal(chsm_gcm_long_seal(g, buf, 16, buf), CKR_OK); /* the refusal left the context usable */
    assert_int_equal(chsm_gcm_long_tag(g, tag, 16), CKR_OK);
    chsm_gcm_long_free(g);
    assert_int_equal(chsm_gcm_long_new(key, 16, iv, sizeof(iv), NULL, 0, &g), CKR_OK);
    assert_int_equal(chsm_gcm_long_open(g, buf, huge, tag, 16, buf), CKR_ENCRYPTED_DATA_LEN_RANGE);
    chsm_gcm_long_free(g);
    g = NULL;
    assert_int_equal(chsm_gcm_long_new(key, 20, iv, sizeof(iv), NULL, 0, &g), CKR_KEY_SIZE_RANGE);
    assert_null(g);
}

static CK_RV new_gcm(uint8_t *iv, size_t il, size_t tag_bits, bool enc, struct chsm_cipher **c)
{
    static const uint8_t key[32] = {7};
    static uint8_t aad[3] = {1, 2, 3};
    CK_GCM_PARAMS p = {iv, il, il * 8, aad, sizeof(aad), tag_bits};
    *c = NULL;
    return chsm_cipher_new(CKM_AES_GCM, &p, sizeof(p), key, sizeof(key), enc, c);
}

static void test_gcm_long_mech_refusals(void **state)
{
    uint8_t iv[300] = {9};
    struct chsm_cipher *c = NULL;
    (void)state;
    assert_int_equal(new_gcm(iv, 0, 128, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(new_gcm(iv, 257, 128, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(new_gcm(iv, 300, 128, false, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(new_gcm(NULL, 129, 128, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(new_gcm(iv, 200, 100, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(new_gcm(iv, 12, 4, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(new_gcm(iv, 200, 136, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_null(c);
    assert_int_equal(new_gcm(iv, 129, 8, true, &c), CKR_OK);
    chsm_cipher_free(c);
    assert_int_equal(new_gcm(iv, 256, 128, false, &c), CKR_OK);
    chsm_cipher_free(c);
}

/* Encrypt one-shot with size query and BUFFER_TOO_SMALL retry; returns ct||tag length. */
static size_t seal_oneshot(uint8_t *iv, size_t il, const uint8_t *pt, size_t n, uint8_t *out)
{
    struct chsm_cipher *c = NULL;
    size_t ol = 0;
    assert_int_equal(new_gcm(iv, il, 96, true, &c), CKR_OK);
    assert_int_equal(chsm_cipher_update_len(c, n), n);
    assert_int_equal(chsm_cipher_oneshot_len(c, n), n + 12);
    assert_int_equal(chsm_cipher_oneshot(c, pt, n, NULL, &ol), CKR_OK);
    assert_int_equal(ol, n + 12);
    ol = n + 11;
    assert_int_equal(chsm_cipher_oneshot(c, pt, n, out, &ol), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(ol, n + 12);
    assert_int_equal(chsm_cipher_oneshot(c, pt, n, out, &ol), CKR_OK);
    assert_int_equal(ol, n + 12);
    chsm_cipher_free(c);
    return ol;
}

/* Decrypt streamed: nothing until final, exact final size, retry after BUFFER_TOO_SMALL, bad tag code. */
static void open_streamed(uint8_t *iv, size_t il, uint8_t *ct, size_t cl, const uint8_t *pt, size_t n)
{
    struct chsm_cipher *c = NULL;
    uint8_t out[64];
    size_t ol;
    assert_int_equal(new_gcm(iv, il, 96, false, &c), CKR_OK);
    assert_int_equal(chsm_cipher_update_len(c, 10), 0);
    ol = 0;
    assert_int_equal(chsm_cipher_update(c, ct, 10, out, &ol), CKR_OK);
    assert_int_equal(ol, 0);
    assert_int_equal(chsm_cipher_update(c, ct + 10, cl - 10, out, &ol), CKR_OK);
    assert_int_equal(ol, 0);
    assert_int_equal(chsm_cipher_final_len(c), n);
    ol = n - 1;
    assert_int_equal(chsm_cipher_final(c, out, &ol), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(ol, n);
    assert_int_equal(chsm_cipher_final(c, out, &ol), CKR_OK);
    assert_memory_equal(out, pt, n);
    chsm_cipher_free(c);
    ct[cl - 1] ^= 1; /* same code as the OpenSSL path, and no plaintext handed out */
    assert_int_equal(new_gcm(iv, il, 96, false, &c), CKR_OK);
    ol = 0;
    assert_int_equal(chsm_cipher_update(c, ct, cl, out, &ol), CKR_OK);
    memset(out, 0xee, sizeof(out));
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_final(c, out, &ol), CKR_ENCRYPTED_DATA_INVALID);
    assert_true(memcmp(out, pt, n) != 0);
    assert_int_equal(chsm_cipher_final(c, out, &ol), CKR_OPERATION_NOT_INITIALIZED);
    chsm_cipher_free(c);
    assert_int_equal(new_gcm(iv, il, 96, false, &c), CKR_OK); /* one-shot straight from the caller's buffer */
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_oneshot(c, ct, cl, out, &ol), CKR_ENCRYPTED_DATA_INVALID);
    assert_true(memcmp(out, pt, n) != 0);
    chsm_cipher_free(c);
    ct[cl - 1] ^= 1;
    assert_int_equal(new_gcm(iv, il, 96, false, &c), CKR_OK);
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_oneshot(c, ct, 11, out, &ol), CKR_ENCRYPTED_DATA_LEN_RANGE);
    chsm_cipher_free(c);
}

static void test_gcm_long_mech_sizes(void **state)
{
    static const size_t ivs[] = {128, 129, 200, 256}; /* 128: OpenSSL's path, must behave the same */
    uint8_t iv[256], pt[40], ct[64];
    (void)state;
    rnd_fill(iv, sizeof(iv)), rnd_fill(pt, sizeof(pt));
    for (size_t i = 0; i < sizeof(ivs) / sizeof(ivs[0]); i++) {
        size_t cl = seal_oneshot(iv, ivs[i], pt, sizeof(pt), ct);
        open_streamed(iv, ivs[i], ct, cl, pt, sizeof(pt));
    }
}

/*
 * A 0-bit tag (PKCS#11 allows 0..128): the output is exactly the ciphertext part of
 * the same message sealed with a 128-bit tag, decryption returns the plaintext with
 * no check, streamed or one-shot, on OpenSSL's path (12, 128 bytes) and ours (200).
 */
static void test_gcm_zero_tag(void **state)
{
    static const size_t ivs[] = {12, 128, 200};
    uint8_t iv[200], pt[40], full[64], ct[64], out[64];
    (void)state;
    rnd_fill(iv, sizeof(iv)), rnd_fill(pt, sizeof(pt));
    for (size_t i = 0; i < sizeof(ivs) / sizeof(ivs[0]); i++) {
        struct chsm_cipher *c = NULL;
        size_t fl = sizeof(full), cl = sizeof(ct), ol = sizeof(out), part = 0;
        assert_int_equal(new_gcm(iv, ivs[i], 128, true, &c), CKR_OK);
        assert_int_equal(chsm_cipher_oneshot(c, pt, sizeof(pt), full, &fl), CKR_OK);
        chsm_cipher_free(c);
        assert_int_equal(fl, sizeof(pt) + 16);
        assert_int_equal(new_gcm(iv, ivs[i], 0, true, &c), CKR_OK);
        assert_int_equal(chsm_cipher_oneshot_len(c, sizeof(pt)), sizeof(pt));
        assert_int_equal(chsm_cipher_oneshot(c, pt, sizeof(pt), ct, &cl), CKR_OK);
        chsm_cipher_free(c);
        assert_int_equal(cl, sizeof(pt));
        assert_memory_equal(ct, full, sizeof(pt));
        assert_int_equal(new_gcm(iv, ivs[i], 0, false, &c), CKR_OK);
        assert_int_equal(chsm_cipher_oneshot(c, ct, cl, out, &ol), CKR_OK);
        chsm_cipher_free(c);
        assert_int_equal(ol, sizeof(pt));
        assert_memory_equal(out, pt, sizeof(pt));
        memset(out, 0, sizeof(out));
        assert_int_equal(new_gcm(iv, ivs[i], 0, false, &c), CKR_OK); /* streamed */
        ol = sizeof(out);
        assert_int_equal(chsm_cipher_update(c, ct, 7, out, &ol), CKR_OK);
        part = ol;
        ol = sizeof(out) - part;
        assert_int_equal(chsm_cipher_update(c, ct + 7, cl - 7, out + part, &ol), CKR_OK);
        part += ol;
        ol = sizeof(out) - part;
        assert_int_equal(chsm_cipher_final(c, out + part, &ol), CKR_OK);
        part += ol;
        chsm_cipher_free(c);
        assert_int_equal(part, sizeof(pt));
        assert_memory_equal(out, pt, sizeof(pt));
    }
}

int run_gcm_long_edge_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_gf_mul),
        cmocka_unit_test(test_gcm_long_counter_wrap),
        cmocka_unit_test(test_gcm_long_length_limit),
        cmocka_unit_test(test_gcm_long_mech_refusals),
        cmocka_unit_test(test_gcm_long_mech_sizes),
        cmocka_unit_test(test_gcm_zero_tag),
    };
    return cmocka_run_group_tests_name("gcm_long_edge", tests, chsm_test_crypto_group_setup,
                                       chsm_test_crypto_group_teardown);
}
