/*
 * MAC (HMAC, CMAC) and ECDH mechanisms against Wycheproof, and chsm_pkey
 * component/PKCS#8/SPKI round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/derive.h"
#include "crypto/mac.h"
#include "crypto/pkey.h"
#include "suites.h"
#include "vec.h"

static void drive_mac(const char *file, CK_MECHANISM_TYPE full, CK_MECHANISM_TYPE general, size_t expect)
{
    struct json *root = vec_load(file);
    size_t cases = 0;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        CK_ULONG tag_bytes = (CK_ULONG)json_int(g, "tagSize", 0) / 8;
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, ml, tl;
            uint8_t *key = json_hex(t, "key", &kl), *msg = json_hex(t, "msg", &ml), *tag = json_hex(t, "tag", &tl);
            struct chsm_mac *m = NULL;
            CK_RV rv = chsm_mac_new(general, &tag_bytes, sizeof(tag_bytes), key, kl, &m);
            if (rv == CKR_OK) {
                size_t half = ml / 2;
                assert_int_equal(chsm_mac_update(m, msg, half), CKR_OK);
                assert_int_equal(chsm_mac_update(m, msg + half, ml - half), CKR_OK);
                rv = chsm_mac_verify_final(m, tag, tl);
                chsm_mac_free(m);
            }
            if (vec_valid(t)) {
                assert_int_equal(rv, CKR_OK);
                /* The full-length mechanism signs to a prefix-compatible value. */
                uint8_t out[64];
                size_t ol = sizeof(out);
                assert_int_equal(chsm_mac_new(full, NULL, 0, key, kl, &m), CKR_OK);
                assert_int_equal(chsm_mac_update(m, msg, ml), CKR_OK);
                assert_int_equal(chsm_mac_sign_final(m, out, &ol), CKR_OK);
                assert_memory_equal(out, tag, tl);
                chsm_mac_free(m);
            } else if (rv != CKR_SIGNATURE_INVALID && rv != CKR_SIGNATURE_LEN_RANGE && rv != CKR_KEY_SIZE_RANGE) {
                fail_msg("%s tcId %ld: %s", file, json_int(t, "tcId", 0), chsm_rv_name(rv));
            }
            cases++;
            free(key), free(msg), free(tag);
        }
    }
    assert_int_equal(cases, expect);
    json_free(root);
}

static void test_hmac256(void **s) { (void)s; drive_mac("hmac_sha256_test.json", CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, 174); }
static void test_hmac384(void **s) { (void)s; drive_mac("hmac_sha384_test.json", CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, 174); }
static void test_hmac512(void **s) { (void)s; drive_mac("hmac_sha512_test.json", CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, 174); }
static void test_cmac(void **s) { (void)s; drive_mac("aes_cmac_test.json", CKM_AES_CMAC, CKM_AES_CMAC_GENERAL, 311); }

static void test_mac_errors(void **state)
{
    uint8_t key[32] = {0}, out[64];
    size_t ol = 1;
    CK_ULONG bad = 33;
    struct chsm_mac *m = NULL;
    (void)state;
    assert_int_equal(chsm_mac_new(CKM_SHA256_HMAC_GENERAL, &bad, sizeof(bad), key, 32, &m), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_mac_new(CKM_AES_CMAC, NULL, 0, key, 17, &m), CKR_KEY_SIZE_RANGE);
    assert_int_equal(chsm_mac_new(CKM_SHA256, NULL, 0, key, 17, &m), CKR_MECHANISM_INVALID);
    assert_int_equal(chsm_mac_new(CKM_SHA256_HMAC, NULL, 0, key, 32, &m), CKR_OK);
    assert_int_equal(chsm_mac_sign_final(m, out, &ol), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(ol, 32);
    assert_int_equal(chsm_mac_sign_final(m, out, &ol), CKR_OK);
    assert_int_equal(chsm_mac_update(m, out, 1), CKR_OPERATION_NOT_INITIALIZED);
    chsm_mac_free(m);
}

static const uint8_t *oid_for(const char *curve, size_t *len)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const uint8_t p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
    static const uint8_t p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
    if (strcmp(curve, "secp256r1") == 0) return *len = sizeof(p256), p256;
    if (strcmp(curve, "secp384r1") == 0) return *len = sizeof(p384), p384;
    *len = sizeof(p521);
    return p521;
}

