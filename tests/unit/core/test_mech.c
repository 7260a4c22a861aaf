/* Mechanism tests of the core (issue 4): chsm_core_* on a volatile store, every family's round trip and
 * the bad-input list, each failure leaving the session usable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/internal.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"

#define SO_PIN "so-pin-1234"
#define USER_PIN "user-1234"
#define U(s) (CK_UTF8CHAR_PTR)(s)
#define L(s) (CK_ULONG)strlen(s)

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static struct chsm_app *A;
static CK_SESSION_HANDLE S;

static const CK_BYTE P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const CK_BYTE ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const CK_BYTE ED25519_NAME[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};

static void up(bool fips, bool sha1)
{
    struct chsm_config c;
    assert_int_equal(chsm_config_defaults(&c), CKR_OK);
    free(c.token.storage_path);
    c.token.storage_path = strdup(":memory:");
    c.security.pbkdf2_iterations = 100000;
    c.audit.enabled = false;
    c.algorithms.fips_approved_only = fips;
    c.algorithms.allow_sha1_signing = sha1;
    struct chsm_core_options o = {.config = &c};
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    chsm_config_free(&c);
    A = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    assert_int_equal(chsm_core_InitToken(A, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    assert_int_equal(chsm_core_OpenSession(A, 0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &S), CKR_OK);
    assert_int_equal(chsm_core_Login(A, S, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(A, S, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_Logout(A, S), CKR_OK);
    assert_int_equal(chsm_core_Login(A, S, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
}

static int setup(void **state)
{
    (void)state;
    up(false, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    return 0;
}

/* ---- helpers ---- */

static void gen_pair(CK_MECHANISM_TYPE mt, const CK_BYTE *params, size_t plen, CK_ULONG bits, CK_ATTRIBUTE *extra,
                     CK_ULONG nextra, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {mt, NULL, 0};
    CK_ATTRIBUTE pt[4];
    CK_ULONG np = 0;
    pt[np++] = (CK_ATTRIBUTE){CKA_VERIFY, &yes, 1};
    pt[np++] = (CK_ATTRIBUTE){CKA_ENCRYPT, &yes, 1};
    if (params != NULL)
        pt[np++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)(uintptr_t)params, (CK_ULONG)plen};
    else
        pt[np++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
    CK_ATTRIBUTE vt[12] = {{CKA_SIGN, &yes, 1}, {CKA_DECRYPT, &yes, 1}, {CKA_LABEL, "k", 1}, {CKA_ID, "\x01", 1}};
    CK_ULONG nv = 4;
    for (CK_ULONG i = 0; i < nextra; i++)
        vt[nv++] = extra[i];
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &m, pt, np, vt, nv, pub, priv), CKR_OK);
}

static CK_OBJECT_HANDLE gen_secret(CK_MECHANISM_TYPE mt, CK_ULONG len, CK_ATTRIBUTE *extra, CK_ULONG nextra)
{
    CK_MECHANISM m = {mt, NULL, 0};
    CK_ATTRIBUTE t[12] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1},
                          {CKA_SIGN, &yes, 1},           {CKA_VERIFY, &yes, 1}};
    CK_ULONG n = 5;
    for (CK_ULONG i = 0; i < nextra; i++)
        t[n++] = extra[i];
    CK_OBJECT_HANDLE h = 0;
    assert_int_equal(chsm_core_GenerateKey(A, S, &m, t, n, &h), CKR_OK);
    return h;
}

