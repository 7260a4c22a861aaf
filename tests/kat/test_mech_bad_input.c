/*
 * Bad input to the mechanisms through a PKCS#11 module (issue 4, acceptance
 * bullet 4): wrong key type, disallowed usage, wrong parameter struct sizes,
 * truncated ciphertext, GCM tag mismatch, output buffer too small (size
 * query and CKR_BUFFER_TOO_SMALL with the operation still active), operation
 * not initialised and a second *Init while one is active. Each check asserts
 * the spec's CKR and then that the session still works: random, and an
 * encrypt, decrypt, sign and verify that each run to completion.
 * Usage: test_mech_bad_input MODULE.so [VECTOR_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kat_ops.h"

static CK_OBJECT_HANDLE aes, aes_noenc, hmac_key, rsa_priv, rsa_pub, ec_pub, ec_priv, aes_nowrap, gen;

/*
 * The keys live in the first session; the checks run in a second one that
 * is replaced after a wrongly accepted Init or an unusable session, so one
 * module bug is reported once and does not cascade through later checks.
 */
static void reset_session(void)
{
    kat_reset_ops();
}
static const uint8_t key32[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static uint8_t iv16[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

/* Every operation kind still starts and finishes: nothing was left active or broken. */
static bool usable(void)
{
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv16, 16}, mac = {CKM_SHA256_HMAC, NULL, 0};
    uint8_t *ct = NULL, *pt = NULL, *tag = NULL;
    size_t cn = 0, pn = 0, tn = 0;
    bool ok = kat_session_ok() && op_encrypt(&cbc, aes, (const uint8_t *)"hello", 5, &ct, &cn) == CKR_OK &&
              op_decrypt(&cbc, aes, ct, cn, &pt, &pn) == CKR_OK && pn == 5 && memcmp(pt, "hello", 5) == 0 &&
              op_sign(&mac, hmac_key, (const uint8_t *)"x", 1, &tag, &tn) == CKR_OK &&
              op_verify(&mac, hmac_key, (const uint8_t *)"x", 1, tag, tn) == CKR_OK;
    free(ct), free(pt), free(tag);
    return ok;
}

/* After a check: a wrongly successful call may have left an operation active; then the session must work. */
static void after(CK_RV rv, const char *what)
{
    char d[256];
    if (rv == CKR_OK)
        reset_session();
    snprintf(d, sizeof d, "session unusable after: %s", what);
    if (!usable()) {
        kat_check(false, "usable()", d);
        reset_session();
    } else {
        kat_passed++;
    }
}

/* Assert the code (one of w1/w2), then that the session is still usable. */
#define EXPECT2(expr, w1, w2)                                                                                \
    do {                                                                                                     \
        CK_RV r2_ = (expr);                                                                                  \
        char d2_[200];                                                                                       \
        snprintf(d2_, sizeof d2_, "line %d got %s, want %s%s%s", __LINE__, kat_rv(r2_), kat_rv(w1),          \
                 (w1) == (w2) ? "" : " or ", (w1) == (w2) ? "" : kat_rv(w2));                                \
        kat_check(r2_ == (w1) || r2_ == (w2), #expr, d2_);                                                   \
        after(r2_, #expr);                                                                                   \
    } while (0)
#define EXPECT(expr, want) EXPECT2(expr, want, want)

static bool make_keys(void)
{
    CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
    CK_KEY_TYPE kaes = CKK_AES;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE noenc[] = {
        {CKA_CLASS, &sec, sizeof sec}, {CKA_KEY_TYPE, &kaes, sizeof kaes}, {CKA_TOKEN, &no, 1},
        {CKA_VALUE, (void *)key32, 32}, {CKA_ENCRYPT, &no, 1},            {CKA_DECRYPT, &yes, 1},
        {CKA_WRAP, &no, 1},
    };
    CK_RV rv;
    if ((rv = kat_secret(CKK_AES, key32, 32, &aes)) != CKR_OK ||
        (rv = kat_secret(CKK_GENERIC_SECRET, key32, 32, &hmac_key)) != CKR_OK ||
        (rv = kat_secret(CKK_GENERIC_SECRET, key32, 16, &gen)) != CKR_OK ||
        (rv = F->C_CreateObject(K.ks, noenc, sizeof noenc / sizeof noenc[0], &aes_noenc)) != CKR_OK) {
        KCHECK_RV(rv, CKR_OK);
        return false;
    }
    aes_nowrap = aes_noenc;
    struct json *j = kat_load("rsa_oaep_2048_sha256_mgf1sha256_test.json");
    if (j == NULL)
        return false;
    const struct json *pk = json_get(json_get(j, "testGroups")->items[0], "privateKey");
    KCHECK_RV(rv = kat_rsa_priv(pk, &rsa_priv), CKR_OK);
    if (rv == CKR_OK)
        KCHECK_RV(rv = kat_rsa_pub(pk, &rsa_pub), CKR_OK);
    json_free(j);
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    size_t qn;
    uint8_t *q = hexdup("042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1498a60"
                        "f4606766b3d9685001558d1a974e7341513e",
                        &qn);
    if (rv == CKR_OK)
        KCHECK_RV(rv = kat_ec_pub(CKK_EC, p256, sizeof p256, q, qn, &ec_pub), CKR_OK);
    if (rv == CKR_OK)
        KCHECK_RV(rv = kat_ec_priv(CKK_EC, p256, sizeof p256, key32, 32, &ec_priv), CKR_OK);
    free(q);
    if (rv != CKR_OK)
        return false;
    KCHECK(usable(), "a fresh session works");
    return usable();
}

static void wrong_key_type(void)
{
    CK_MECHANISM rsa = {CKM_SHA256_RSA_PKCS, NULL, 0}, ecdsa = {CKM_ECDSA_SHA256, NULL, 0};
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv16, 16}, mac = {CKM_SHA256_HMAC, NULL, 0};
    EXPECT(F->C_SignInit(K.s, &rsa, aes), CKR_KEY_TYPE_INCONSISTENT);
    EXPECT(F->C_VerifyInit(K.s, &ecdsa, rsa_pub), CKR_KEY_TYPE_INCONSISTENT);
    EXPECT(F->C_VerifyInit(K.s, &rsa, ec_pub), CKR_KEY_TYPE_INCONSISTENT);
    EXPECT(F->C_EncryptInit(K.s, &cbc, hmac_key), CKR_KEY_TYPE_INCONSISTENT);
    EXPECT(F->C_EncryptInit(K.s, &cbc, rsa_pub), CKR_KEY_TYPE_INCONSISTENT);
    EXPECT(F->C_SignInit(K.s, &mac, rsa_priv), CKR_KEY_TYPE_INCONSISTENT);
}

static void disallowed_usage(void)
{
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv16, 16}, kw = {CKM_AES_KEY_WRAP, NULL, 0};
    CK_MECHANISM oaep_m = {CKM_RSA_PKCS, NULL, 0};
    CK_ULONG wl = 64;
    CK_BYTE wbuf[64];
    EXPECT(F->C_EncryptInit(K.s, &cbc, aes_noenc), CKR_KEY_FUNCTION_NOT_PERMITTED);
    EXPECT(F->C_WrapKey(K.s, &kw, aes_nowrap, gen, wbuf, &wl), CKR_KEY_FUNCTION_NOT_PERMITTED);
    /* rsa_pub was imported with CKA_VERIFY/CKA_ENCRYPT only; the private key has no CKA_ENCRYPT */
    EXPECT(F->C_EncryptInit(K.s, &oaep_m, rsa_priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
    /* a public key never signs: PKCS#11 says KEY_TYPE_INCONSISTENT or KEY_FUNCTION_NOT_PERMITTED */
    CK_MECHANISM rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
    EXPECT2(F->C_SignInit(K.s, &rsa, rsa_pub), CKR_KEY_FUNCTION_NOT_PERMITTED, CKR_KEY_TYPE_INCONSISTENT);
}

static void bad_param_sizes(void)
{
    CK_GCM_PARAMS gcm = {iv16, 12, 96, NULL, 0, 128};
    CK_AES_CTR_PARAMS ctr = {128, {0}};
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_ULONG glen = 16;
    uint8_t point[65] = {4};
    CK_ECDH1_DERIVE_PARAMS ecdh = {CKD_NULL, 0, NULL, sizeof point, point};
    CK_EDDSA_PARAMS ed = {CK_FALSE, 0, NULL};
    struct {
        const char *what;
        CK_MECHANISM m;
        int op; /* 0 encrypt, 1 sign, 2 verify, 3 decrypt */
        CK_OBJECT_HANDLE *key;
    } cases[] = {
        {"GCM params - 1", {CKM_AES_GCM, &gcm, sizeof gcm - 1}, 0, &aes},
        {"GCM params + 8", {CKM_AES_GCM, &gcm, sizeof gcm + 8}, 0, &aes},
        {"GCM NULL params", {CKM_AES_GCM, NULL, 0}, 0, &aes},
        {"CBC IV 15 bytes", {CKM_AES_CBC_PAD, iv16, 15}, 0, &aes},
        {"CBC IV 17 bytes", {CKM_AES_CBC, iv16, 17}, 3, &aes},
        {"CBC NULL IV with length", {CKM_AES_CBC_PAD, NULL, 16}, 0, &aes},
        {"CTR params - 1", {CKM_AES_CTR, &ctr, sizeof ctr - 1}, 0, &aes},
        {"PSS params - 1", {CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof pss - 1}, 1, &rsa_priv},
        {"PSS params absent", {CKM_SHA256_RSA_PKCS_PSS, NULL, 0}, 2, &rsa_pub},
        {"OAEP params - 1", {CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep - 1}, 3, &rsa_priv},
        {"OAEP params + 1", {CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep + 1}, 0, &rsa_pub},
        {"HMAC_GENERAL length 4", {CKM_SHA256_HMAC_GENERAL, &glen, 4}, 1, &hmac_key},
        {"HMAC with a parameter", {CKM_SHA256_HMAC, &glen, sizeof glen}, 1, &hmac_key},
        {"ECDSA with a parameter", {CKM_ECDSA_SHA256, &glen, sizeof glen}, 2, &ec_pub},
        {"EDDSA params - 1 on P-256 key", {CKM_EDDSA, &ed, sizeof ed - 1}, 2, &ec_pub},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CK_RV rv;
        switch (cases[i].op) {
        case 0: rv = F->C_EncryptInit(K.s, &cases[i].m, *cases[i].key); break;
        case 1: rv = F->C_SignInit(K.s, &cases[i].m, *cases[i].key); break;
        case 2: rv = F->C_VerifyInit(K.s, &cases[i].m, *cases[i].key); break;
        default: rv = F->C_DecryptInit(K.s, &cases[i].m, *cases[i].key); break;
        }
        char d[200];
        snprintf(d, sizeof d, "%s: got %s, want CKR_MECHANISM_PARAM_INVALID", cases[i].what, kat_rv(rv));
        /* EDDSA on an EC (Weierstrass) key may fail on the key type first */
        bool ok = rv == CKR_MECHANISM_PARAM_INVALID || (strstr(cases[i].what, "P-256") && rv == CKR_KEY_TYPE_INCONSISTENT) ||
                  (cases[i].m.pParameter == NULL && cases[i].m.ulParameterLen != 0 && rv == CKR_ARGUMENTS_BAD);
        kat_check(ok, "bad mechanism parameter", d);
        after(rv, cases[i].what);
    }
    CK_MECHANISM em = {CKM_ECDH1_DERIVE, &ecdh, sizeof ecdh - 1};
    CK_OBJECT_HANDLE h;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}};
    EXPECT(F->C_DeriveKey(K.s, &em, ec_priv, a, 2, &h), CKR_MECHANISM_PARAM_INVALID);
}

static void truncated_and_tag(void)
{
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv16, 16};
    uint8_t *ct = NULL, *pt = NULL;
    size_t cn = 0, pn = 0;
    KCHECK_RV(op_encrypt(&cbc, aes, (const uint8_t *)"0123456789abcdefXYZ", 19, &ct, &cn), CKR_OK);
    EXPECT(op_decrypt(&cbc, aes, ct, cn ? cn - 1 : 0, &pt, &pn), CKR_ENCRYPTED_DATA_LEN_RANGE);
    free(pt), pt = NULL;
    EXPECT(op_decrypt_mp(&cbc, aes, ct, cn ? cn - 1 : 0, 16, &pt, &pn), CKR_ENCRYPTED_DATA_LEN_RANGE);
    free(pt), pt = NULL;
    free(ct), ct = NULL;

    CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM om = {CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep};
    KCHECK_RV(op_encrypt(&om, rsa_pub, (const uint8_t *)"secret", 6, &ct, &cn), CKR_OK);
    EXPECT(op_decrypt(&om, rsa_priv, ct, cn ? cn - 1 : 0, &pt, &pn), CKR_ENCRYPTED_DATA_LEN_RANGE);
    free(pt), pt = NULL;
    if (cn > 0)
        ct[cn / 2] ^= 1;
    EXPECT(op_decrypt(&om, rsa_priv, ct, cn, &pt, &pn), CKR_ENCRYPTED_DATA_INVALID);
    free(pt), pt = NULL;
    free(ct), ct = NULL;

    uint8_t aad[5] = "head";
    CK_GCM_PARAMS gcm = {iv16, 12, 96, aad, 4, 128};
    CK_MECHANISM gm = {CKM_AES_GCM, &gcm, sizeof gcm};
    KCHECK_RV(op_encrypt(&gm, aes, (const uint8_t *)"attack at dawn", 14, &ct, &cn), CKR_OK);
    KCHECK(cn == 14 + 16, "GCM output is ciphertext || 16-byte tag");
    if (cn == 30) {
        ct[cn - 1] ^= 0x80; /* tag mismatch */
        EXPECT2(op_decrypt(&gm, aes, ct, cn, &pt, &pn), CKR_ENCRYPTED_DATA_INVALID, CKR_AEAD_DECRYPT_FAILED);
        free(pt), pt = NULL;
        EXPECT2(op_decrypt_mp(&gm, aes, ct, cn, 7, &pt, &pn), CKR_ENCRYPTED_DATA_INVALID, CKR_AEAD_DECRYPT_FAILED);
        free(pt), pt = NULL;
        ct[cn - 1] ^= 0x80;
        aad[0] ^= 1; /* AAD mismatch */
        EXPECT2(op_decrypt(&gm, aes, ct, cn, &pt, &pn), CKR_ENCRYPTED_DATA_INVALID, CKR_AEAD_DECRYPT_FAILED);
        free(pt), pt = NULL;
        aad[0] ^= 1;
        /* shorter than the tag */
        EXPECT2(op_decrypt(&gm, aes, ct, 15, &pt, &pn), CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_INVALID);
        free(pt), pt = NULL;
        KCHECK_RV(op_decrypt(&gm, aes, ct, cn, &pt, &pn), CKR_OK);
        KCHECK(pn == 14 && memcmp(pt, "attack at dawn", 14) == 0, "GCM round trip after the failures");
        free(pt), pt = NULL;
    }
    free(ct);

    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}};
    CK_OBJECT_HANDLE h;
    CK_BYTE w[40] = {0};
    EXPECT(F->C_UnwrapKey(K.s, &kw, aes, w, 23, a, 2, &h), CKR_WRAPPED_KEY_LEN_RANGE);
    EXPECT(F->C_UnwrapKey(K.s, &kw, aes, w, 24, a, 2, &h), CKR_WRAPPED_KEY_INVALID);
}