static void drive_ecdh(const char *file)
{
    struct json *root = vec_load(file);
    size_t cases = 0, derived = 0;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        size_t ol;
        const uint8_t *oid = oid_for(json_str(g, "curve"), &ol);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t pl, dl, sl;
            uint8_t *pub = json_hex(t, "public", &pl), *d = json_hex(t, "private", &dl), *z = json_hex(t, "shared", &sl);
            uint8_t *dp = d;
            struct chsm_pkey *priv = NULL, *peer = NULL;
            struct chsm_buf point = {0}, params = {0}, secret = {0};
            CK_RV rv;
            while (dl > 1 && dp[0] == 0) /* ASN.1 INTEGER sign byte */
                dp++, dl--;
            struct chsm_pkey_parts parts = {.key_type = CKK_EC, .is_private = true};
            parts.ec_params = (struct chsm_bytes){oid, ol};
            parts.value = (struct chsm_bytes){dp, dl};
            assert_int_equal(chsm_pkey_from_parts(&parts, &priv), CKR_OK);
            /* The peer comes as SPKI; a different or invalid curve must fail somewhere. */
            rv = chsm_pkey_import_spki(pub, pl, &peer);
            if (rv == CKR_OK)
                rv = chsm_pkey_get_component(peer, CKA_EC_PARAMS, &params);
            if (rv == CKR_OK && (params.len != ol || memcmp(params.data, oid, ol) != 0))
                rv = CKR_MECHANISM_PARAM_INVALID;
            if (rv == CKR_OK)
                rv = chsm_pkey_get_component(peer, CKA_EC_POINT, &point);
            if (rv == CKR_OK) {
                CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, point.len, point.data};
                rv = chsm_ecdh_derive(priv, &p, sizeof(p), 0, &secret);
            }
            if (vec_valid(t)) {
                assert_int_equal(rv, CKR_OK);
                assert_int_equal(secret.len, sl);
                assert_memory_equal(secret.data, z, sl);
                derived++;
            } else if (vec_invalid(t) && rv == CKR_OK) {
                fail_msg("%s tcId %ld (%s) accepted", file, json_int(t, "tcId", 0), json_str(t, "comment"));
            }
            cases++;
            chsm_buf_free(&point), chsm_buf_free(&params), chsm_buf_free(&secret);
            chsm_pkey_free(priv), chsm_pkey_free(peer);
            free(pub), free(d), free(z);
        }
    }
    assert_true(cases >= 300 && derived >= 100);
    json_free(root);
}

static void test_ecdh_p256(void **s) { (void)s; drive_ecdh("ecdh_secp256r1_test.json"); }
static void test_ecdh_p384(void **s) { (void)s; drive_ecdh("ecdh_secp384r1_test.json"); }
static void test_ecdh_p521(void **s) { (void)s; drive_ecdh("ecdh_secp521r1_test.json"); }

