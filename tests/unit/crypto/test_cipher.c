/*
 * Encryption mechanisms against Wycheproof (AES-CBC-PAD, AES-GCM all sizes,
 * AES-KW/KWP, RSA OAEP and PKCS#1 v1.5 decryption via PKCS#8 keys) plus the
 * size-query contract and bad-input codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/pkey.h"
#include "suites.h"
#include "vec.h"

/* Run a whole message through update (split in two) + final, checking every size prediction. */
static CK_RV stream(struct chsm_cipher *c, const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
    size_t half = n / 3, a, b, f, total = 0;
    CK_RV rv;
    a = chsm_cipher_update_len(c, half);
    size_t cap = a;
    if ((rv = chsm_cipher_update(c, in, half, out, &cap)) != CKR_OK)
        return rv;
    assert_int_equal(cap, a);
    total += cap;
    b = chsm_cipher_update_len(c, n - half);
    cap = b;
    if ((rv = chsm_cipher_update(c, in + half, n - half, out + total, &cap)) != CKR_OK)
        return rv;
    assert_int_equal(cap, b);
    total += cap;
    f = chsm_cipher_final_len(c);
    cap = f;
    rv = chsm_cipher_final(c, out + total, &cap);
    if (rv != CKR_OK)
        return rv;
    assert_true(cap <= f);
    *out_len = total + cap;
    return CKR_OK;
}

static void test_cbc_pad_wycheproof(void **state)
{
    struct json *root = vec_load("aes_cbc_pkcs5_test.json");
    size_t cases = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, il, ml, cl, ol = 0;
            uint8_t *key = json_hex(t, "key", &kl), *iv = json_hex(t, "iv", &il);
            uint8_t *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl);
            uint8_t *out = malloc(ml + cl + 32);
            struct chsm_cipher *c = NULL;
            assert_int_equal(chsm_cipher_new(CKM_AES_CBC_PAD, iv, il, key, kl, false, &c), CKR_OK);
            CK_RV rv = stream(c, ct, cl, out, &ol);
            chsm_cipher_free(c);
            if (vec_valid(t)) {
                assert_int_equal(rv, CKR_OK);
                assert_int_equal(ol, ml);
                assert_memory_equal(out, msg, ml);
                assert_int_equal(chsm_cipher_new(CKM_AES_CBC_PAD, iv, il, key, kl, true, &c), CKR_OK);
                assert_int_equal(stream(c, msg, ml, out, &ol), CKR_OK);
                assert_int_equal(ol, cl);
                assert_memory_equal(out, ct, cl);
                chsm_cipher_free(c);
            } else if (rv != CKR_ENCRYPTED_DATA_INVALID && rv != CKR_ENCRYPTED_DATA_LEN_RANGE) {
                fail_msg("tcId %ld: %s", json_int(t, "tcId", 0), chsm_rv_name(rv));
            }
            cases++;
            free(key), free(iv), free(msg), free(ct), free(out);
        }
    }
    assert_int_equal(cases, 216);
    json_free(root);
}

static void test_gcm_mech_wycheproof(void **state)
{
    struct json *root = vec_load("aes_gcm_test.json");
    size_t cases = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, il, al, ml, cl, tl, ol = 0;
            uint8_t *key = json_hex(t, "key", &kl), *iv = json_hex(t, "iv", &il), *aad = json_hex(t, "aad", &al);
            uint8_t *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl), *tag = json_hex(t, "tag", &tl);
            uint8_t *both = malloc(cl + tl + 1), *out = malloc(ml + cl + tl + 32);
            CK_GCM_PARAMS p = {iv, il, il * 8, aad, al, tl * 8};
            struct chsm_cipher *c = NULL;
            memcpy(both, ct, cl);
            memcpy(both + cl, tag, tl);
            CK_RV rv = chsm_cipher_new(CKM_AES_GCM, &p, sizeof(p), key, kl, false, &c);
            if (rv == CKR_OK)
                rv = stream(c, both, cl + tl, out, &ol);
            chsm_cipher_free(c);
            c = NULL;
            if (vec_valid(t) && il > 256) {
                /* CK_GCM_PARAMS' range is 1..256 bytes (cipher.h); Wycheproof's 257-byte IVs are outside it. */
                assert_int_equal(rv, CKR_MECHANISM_PARAM_INVALID);
            } else if (vec_valid(t)) {
                if (rv != CKR_OK)
                    fail_msg("tcId %ld: %s (%s)", json_int(t, "tcId", 0), chsm_rv_name(rv), chsm_err_last()->msg);
                assert_int_equal(ol, ml);
                assert_memory_equal(out, msg, ml);
                assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p, sizeof(p), key, kl, true, &c), CKR_OK);
                assert_int_equal(stream(c, msg, ml, out, &ol), CKR_OK);
                assert_int_equal(ol, cl + tl);
                assert_memory_equal(out, both, cl + tl);
                chsm_cipher_free(c);
            } else if (rv != CKR_ENCRYPTED_DATA_INVALID && rv != CKR_MECHANISM_PARAM_INVALID) {
                fail_msg("tcId %ld: %s", json_int(t, "tcId", 0), chsm_rv_name(rv));
            }
            cases++;
            free(key), free(iv), free(aad), free(msg), free(ct), free(tag), free(both), free(out);
        }
    }
    assert_int_equal(cases, 316);
    json_free(root);
}

