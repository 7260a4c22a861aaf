/*
 * Signature mechanisms against Wycheproof: every valid case verifies, every
 * invalid case fails with CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE,
 * acceptable cases may go either way but must not crash. Keys are built
 * from PKCS#11 components (chsm_pkey_from_parts) once per group.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "crypto/pkey.h"
#include "crypto/sign.h"
#include "suites.h"
#include "vec.h"

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};

static struct chsm_bytes B(const void *p, size_t n) { return (struct chsm_bytes){p, n}; }

static struct chsm_pkey *rsa_pub(const struct json *pk)
{
    size_t nl, el;
    uint8_t *n = json_hex(pk, "modulus", &nl), *e = json_hex(pk, "publicExponent", &el);
    struct chsm_pkey_parts parts = {.key_type = CKK_RSA, .n = B(n, nl), .e = B(e, el)};
    struct chsm_pkey *k = NULL;
    assert_int_equal(chsm_pkey_from_parts(&parts, &k), CKR_OK);
    free(n), free(e);
    return k;
}

static struct chsm_pkey *ec_pub(const struct json *pk)
{
    const char *curve = json_str(pk, "curve");
    size_t pl;
    uint8_t *pt = json_hex(pk, strncmp(curve, "edwards", 7) == 0 ? "pk" : "uncompressed", &pl);
    struct chsm_pkey_parts parts = {.key_type = CKK_EC, .ec_point = B(pt, pl)};
    struct chsm_pkey *k = NULL;
    if (strcmp(curve, "secp256r1") == 0) parts.ec_params = B(oid_p256, sizeof(oid_p256));
    else if (strcmp(curve, "secp384r1") == 0) parts.ec_params = B(oid_p384, sizeof(oid_p384));
    else if (strcmp(curve, "secp521r1") == 0) parts.ec_params = B(oid_p521, sizeof(oid_p521));
    else if (strcmp(curve, "edwards25519") == 0) parts.ec_params = B(oid_ed25519, 5), parts.key_type = CKK_EC_EDWARDS;
    else if (strcmp(curve, "edwards448") == 0) parts.ec_params = B(oid_ed448, 5), parts.key_type = CKK_EC_EDWARDS;
    else fail_msg("curve %s", curve);
    assert_int_equal(chsm_pkey_from_parts(&parts, &k), CKR_OK);
    free(pt);
    return k;
}

static CK_MECHANISM_TYPE mech_for(const char *fam, const char *sha)
{
    static const struct { const char *fam, *sha; CK_MECHANISM_TYPE m; } t[] = {
        {"rsa", "SHA-256", CKM_SHA256_RSA_PKCS}, {"rsa", "SHA-384", CKM_SHA384_RSA_PKCS},
        {"rsa", "SHA-512", CKM_SHA512_RSA_PKCS}, {"pss", "SHA-256", CKM_SHA256_RSA_PKCS_PSS},
        {"ec", "SHA-256", CKM_ECDSA_SHA256},     {"ec", "SHA-384", CKM_ECDSA_SHA384},
        {"ec", "SHA-512", CKM_ECDSA_SHA512},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].fam, fam) == 0 && strcmp(t[i].sha, sha) == 0)
            return t[i].m;
    fail_msg("no mech for %s/%s", fam, sha);
    return 0;
}

/* Drive one verify file. fam: "rsa" | "pss" | "ec" | "ed". */
static void drive_verify(const char *file, const char *fam, size_t min_cases)
{
    struct json *root = vec_load(file);
    size_t cases = 0;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        const struct json *pk = json_get(g, "publicKey");
        struct chsm_pkey *key = strcmp(fam, "rsa") == 0 || strcmp(fam, "pss") == 0 ? rsa_pub(pk) : ec_pub(pk);
        CK_MECHANISM_TYPE mech = strcmp(fam, "ed") == 0 ? CKM_EDDSA : mech_for(fam, json_str(g, "sha"));
        CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, (CK_ULONG)json_int(g, "sLen", 0)};
        const void *param = strcmp(fam, "pss") == 0 ? &pss : NULL;
        size_t param_len = param ? sizeof(pss) : 0;
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t ml, sl;
            uint8_t *msg = json_hex(t, "msg", &ml), *sig = json_hex(t, "sig", &sl);
            struct chsm_sign *v = NULL;
            assert_int_equal(chsm_sign_new(mech, param, param_len, key, true, &v), CKR_OK);
            /* Multi-part for the hashing mechanisms: split the message in two. */
            size_t half = chsm_sign_is_multipart(mech) ? ml / 2 : ml;
            assert_int_equal(chsm_sign_update(v, msg, half), CKR_OK);
            assert_int_equal(chsm_sign_update(v, msg + half, ml - half), CKR_OK);
            CK_RV rv = chsm_verify_final(v, sig, sl);
            if (vec_valid(t))
                assert_int_equal(rv, CKR_OK);
            else if (vec_invalid(t) && rv != CKR_SIGNATURE_INVALID && rv != CKR_SIGNATURE_LEN_RANGE)
                fail_msg("%s tcId %ld: invalid case gave %s", file, json_int(t, "tcId", -1), chsm_rv_name(rv));
            chsm_sign_free(v);
            free(msg), free(sig);
            cases++;
        }
        chsm_pkey_free(key);
    }
    assert_true(cases >= min_cases);
    json_free(root);
}