/* Two generated keys agree on X9.63-SHA256 output with shared data, raw and DER points. */
static void test_ecdh_kdf(void **state)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    struct chsm_pkey *a = NULL, *b = NULL, *ed = NULL;
    struct chsm_buf pa = {0}, pb = {0}, sa = {0}, sb = {0};
    static const uint8_t ed_oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
    uint8_t info[] = "shared";
    (void)state;
    assert_int_equal(chsm_pkey_generate_ec(p256, sizeof(p256), &a), CKR_OK);
    assert_int_equal(chsm_pkey_generate_ec(p256, sizeof(p256), &b), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(a, CKA_EC_POINT, &pa), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(b, CKA_EC_POINT, &pb), CKR_OK);
    assert_int_equal(pa.len, 67); /* DER OCTET STRING of a 65-byte point */
    CK_ECDH1_DERIVE_PARAMS p = {CKD_SHA256_KDF, sizeof(info), info, pb.len, pb.data};
    assert_int_equal(chsm_ecdh_derive(a, &p, sizeof(p), 40, &sa), CKR_OK);
    p.pPublicData = pa.data + 2, p.ulPublicDataLen = pa.len - 2; /* raw form */
    assert_int_equal(chsm_ecdh_derive(b, &p, sizeof(p), 40, &sb), CKR_OK);
    assert_int_equal(sa.len, 40);
    assert_memory_equal(sa.data, sb.data, 40);
    chsm_buf_free(&sa);
    /* Errors. */
    p.kdf = CKD_NULL;
    assert_int_equal(chsm_ecdh_derive(b, &p, sizeof(p), 0, &sa), CKR_MECHANISM_PARAM_INVALID); /* shared data */
    p.ulSharedDataLen = 0, p.pSharedData = NULL;
    assert_int_equal(chsm_ecdh_derive(b, &p, sizeof(p), 33, &sa), CKR_KEY_SIZE_RANGE);
    assert_int_equal(chsm_ecdh_derive(b, &p, 7, 0, &sa), CKR_MECHANISM_PARAM_INVALID);
    p.ulPublicDataLen = 30;
    assert_int_equal(chsm_ecdh_derive(b, &p, sizeof(p), 0, &sa), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_pkey_generate_ec(ed_oid, sizeof(ed_oid), &ed), CKR_OK);
    assert_int_equal(chsm_ecdh_derive(ed, &p, sizeof(p), 0, &sa), CKR_KEY_TYPE_INCONSISTENT);
    chsm_buf_free(&pa), chsm_buf_free(&pb), chsm_buf_free(&sb);
    chsm_pkey_free(a), chsm_pkey_free(b), chsm_pkey_free(ed);
}

/* Export every component of a generated key, rebuild it, and get the same SPKI; PKCS#8 both ways. */
static void roundtrip_key(struct chsm_pkey *k, const CK_ATTRIBUTE_TYPE *types, size_t n)
{
    struct chsm_buf v[9] = {{0}}, spki1 = {0}, spki2 = {0}, p8 = {0}, p8b = {0};
    struct chsm_pkey *back = NULL, *fromp8 = NULL;
    struct chsm_pkey_parts parts = {.is_private = true};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(chsm_pkey_get_component(k, types[i], &v[i]), CKR_OK);
#define SET(field, idx) parts.field = (struct chsm_bytes){v[idx].data, v[idx].len}
    if (chsm_pkey_kind(k) == CHSM_PKEY_RSA) {
        parts.key_type = CKK_RSA;
        SET(n, 0), SET(e, 1), SET(d, 2), SET(p, 3), SET(q, 4), SET(dp, 5), SET(dq, 6), SET(qinv, 7);
    } else {
        parts.key_type = chsm_pkey_kind(k) == CHSM_PKEY_EC ? CKK_EC : CKK_EC_EDWARDS;
        SET(ec_params, 0), SET(ec_point, 1), SET(value, 2);
    }
#undef SET
    assert_int_equal(chsm_pkey_from_parts(&parts, &back), CKR_OK);
    assert_int_equal(chsm_pkey_export_spki(k, &spki1), CKR_OK);
    assert_int_equal(chsm_pkey_export_spki(back, &spki2), CKR_OK);
    assert_int_equal(spki1.len, spki2.len);
    assert_memory_equal(spki1.data, spki2.data, spki1.len);
    assert_int_equal(chsm_pkey_pairwise_test(back), CKR_OK);
    assert_int_equal(chsm_pkey_export_pkcs8(back, &p8), CKR_OK);
    assert_int_equal(chsm_pkey_import_pkcs8(p8.data, p8.len, &fromp8), CKR_OK);
    assert_int_equal(chsm_pkey_export_pkcs8(fromp8, &p8b), CKR_OK);
    assert_int_equal(p8.len, p8b.len);
    assert_memory_equal(p8.data, p8b.data, p8.len);
    /* The CLI path reads the same DER. */
    chsm_pkey_free(fromp8);
    assert_int_equal(chsm_pkey_import_private_any(p8.data, p8.len, &fromp8), CKR_OK);
    /* Truncated or trailing-garbage PKCS#8 is refused with the unwrap code. */
    chsm_pkey_free(back);
    back = NULL;
    assert_int_equal(chsm_pkey_import_pkcs8(p8.data, p8.len - 1, &back), CKR_WRAPPED_KEY_INVALID);
    assert_int_equal(chsm_pkey_import_pkcs8(spki1.data, spki1.len, &back), CKR_WRAPPED_KEY_INVALID);
    assert_null(back);
    for (size_t i = 0; i < 9; i++)
        chsm_buf_free(&v[i]);
    chsm_buf_free(&spki1), chsm_buf_free(&spki2), chsm_buf_free(&p8), chsm_buf_free(&p8b);
    chsm_pkey_free(fromp8);
}

