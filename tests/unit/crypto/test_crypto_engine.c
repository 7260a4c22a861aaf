/*
 * The adapter must not depend on, or be redirected by, the host's global
 * OpenSSL state. A host such as `openssl pkeyutl -engine pkcs11` registers
 * libp11 as the default ENGINE for PKEY methods; OpenSSL 3.0 then builds
 * legacy EVP_PKEY_CTXs bound to that engine even inside a private
 * OSSL_LIB_CTX (pmeth_lib.c int_ctx_new). This test registers a hostile
 * dummy ENGINE whose PKEY methods fail and count every call, BEFORE
 * chsm_crypto_init, then drives every asymmetric path of the adapter and
 * asserts it works and the engine was never consulted.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the ENGINE API is what hosts still use */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/engine.h>
#include <openssl/evp.h>

#include "common/bytes.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/derive.h"
#include "crypto/pkey.h"
#include "crypto/sign.h"

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};

static const int hostile_nids[] = {EVP_PKEY_EC, EVP_PKEY_RSA, EVP_PKEY_ED25519, EVP_PKEY_ED448, EVP_PKEY_X25519};
#define NHOSTILE (sizeof(hostile_nids) / sizeof(hostile_nids[0]))
static EVP_PKEY_METHOD *hostile_meth[NHOSTILE];
static ENGINE *hostile;
static int engine_calls;

static int hostile_init(EVP_PKEY_CTX *ctx)
{
    (void)ctx;
    engine_calls++;
    return 0; /* every context the engine is asked for fails */
}

static int hostile_pkey_meths(ENGINE *e, EVP_PKEY_METHOD **pmeth, const int **nids, int nid)
{
    (void)e;
    if (pmeth == NULL) { /* enumeration at registration time: not a use */
        *nids = hostile_nids;
        return (int)NHOSTILE;
    }
    engine_calls++;
    for (size_t i = 0; i < NHOSTILE; i++)
        if (hostile_nids[i] == nid) {
            *pmeth = hostile_meth[i];
            return 1;
        }
    *pmeth = NULL;
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < NHOSTILE; i++) {
        hostile_meth[i] = EVP_PKEY_meth_new(hostile_nids[i], 0);
        if (hostile_meth[i] == NULL)
            return -1;
        EVP_PKEY_meth_set_init(hostile_meth[i], hostile_init);
    }
    hostile = ENGINE_new();
    if (hostile == NULL || ENGINE_set_id(hostile, "chsm-hostile") != 1 || ENGINE_set_name(hostile, "hostile") != 1 ||
        ENGINE_set_pkey_meths(hostile, hostile_pkey_meths) != 1 ||
        ENGINE_set_default(hostile, ENGINE_METHOD_PKEY_METHS | ENGINE_METHOD_ALL) != 1)
        return -1;
    engine_calls = 0;
    return chsm_crypto_init() == CKR_OK ? 0 : -1; /* after the host's engine is in place */
}

static int group_teardown(void **state)
{
    (void)state;
    chsm_crypto_fini();
    ENGINE_unregister_pkey_meths(hostile);
    ENGINE_free(hostile); /* frees the methods it hands out (engine_pkey_meths_free) */
    return 0;
}

/* Control: the engine really hijacks name-based contexts, even in a fresh private library context. */
static void test_engine_is_live(void **state)
{
    (void)state;
    OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
    assert_non_null(lib);
    int before = engine_calls;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(lib, "EC", NULL);
    assert_null(c); /* hostile_init refused it */
    assert_true(engine_calls > before);
    OSSL_LIB_CTX_free(lib);
    engine_calls = 0;
}

static void report(void *ctx, const char *name, bool passed)
{
    (void)ctx;
    if (!passed)
        print_error("self-test %s failed\n", name);
}

static void test_selftest(void **state)
{
    (void)state;
    assert_int_equal(chsm_selftest_run(report, NULL), CKR_OK);
    assert_int_equal(engine_calls, 0);
}