/* A finished context of key `key`, one direction, after an unrelated message (to be re-armed). */
static struct chsm_cipher *warm_gcm(const uint8_t *key, size_t kl, bool enc, bool multipart)
{
    static const uint8_t iv[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2}, aad[5] = {1, 2, 3, 4, 5};
    uint8_t msg[40] = {0}, ct[64], out[64];
    size_t cl = sizeof(ct), ol = 0;
    CK_GCM_PARAMS p = {(CK_BYTE_PTR)iv, 12, 96, (CK_BYTE_PTR)aad, 5, 128};
    struct chsm_cipher *c = NULL;
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p, sizeof(p), key, kl, true, &c), CKR_OK);
    assert_int_equal(chsm_cipher_oneshot(c, msg, sizeof(msg), ct, &cl), CKR_OK);
    if (!enc) {
        chsm_cipher_free(c);
        assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p, sizeof(p), key, kl, false, &c), CKR_OK);
        if (multipart)
            assert_int_equal(stream(c, ct, cl, out, &ol), CKR_OK); /* leaves ciphertext in gcm_in's buffer */
        else
            assert_int_equal(chsm_cipher_oneshot(c, ct, cl, out, &(size_t){sizeof(out)}), CKR_OK);
    }
    assert_true(chsm_cipher_park_ready(c));
    return c;
}

/* Every Wycheproof AES-GCM vector with a 12-byte IV, run on re-armed contexts (the parked path of
 * src/core/mech_cipher.c) in both directions, must give the vector's result; a failed tag check
 * leaves a context that re-arms and decrypts the next vector right. */