/* Sign and verify (one-shot and multi-part), then a flipped signature fails. */
static void sign_verify(CK_MECHANISM *m, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub, bool multipart)
{
    CK_BYTE msg[100], sig[1024];
    memset(msg, 0x5a, sizeof(msg));
    CK_ULONG n = 0;
    assert_int_equal(chsm_core_SignInit(A, S, m, priv), CKR_OK);
    assert_int_equal(chsm_core_Sign(A, S, msg, 32, NULL, &n), CKR_OK); /* size query keeps the op */
    assert_true(n > 0 && n <= sizeof(sig));
    CK_ULONG small = n - 1;
    assert_int_equal(chsm_core_Sign(A, S, msg, 32, sig, &small), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(small, n);
    assert_int_equal(chsm_core_Sign(A, S, msg, 32, sig, &n), CKR_OK);
    assert_int_equal(chsm_core_VerifyInit(A, S, m, pub), CKR_OK);
    assert_int_equal(chsm_core_Verify(A, S, msg, 32, sig, n), CKR_OK);
    if (multipart) {
        CK_BYTE sig2[1024];
        CK_ULONG n2 = sizeof(sig2);
        assert_int_equal(chsm_core_SignInit(A, S, m, priv), CKR_OK);
        assert_int_equal(chsm_core_SignUpdate(A, S, msg, 10), CKR_OK);
        assert_int_equal(chsm_core_SignUpdate(A, S, msg + 10, 22), CKR_OK);
        assert_int_equal(chsm_core_SignFinal(A, S, sig2, &n2), CKR_OK);
        assert_int_equal(chsm_core_VerifyInit(A, S, m, pub), CKR_OK);
        assert_int_equal(chsm_core_VerifyUpdate(A, S, msg, 32), CKR_OK);
        assert_int_equal(chsm_core_VerifyFinal(A, S, sig2, n2), CKR_OK);
    }
    sig[0] ^= 1;
    assert_int_equal(chsm_core_VerifyInit(A, S, m, pub), CKR_OK);
    assert_int_equal(chsm_core_Verify(A, S, msg, 32, sig, n), CKR_SIGNATURE_INVALID);
    assert_int_equal(chsm_core_VerifyInit(A, S, m, pub), CKR_OK);
    CK_RV rv = chsm_core_Verify(A, S, msg, 32, sig, n - 1);
    assert_true(rv == CKR_SIGNATURE_LEN_RANGE || rv == CKR_SIGNATURE_INVALID);
    /* the op ended: the session is free for a new one */
    assert_int_equal(chsm_core_VerifyInit(A, S, m, pub), CKR_OK);
    sig[0] ^= 1;
    assert_int_equal(chsm_core_Verify(A, S, msg, 32, sig, n), CKR_OK);
}

static void get_attr(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t, void *buf, CK_ULONG *len)
{
    CK_ATTRIBUTE a = {t, buf, *len};
    assert_int_equal(chsm_core_GetAttributeValue(A, S, h, &a, 1), CKR_OK);
    *len = a.ulValueLen;
}

static bool get_bool(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
    CK_BBOOL b = 0;
    CK_ULONG n = 1;
    get_attr(h, t, &b, &n);
    return b != 0;
}

/* ---- tests ---- */

static void test_rsa(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0, 2048, NULL, 0, &pub, &priv);
    CK_BYTE mod[600];
    CK_ULONG n = sizeof(mod);
    get_attr(pub, CKA_MODULUS, mod, &n);
    assert_int_equal(n, 256);
    CK_BYTE e[8];
    n = sizeof(e);
    get_attr(pub, CKA_PUBLIC_EXPONENT, e, &n);
    assert_int_equal(n, 3);
    CK_ULONG bits = 0;
    n = sizeof(bits);
    get_attr(pub, CKA_MODULUS_BITS, &bits, &n);
    assert_int_equal(bits, 2048);
    assert_true(get_bool(priv, CKA_LOCAL));
    assert_true(get_bool(priv, CKA_ALWAYS_SENSITIVE));
    assert_true(get_bool(priv, CKA_NEVER_EXTRACTABLE));
    CK_ULONG kgm = 0;
    n = sizeof(kgm);
    get_attr(priv, CKA_KEY_GEN_MECHANISM, &kgm, &n);
    assert_int_equal(kgm, CKM_RSA_PKCS_KEY_PAIR_GEN);
    /* the private exponent is hidden */
    CK_ATTRIBUTE pe = {CKA_PRIVATE_EXPONENT, mod, sizeof(mod)};
    assert_int_equal(chsm_core_GetAttributeValue(A, S, priv, &pe, 1), CKR_ATTRIBUTE_SENSITIVE);

    CK_MECHANISM m1 = {CKM_SHA256_RSA_PKCS, NULL, 0};
    sign_verify(&m1, priv, pub, true);
    CK_MECHANISM m2 = {CKM_RSA_PKCS, NULL, 0};
    sign_verify(&m2, priv, pub, false);
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m3 = {CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss)};
    CK_MECHANISM m3b = {CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) - 1};
    assert_int_equal(chsm_core_SignInit(A, S, &m3b, priv), CKR_MECHANISM_PARAM_INVALID);
    /* a failed Init leaves nothing active */
    sign_verify(&m3, priv, pub, true);

    /* sign-recover / verify-recover */
    CK_MECHANISM mr = {CKM_RSA_PKCS, NULL, 0};
    CK_BYTE data[20] = "recover me please!!", sig[256], rec[256];
    CK_ULONG sl = sizeof(sig), rl = sizeof(rec);
    assert_int_equal(chsm_core_SignRecoverInit(A, S, &mr, priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_ATTRIBUTE sr = {CKA_SIGN_RECOVER, &yes, 1}, vr = {CKA_VERIFY_RECOVER, &yes, 1};
    assert_int_equal(chsm_core_SetAttributeValue(A, S, priv, &sr, 1), CKR_OK);
    assert_int_equal(chsm_core_SetAttributeValue(A, S, pub, &vr, 1), CKR_OK);
    assert_int_equal(chsm_core_SignRecoverInit(A, S, &mr, priv), CKR_OK);
    assert_int_equal(chsm_core_SignRecover(A, S, data, sizeof(data), sig, &sl), CKR_OK);
    assert_int_equal(chsm_core_VerifyRecoverInit(A, S, &mr, pub), CKR_OK);
    assert_int_equal(chsm_core_VerifyRecover(A, S, sig, sl, rec, &rl), CKR_OK);
    assert_int_equal(rl, sizeof(data));
    assert_memory_equal(rec, data, sizeof(data));

    /* OAEP encrypt/decrypt, bad parameter size, truncated ciphertext */
    CK_RSA_PKCS_OAEP_PARAMS op = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM mo = {CKM_RSA_PKCS_OAEP, &op, sizeof(op)};
    CK_MECHANISM mob = {CKM_RSA_PKCS_OAEP, &op, sizeof(op) + 1};
    assert_int_equal(chsm_core_EncryptInit(A, S, &mob, pub), CKR_MECHANISM_PARAM_INVALID);
    CK_BYTE ct[256], pt[256];
    CK_ULONG cl = 0, pl = sizeof(pt);
    assert_int_equal(chsm_core_EncryptInit(A, S, &mo, pub), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), NULL, &cl), CKR_OK);
    assert_int_equal(cl, 256);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_OK);
    assert_int_equal(chsm_core_DecryptInit(A, S, &mo, priv), CKR_OK);
    CK_ULONG tiny = 4;
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &tiny), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(tiny, sizeof(data));
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &pl), CKR_OK);
    assert_int_equal(pl, sizeof(data));
    assert_memory_equal(pt, data, sizeof(data));
    assert_int_equal(chsm_core_DecryptInit(A, S, &mo, priv), CKR_OK);
    pl = sizeof(pt);
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl - 1, pt, &pl), CKR_ENCRYPTED_DATA_LEN_RANGE);
    ct[5] ^= 1;
    assert_int_equal(chsm_core_DecryptInit(A, S, &mo, priv), CKR_OK);
    pl = sizeof(pt);
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &pl), CKR_ENCRYPTED_DATA_INVALID);
}