static void sign_verify(struct chsm_pkey *priv, struct chsm_pkey *pub, CK_MECHANISM_TYPE mech)
{
    static const uint8_t msg[] = "engine-proof";
    uint8_t sig[1024];
    size_t sl = sizeof(sig);
    struct chsm_sign *s = NULL, *v = NULL;
    assert_int_equal(chsm_sign_new(mech, NULL, 0, priv, false, &s), CKR_OK);
    assert_int_equal(chsm_sign_oneshot(s, msg, sizeof(msg), sig, &sl), CKR_OK);
    assert_int_equal(chsm_sign_new(mech, NULL, 0, pub, true, &v), CKR_OK);
    assert_int_equal(chsm_verify_oneshot(v, msg, sizeof(msg), sig, sl), CKR_OK);
    chsm_sign_free(v);
    sig[0] ^= 1;
    assert_int_equal(chsm_sign_new(mech, NULL, 0, pub, true, &v), CKR_OK);
    assert_int_equal(chsm_verify_oneshot(v, msg, sizeof(msg), sig, sl), CKR_SIGNATURE_INVALID);
    chsm_sign_free(v);
    chsm_sign_free(s);
}

static struct chsm_pkey *public_from_parts(const struct chsm_pkey *k, CK_KEY_TYPE type, struct chsm_buf *a,
                                           struct chsm_buf *b)
{
    struct chsm_pkey_parts pp = {.key_type = type};
    struct chsm_pkey *pub = NULL;
    if (type == CKK_RSA) {
        assert_int_equal(chsm_pkey_get_component(k, CKA_MODULUS, a), CKR_OK);
        assert_int_equal(chsm_pkey_get_component(k, CKA_PUBLIC_EXPONENT, b), CKR_OK);
        pp.n = (struct chsm_bytes){a->data, a->len}, pp.e = (struct chsm_bytes){b->data, b->len};
    } else {
        assert_int_equal(chsm_pkey_get_component(k, CKA_EC_PARAMS, a), CKR_OK);
        assert_int_equal(chsm_pkey_get_component(k, CKA_EC_POINT, b), CKR_OK);
        pp.ec_params = (struct chsm_bytes){a->data, a->len}, pp.ec_point = (struct chsm_bytes){b->data, b->len};
    }
    assert_int_equal(chsm_pkey_from_parts(&pp, &pub), CKR_OK);
    return pub;
}

/* Generate, import the public half from PKCS#11 components, sign with one and verify with the other. */
static void roundtrip(struct chsm_pkey *k, CK_KEY_TYPE type, CK_MECHANISM_TYPE mech)
{
    struct chsm_buf a = {0}, b = {0};
    struct chsm_pkey *pub = public_from_parts(k, type, &a, &b);
    sign_verify(k, pub, mech);
    chsm_pkey_free(pub);
    chsm_buf_free(&a);
    chsm_buf_free(&b);
    chsm_pkey_free(k);
}

static void test_keygen_import_sign(void **state)
{
    struct chsm_pkey *k = NULL;
    (void)state;
    assert_int_equal(chsm_pkey_generate_rsa(2048, NULL, 0, &k), CKR_OK);
    assert_int_equal(chsm_pkey_bits(k), 2048); /* keygen parameters reached the provider */
    roundtrip(k, CKK_RSA, CKM_SHA256_RSA_PKCS);
    const uint8_t *ec[] = {oid_p256, oid_p384, oid_p521};
    const size_t ec_len[] = {sizeof(oid_p256), sizeof(oid_p384), sizeof(oid_p521)};
    const size_t ec_bits[] = {256, 384, 521};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(chsm_pkey_generate_ec(ec[i], ec_len[i], &k), CKR_OK);
        assert_int_equal(chsm_pkey_bits(k), ec_bits[i]); /* the requested curve, not a default one */
        roundtrip(k, CKK_EC, CKM_ECDSA_SHA256);
    }
    assert_int_equal(chsm_pkey_generate_ec(oid_ed25519, sizeof(oid_ed25519), &k), CKR_OK);
    assert_int_equal(chsm_pkey_kind(k), CHSM_PKEY_ED25519);
    roundtrip(k, CKK_EC_EDWARDS, CKM_EDDSA);
    assert_int_equal(chsm_pkey_generate_ec(oid_ed448, sizeof(oid_ed448), &k), CKR_OK);
    assert_int_equal(chsm_pkey_kind(k), CHSM_PKEY_ED448);
    roundtrip(k, CKK_EC_EDWARDS, CKM_EDDSA);
    assert_int_equal(engine_calls, 0);
}