static void test_gcm_rearm_wycheproof(void **state)
{
    struct json *root = vec_load("aes_gcm_test.json");
    size_t cases = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, il, al, ml, cl, tl, ol = 0;
            uint8_t *key = json_hex(t, "key", &kl), *iv = json_hex(t, "iv", &il), *aad = json_hex(t, "aad", &al);
            uint8_t *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl), *tag = json_hex(t, "tag", &tl);
            if (il == 12) {
                uint8_t *both = malloc(cl + tl + 1), *out = malloc(ml + cl + tl + 32);
                CK_GCM_PARAMS p = {iv, il, il * 8, aad, al, tl * 8};
                memcpy(both, ct, cl);
                memcpy(both + cl, tag, tl);
                struct chsm_cipher *d = warm_gcm(key, kl, false, cases % 2 == 0);
                assert_false(chsm_cipher_rearm(d, CKM_AES_GCM, &p, sizeof(p), true)); /* other direction */
                assert_true(chsm_cipher_rearm(d, CKM_AES_GCM, &p, sizeof(p), false));
                ol = ml + cl + tl + 32;
                CK_RV rv = cases % 3 == 0 ? stream(d, both, cl + tl, out, &ol)
                                          : chsm_cipher_oneshot(d, both, cl + tl, out, &ol);
                if (vec_valid(t)) {
                    assert_int_equal(rv, CKR_OK);
                    assert_int_equal(ol, ml);
                    assert_memory_equal(out, msg, ml);
                    struct chsm_cipher *e = warm_gcm(key, kl, true, false);
                    assert_true(chsm_cipher_rearm(e, CKM_AES_GCM, &p, sizeof(p), true));
                    assert_int_equal(stream(e, msg, ml, out, &ol), CKR_OK);
                    assert_int_equal(ol, cl + tl);
                    assert_memory_equal(out, both, cl + tl);
                    chsm_cipher_free(e);
                } else {
                    assert_int_equal(rv, CKR_ENCRYPTED_DATA_INVALID);
                    /* The failed context is finished: it re-arms, and a good message decrypts. */
                    uint8_t m2[16] = {0}, c2[32], o2[32];
                    size_t c2l = sizeof(c2), o2l = sizeof(o2);
                    CK_GCM_PARAMS p2 = {iv, 12, 96, NULL, 0, 128};
                    struct chsm_cipher *e = NULL;
                    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p2, sizeof(p2), key, kl, true, &e), CKR_OK);
                    assert_int_equal(chsm_cipher_oneshot(e, m2, sizeof(m2), c2, &c2l), CKR_OK);
                    chsm_cipher_free(e);
                    assert_true(chsm_cipher_park_ready(d));
                    assert_true(chsm_cipher_rearm(d, CKM_AES_GCM, &p2, sizeof(p2), false));
                    assert_int_equal(chsm_cipher_oneshot(d, c2, c2l, o2, &o2l), CKR_OK);
                    assert_int_equal(o2l, sizeof(m2));
                    assert_memory_equal(o2, m2, sizeof(m2));
                }
                chsm_cipher_free(d);
                free(both), free(out);
                cases++;
            }
            free(key), free(iv), free(aad), free(msg), free(ct), free(tag);
        }
    }
    assert_true(cases > 100);
    json_free(root);
}

/* What is not kept or not re-armed: unfinished, other modes and IV lengths, bad parameters. */
static void test_gcm_rearm_refusals(void **state)
{
    (void)state;
    static const uint8_t key[32] = {7}, iv[16] = {1}, pt[32] = {2};
    uint8_t ct[64];
    size_t cl;
    CK_GCM_PARAMS p12 = {(CK_BYTE_PTR)iv, 12, 96, NULL, 0, 128}, p16 = {(CK_BYTE_PTR)iv, 16, 128, NULL, 0, 128};
    CK_GCM_PARAMS bad_tag = {(CK_BYTE_PTR)iv, 12, 96, NULL, 0, 100}, no_iv = {NULL, 12, 96, NULL, 0, 128};
    struct chsm_cipher *c = NULL;
    assert_false(chsm_cipher_park_ready(NULL));
    /* Unfinished: an update but no final. */
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p12, sizeof(p12), key, 32, true, &c), CKR_OK);
    cl = sizeof(ct);
    assert_int_equal(chsm_cipher_update(c, pt, 16, ct, &cl), CKR_OK);
    assert_false(chsm_cipher_park_ready(c));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, &p12, sizeof(p12), true));
    chsm_cipher_free(c);
    /* A context set up for a 16-byte IV is not kept (OpenSSL would read 16 bytes of a 12-byte IV). */
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &p16, sizeof(p16), key, 32, true, &c), CKR_OK);
    cl = sizeof(ct);
    assert_int_equal(chsm_cipher_oneshot(c, pt, sizeof(pt), ct, &cl), CKR_OK);
    assert_false(chsm_cipher_park_ready(c));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, &p12, sizeof(p12), true));
    chsm_cipher_free(c);
    /* Block modes are not kept: their provider buffer holds the last plaintext block. */
    assert_int_equal(chsm_cipher_new(CKM_AES_CBC_PAD, iv, 16, key, 32, true, &c), CKR_OK);
    cl = sizeof(ct);
    assert_int_equal(chsm_cipher_oneshot(c, pt, sizeof(pt), ct, &cl), CKR_OK);
    assert_false(chsm_cipher_park_ready(c));
    assert_false(chsm_cipher_rearm(c, CKM_AES_CBC_PAD, iv, 16, true));
    chsm_cipher_free(c);
    /* A finished 12-byte GCM context: refuses other mechanisms and parameters, then re-arms. */
    c = warm_gcm(key, 32, true, false);
    assert_false(chsm_cipher_rearm(c, CKM_AES_CBC, iv, 16, true));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, &p16, sizeof(p16), true));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, &bad_tag, sizeof(bad_tag), true));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, &no_iv, sizeof(no_iv), true));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, &p12, sizeof(p12) - 1, true));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, NULL, 0, true));
    assert_true(chsm_cipher_encrypts(c));
    assert_true(chsm_cipher_rearm(c, CKM_AES_GCM, &p12, sizeof(p12), true));
    assert_false(chsm_cipher_rearm(c, CKM_AES_GCM, &p12, sizeof(p12), true)); /* now in use: not finished */
    chsm_cipher_free(c);
}