static void test_rsa_keygen_policy(void **state)
{
    (void)state;
    CK_MECHANISM m = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = 1024;
    CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}};
    CK_OBJECT_HANDLE pub, priv;
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &m, pt, 1, NULL, 0, &pub, &priv), CKR_KEY_SIZE_RANGE);
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &m, NULL, 0, NULL, 0, &pub, &priv), CKR_TEMPLATE_INCOMPLETE);
    CK_OBJECT_CLASS wrong = CKO_SECRET_KEY;
    bits = 2048;
    CK_ATTRIBUTE pt2[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}, {CKA_CLASS, &wrong, sizeof(wrong)}};
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &m, pt2, 2, NULL, 0, &pub, &priv), CKR_TEMPLATE_INCONSISTENT);
    CK_MECHANISM_INFO mi;
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_RSA_PKCS_KEY_PAIR_GEN, &mi), CKR_OK);
    assert_int_equal(mi.ulMinKeySize, 2048);
    assert_int_equal(mi.ulMaxKeySize, 4096);
    assert_true(mi.flags & CKF_GENERATE_KEY_PAIR);
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_AES_GCM, &mi), CKR_OK);
    assert_int_equal(mi.ulMinKeySize, 16);
    assert_int_equal(mi.ulMaxKeySize, 32);
    /* GCM also serves the 3.0 message API (Begin/Next included) */
    assert_int_equal(mi.flags, CKF_ENCRYPT | CKF_DECRYPT | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE);
    /* SHA-1 signing off by default: verify only */
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_SHA1_RSA_PKCS, &mi), CKR_OK);
    assert_int_equal(mi.flags, CKF_VERIFY);
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_SHA_1_HMAC, &mi), CKR_OK);
    assert_true(mi.flags & CKF_SIGN);
}

static void test_ec(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), 0, NULL, 0, &pub, &priv);
    CK_BYTE pt[200];
    CK_ULONG n = sizeof(pt);
    get_attr(pub, CKA_EC_POINT, pt, &n);
    assert_int_equal(n, 67); /* DER OCTET STRING of an uncompressed P-256 point */
    assert_int_equal(pt[0], 0x04);
    assert_int_equal(pt[1], 65);
    assert_int_equal(pt[2], 0x04);
    n = sizeof(pt);
    get_attr(pub, CKA_EC_PARAMS, pt, &n);
    assert_int_equal(n, sizeof(P256));
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    sign_verify(&m, priv, pub, true);
    CK_MECHANISM raw = {CKM_ECDSA, NULL, 0};
    sign_verify(&raw, priv, pub, false);
    CK_OBJECT_HANDLE pub3, priv3;
    gen_pair(CKM_EC_KEY_PAIR_GEN, P384, sizeof(P384), 0, NULL, 0, &pub3, &priv3);
    CK_MECHANISM m384 = {CKM_ECDSA_SHA384, NULL, 0};
    sign_verify(&m384, priv3, pub3, true);
    /* an Edwards curve is not for CKM_EC_KEY_PAIR_GEN */
    CK_MECHANISM kg = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE bad[] = {{CKA_EC_PARAMS, (void *)(uintptr_t)ED25519, sizeof(ED25519)}};
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &kg, bad, 1, NULL, 0, &pub3, &priv3), CKR_CURVE_NOT_SUPPORTED);
    /* SHA-1 ECDSA signing is off by default */
    CK_MECHANISM s1 = {CKM_ECDSA_SHA1, NULL, 0};
    assert_int_equal(chsm_core_SignInit(A, S, &s1, priv), CKR_MECHANISM_INVALID);
    assert_int_equal(chsm_core_VerifyInit(A, S, &s1, pub), CKR_OK);
    CK_BYTE sig[64];
    assert_int_equal(chsm_core_Verify(A, S, sig, 1, sig, 64), CKR_SIGNATURE_INVALID);
}

static void test_eddsa(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE pub, priv, pub2, priv2;
    gen_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519, sizeof(ED25519), 0, NULL, 0, &pub, &priv);
    gen_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519_NAME, sizeof(ED25519_NAME), 0, NULL, 0, &pub2, &priv2);
    CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
    sign_verify(&m, priv, pub, true);
    sign_verify(&m, priv2, pub2, false);
    CK_BYTE ctx[] = "ctx";
    CK_EDDSA_PARAMS ph = {CK_TRUE, 0, NULL}, withctx = {CK_FALSE, 3, ctx};
    CK_MECHANISM mph = {CKM_EDDSA, &ph, sizeof(ph)}, mctx = {CKM_EDDSA, &withctx, sizeof(withctx)};
    assert_int_equal(chsm_core_SignInit(A, S, &mph, priv), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_core_SignInit(A, S, &mctx, priv), CKR_MECHANISM_PARAM_INVALID);
    /* wrong key type: an Edwards key for ECDSA */
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    assert_int_equal(chsm_core_SignInit(A, S, &ecdsa, priv), CKR_KEY_TYPE_INCONSISTENT);
    sign_verify(&m, priv, pub, false); /* still usable */
}