static void buffer_too_small(void)
{
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv16, 16}, rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_MECHANISM mac = {CKM_SHA256_HMAC, NULL, 0};
    CK_BYTE in[20] = "0123456789abcdefghi", out[512], full[512];
    CK_ULONG l = 0, fl;

    /* encrypt: NULL size query is CKR_OK with the size; short buffer is BUFFER_TOO_SMALL and the op lives */
    KCHECK_RV(F->C_EncryptInit(K.s, &cbc, aes), CKR_OK);
    KCHECK_RV(F->C_Encrypt(K.s, in, 20, NULL, &l), CKR_OK);
    KCHECK(l == 32, "CBC_PAD size query of 20 bytes is 32");
    fl = l;
    l = 5;
    KCHECK_RV(F->C_Encrypt(K.s, in, 20, out, &l), CKR_BUFFER_TOO_SMALL);
    KCHECK(l >= 32, "BUFFER_TOO_SMALL reports the needed size");
    l = sizeof out;
    KCHECK_RV(F->C_Encrypt(K.s, in, 20, out, &l), CKR_OK);
    KCHECK(l == fl, "encrypt length after BUFFER_TOO_SMALL");
    memcpy(full, out, l);
    after(CKR_FUNCTION_FAILED, "after encrypt BUFFER_TOO_SMALL"); /* not a reset: usable() decides */

    /* decrypt */
    KCHECK_RV(F->C_DecryptInit(K.s, &cbc, aes), CKR_OK);
    l = 3;
    KCHECK_RV(F->C_Decrypt(K.s, full, fl, out, &l), CKR_BUFFER_TOO_SMALL);
    l = sizeof out;
    KCHECK_RV(F->C_Decrypt(K.s, full, fl, out, &l), CKR_OK);
    KCHECK(l == 20 && memcmp(out, in, 20) == 0, "decrypt after BUFFER_TOO_SMALL");
    after(CKR_FUNCTION_FAILED, "after decrypt BUFFER_TOO_SMALL"); /* not a reset: usable() decides */

    /* sign: RSA and HMAC, single-part and Final */
    KCHECK_RV(F->C_SignInit(K.s, &rsa, rsa_priv), CKR_OK);
    l = 0;
    KCHECK_RV(F->C_Sign(K.s, in, 20, NULL, &l), CKR_OK);
    KCHECK(l == 256, "RSA-2048 signature size query");
    l = 255;
    KCHECK_RV(F->C_Sign(K.s, in, 20, out, &l), CKR_BUFFER_TOO_SMALL);
    KCHECK(l == 256, "BUFFER_TOO_SMALL reports 256");
    l = sizeof out;
    KCHECK_RV(F->C_Sign(K.s, in, 20, out, &l), CKR_OK);
    KCHECK_RV(op_verify(&rsa, rsa_pub, in, 20, out, l), CKR_OK);
    KCHECK_RV(F->C_SignInit(K.s, &mac, hmac_key), CKR_OK);
    KCHECK_RV(F->C_SignUpdate(K.s, in, 20), CKR_OK);
    l = 31;
    KCHECK_RV(F->C_SignFinal(K.s, out, &l), CKR_BUFFER_TOO_SMALL);
    KCHECK(l == 32, "HMAC-SHA256 BUFFER_TOO_SMALL reports 32");
    l = sizeof out;
    KCHECK_RV(F->C_SignFinal(K.s, out, &l), CKR_OK);
    KCHECK_RV(op_verify(&mac, hmac_key, in, 20, out, l), CKR_OK);
    after(CKR_FUNCTION_FAILED, "after sign BUFFER_TOO_SMALL"); /* not a reset: usable() decides */

    /* wrap: the size query and a short buffer leave no operation behind */
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    l = 0;
    KCHECK_RV(F->C_WrapKey(K.s, &kw, aes, gen, NULL, &l), CKR_OK);
    KCHECK(l == 24, "KW of a 16-byte key is 24 bytes");
    l = 8;
    KCHECK_RV(F->C_WrapKey(K.s, &kw, aes, gen, out, &l), CKR_BUFFER_TOO_SMALL);
    KCHECK(l == 24, "wrap BUFFER_TOO_SMALL reports 24");
    after(CKR_FUNCTION_FAILED, "after wrap BUFFER_TOO_SMALL"); /* not a reset: usable() decides */
}