static void test_pkey_roundtrips(void **state)
{
    static const uint8_t p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
    static const uint8_t ed448_name[] = {0x13, 0x0a, 'e', 'd', 'w', 'a', 'r', 'd', 's', '4', '4', '8'};
    static const CK_ATTRIBUTE_TYPE rsa_t[] = {CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
                                              CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT};
    static const CK_ATTRIBUTE_TYPE ec_t[] = {CKA_EC_PARAMS, CKA_EC_POINT, CKA_VALUE};
    struct chsm_pkey *rsa = NULL, *ec = NULL, *ed = NULL;
    struct chsm_buf b = {0};
    uint8_t e3 = 3;
    (void)state;
    assert_int_equal(chsm_pkey_generate_rsa(1024, &e3, 1, &rsa), CKR_OK);
    roundtrip_key(rsa, rsa_t, 8);
    assert_int_equal(chsm_pkey_generate_ec(p384, sizeof(p384), &ec), CKR_OK);
    roundtrip_key(ec, ec_t, 3);
    assert_int_equal(chsm_pkey_generate_ec(ed448_name, sizeof(ed448_name), &ed), CKR_OK);
    assert_int_equal(chsm_pkey_bits(ed), 448);
    roundtrip_key(ed, ec_t, 3);
    /* Components a key type does not have. */
    assert_int_equal(chsm_pkey_get_component(rsa, CKA_EC_POINT, &b), CKR_ATTRIBUTE_TYPE_INVALID);
    assert_int_equal(chsm_pkey_get_component(ec, CKA_MODULUS, &b), CKR_ATTRIBUTE_TYPE_INVALID);
    assert_int_equal(chsm_pkey_get_component(ec, CKA_LABEL, &b), CKR_ATTRIBUTE_TYPE_INVALID);
    chsm_pkey_free(rsa), chsm_pkey_free(ec), chsm_pkey_free(ed);
}