static void test_aes(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE k = gen_secret(CKM_AES_KEY_GEN, 32, NULL, 0);
    assert_true(get_bool(k, CKA_LOCAL));
    CK_BYTE iv[16] = {1, 2, 3}, data[100], ct[200], pt[200];
    memset(data, 7, sizeof(data));
    CK_MECHANISM cbcpad = {CKM_AES_CBC_PAD, iv, 16};
    CK_ULONG cl = 0, pl = 0;
    assert_int_equal(chsm_core_EncryptInit(A, S, &cbcpad, k), CKR_OK);
    assert_int_equal(chsm_core_EncryptInit(A, S, &cbcpad, k), CKR_OPERATION_ACTIVE);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), NULL, &cl), CKR_OK);
    assert_int_equal(cl, 112);
    cl = 10;
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(cl, 112);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_OK);
    assert_int_equal(chsm_core_DecryptInit(A, S, &cbcpad, k), CKR_OK);
    pl = sizeof(pt);
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &pl), CKR_OK);
    assert_int_equal(pl, sizeof(data));
    assert_memory_equal(pt, data, sizeof(data));
    /* multi-part decrypt */
    assert_int_equal(chsm_core_DecryptInit(A, S, &cbcpad, k), CKR_OK);
    CK_ULONG a = sizeof(pt), b;
    assert_int_equal(chsm_core_DecryptUpdate(A, S, ct, 50, pt, &a), CKR_OK);
    b = sizeof(pt) - a;
    CK_ULONG c2 = b;
    assert_int_equal(chsm_core_DecryptUpdate(A, S, ct + 50, cl - 50, pt + a, &c2), CKR_OK);
    CK_ULONG f = sizeof(pt) - a - c2;
    assert_int_equal(chsm_core_DecryptFinal(A, S, pt + a + c2, &f), CKR_OK);
    assert_int_equal(a + c2 + f, sizeof(data));
    assert_memory_equal(pt, data, sizeof(data));
    /* truncated ciphertext */
    assert_int_equal(chsm_core_DecryptInit(A, S, &cbcpad, k), CKR_OK);
    pl = sizeof(pt);
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl - 3, pt, &pl), CKR_ENCRYPTED_DATA_LEN_RANGE);
    /* CBC / ECB / CTR round trips */
    CK_AES_CTR_PARAMS ctrp = {128, {0}};
    CK_MECHANISM modes[] = {{CKM_AES_CBC, iv, 16}, {CKM_AES_ECB, NULL, 0}, {CKM_AES_CTR, &ctrp, sizeof(ctrp)}};
    for (size_t i = 0; i < 3; i++) {
        cl = sizeof(ct);
        pl = sizeof(pt);
        assert_int_equal(chsm_core_EncryptInit(A, S, &modes[i], k), CKR_OK);
        assert_int_equal(chsm_core_Encrypt(A, S, data, 96, ct, &cl), CKR_OK);
        assert_int_equal(cl, 96);
        assert_int_equal(chsm_core_DecryptInit(A, S, &modes[i], k), CKR_OK);
        assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &pl), CKR_OK);
        assert_memory_equal(pt, data, 96);
    }
    CK_MECHANISM badiv = {CKM_AES_CBC, iv, 15};
    assert_int_equal(chsm_core_EncryptInit(A, S, &badiv, k), CKR_MECHANISM_PARAM_INVALID);
    /* not initialised */
    cl = sizeof(ct);
    assert_int_equal(chsm_core_Encrypt(A, S, data, 16, ct, &cl), CKR_OPERATION_NOT_INITIALIZED);
}

static void test_gcm(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE k = gen_secret(CKM_AES_KEY_GEN, 16, NULL, 0);
    CK_BYTE iv[12] = {9}, aad[5] = "head", data[64], ct[128], pt[128];
    memset(data, 3, sizeof(data));
    CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, aad, sizeof(aad), 128};
    CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
    CK_ULONG cl = sizeof(ct), pl = sizeof(pt);
    assert_int_equal(chsm_core_EncryptInit(A, S, &m, k), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_OK);
    assert_int_equal(cl, sizeof(data) + 16);
    assert_int_equal(chsm_core_DecryptInit(A, S, &m, k), CKR_OK);
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &pl), CKR_OK);
    assert_int_equal(pl, sizeof(data));
    assert_memory_equal(pt, data, sizeof(data));
    ct[cl - 1] ^= 1; /* tag mismatch */
    pl = sizeof(pt);
    assert_int_equal(chsm_core_DecryptInit(A, S, &m, k), CKR_OK);
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &pl), CKR_ENCRYPTED_DATA_INVALID);
    CK_MECHANISM bad = {CKM_AES_GCM, &gp, sizeof(gp) - 1};
    assert_int_equal(chsm_core_EncryptInit(A, S, &bad, k), CKR_MECHANISM_PARAM_INVALID);
    ct[cl - 1] ^= 1;
    pl = sizeof(pt);
    assert_int_equal(chsm_core_DecryptInit(A, S, &m, k), CKR_OK); /* session usable */
    assert_int_equal(chsm_core_Decrypt(A, S, ct, cl, pt, &pl), CKR_OK);
}

/* Finished GCM contexts are parked with their key (keycache.c), and an operation that began before
 * any key's cached state was dropped parks nothing (op.c hand_back, chsm_g.key_drops). */