static void drive_wrap(const char *file, CK_MECHANISM_TYPE mech, size_t expect)
{
    struct json *root = vec_load(file);
    size_t cases = 0;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, ml, cl, ol = 0;
            uint8_t *key = json_hex(t, "key", &kl), *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl);
            uint8_t *out = malloc(ml + cl + 16);
            ol = ml + cl + 16;
            CK_RV rv = chsm_aes_keywrap(mech, NULL, 0, key, kl, false, ct, cl, out, &ol);
            if (vec_valid(t)) {
                assert_int_equal(rv, CKR_OK);
                assert_int_equal(ol, ml);
                assert_memory_equal(out, msg, ml);
                assert_int_equal(chsm_aes_keywrap(mech, NULL, 0, key, kl, true, msg, ml, NULL, &ol), CKR_OK);
                assert_int_equal(ol, cl); /* size query is exact for wrap */
                assert_int_equal(chsm_aes_keywrap(mech, NULL, 0, key, kl, true, msg, ml, out, &ol), CKR_OK);
                assert_memory_equal(out, ct, cl);
            } else if (vec_invalid(t) && rv != CKR_WRAPPED_KEY_INVALID && rv != CKR_WRAPPED_KEY_LEN_RANGE) {
                fail_msg("%s tcId %ld: %s", file, json_int(t, "tcId", 0), chsm_rv_name(rv));
            }
            cases++;
            free(key), free(msg), free(ct), free(out);
        }
    }
    assert_int_equal(cases, expect);
    json_free(root);
}

static void test_kw_mech(void **s) { (void)s; drive_wrap("aes_wrap_test.json", CKM_AES_KEY_WRAP, 165); }
static void test_kwp_mech(void **s) { (void)s; drive_wrap("aes_kwp_test.json", CKM_AES_KEY_WRAP_KWP, 254); }

static void drive_rsa_dec(const char *file, CK_MECHANISM_TYPE mech, CK_MECHANISM_TYPE hash, CK_ULONG mgf)
{
    struct json *root = vec_load(file);
    size_t cases = 0;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        size_t dl;
        uint8_t *der = json_hex(g, "privateKeyPkcs8", &dl);
        struct chsm_pkey *k = NULL;
        assert_int_equal(chsm_pkey_import_pkcs8(der, dl, &k), CKR_OK);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t ml, cl, ll = 0, ol = 512;
            uint8_t *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl), out[512];
            uint8_t *label = json_get(t, "label") ? json_hex(t, "label", &ll) : NULL;
            CK_RSA_PKCS_OAEP_PARAMS p = {hash, mgf, CKZ_DATA_SPECIFIED, label, ll};
            CK_RV rv = chsm_rsa_crypt(mech, mech == CKM_RSA_PKCS_OAEP ? &p : NULL,
                                      mech == CKM_RSA_PKCS_OAEP ? sizeof(p) : 0, k, false, ct, cl, out, &ol);
            if (vec_valid(t)) {
                assert_int_equal(rv, CKR_OK);
                assert_int_equal(ol, ml);
                assert_memory_equal(out, msg, ml);
            } else if (vec_invalid(t) && rv != CKR_ENCRYPTED_DATA_INVALID && rv != CKR_ENCRYPTED_DATA_LEN_RANGE) {
                fail_msg("%s tcId %ld: %s", file, json_int(t, "tcId", 0), chsm_rv_name(rv));
            }
            cases++;
            free(msg), free(ct), free(label);
        }
        /* Encrypt round trip with the same key. */
        {
            uint8_t ct[512], back[512];
            size_t cl = sizeof(ct), bl = sizeof(back);
            CK_RSA_PKCS_OAEP_PARAMS p = {hash, mgf, 0, NULL, 0};
            const void *pp = mech == CKM_RSA_PKCS_OAEP ? &p : NULL;
            size_t pl = pp ? sizeof(p) : 0;
            assert_int_equal(chsm_rsa_crypt(mech, pp, pl, k, true, (const uint8_t *)"hello", 5, ct, &cl), CKR_OK);
            bl = 2; /* too small: exact size reported */
            assert_int_equal(chsm_rsa_crypt(mech, pp, pl, k, false, ct, cl, back, &bl), CKR_BUFFER_TOO_SMALL);
            assert_int_equal(bl, 5);
            assert_int_equal(chsm_rsa_crypt(mech, pp, pl, k, false, ct, cl, back, &bl), CKR_OK);
            assert_memory_equal(back, "hello", 5);
            assert_int_equal(chsm_rsa_crypt(mech, pp, pl, k, false, ct, cl - 1, back, &bl),
                             CKR_ENCRYPTED_DATA_LEN_RANGE);
        }
        chsm_pkey_free(k);
        free(der);
    }
    assert_true(cases >= 30);
    json_free(root);
}