static void test_pkey_bad_parts(void **state)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const uint8_t secp256k1[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
    static const uint8_t ed_oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
    uint8_t zero[32] = {0}, big[33], pt[65] = {0x04};
    struct chsm_pkey *k = NULL;
    struct chsm_pkey_parts p = {.key_type = CKK_EC, .is_private = true};
    (void)state;
    memset(big, 0xff, sizeof(big));
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_TEMPLATE_INCOMPLETE);
    p.ec_params = (struct chsm_bytes){secp256k1, sizeof(secp256k1)};
    p.value = (struct chsm_bytes){zero, 32};
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_CURVE_NOT_SUPPORTED);
    p.ec_params = (struct chsm_bytes){p256, sizeof(p256)};
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_ATTRIBUTE_VALUE_INVALID); /* d = 0 */
    p.value = (struct chsm_bytes){big, 33};
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    p.value = (struct chsm_bytes){big, 32};
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_ATTRIBUTE_VALUE_INVALID); /* d >= n */
    p.is_private = false;
    p.ec_point = (struct chsm_bytes){pt, sizeof(pt)};
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_ATTRIBUTE_VALUE_INVALID); /* not on curve */
    p.ec_point = (struct chsm_bytes){pt, 40};
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    p.key_type = CKK_EC_EDWARDS;
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_TEMPLATE_INCONSISTENT);
    p.ec_params = (struct chsm_bytes){ed_oid, sizeof(ed_oid)};
    p.is_private = true, p.value = (struct chsm_bytes){zero, 31};
    assert_int_equal(chsm_pkey_from_parts(&p, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    struct chsm_pkey_parts r = {.key_type = CKK_RSA, .is_private = true, .n = {big, 33}, .e = {big, 1}, .d = {big, 3},
                                .p = {big, 3}};
    assert_int_equal(chsm_pkey_from_parts(&r, &k), CKR_TEMPLATE_INCONSISTENT); /* half a CRT set */
    r.n.len = 0;
    assert_int_equal(chsm_pkey_from_parts(&r, &k), CKR_TEMPLATE_INCOMPLETE);
    r.key_type = CKK_DSA;
    assert_int_equal(chsm_pkey_from_parts(&r, &k), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(chsm_pkey_generate_rsa(512, NULL, 0, &k), CKR_KEY_SIZE_RANGE);
    assert_int_equal(chsm_pkey_generate_rsa(2048, zero, 1, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(chsm_pkey_generate_ec(secp256k1, sizeof(secp256k1), &k), CKR_CURVE_NOT_SUPPORTED);
    assert_int_equal(chsm_pkey_import_private_any((const uint8_t *)"-----BEGIN NOTHING-----", 23, &k),
                     CKR_DATA_INVALID);
    assert_null(k);
}

/* RSA private key with only n, e, d (no CRT) signs correctly. */
static void test_rsa_ned_only(void **state)
{
    struct chsm_pkey *full = NULL, *ned = NULL;
    struct chsm_buf n = {0}, e = {0}, d = {0}, q = {0};
    (void)state;
    assert_int_equal(chsm_pkey_generate_rsa(2048, NULL, 0, &full), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(full, CKA_MODULUS, &n), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(full, CKA_PUBLIC_EXPONENT, &e), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(full, CKA_PRIVATE_EXPONENT, &d), CKR_OK);
    struct chsm_pkey_parts p = {.key_type = CKK_RSA, .is_private = true, .n = {n.data, n.len}, .e = {e.data, e.len},
                                .d = {d.data, d.len}};
    assert_int_equal(chsm_pkey_from_parts(&p, &ned), CKR_OK);
    assert_int_equal(chsm_pkey_pairwise_test(ned), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(ned, CKA_PRIME_1, &q), CKR_KEY_UNEXTRACTABLE);
    chsm_buf_free(&n), chsm_buf_free(&e), chsm_buf_free(&d);
    chsm_pkey_free(full), chsm_pkey_free(ned);
}

int run_mac_derive_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac256),        cmocka_unit_test(test_hmac384),
        cmocka_unit_test(test_hmac512),        cmocka_unit_test(test_cmac),
        cmocka_unit_test(test_mac_errors),     cmocka_unit_test(test_ecdh_p256),
        cmocka_unit_test(test_ecdh_p384),      cmocka_unit_test(test_ecdh_p521),
        cmocka_unit_test(test_ecdh_kdf),       cmocka_unit_test(test_pkey_roundtrips),
        cmocka_unit_test(test_pkey_bad_parts), cmocka_unit_test(test_rsa_ned_only),
    };
    return cmocka_run_group_tests_name("mac-derive-pkey", tests, chsm_test_crypto_group_setup,
                                       chsm_test_crypto_group_teardown);
}