static void test_gcm_parking(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE k = gen_secret(CKM_AES_KEY_GEN, 32, NULL, 0);
    CK_BYTE iv[12] = {4}, data[48] = {5}, ct[80];
    CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, NULL, 0, 128};
    CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
    CK_ULONG cl = sizeof(ct);
    struct chsm_object *o = chsm_hmap_get(&chsm_g.objects, k);
    assert_non_null(o);
    assert_null(chsm_obj_cipher_take(o, true));
    assert_int_equal(chsm_core_EncryptInit(A, S, &m, k), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_OK);
    struct chsm_cipher *c = chsm_obj_cipher_take(o, true);
    assert_non_null(c); /* parked */
    assert_null(chsm_obj_cipher_take(o, false)); /* the decrypt pool is separate */
    chsm_obj_cipher_park(o, c);
    /* Another object destroyed between this operation's init and its end: nothing is parked. */
    CK_OBJECT_HANDLE other = gen_secret(CKM_AES_KEY_GEN, 16, NULL, 0);
    assert_int_equal(chsm_core_EncryptInit(A, S, &m, k), CKR_OK); /* takes the parked context */
    assert_int_equal(chsm_core_DestroyObject(A, S, other), CKR_OK);
    cl = sizeof(ct);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_OK);
    assert_null(chsm_obj_cipher_take(o, true));
    /* With no drop in between, the next one parks again. */
    cl = sizeof(ct);
    assert_int_equal(chsm_core_EncryptInit(A, S, &m, k), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_OK);
    c = chsm_obj_cipher_take(o, true);
    assert_non_null(c);
    chsm_cipher_free(c);
    /* CBC-PAD contexts are never parked (their provider buffer keeps the last plaintext block). */
    CK_BYTE iv16[16] = {1};
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv16, sizeof(iv16)};
    cl = sizeof(ct);
    assert_int_equal(chsm_core_EncryptInit(A, S, &cbc, k), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(A, S, data, sizeof(data), ct, &cl), CKR_OK);
    assert_null(chsm_obj_cipher_take(o, true));
}