static void test_oaep_sha256(void **s)
{
    (void)s;
    drive_rsa_dec("rsa_oaep_2048_sha256_mgf1sha256_test.json", CKM_RSA_PKCS_OAEP, CKM_SHA256, CKG_MGF1_SHA256);
}
static void test_oaep_sha1(void **s)
{
    (void)s;
    drive_rsa_dec("rsa_oaep_2048_sha1_mgf1sha1_test.json", CKM_RSA_PKCS_OAEP, CKM_SHA_1, CKG_MGF1_SHA1);
}
static void test_rsa_pkcs1_dec(void **s) { (void)s; drive_rsa_dec("rsa_pkcs1_2048_test.json", CKM_RSA_PKCS, 0, 0); }

static void test_cipher_errors(void **state)
{
    uint8_t key[32] = {0}, iv[16] = {0}, buf[64] = {0}, out[96];
    size_t ol;
    struct chsm_cipher *c = NULL;
    CK_AES_CTR_PARAMS ctr = {8, {0}};
    CK_GCM_PARAMS gcm = {iv, 12, 96, NULL, 0, 128};
    (void)state;
    assert_int_equal(chsm_cipher_new(CKM_AES_CBC, iv, 8, key, 32, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_cipher_new(CKM_AES_CBC, iv, 16, key, 20, true, &c), CKR_KEY_SIZE_RANGE);
    assert_int_equal(chsm_cipher_new(CKM_AES_ECB, iv, 16, key, 16, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_cipher_new(CKM_DES3_CBC, iv, 8, key, 24, true, &c), CKR_MECHANISM_INVALID);
    gcm.ulTagBits = 100; /* not whole bytes */
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &gcm, sizeof(gcm), key, 32, true, &c), CKR_MECHANISM_PARAM_INVALID);
    gcm.ulTagBits = 136;
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &gcm, sizeof(gcm), key, 32, true, &c), CKR_MECHANISM_PARAM_INVALID);
    gcm.ulTagBits = 96, gcm.ulIvLen = 0;
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &gcm, sizeof(gcm), key, 32, true, &c), CKR_MECHANISM_PARAM_INVALID);
    ctr.ulCounterBits = 0;
    assert_int_equal(chsm_cipher_new(CKM_AES_CTR, &ctr, sizeof(ctr), key, 16, true, &c), CKR_MECHANISM_PARAM_INVALID);
    assert_null(c);
    /* CBC without padding: a partial block at final is a length error. */
    assert_int_equal(chsm_cipher_new(CKM_AES_CBC, iv, 16, key, 16, true, &c), CKR_OK);
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_update(c, buf, 20, out, &ol), CKR_OK);
    assert_int_equal(ol, 16);
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_final(c, out, &ol), CKR_DATA_LEN_RANGE);
    assert_int_equal(chsm_cipher_final(c, out, &ol), CKR_OPERATION_NOT_INITIALIZED);
    chsm_cipher_free(c);
    /* Buffer too small leaves the state usable. */
    assert_int_equal(chsm_cipher_new(CKM_AES_ECB, NULL, 0, key, 16, true, &c), CKR_OK);
    ol = 15;
    assert_int_equal(chsm_cipher_update(c, buf, 32, out, &ol), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(ol, 32);
    assert_int_equal(chsm_cipher_update(c, buf, 32, out, &ol), CKR_OK);
    chsm_cipher_free(c);
    /* CTR with 8 counter bits starting at 0xff: one block left, the second must be refused. */
    ctr.ulCounterBits = 8, ctr.cb[15] = 0xff;
    assert_int_equal(chsm_cipher_new(CKM_AES_CTR, &ctr, sizeof(ctr), key, 16, true, &c), CKR_OK);
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_update(c, buf, 16, out, &ol), CKR_OK);
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_update(c, buf, 1, out, &ol), CKR_DATA_LEN_RANGE);
    chsm_cipher_free(c);
    /* GCM decrypt shorter than the tag. */
    gcm.ulIvLen = 12, gcm.ulTagBits = 128;
    assert_int_equal(chsm_cipher_new(CKM_AES_GCM, &gcm, sizeof(gcm), key, 32, false, &c), CKR_OK);
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_oneshot(c, buf, 8, out, &ol), CKR_ENCRYPTED_DATA_LEN_RANGE);
    chsm_cipher_free(c);
    /* KW: bad KEK size, bad input length, custom IV. */
    ol = sizeof(out);
    assert_int_equal(chsm_aes_keywrap(CKM_AES_KEY_WRAP, NULL, 0, key, 20, true, buf, 16, out, &ol),
                     CKR_WRAPPING_KEY_SIZE_RANGE);
    assert_int_equal(chsm_aes_keywrap(CKM_AES_KEY_WRAP, NULL, 0, key, 16, true, buf, 12, out, &ol), CKR_DATA_LEN_RANGE);
    assert_int_equal(chsm_aes_keywrap(CKM_AES_KEY_WRAP, iv, 8, key, 16, true, buf, 16, out, &ol),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_aes_keywrap(CKM_AES_KEY_WRAP_KWP, NULL, 0, key, 16, false, buf, 12, out, &ol),
                     CKR_WRAPPED_KEY_LEN_RANGE);
}

