/*
 * AES-GCM with long IVs (src/crypto/gcm_long.c, gcm_ghash.c): the internal
 * implementation against Wycheproof (every IV size, including the 257-byte
 * LongIv and the CounterWrap groups), against OpenSSL's own GCM for IVs of
 * 1..128 bytes with generated data, against PyCryptodome's vectors for
 * 129..256 (tests/vectors/aes_gcm_long_iv_test.json) through the mechanism
 * API. The counter wrap from a chosen J0 and the mechanism's limits are in
 * test_gcm_long_edge.c.
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
#include "crypto/gcm_long.h"
#include "suites.h"
#include "vec.h"

/* Deterministic generator for test data (xorshift64*): reproducible failures, no timing. */
static uint64_t g_rng = 0x9e3779b97f4a7c15u;
static uint8_t rnd8(void)
{
    g_rng ^= g_rng >> 12, g_rng ^= g_rng << 25, g_rng ^= g_rng >> 27;
    return (uint8_t)((g_rng * 0x2545f4914f6cdd1dULL) >> 56);
}
static void rnd_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = rnd8();
}

/* Seal with gcm_long in up to three pieces (split at a and b), tag appended. */
static void long_seal(const uint8_t *key, size_t kl, const uint8_t *iv, size_t il, const uint8_t *aad, size_t al,
                      const uint8_t *msg, size_t ml, size_t tl, size_t a, size_t b, uint8_t *out)
{
    struct chsm_gcm_long *g = NULL;
    a = a > ml ? ml : a;
    b = b > ml ? ml : b < a ? a : b;
    assert_int_equal(chsm_gcm_long_new(key, kl, iv, il, aad, al, &g), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, msg, a, out), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, msg + a, b - a, out + a), CKR_OK);
    assert_int_equal(chsm_gcm_long_seal(g, msg + b, ml - b, out + b), CKR_OK);
    assert_int_equal(chsm_gcm_long_tag(g, out + ml, tl), CKR_OK);
    chsm_gcm_long_free(g);
}

static CK_RV long_open(const uint8_t *key, size_t kl, const uint8_t *iv, size_t il, const uint8_t *aad, size_t al,
                       const uint8_t *ct, size_t cl, const uint8_t *tag, size_t tl, uint8_t *out)
{
    struct chsm_gcm_long *g = NULL;
    CK_RV rv = chsm_gcm_long_new(key, kl, iv, il, aad, al, &g);
    if (rv == CKR_OK)
        rv = chsm_gcm_long_open(g, ct, cl, tag, tl, out);
    chsm_gcm_long_free(g);
    return rv;
}

static void test_gcm_long_wycheproof(void **state)
{
    struct json *root = vec_load("aes_gcm_test.json");
    size_t cases = 0, long_iv = 0, wrap = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *grp = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(grp); ti++) {
            const struct json *t = vec_test(grp, ti);
            size_t kl, il, al, ml, cl, tl;
            uint8_t *key = json_hex(t, "key", &kl), *iv = json_hex(t, "iv", &il), *aad = json_hex(t, "aad", &al);
            uint8_t *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl), *tag = json_hex(t, "tag", &tl);
            uint8_t *out = malloc(ml + cl + tl + 16);
            memset(out, 0xa5, ml + cl + tl + 16);
            CK_RV rv = long_open(key, kl, iv, il, aad, al, ct, cl, tag, tl, out);
            if (il == 0) {
                assert_int_equal(rv, CKR_ARGUMENTS_BAD); /* GCM has no empty IV; the mechanism refuses it earlier */
            } else if (vec_valid(t)) {
                if (rv != CKR_OK)
                    fail_msg("tcId %ld: %s", json_int(t, "tcId", 0), chsm_rv_name(rv));
                assert_memory_equal(out, msg, ml);
                long_seal(key, kl, iv, il, aad, al, msg, ml, tl, ml / 3, ml / 2, out);
                assert_memory_equal(out, ct, cl);
                assert_memory_equal(out + ml, tag, tl);
                long_iv += il > 128;
                wrap += vec_has_flag(t, "CounterWrap");
            } else {
                if (rv != CKR_ENCRYPTED_DATA_INVALID)
                    fail_msg("tcId %ld: %s", json_int(t, "tcId", 0), chsm_rv_name(rv));
                for (size_t i = 0; i < cl; i++) /* nothing released before the tag verified */
                    assert_int_equal(out[i], 0xa5);
            }
            cases++;
            free(key), free(iv), free(aad), free(msg), free(ct), free(tag), free(out);
        }
    }
    assert_int_equal(cases, 316);
    assert_int_equal(long_iv, 3);
    assert_true(wrap >= 10);
    json_free(root);
}

static const EVP_CIPHER *ossl_gcm(size_t kl)
{
    return kl == 16 ? EVP_aes_128_gcm() : kl == 24 ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
}

/* OpenSSL's GCM (default library context, test-side only) as the reference for IVs it accepts. */
static void ossl_seal(const uint8_t *key, size_t kl, const uint8_t *iv, size_t il, const uint8_t *aad, size_t al,
                      const uint8_t *msg, size_t ml, size_t tl, uint8_t *out)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, f = 0;
    assert_non_null(x);
    assert_int_equal(EVP_EncryptInit_ex(x, ossl_gcm(kl), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, (int)il, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(x, NULL, NULL, key, iv), 1);
    if (al > 0)
        assert_int_equal(EVP_EncryptUpdate(x, NULL, &n, aad, (int)al), 1);
    assert_int_equal(EVP_EncryptUpdate(x, out, &n, msg, (int)ml), 1);
    assert_int_equal(EVP_EncryptFinal_ex(x, out + n, &f), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, (int)tl, out + ml), 1);
    EVP_CIPHER_CTX_free(x);
}