static void test_rsa_pkcs1_2048(void **s) { (void)s; drive_verify("rsa_signature_2048_sha256_test.json", "rsa", 250); }
static void test_rsa_pkcs1_3072(void **s) { (void)s; drive_verify("rsa_signature_3072_sha384_test.json", "rsa", 100); }
static void test_rsa_pkcs1_4096(void **s) { (void)s; drive_verify("rsa_signature_4096_sha512_test.json", "rsa", 100); }
static void test_rsa_pss(void **s) { (void)s; drive_verify("rsa_pss_2048_sha256_mgf1_32_test.json", "pss", 100); }
static void test_ecdsa_p256(void **s) { (void)s; drive_verify("ecdsa_secp256r1_sha256_p1363_test.json", "ec", 250); }
static void test_ecdsa_p384(void **s) { (void)s; drive_verify("ecdsa_secp384r1_sha384_p1363_test.json", "ec", 200); }
static void test_ecdsa_p521(void **s) { (void)s; drive_verify("ecdsa_secp521r1_sha512_p1363_test.json", "ec", 200); }
static void test_ed25519(void **s) { (void)s; drive_verify("ed25519_test.json", "ed", 150); }
static void test_ed448(void **s) { (void)s; drive_verify("ed448_test.json", "ed", 80); }