/* CBC-PAD decrypt with an exact-size final buffer: first call reports the true length, retry succeeds. */
static void test_cbc_pad_retry(void **state)
{
    uint8_t key[16] = {1}, iv[16] = {2}, pt[20], ct[32], out[32];
    size_t cl = sizeof(ct), ol;
    struct chsm_cipher *c = NULL;
    (void)state;
    memset(pt, 0x33, sizeof(pt));
    assert_int_equal(chsm_cipher_new(CKM_AES_CBC_PAD, iv, 16, key, 16, true, &c), CKR_OK);
    assert_int_equal(chsm_cipher_oneshot(c, pt, sizeof(pt), NULL, &cl), CKR_OK);
    assert_int_equal(cl, 32);
    assert_int_equal(chsm_cipher_oneshot(c, pt, sizeof(pt), ct, &cl), CKR_OK);
    chsm_cipher_free(c);
    assert_int_equal(chsm_cipher_new(CKM_AES_CBC_PAD, iv, 16, key, 16, false, &c), CKR_OK);
    ol = sizeof(out);
    assert_int_equal(chsm_cipher_update(c, ct, 32, out, &ol), CKR_OK);
    assert_int_equal(ol, 16);
    ol = 1;
    assert_int_equal(chsm_cipher_final(c, out + 16, &ol), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(ol, 4);
    assert_int_equal(chsm_cipher_final(c, out + 16, &ol), CKR_OK);
    assert_memory_equal(out, pt, sizeof(pt));
    chsm_cipher_free(c);
}

int run_cipher_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbc_pad_wycheproof), cmocka_unit_test(test_gcm_mech_wycheproof),
        cmocka_unit_test(test_kw_mech),            cmocka_unit_test(test_kwp_mech),
        cmocka_unit_test(test_oaep_sha256),        cmocka_unit_test(test_oaep_sha1),
        cmocka_unit_test(test_rsa_pkcs1_dec),      cmocka_unit_test(test_cipher_errors),
        cmocka_unit_test(test_cbc_pad_retry),      cmocka_unit_test(test_gcm_rearm_wycheproof),
        cmocka_unit_test(test_gcm_rearm_refusals),
    };
    return cmocka_run_group_tests_name("cipher", tests, chsm_test_crypto_group_setup, chsm_test_crypto_group_teardown);
}