static void test_gcm_long_vs_openssl(void **state)
{
    static const size_t kls[3] = {16, 24, 32};
    uint8_t key[32], iv[128], aad[80], msg[300], want[316], got[316], back[300];
    (void)state;
    for (size_t il = 1; il <= 128; il++) {
        size_t kl = kls[il % 3], al = rnd8() % sizeof(aad), ml = (size_t)rnd8() + rnd8() % 45, tl = 1 + rnd8() % 16;
        rnd_fill(key, kl), rnd_fill(iv, il), rnd_fill(aad, al), rnd_fill(msg, ml);
        ossl_seal(key, kl, iv, il, aad, al, msg, ml, tl < 4 ? 4 : tl, want); /* OpenSSL's shortest tag is 4 */
        long_seal(key, kl, iv, il, aad, al, msg, ml, tl, rnd8() % 40, ml - rnd8() % 20, got);
        assert_memory_equal(got, want, ml + tl);
        assert_int_equal(long_open(key, kl, iv, il, aad, al, got, ml, got + ml, tl, back), CKR_OK);
        assert_memory_equal(back, msg, ml);
        /* Negative: any flipped tag, ciphertext or AAD bit fails, and nothing is written. */
        memset(back, 0x5a, sizeof(back));
        got[ml + rnd8() % tl] ^= (uint8_t)(1u << (rnd8() % 8));
        assert_int_equal(long_open(key, kl, iv, il, aad, al, got, ml, got + ml, tl, back), CKR_ENCRYPTED_DATA_INVALID);
        memcpy(got + ml, want + ml, tl);
        if (ml > 0) {
            got[rnd8() % ml] ^= 0x10;
            assert_int_equal(long_open(key, kl, iv, il, aad, al, got, ml, got + ml, tl, back),
                             CKR_ENCRYPTED_DATA_INVALID);
            memcpy(got, want, ml);
        }
        if (al > 0) {
            aad[al - 1] ^= 0x01;
            assert_int_equal(long_open(key, kl, iv, il, aad, al, got, ml, got + ml, tl, back),
                             CKR_ENCRYPTED_DATA_INVALID);
        }
        for (size_t i = 0; i < sizeof(back); i++)
            assert_int_equal(back[i], 0x5a);
    }
}

/* Run one aes_gcm_long_iv_test.json case through the mechanism API, one-shot and streamed. */
static void long_vector_case(const struct json *t, long tagbits)
{
    size_t kl, il, al, ml, cl, tl, ol;
    uint8_t *key = json_hex(t, "key", &kl), *iv = json_hex(t, "iv", &il), *aad = json_hex(t, "aad", &al);
    uint8_t *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl), *tag = json_hex(t, "tag", &tl);
    uint8_t *both = malloc(cl + tl + 1), *out = malloc(ml + cl + tl + 32);
    CK_GCM_PARAMS p = {iv, il, il * 8, aad, al, (CK_ULONG)tagbits};
    struct chsm_cipher *c = NULL;
    assert_true(il > 128 && il <= 256);
    assert_int_equal((size_t)tagbits, tl * 8);
    memcpy(both, ct, cl);
    memcpy(both + cl, tag, tl);
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p, sizeof(p), key, kl, false, &c), CKR_OK);
    ol = ml + cl + tl + 32;
    CK_RV rv = chsm_cipher_oneshot(c, both, cl + tl, out, &ol);
    chsm_cipher_free(c);
    if (vec_valid(t)) {
        if (rv != CKR_OK)
            fail_msg("tcId %ld: %s", json_int(t, "tcId", 0), chsm_rv_name(rv));
        assert_int_equal(ol, ml);
        assert_memory_equal(out, msg, ml);
        /* Encrypt streamed: update in two pieces, final gives the tag. */
        assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p, sizeof(p), key, kl, true, &c), CKR_OK);
        size_t a = ml / 2, cap = a;
        assert_int_equal(chsm_cipher_update(c, msg, a, out, &cap), CKR_OK);
        assert_int_equal(cap, a);
        cap = ml - a;
        assert_int_equal(chsm_cipher_update(c, msg + a, ml - a, out + a, &cap), CKR_OK);
        assert_int_equal(chsm_cipher_final_len(c), tl);
        cap = tl;
        assert_int_equal(chsm_cipher_final(c, out + ml, &cap), CKR_OK);
        assert_int_equal(cap, tl);
        assert_memory_equal(out, both, cl + tl);
        chsm_cipher_free(c);
    } else if (rv != CKR_ENCRYPTED_DATA_INVALID) {
        fail_msg("tcId %ld: %s", json_int(t, "tcId", 0), chsm_rv_name(rv));
    }
    free(key), free(iv), free(aad), free(msg), free(ct), free(tag), free(both), free(out);
}

static void test_gcm_long_vectors(void **state)
{
    struct json *root = vec_load("aes_gcm_long_iv_test.json");
    size_t cases = 0, invalid = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *grp = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(grp); ti++) {
            long_vector_case(vec_test(grp, ti), json_int(grp, "tagSize", 0));
            invalid += vec_invalid(vec_test(grp, ti));
            cases++;
        }
    }
    assert_int_equal(cases, 245);
    assert_int_equal(invalid, 117);
    json_free(root);
}

int run_gcm_long_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_long_wycheproof),
        cmocka_unit_test(test_gcm_long_vs_openssl),
        cmocka_unit_test(test_gcm_long_vectors),
    };
    return cmocka_run_group_tests_name("gcm_long", tests, chsm_test_crypto_group_setup,
                                       chsm_test_crypto_group_teardown);
}