static void not_initialized_and_active(void)
{
    CK_BYTE in[16] = {0}, out[64];
    CK_ULONG l = sizeof out;
    EXPECT(F->C_Encrypt(K.s, in, 16, out, &l), CKR_OPERATION_NOT_INITIALIZED);
    l = sizeof out;
    EXPECT(F->C_EncryptUpdate(K.s, in, 16, out, &l), CKR_OPERATION_NOT_INITIALIZED);
    l = sizeof out;
    EXPECT(F->C_DecryptFinal(K.s, out, &l), CKR_OPERATION_NOT_INITIALIZED);
    l = sizeof out;
    EXPECT(F->C_Sign(K.s, in, 16, out, &l), CKR_OPERATION_NOT_INITIALIZED);
    EXPECT(F->C_SignUpdate(K.s, in, 16), CKR_OPERATION_NOT_INITIALIZED);
    EXPECT(F->C_Verify(K.s, in, 16, out, 32), CKR_OPERATION_NOT_INITIALIZED);
    EXPECT(F->C_VerifyFinal(K.s, out, 32), CKR_OPERATION_NOT_INITIALIZED);

    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv16, 16}, mac = {CKM_SHA256_HMAC, NULL, 0};
    CK_MECHANISM rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
    KCHECK_RV(F->C_EncryptInit(K.s, &cbc, aes), CKR_OK);
    KCHECK_RV(F->C_EncryptInit(K.s, &cbc, aes), CKR_OPERATION_ACTIVE);
    l = sizeof out; /* the first operation is intact */
    KCHECK_RV(F->C_Encrypt(K.s, in, 16, out, &l), CKR_OK);
    KCHECK(l == 32, "first encrypt finishes after OPERATION_ACTIVE");
    KCHECK_RV(F->C_SignInit(K.s, &mac, hmac_key), CKR_OK);
    KCHECK_RV(F->C_SignInit(K.s, &rsa, rsa_priv), CKR_OPERATION_ACTIVE);
    KCHECK_RV(F->C_SignUpdate(K.s, in, 16), CKR_OK);
    l = sizeof out;
    KCHECK_RV(F->C_SignFinal(K.s, out, &l), CKR_OK);
    KCHECK(l == 32, "HMAC finishes after OPERATION_ACTIVE");
    KCHECK_RV(F->C_DecryptInit(K.s, &cbc, aes), CKR_OK);
    KCHECK_RV(F->C_DecryptInit(K.s, &cbc, aes), CKR_OPERATION_ACTIVE);
    l = sizeof out;
    KCHECK_RV(F->C_Decrypt(K.s, in, 16, out, &l), CKR_ENCRYPTED_DATA_INVALID); /* zero block: bad padding */
    memset(out, 0x5a, 32); /* not the MAC of in */
    KCHECK_RV(F->C_VerifyInit(K.s, &mac, hmac_key), CKR_OK);
    KCHECK_RV(F->C_VerifyInit(K.s, &mac, hmac_key), CKR_OPERATION_ACTIVE);
    KCHECK_RV(F->C_Verify(K.s, in, 16, out, 32), CKR_SIGNATURE_INVALID);
    after(CKR_FUNCTION_FAILED, "after OPERATION_ACTIVE checks"); /* not a reset: usable() decides */
}

int main(int argc, char **argv)
{
    if (!kat_open(argc, argv) || !make_keys())
        return kat_finish();
    wrong_key_type();
    disallowed_usage();
    bad_param_sizes();
    truncated_and_tag();
    buffer_too_small();
    not_initialized_and_active();
    return kat_finish();
}