/* Private keys rebuilt from components (EC scalar, Edwards raw) and from PKCS#8/SPKI (decoder path). */
static void test_private_import(void **state)
{
    struct chsm_pkey *k = NULL, *k2 = NULL, *pub = NULL;
    struct chsm_buf v = {0}, der = {0}, spki = {0};
    (void)state;
    const uint8_t *oids[] = {oid_p384, oid_ed25519};
    const size_t lens[] = {sizeof(oid_p384), sizeof(oid_ed25519)};
    for (size_t i = 0; i < 2; i++) {
        CK_KEY_TYPE type = i == 0 ? CKK_EC : CKK_EC_EDWARDS;
        CK_MECHANISM_TYPE mech = i == 0 ? CKM_ECDSA_SHA384 : CKM_EDDSA;
        assert_int_equal(chsm_pkey_generate_ec(oids[i], lens[i], &k), CKR_OK);
        assert_int_equal(chsm_pkey_get_component(k, CKA_VALUE, &v), CKR_OK);
        struct chsm_pkey_parts pp = {.key_type = type, .is_private = true};
        pp.ec_params = (struct chsm_bytes){oids[i], lens[i]}, pp.value = (struct chsm_bytes){v.data, v.len};
        assert_int_equal(chsm_pkey_from_parts(&pp, &k2), CKR_OK);
        assert_int_equal(chsm_pkey_export_spki(k, &spki), CKR_OK);
        assert_int_equal(chsm_pkey_import_spki(spki.data, spki.len, &pub), CKR_OK);
        sign_verify(k2, pub, mech);
        chsm_pkey_free(k2);
        assert_int_equal(chsm_pkey_export_pkcs8(k, &der), CKR_OK);
        assert_int_equal(chsm_pkey_import_pkcs8(der.data, der.len, &k2), CKR_OK);
        sign_verify(k2, pub, mech);
        chsm_pkey_free(k2);
        chsm_pkey_free(pub);
        chsm_pkey_free(k);
        chsm_buf_free(&v);
        chsm_buf_free(&der);
        chsm_buf_free(&spki);
    }
    assert_int_equal(engine_calls, 0);
}

/* SPKI of curve keys is assembled without the encoder: its DER header must be the
 * standard one (RFC 5480 section 2, RFC 8410 section 4) and it must import back. */