/* Sign with generated keys for every mechanism, verify, tamper, and check the errors. */
static void roundtrip(struct chsm_pkey *k, CK_MECHANISM_TYPE mech, const void *param, size_t plen, size_t in_len)
{
    uint8_t msg[64], sig[1024];
    size_t sl = 0;
    struct chsm_sign *s = NULL, *v = NULL;
    memset(msg, 0x5a, sizeof(msg));
    assert_int_equal(chsm_sign_new(mech, param, plen, k, false, &s), CKR_OK);
    assert_int_equal(chsm_sign_oneshot(s, msg, in_len, NULL, &sl), CKR_OK); /* size query */
    assert_int_equal(sl, chsm_pkey_sig_len(k));
    sl = 1;
    assert_int_equal(chsm_sign_final(s, sig, &sl), CKR_BUFFER_TOO_SMALL);
    sl = sizeof(sig);
    assert_int_equal(chsm_sign_oneshot(s, msg, in_len, sig, &sl), CKR_OK);
    assert_int_equal(chsm_sign_update(s, msg, 1), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(chsm_sign_new(mech, param, plen, k, true, &v), CKR_OK);
    assert_int_equal(chsm_verify_oneshot(v, msg, in_len, sig, sl), CKR_OK);
    chsm_sign_free(v);
    sig[sl / 2] ^= 1;
    assert_int_equal(chsm_sign_new(mech, param, plen, k, true, &v), CKR_OK);
    assert_int_equal(chsm_verify_oneshot(v, msg, in_len, sig, sl), CKR_SIGNATURE_INVALID);
    chsm_sign_free(v);
    assert_int_equal(chsm_sign_new(mech, param, plen, k, true, &v), CKR_OK);
    assert_int_equal(chsm_verify_oneshot(v, msg, in_len, sig, sl - 1), CKR_SIGNATURE_LEN_RANGE);
    chsm_sign_free(v);
    chsm_sign_free(s);
}

static void test_generated_keys(void **state)
{
    struct chsm_pkey *rsa = NULL, *ec = NULL, *ed = NULL, *ed448 = NULL;
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_EDDSA_PARAMS ph = {CK_TRUE, 0, NULL}, pure = {CK_FALSE, 0, NULL};
    struct chsm_sign *s = NULL;
    uint8_t digest_info[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
                               0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    uint8_t sig[256], rec[256];
    size_t sl = sizeof(sig), rl = sizeof(rec);
    (void)state;
    assert_int_equal(chsm_pkey_generate_rsa(2048, NULL, 0, &rsa), CKR_OK);
    assert_int_equal(chsm_pkey_generate_ec(oid_p256, sizeof(oid_p256), &ec), CKR_OK);
    assert_int_equal(chsm_pkey_generate_ec(oid_ed25519, sizeof(oid_ed25519), &ed), CKR_OK);
    assert_int_equal(chsm_pkey_generate_ec(oid_ed448, sizeof(oid_ed448), &ed448), CKR_OK);
    assert_int_equal(chsm_pkey_bits(rsa), 2048);
    roundtrip(rsa, CKM_SHA256_RSA_PKCS, NULL, 0, 64);
    roundtrip(rsa, CKM_SHA1_RSA_PKCS, NULL, 0, 10);
    roundtrip(rsa, CKM_RSA_PKCS, NULL, 0, 51);
    roundtrip(rsa, CKM_RSA_X_509, NULL, 0, 64);
    roundtrip(rsa, CKM_RSA_PKCS_PSS, &pss, sizeof(pss), 32);
    roundtrip(rsa, CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss), 64);
    roundtrip(ec, CKM_ECDSA, NULL, 0, 32);
    roundtrip(ec, CKM_ECDSA_SHA384, NULL, 0, 64);
    roundtrip(ed, CKM_EDDSA, NULL, 0, 64);
    roundtrip(ed, CKM_EDDSA, &pure, sizeof(pure), 0);
    roundtrip(ed448, CKM_EDDSA, NULL, 0, 64);
    /* Sign-recover / verify-recover with RSA_PKCS over a DigestInfo. */
    assert_int_equal(chsm_sign_new(CKM_RSA_PKCS, NULL, 0, rsa, false, &s), CKR_OK);
    assert_int_equal(chsm_sign_oneshot(s, digest_info, sizeof(digest_info), sig, &sl), CKR_OK);
    chsm_sign_free(s);
    assert_int_equal(chsm_sign_new(CKM_RSA_PKCS, NULL, 0, rsa, true, &s), CKR_OK);
    assert_int_equal(chsm_verify_recover(s, sig, sl, rec, &rl), CKR_OK);
    assert_int_equal(rl, sizeof(digest_info));
    assert_memory_equal(rec, digest_info, rl);
    chsm_sign_free(s);
    s = NULL;
    /* Parameter and key-type errors (the out pointer is never written on failure). */
    assert_int_equal(chsm_sign_new(CKM_EDDSA, &ph, sizeof(ph), ed, false, &s), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_sign_new(CKM_EDDSA, &pure, 3, ed, false, &s), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_sign_new(CKM_ECDSA, NULL, 0, rsa, false, &s), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(chsm_sign_new(CKM_SHA256_RSA_PKCS, NULL, 0, ec, false, &s), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(chsm_sign_new(CKM_RSA_PKCS_PSS, NULL, 0, rsa, false, &s), CKR_MECHANISM_PARAM_INVALID);
    pss.hashAlg = CKM_SHA384;
    assert_int_equal(chsm_sign_new(CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss), rsa, false, &s),
                     CKR_MECHANISM_PARAM_INVALID);
    pss.hashAlg = CKM_SHA256, pss.sLen = 4096;
    assert_int_equal(chsm_sign_new(CKM_RSA_PKCS_PSS, &pss, sizeof(pss), rsa, false, &s), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_sign_new(CKM_AES_CBC, NULL, 0, rsa, false, &s), CKR_MECHANISM_INVALID);
    assert_null(s);
    /* Raw PSS wants exactly a hash; RSA_PKCS input must leave 11 bytes of padding. */
    pss.sLen = 32;
    assert_int_equal(chsm_sign_new(CKM_RSA_PKCS_PSS, &pss, sizeof(pss), rsa, false, &s), CKR_OK);
    sl = sizeof(sig);
    assert_int_equal(chsm_sign_oneshot(s, sig, 31, sig, &sl), CKR_DATA_LEN_RANGE);
    chsm_sign_free(s);
    assert_int_equal(chsm_sign_new(CKM_RSA_PKCS, NULL, 0, rsa, false, &s), CKR_OK);
    sl = sizeof(sig);
    assert_int_equal(chsm_sign_oneshot(s, rec, 246, sig, &sl), CKR_DATA_LEN_RANGE);
    chsm_sign_free(s);
    chsm_pkey_free(rsa), chsm_pkey_free(ec), chsm_pkey_free(ed), chsm_pkey_free(ed448);
}

static void test_public_key_cannot_sign(void **state)
{
    struct json *root = vec_load("ed25519_test.json");
    struct chsm_pkey *k = ec_pub(json_get(vec_group(root, 0), "publicKey"));
    struct chsm_sign *s = NULL;
    (void)state;
    assert_int_equal(chsm_sign_new(CKM_EDDSA, NULL, 0, k, false, &s), CKR_KEY_FUNCTION_NOT_PERMITTED);
    chsm_pkey_free(k);
    json_free(root);
}

/*
 * EC generation in both pairwise-test modes (Q == d*G outside FIPS mode, sign+verify in it),
 * through the pooled generation contexts: the exported CKA_EC_POINT (served from the point
 * cached at generation) is exactly the point OpenSSL decodes from the key's own SPKI, keys
 * differ, and each signs and verifies.
 */
static void test_ec_generation_pct_modes(void **state)
{
    static const struct {
        const uint8_t *oid;
        size_t len, field;
    } cv[] = {{oid_p256, sizeof(oid_p256), 32}, {oid_p384, sizeof(oid_p384), 48}, {oid_p521, sizeof(oid_p521), 66}};
    (void)state;
    for (int fips = 0; fips < 2; fips++) {
        chsm_pkey_set_fips_pct(fips == 1);
        for (size_t c = 0; c < CHSM_ARRAY_LEN(cv); c++) {
            uint8_t first[2 * 66 + 1] = {0};
            for (int i = 0; i < 3; i++) {
                struct chsm_pkey *k = NULL;
                struct chsm_buf point, spki;
                uint8_t ref[2 * 66 + 1];
                size_t ref_len = 0;
                assert_int_equal(chsm_pkey_generate_ec(cv[c].oid, cv[c].len, &k), CKR_OK);
                assert_int_equal(chsm_pkey_get_component(k, CKA_EC_POINT, &point), CKR_OK);
                assert_int_equal(chsm_pkey_export_spki(k, &spki), CKR_OK);
                const unsigned char *p = spki.data;
                EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki.len);
                assert_non_null(pub);
                assert_int_equal(EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, ref, sizeof(ref), &ref_len), 1);
                assert_int_equal(ref_len, 2 * cv[c].field + 1);
                /* CKA_EC_POINT is the DER OCTET STRING around that point */
                assert_int_equal(point.len, ref_len + (ref_len >= 0x80 ? 3 : 2));
                assert_memory_equal(point.data + point.len - ref_len, ref, ref_len);
                if (i == 0)
                    memcpy(first, ref, ref_len);
                else
                    assert_memory_not_equal(first, ref, ref_len);
                roundtrip(k, CKM_ECDSA_SHA256, NULL, 0, 48);
                EVP_PKEY_free(pub);
                chsm_buf_free(&point);
                chsm_buf_free(&spki);
                chsm_pkey_free(k);
            }
        }
    }
    chsm_pkey_set_fips_pct(false);
}

int run_sign_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_pkcs1_2048), cmocka_unit_test(test_rsa_pkcs1_3072),
        cmocka_unit_test(test_rsa_pkcs1_4096), cmocka_unit_test(test_rsa_pss),
        cmocka_unit_test(test_ecdsa_p256),     cmocka_unit_test(test_ecdsa_p384),
        cmocka_unit_test(test_ecdsa_p521),     cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_ed448),          cmocka_unit_test(test_generated_keys),
        cmocka_unit_test(test_public_key_cannot_sign), cmocka_unit_test(test_ec_generation_pct_modes),
    };
    return cmocka_run_group_tests_name("sign", tests, chsm_test_crypto_group_setup, chsm_test_crypto_group_teardown);
}