static void test_mac(void **state)
{
    (void)state;
    CK_OBJECT_HANDLE g = gen_secret(CKM_GENERIC_SECRET_KEY_GEN, 32, NULL, 0);
    CK_OBJECT_HANDLE aes = gen_secret(CKM_AES_KEY_GEN, 16, NULL, 0);
    CK_MECHANISM h = {CKM_SHA256_HMAC, NULL, 0};
    sign_verify(&h, g, g, true);
    CK_ULONG l = 16;
    CK_MECHANISM hg = {CKM_SHA512_HMAC_GENERAL, &l, sizeof(l)};
    sign_verify(&hg, g, g, true);
    CK_MECHANISM hgb = {CKM_SHA512_HMAC_GENERAL, &l, 4};
    assert_int_equal(chsm_core_SignInit(A, S, &hgb, g), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM cm = {CKM_AES_CMAC, NULL, 0};
    sign_verify(&cm, aes, aes, true);
    /* wrong key type: an AES key for HMAC, a generic secret for CMAC */
    assert_int_equal(chsm_core_SignInit(A, S, &h, aes), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(chsm_core_SignInit(A, S, &cm, g), CKR_KEY_TYPE_INCONSISTENT);
    /* known answer: RFC 4231 test case 2 ("Jefe") through an imported generic secret */
    CK_OBJECT_CLASS sc = CKO_SECRET_KEY;
    CK_KEY_TYPE gt = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &sc, sizeof(sc)}, {CKA_KEY_TYPE, &gt, sizeof(gt)}, {CKA_VALUE, "Jefe", 4},
                        {CKA_SIGN, &yes, 1}, {CKA_VERIFY, &no, 1}};
    CK_OBJECT_HANDLE jefe;
    assert_int_equal(chsm_core_CreateObject(A, S, t, 5, &jefe), CKR_OK);
    static const CK_BYTE want[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                     0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                     0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    CK_BYTE mac[32];
    CK_ULONG ml = sizeof(mac);
    const char *msg = "what do ya want for nothing?";
    assert_int_equal(chsm_core_SignInit(A, S, &h, jefe), CKR_OK);
    assert_int_equal(chsm_core_Sign(A, S, (CK_BYTE_PTR)msg, L(msg), mac, &ml), CKR_OK);
    assert_memory_equal(mac, want, 32);
    /* usage: no CKA_VERIFY on this key */
    assert_int_equal(chsm_core_VerifyInit(A, S, &h, jefe), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

static void test_key_policy(void **state)
{
    (void)state;
    /* allowed mechanisms */
    CK_MECHANISM_TYPE only[] = {CKM_AES_GCM};
    CK_ATTRIBUTE am = {CKA_ALLOWED_MECHANISMS, only, sizeof(only)};
    CK_OBJECT_HANDLE k = gen_secret(CKM_AES_KEY_GEN, 32, &am, 1);
    CK_BYTE iv[16] = {0};
    CK_MECHANISM cbc = {CKM_AES_CBC, iv, 16};
    assert_int_equal(chsm_core_EncryptInit(A, S, &cbc, k), CKR_MECHANISM_INVALID);
    CK_GCM_PARAMS gp = {iv, 12, 96, NULL, 0, 128};
    CK_MECHANISM gcm = {CKM_AES_GCM, &gp, sizeof(gp)};
    assert_int_equal(chsm_core_EncryptInit(A, S, &gcm, k), CKR_OK);
    CK_BYTE out[64];
    CK_ULONG ol = sizeof(out);
    assert_int_equal(chsm_core_Encrypt(A, S, iv, 16, out, &ol), CKR_OK);
    /* dates: not yet valid -> nothing; expired -> decrypt only */
    CK_DATE future = {{'2', '9', '9', '9'}, {'0', '1'}, {'0', '1'}};
    CK_DATE past = {{'2', '0', '0', '0'}, {'0', '1'}, {'0', '1'}};
    CK_ATTRIBUTE sd = {CKA_START_DATE, &future, sizeof(future)};
    CK_OBJECT_HANDLE k2 = gen_secret(CKM_AES_KEY_GEN, 16, &sd, 1);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    assert_int_equal(chsm_core_EncryptInit(A, S, &ecb, k2), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(chsm_core_DecryptInit(A, S, &ecb, k2), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_ATTRIBUTE ed = {CKA_END_DATE, &past, sizeof(past)};
    CK_OBJECT_HANDLE k3 = gen_secret(CKM_AES_KEY_GEN, 16, &ed, 1);
    assert_int_equal(chsm_core_EncryptInit(A, S, &ecb, k3), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(chsm_core_DecryptInit(A, S, &ecb, k3), CKR_OK);
    ol = sizeof(out);
    assert_int_equal(chsm_core_Decrypt(A, S, out, 16, out, &ol), CKR_OK);
    /* disallowed usage after SetAttributeValue */
    CK_ATTRIBUTE off = {CKA_ENCRYPT, &no, 1};
    assert_int_equal(chsm_core_SetAttributeValue(A, S, k, &off, 1), CKR_OK);
    assert_int_equal(chsm_core_EncryptInit(A, S, &gcm, k), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

static void test_always_authenticate(void **state)
{
    (void)state;
    CK_ATTRIBUTE aa = {CKA_ALWAYS_AUTHENTICATE, &yes, 1};
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), 0, &aa, 1, &pub, &priv);
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    CK_BYTE sig[64];
    CK_ULONG n = sizeof(sig);
    assert_int_equal(chsm_core_SignInit(A, S, &m, priv), CKR_OK);
    assert_int_equal(chsm_core_Sign(A, S, sig, 10, sig, &n), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(chsm_core_SignInit(A, S, &m, priv), CKR_OK);
    assert_int_equal(chsm_core_Login(A, S, CKU_CONTEXT_SPECIFIC, U(USER_PIN), L(USER_PIN)), CKR_OK);
    n = sizeof(sig);
    assert_int_equal(chsm_core_Sign(A, S, sig, 10, sig, &n), CKR_OK);
    assert_int_equal(n, 64);
}

static void test_import(void **state)
{
    (void)state;
    /* export a generated EC public key and import it as a new object; it verifies the original's signatures */
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), 0, NULL, 0, &pub, &priv);
    CK_BYTE point[100];
    CK_ULONG pl = sizeof(point);
    get_attr(pub, CKA_EC_POINT, point, &pl);
    CK_OBJECT_CLASS pc = CKO_PUBLIC_KEY;
    CK_KEY_TYPE ec = CKK_EC;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &pc, sizeof(pc)},
                        {CKA_KEY_TYPE, &ec, sizeof(ec)},
                        {CKA_EC_PARAMS, (void *)(uintptr_t)P256, sizeof(P256)},
                        {CKA_EC_POINT, point, pl},
                        {CKA_VERIFY, &yes, 1}};
    CK_OBJECT_HANDLE imp;
    assert_int_equal(chsm_core_CreateObject(A, S, t, 5, &imp), CKR_OK);
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    sign_verify(&m, priv, imp, false);
    /* a point not on the curve is refused at import */
    point[10] ^= 0x55;
    assert_int_equal(chsm_core_CreateObject(A, S, t, 5, &imp), CKR_ATTRIBUTE_VALUE_INVALID);
    /* an AES key of a bad length */
    CK_OBJECT_CLASS sc = CKO_SECRET_KEY;
    CK_KEY_TYPE at = CKK_AES;
    CK_ATTRIBUTE st[] = {{CKA_CLASS, &sc, sizeof(sc)}, {CKA_KEY_TYPE, &at, sizeof(at)}, {CKA_VALUE, "short", 5}};
    assert_int_equal(chsm_core_CreateObject(A, S, st, 3, &imp), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_wrap(void **state)
{
    (void)state;
    CK_ATTRIBUTE w[] = {{CKA_WRAP, &yes, 1}, {CKA_UNWRAP, &yes, 1}};
    CK_OBJECT_HANDLE kek = gen_secret(CKM_AES_KEY_GEN, 32, w, 2);
    CK_ATTRIBUTE ex = {CKA_EXTRACTABLE, &yes, 1};
    CK_OBJECT_HANDLE k = gen_secret(CKM_AES_KEY_GEN, 16, &ex, 1);
    CK_OBJECT_HANDLE nk = gen_secret(CKM_AES_KEY_GEN, 16, NULL, 0);
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    CK_BYTE wrapped[600];
    CK_ULONG wl = 0;
    assert_int_equal(chsm_core_WrapKey(A, S, &kw, kek, nk, NULL, &wl), CKR_KEY_UNEXTRACTABLE);
    assert_int_equal(chsm_core_WrapKey(A, S, &kw, k, k, NULL, &wl), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(chsm_core_WrapKey(A, S, &kw, kek, k, NULL, &wl), CKR_OK);
    assert_int_equal(wl, 24);
    wl = 8;
    assert_int_equal(chsm_core_WrapKey(A, S, &kw, kek, k, wrapped, &wl), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(chsm_core_WrapKey(A, S, &kw, kek, k, wrapped, &wl), CKR_OK);
    CK_OBJECT_CLASS sc = CKO_SECRET_KEY;
    CK_KEY_TYPE at = CKK_AES;
    CK_ATTRIBUTE ut[] = {{CKA_CLASS, &sc, sizeof(sc)}, {CKA_KEY_TYPE, &at, sizeof(at)}, {CKA_ENCRYPT, &yes, 1},
                         {CKA_DECRYPT, &yes, 1}};
    CK_OBJECT_HANDLE u = 0;
    assert_int_equal(chsm_core_UnwrapKey(A, S, &kw, kek, wrapped, wl, ut, 4, &u), CKR_OK);
    assert_false(get_bool(u, CKA_LOCAL));
    assert_false(get_bool(u, CKA_ALWAYS_SENSITIVE));
    /* same key: encrypt with one, decrypt with the other */
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    CK_BYTE blk[16] = "0123456789abcde", c[16], p[16];
    CK_ULONG cl = 16, pl = 16;
    assert_int_equal(chsm_core_EncryptInit(A, S, &ecb, k), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(A, S, blk, 16, c, &cl), CKR_OK);
    assert_int_equal(chsm_core_DecryptInit(A, S, &ecb, u), CKR_OK);
    assert_int_equal(chsm_core_Decrypt(A, S, c, 16, p, &pl), CKR_OK);
    assert_memory_equal(p, blk, 16);
    wrapped[3] ^= 1;
    assert_int_equal(chsm_core_UnwrapKey(A, S, &kw, kek, wrapped, wl, ut, 4, &u), CKR_WRAPPED_KEY_INVALID);

    /* PKCS#8 of an EC private key under KWP, unwrapped, signs for the original public key */
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), 0, &ex, 1, &pub, &priv);
    CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_KWP, NULL, 0};
    wl = sizeof(wrapped);
    assert_int_equal(chsm_core_WrapKey(A, S, &kwp, kek, priv, wrapped, &wl), CKR_OK);
    CK_OBJECT_CLASS pc = CKO_PRIVATE_KEY;
    CK_KEY_TYPE ec = CKK_EC, rsa = CKK_RSA;
    CK_ATTRIBUTE pt[] = {{CKA_CLASS, &pc, sizeof(pc)}, {CKA_KEY_TYPE, &ec, sizeof(ec)}, {CKA_SIGN, &yes, 1}};
    assert_int_equal(chsm_core_UnwrapKey(A, S, &kwp, kek, wrapped, wl, pt, 3, &u), CKR_OK);
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    sign_verify(&m, u, pub, false);
    pt[1].pValue = &rsa;
    assert_int_equal(chsm_core_UnwrapKey(A, S, &kwp, kek, wrapped, wl, pt, 3, &u), CKR_TEMPLATE_INCONSISTENT);
    /* wrap-with-trusted: the KEK is not trusted */
    CK_ATTRIBUTE wwt[] = {{CKA_EXTRACTABLE, &yes, 1}, {CKA_WRAP_WITH_TRUSTED, &yes, 1}};
    CK_OBJECT_HANDLE tk = gen_secret(CKM_AES_KEY_GEN, 16, wwt, 2);
    wl = sizeof(wrapped);
    assert_int_equal(chsm_core_WrapKey(A, S, &kw, kek, tk, wrapped, &wl), CKR_KEY_NOT_WRAPPABLE);
}

static void test_wrap_rsa(void **state)
{
    (void)state;
    CK_ATTRIBUTE ex[] = {{CKA_EXTRACTABLE, &yes, 1}, {CKA_UNWRAP, &yes, 1}};
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0, 2048, &ex[1], 1, &pub, &priv);
    CK_ATTRIBUTE wa = {CKA_WRAP, &yes, 1};
    assert_int_equal(chsm_core_SetAttributeValue(A, S, pub, &wa, 1), CKR_OK);
    CK_OBJECT_HANDLE k = gen_secret(CKM_GENERIC_SECRET_KEY_GEN, 32, ex, 1);
    CK_RSA_PKCS_OAEP_PARAMS op = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM mo = {CKM_RSA_PKCS_OAEP, &op, sizeof(op)};
    CK_BYTE wrapped[256];
    CK_ULONG wl = sizeof(wrapped);
    assert_int_equal(chsm_core_WrapKey(A, S, &mo, pub, k, wrapped, &wl), CKR_OK);
    assert_int_equal(wl, 256);
    CK_OBJECT_CLASS sc = CKO_SECRET_KEY;
    CK_KEY_TYPE gt = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE ut[] = {{CKA_CLASS, &sc, sizeof(sc)}, {CKA_KEY_TYPE, &gt, sizeof(gt)}, {CKA_SIGN, &yes, 1},
                         {CKA_VERIFY, &yes, 1}};
    CK_OBJECT_HANDLE u;
    assert_int_equal(chsm_core_UnwrapKey(A, S, &mo, priv, wrapped, wl, ut, 4, &u), CKR_OK);
    CK_MECHANISM h = {CKM_SHA256_HMAC, NULL, 0};
    sign_verify(&h, k, u, false);
}

static void test_ecdh(void **state)
{
    (void)state;
    CK_ATTRIBUTE d = {CKA_DERIVE, &yes, 1};
    CK_OBJECT_HANDLE pa, va, pb, vb;
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), 0, &d, 1, &pa, &va);
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), 0, &d, 1, &pb, &vb);
    CK_BYTE qa[100], qb[100];
    CK_ULONG la = sizeof(qa), lb = sizeof(qb);
    get_attr(pa, CKA_EC_POINT, qa, &la);
    get_attr(pb, CKA_EC_POINT, qb, &lb);
    CK_OBJECT_CLASS sc = CKO_SECRET_KEY;
    CK_KEY_TYPE at = CKK_AES;
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &sc, sizeof(sc)}, {CKA_KEY_TYPE, &at, sizeof(at)},
                        {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1}};
    CK_ECDH1_DERIVE_PARAMS p1 = {CKD_SHA256_KDF, 0, NULL, lb, qb}, p2 = {CKD_SHA256_KDF, 0, NULL, la, qa};
    CK_MECHANISM m1 = {CKM_ECDH1_DERIVE, &p1, sizeof(p1)}, m2 = {CKM_ECDH1_DERIVE, &p2, sizeof(p2)};
    CK_OBJECT_HANDLE k1, k2;
    assert_int_equal(chsm_core_DeriveKey(A, S, &m1, va, t, 5, &k1), CKR_OK);
    assert_int_equal(chsm_core_DeriveKey(A, S, &m2, vb, t, 5, &k2), CKR_OK);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    CK_BYTE blk[16] = "same secret ok?", c[16], p[16];
    CK_ULONG cl = 16, pl = 16;
    assert_int_equal(chsm_core_EncryptInit(A, S, &ecb, k1), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(A, S, blk, 16, c, &cl), CKR_OK);
    assert_int_equal(chsm_core_DecryptInit(A, S, &ecb, k2), CKR_OK);
    assert_int_equal(chsm_core_Decrypt(A, S, c, 16, p, &pl), CKR_OK);
    assert_memory_equal(p, blk, 16);
    CK_MECHANISM bad = {CKM_ECDH1_DERIVE, &p1, sizeof(p1) - 1};
    assert_int_equal(chsm_core_DeriveKey(A, S, &bad, va, t, 5, &k1), CKR_MECHANISM_PARAM_INVALID);
    /* a key without CKA_DERIVE */
    CK_OBJECT_HANDLE pc, vc;
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), 0, NULL, 0, &pc, &vc);
    assert_int_equal(chsm_core_DeriveKey(A, S, &m1, vc, t, 5, &k1), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

/* Token keys survive a restart: the private key is rebuilt from its stored components and signs. */
static void test_token_key_persists(void **state)
{
    (void)state;
    char dir[] = "/tmp/chsm-mech-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    struct chsm_config c;
    assert_int_equal(chsm_config_defaults(&c), CKR_OK);
    free(c.token.storage_path);
    c.token.storage_path = strdup(dir);
    c.security.pbkdf2_iterations = 100000;
    c.audit.enabled = false;
    struct chsm_core_options o = {.config = &c};
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    A = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    assert_int_equal(chsm_core_InitToken(A, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    assert_int_equal(chsm_core_OpenSession(A, 0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &S), CKR_OK);
    assert_int_equal(chsm_core_Login(A, S, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(A, S, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_Logout(A, S), CKR_OK);
    assert_int_equal(chsm_core_Login(A, S, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_MECHANISM kg = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)(uintptr_t)P256, sizeof(P256)}, {CKA_TOKEN, &yes, 1}};
    CK_ATTRIBUTE vt[] = {{CKA_TOKEN, &yes, 1}, {CKA_LABEL, "persist", 7}};
    CK_OBJECT_HANDLE pub, priv;
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &kg, pt, 2, vt, 2, &pub, &priv), CKR_OK);
    CK_BYTE sig[64];
    CK_ULONG n = sizeof(sig);
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    assert_int_equal(chsm_core_SignInit(A, S, &m, priv), CKR_OK);
    assert_int_equal(chsm_core_Sign(A, S, (CK_BYTE_PTR) "abc", 3, sig, &n), CKR_OK);
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    chsm_config_free(&c);
    A = chsm_core_default_app();
    assert_int_equal(chsm_core_OpenSession(A, 0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &S), CKR_OK);
    assert_int_equal(chsm_core_Login(A, S, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_ATTRIBUTE ft[] = {{CKA_LABEL, "persist", 7}};
    CK_OBJECT_HANDLE found[2];
    CK_ULONG nf = 0;
    assert_int_equal(chsm_core_FindObjectsInit(A, S, ft, 1), CKR_OK);
    assert_int_equal(chsm_core_FindObjects(A, S, found, 2, &nf), CKR_OK);
    assert_int_equal(chsm_core_FindObjectsFinal(A, S), CKR_OK);
    assert_int_equal(nf, 1);
    CK_ATTRIBUTE pub_t[] = {{CKA_CLASS, &(CK_OBJECT_CLASS){CKO_PUBLIC_KEY}, sizeof(CK_OBJECT_CLASS)}};
    CK_OBJECT_HANDLE pubs[2];
    CK_ULONG np = 0;
    assert_int_equal(chsm_core_FindObjectsInit(A, S, pub_t, 1), CKR_OK);
    assert_int_equal(chsm_core_FindObjects(A, S, pubs, 2, &np), CKR_OK);
    assert_int_equal(chsm_core_FindObjectsFinal(A, S), CKR_OK);
    assert_int_equal(np, 1);
    assert_int_equal(chsm_core_VerifyInit(A, S, &m, pubs[0]), CKR_OK);
    assert_int_equal(chsm_core_Verify(A, S, (CK_BYTE_PTR) "abc", 3, sig, n), CKR_OK);
    sign_verify(&m, found[0], pubs[0], true);
    char cmd[64];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_fips(void **state)
{
    (void)state;
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    up(true, false);
    CK_MECHANISM_INFO mi;
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_EDDSA, &mi), CKR_MECHANISM_INVALID);
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_EC_EDWARDS_KEY_PAIR_GEN, &mi), CKR_MECHANISM_INVALID);
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_SHA1_RSA_PKCS, &mi), CKR_MECHANISM_INVALID);
    assert_int_equal(chsm_core_GetMechanismInfo(A, 0, CKM_SHA256_RSA_PKCS, &mi), CKR_OK);
    assert_int_equal(mi.ulMinKeySize, 2048);
    CK_ULONG n = 0;
    assert_int_equal(chsm_core_GetMechanismList(A, 0, NULL, &n), CKR_OK);
    CK_MECHANISM_TYPE list[128];
    assert_true(n <= 128);
    assert_int_equal(chsm_core_GetMechanismList(A, 0, list, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++)
        assert_true(list[i] != CKM_EDDSA && list[i] != CKM_ECDSA_SHA1);
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM m = {CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)(uintptr_t)ED25519, sizeof(ED25519)}};
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &m, pt, 1, NULL, 0, &pub, &priv), CKR_MECHANISM_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa_keygen_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eddsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gcm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gcm_parking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_always_authenticate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_rsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecdh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_key_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fips, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