static void test_spki_curves(void **state)
{
    static const uint8_t p256_hdr[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                       0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                       0x07, 0x03, 0x42, 0x00, 0x04};
    static const uint8_t p521_hdr[] = {0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                       0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86,
                                       0x00, 0x04};
    static const uint8_t ed25519_hdr[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    static const uint8_t ed448_hdr[] = {0x30, 0x43, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71, 0x03, 0x3a, 0x00};
    const uint8_t *oids[] = {oid_p256, oid_p384, oid_p521, oid_ed25519, oid_ed448};
    const size_t lens[] = {sizeof(oid_p256), sizeof(oid_p384), sizeof(oid_p521), sizeof(oid_ed25519),
                           sizeof(oid_ed448)};
    const uint8_t *hdrs[] = {p256_hdr, NULL, p521_hdr, ed25519_hdr, ed448_hdr};
    const size_t hlens[] = {sizeof(p256_hdr), 0, sizeof(p521_hdr), sizeof(ed25519_hdr), sizeof(ed448_hdr)};
    const size_t totals[] = {91, 120, 158, 44, 69};
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        struct chsm_pkey *k = NULL, *pub = NULL;
        struct chsm_buf spki = {0}, again = {0}, pt1 = {0}, pt2 = {0};
        assert_int_equal(chsm_pkey_generate_ec(oids[i], lens[i], &k), CKR_OK);
        assert_int_equal(chsm_pkey_export_spki(k, &spki), CKR_OK);
        assert_int_equal(spki.len, totals[i]);
        if (hdrs[i] != NULL)
            assert_memory_equal(spki.data, hdrs[i], hlens[i]);
        assert_int_equal(chsm_pkey_import_spki(spki.data, spki.len, &pub), CKR_OK);
        assert_int_equal(chsm_pkey_export_spki(pub, &again), CKR_OK);
        assert_int_equal(again.len, spki.len);
        assert_memory_equal(again.data, spki.data, spki.len);
        assert_int_equal(chsm_pkey_get_component(k, CKA_EC_POINT, &pt1), CKR_OK);
        assert_int_equal(chsm_pkey_get_component(pub, CKA_EC_POINT, &pt2), CKR_OK);
        assert_int_equal(pt1.len, pt2.len);
        assert_memory_equal(pt1.data, pt2.data, pt1.len);
        chsm_buf_free(&spki), chsm_buf_free(&again), chsm_buf_free(&pt1), chsm_buf_free(&pt2);
        chsm_pkey_free(pub);
        chsm_pkey_free(k);
    }
}

static void test_ecdh_and_rsa_crypt(void **state)
{
    struct chsm_pkey *a = NULL, *b = NULL, *rsa = NULL;
    struct chsm_buf pa = {0}, pb = {0}, za = {0}, zb = {0};
    static const uint8_t msg[] = "session key";
    uint8_t ct[256], pt[256];
    size_t cl = sizeof(ct), pl = sizeof(pt);
    (void)state;
    assert_int_equal(chsm_pkey_generate_ec(oid_p256, sizeof(oid_p256), &a), CKR_OK);
    assert_int_equal(chsm_pkey_generate_ec(oid_p256, sizeof(oid_p256), &b), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(a, CKA_EC_POINT, &pa), CKR_OK);
    assert_int_equal(chsm_pkey_get_component(b, CKA_EC_POINT, &pb), CKR_OK);
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)pb.len, pb.data};
    assert_int_equal(chsm_ecdh_derive(a, &p, sizeof(p), 0, &za), CKR_OK);
    p.ulPublicDataLen = (CK_ULONG)pa.len, p.pPublicData = pa.data;
    assert_int_equal(chsm_ecdh_derive(b, &p, sizeof(p), 0, &zb), CKR_OK);
    assert_int_equal(za.len, 32);
    assert_int_equal(zb.len, 32);
    assert_memory_equal(za.data, zb.data, 32);

    assert_int_equal(chsm_pkey_generate_rsa(2048, NULL, 0, &rsa), CKR_OK);
    assert_int_equal(chsm_rsa_crypt(CKM_RSA_PKCS, NULL, 0, rsa, true, msg, sizeof(msg), ct, &cl), CKR_OK);
    assert_int_equal(chsm_rsa_crypt(CKM_RSA_PKCS, NULL, 0, rsa, false, ct, cl, pt, &pl), CKR_OK);
    assert_int_equal(pl, sizeof(msg));
    assert_memory_equal(pt, msg, sizeof(msg));
    chsm_pkey_free(rsa);
    chsm_pkey_free(a);
    chsm_pkey_free(b);
    chsm_buf_free(&pa);
    chsm_buf_free(&pb);
    chsm_buf_free(&za);
    chsm_buf_free(&zb);
    assert_int_equal(engine_calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_is_live),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_keygen_import_sign),
        cmocka_unit_test(test_private_import),
        cmocka_unit_test(test_spki_curves),
        cmocka_unit_test(test_ecdh_and_rsa_crypt),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
