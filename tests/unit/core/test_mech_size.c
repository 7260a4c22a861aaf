/*
 * The PKCS#11 size convention (base spec 5.2) for every mechanism the table
 * offers: a NULL-buffer query must answer a length that suffices, and the
 * call with a buffer of exactly that length must then succeed, one-shot and
 * multi-part. A mechanism with an encrypt/sign flag but no row here fails the
 * coverage test, so a new mechanism cannot skip this check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

#define SO_PIN "so-pin-1234"
#define USER_PIN "user-1234"
#define U(s) (CK_UTF8CHAR_PTR)(s)
#define L(s) (CK_ULONG)strlen(s)

static CK_BBOOL yes = CK_TRUE;
static struct chsm_app *A;
static CK_SESSION_HANDLE S;
static CK_OBJECT_HANDLE aes, hmac, rsa_pub, rsa_priv, ec_pub, ec_priv, ed_pub, ed_priv;

static const CK_BYTE P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static CK_BYTE iv16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static CK_BYTE iv12[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
static CK_BYTE aad[5] = {'h', 'e', 'l', 'l', 'o'};
static CK_GCM_PARAMS gcm = {iv12, sizeof(iv12), sizeof(iv12) * 8, aad, sizeof(aad), 128};
static CK_AES_CTR_PARAMS ctr = {128, {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
static CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
static CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
static CK_RSA_PKCS_PSS_PARAMS pss384 = {CKM_SHA384, CKG_MGF1_SHA384, 48};
static CK_RSA_PKCS_PSS_PARAMS pss512 = {CKM_SHA512, CKG_MGF1_SHA512, 64};
static CK_RSA_PKCS_PSS_PARAMS pss224 = {CKM_SHA224, CKG_MGF1_SHA224, 28};
static CK_RSA_PKCS_PSS_PARAMS pss1 = {CKM_SHA_1, CKG_MGF1_SHA1, 20};
static CK_ULONG mac_len = 10;

enum keyset { K_AES, K_HMAC, K_RSA, K_EC, K_ED };
struct row {
    CK_MECHANISM_TYPE mech;
    void *param;
    CK_ULONG plen;
    enum keyset k;
    CK_ULONG data_len; /* message (or prehash) bytes */
    bool multipart;
};

static const struct row rows[] = {
    {CKM_AES_ECB, NULL, 0, K_AES, 32, true},
    {CKM_AES_CBC, iv16, 16, K_AES, 32, true},
    {CKM_AES_CBC_PAD, iv16, 16, K_AES, 33, true},
    {CKM_AES_CTR, &ctr, sizeof(ctr), K_AES, 33, true},
    {CKM_AES_GCM, &gcm, sizeof(gcm), K_AES, 33, true},
    {CKM_RSA_PKCS, NULL, 0, K_RSA, 32, false},
    {CKM_RSA_X_509, NULL, 0, K_RSA, 32, false},
    {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep), K_RSA, 32, false},
    {CKM_SHA1_RSA_PKCS, NULL, 0, K_RSA, 40, true},
    {CKM_SHA224_RSA_PKCS, NULL, 0, K_RSA, 40, true},
    {CKM_SHA256_RSA_PKCS, NULL, 0, K_RSA, 40, true},
    {CKM_SHA384_RSA_PKCS, NULL, 0, K_RSA, 40, true},
    {CKM_SHA512_RSA_PKCS, NULL, 0, K_RSA, 40, true},
    {CKM_RSA_PKCS_PSS, &pss, sizeof(pss), K_RSA, 32, false},
    {CKM_SHA1_RSA_PKCS_PSS, &pss1, sizeof(pss1), K_RSA, 40, true},
    {CKM_SHA224_RSA_PKCS_PSS, &pss224, sizeof(pss224), K_RSA, 40, true},
    {CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss), K_RSA, 40, true},
    {CKM_SHA384_RSA_PKCS_PSS, &pss384, sizeof(pss384), K_RSA, 40, true},
    {CKM_SHA512_RSA_PKCS_PSS, &pss512, sizeof(pss512), K_RSA, 40, true},
    {CKM_ECDSA, NULL, 0, K_EC, 32, false},
    {CKM_ECDSA_SHA1, NULL, 0, K_EC, 40, true},
    {CKM_ECDSA_SHA224, NULL, 0, K_EC, 40, true},
    {CKM_ECDSA_SHA256, NULL, 0, K_EC, 40, true},
    {CKM_ECDSA_SHA384, NULL, 0, K_EC, 40, true},
    {CKM_ECDSA_SHA512, NULL, 0, K_EC, 40, true},
    {CKM_EDDSA, NULL, 0, K_ED, 40, true},
    {CKM_AES_CMAC, NULL, 0, K_AES, 40, true},
    {CKM_AES_CMAC_GENERAL, &mac_len, sizeof(mac_len), K_AES, 40, true},
    {CKM_SHA_1_HMAC, NULL, 0, K_HMAC, 40, true},
    {CKM_SHA224_HMAC, NULL, 0, K_HMAC, 40, true},
    {CKM_SHA256_HMAC, NULL, 0, K_HMAC, 40, true},
    {CKM_SHA384_HMAC, NULL, 0, K_HMAC, 40, true},
    {CKM_SHA512_HMAC, NULL, 0, K_HMAC, 40, true},
    {CKM_SHA_1_HMAC_GENERAL, &mac_len, sizeof(mac_len), K_HMAC, 40, true},
    {CKM_SHA224_HMAC_GENERAL, &mac_len, sizeof(mac_len), K_HMAC, 40, true},
    {CKM_SHA256_HMAC_GENERAL, &mac_len, sizeof(mac_len), K_HMAC, 40, true},
    {CKM_SHA384_HMAC_GENERAL, &mac_len, sizeof(mac_len), K_HMAC, 40, true},
    {CKM_SHA512_HMAC_GENERAL, &mac_len, sizeof(mac_len), K_HMAC, 40, true},
};

static const struct row *row_for(CK_MECHANISM_TYPE m)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].mech == m)
            return &rows[i];
    return NULL;
}

static void gen_pair(CK_MECHANISM_TYPE mt, const CK_BYTE *params, size_t plen, CK_OBJECT_HANDLE *pub,
                     CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {mt, NULL, 0};
    CK_ULONG bits = 2048;
    CK_ATTRIBUTE pt[] = {{CKA_VERIFY, &yes, 1}, {CKA_ENCRYPT, &yes, 1}, {CKA_VERIFY_RECOVER, &yes, 1},
                         {CKA_EC_PARAMS, (void *)(uintptr_t)params, (CK_ULONG)plen}};
    CK_ATTRIBUTE vt[] = {{CKA_SIGN, &yes, 1}, {CKA_DECRYPT, &yes, 1}, {CKA_SIGN_RECOVER, &yes, 1}};
    if (params == NULL)
        pt[3] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
    assert_int_equal(chsm_core_GenerateKeyPair(A, S, &m, pt, 4, vt, 3, pub, priv), CKR_OK);
}

static void gen_secret(CK_MECHANISM_TYPE mt, CK_ULONG len, CK_OBJECT_HANDLE *h)
{
    CK_MECHANISM m = {mt, NULL, 0};
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1},
                        {CKA_SIGN, &yes, 1}, {CKA_VERIFY, &yes, 1}};
    assert_int_equal(chsm_core_GenerateKey(A, S, &m, t, 5, h), CKR_OK);
}

static int setup(void **state)
{
    (void)state;
    struct chsm_config c;
    assert_int_equal(chsm_config_defaults(&c), CKR_OK);
    free(c.token.storage_path);
    c.token.storage_path = strdup(":memory:");
    c.security.pbkdf2_iterations = 100000;
    c.audit.enabled = false;
    c.algorithms.allow_sha1_signing = true;
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
    gen_secret(CKM_AES_KEY_GEN, 32, &aes);
    gen_secret(CKM_GENERIC_SECRET_KEY_GEN, 32, &hmac);
    gen_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0, &rsa_pub, &rsa_priv);
    gen_pair(CKM_EC_KEY_PAIR_GEN, P256, sizeof(P256), &ec_pub, &ec_priv);
    gen_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519, sizeof(ED25519), &ed_pub, &ed_priv);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    return 0;
}

static void keys_of(const struct row *r, CK_OBJECT_HANDLE *use, CK_OBJECT_HANDLE *check)
{
    switch (r->k) {
    case K_AES: *use = *check = aes; break;
    case K_HMAC: *use = *check = hmac; break;
    case K_RSA: *use = rsa_priv, *check = rsa_pub; break;
    case K_EC: *use = ec_priv, *check = ec_pub; break;
    default: *use = ed_priv, *check = ed_pub; break;
    }
}

/* Query with NULL, then call with a buffer of exactly the answered size: must succeed. */
typedef CK_RV (*one_fn)(struct chsm_app *, CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
typedef CK_RV (*fin_fn)(struct chsm_app *, CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR);

static CK_BYTE *exact_one(one_fn f, CK_BYTE *in, CK_ULONG n, CK_ULONG *out_len, const char *what,
                          CK_MECHANISM_TYPE m)
{
    CK_ULONG q = 0;
    assert_int_equal(f(A, S, in, n, NULL, &q), CKR_OK);
    CK_BYTE *buf = malloc(q + 1); /* +1: exact-size calls must not write past q */
    assert_non_null(buf);
    buf[q] = 0xA5;
    CK_ULONG l = q;
    CK_RV rv = f(A, S, in, n, buf, &l);
    if (rv != CKR_OK)
        fail_msg("%s mech 0x%lx: query said %lu, call with that size gave 0x%lx", what, m, q, rv);
    assert_true(l <= q);
    assert_int_equal(buf[q], 0xA5);
    *out_len = l;
    return buf;
}

static CK_ULONG exact_fin(fin_fn f, CK_BYTE *out, const char *what, CK_MECHANISM_TYPE m)
{
    CK_ULONG q = 0;
    assert_int_equal(f(A, S, NULL, &q), CKR_OK);
    CK_ULONG l = q;
    CK_RV rv = f(A, S, out, &l);
    if (rv != CKR_OK)
        fail_msg("%s mech 0x%lx: final query said %lu, call with that size gave 0x%lx", what, m, q, rv);
    assert_true(l <= q);
    return l;
}

static void crypt_row(const struct row *r, CK_BYTE *data)
{
    CK_MECHANISM m = {r->mech, r->param, r->plen};
    CK_OBJECT_HANDLE dk, ek;
    CK_ULONG ct_len = 0, pt_len = 0;
    keys_of(r, &dk, &ek);
    assert_int_equal(chsm_core_EncryptInit(A, S, &m, ek), CKR_OK);
    CK_BYTE *ct = exact_one(chsm_core_Encrypt, data, r->data_len, &ct_len, "Encrypt", r->mech);
    assert_int_equal(chsm_core_DecryptInit(A, S, &m, dk), CKR_OK);
    CK_BYTE *pt = exact_one(chsm_core_Decrypt, ct, ct_len, &pt_len, "Decrypt", r->mech);
    /* Raw RSA hands back the whole modulus-sized block, the message at its end. */
    assert_true(pt_len >= r->data_len);
    assert_memory_equal(pt + pt_len - r->data_len, data, r->data_len);
    free(pt);
    if (r->multipart) {
        CK_BYTE out[512];
        CK_ULONG got = 0, l;
        CK_BYTE *p;
        assert_int_equal(chsm_core_DecryptInit(A, S, &m, dk), CKR_OK);
        p = exact_one(chsm_core_DecryptUpdate, ct, 17, &l, "DecryptUpdate", r->mech);
        memcpy(out, p, l), got = l, free(p);
        p = exact_one(chsm_core_DecryptUpdate, ct + 17, ct_len - 17, &l, "DecryptUpdate", r->mech);
        memcpy(out + got, p, l), got += l, free(p);
        got += exact_fin(chsm_core_DecryptFinal, out + got, "DecryptFinal", r->mech);
        assert_int_equal(got, r->data_len);
        assert_memory_equal(out, data, got);
        assert_int_equal(chsm_core_EncryptInit(A, S, &m, ek), CKR_OK);
        p = exact_one(chsm_core_EncryptUpdate, data, 17, &l, "EncryptUpdate", r->mech);
        free(p);
        p = exact_one(chsm_core_EncryptUpdate, data + 17, r->data_len - 17, &l, "EncryptUpdate", r->mech);
        free(p);
        (void)exact_fin(chsm_core_EncryptFinal, out, "EncryptFinal", r->mech);
    }
    free(ct);
}

static void sign_row(const struct row *r, CK_BYTE *data)
{
    CK_MECHANISM m = {r->mech, r->param, r->plen};
    CK_OBJECT_HANDLE sk, vk;
    CK_ULONG sl = 0;
    keys_of(r, &sk, &vk);
    assert_int_equal(chsm_core_SignInit(A, S, &m, sk), CKR_OK);
    CK_BYTE *sig = exact_one(chsm_core_Sign, data, r->data_len, &sl, "Sign", r->mech);
    assert_int_equal(chsm_core_VerifyInit(A, S, &m, vk), CKR_OK);
    assert_int_equal(chsm_core_Verify(A, S, data, r->data_len, sig, sl), CKR_OK);
    free(sig);
    if (r->multipart) {
        CK_BYTE out[512];
        assert_int_equal(chsm_core_SignInit(A, S, &m, sk), CKR_OK);
        assert_int_equal(chsm_core_SignUpdate(A, S, data, 17), CKR_OK);
        assert_int_equal(chsm_core_SignUpdate(A, S, data + 17, r->data_len - 17), CKR_OK);
        sl = exact_fin(chsm_core_SignFinal, out, "SignFinal", r->mech);
        assert_int_equal(chsm_core_VerifyInit(A, S, &m, vk), CKR_OK);
        assert_int_equal(chsm_core_Verify(A, S, data, r->data_len, out, sl), CKR_OK);
    }
    if (r->mech == CKM_RSA_PKCS || r->mech == CKM_RSA_X_509) {
        CK_ULONG rl = 0;
        assert_int_equal(chsm_core_SignRecoverInit(A, S, &m, sk), CKR_OK);
        sig = exact_one(chsm_core_SignRecover, data, r->data_len, &sl, "SignRecover", r->mech);
        assert_int_equal(chsm_core_VerifyRecoverInit(A, S, &m, vk), CKR_OK);
        CK_BYTE *rec = exact_one(chsm_core_VerifyRecover, sig, sl, &rl, "VerifyRecover", r->mech);
        assert_true(rl >= r->data_len);
        assert_memory_equal(rec + rl - r->data_len, data, r->data_len);
        free(rec);
        free(sig);
    }
}

static void test_every_mechanism(void **state)
{
    (void)state;
    CK_MECHANISM_TYPE list[128];
    CK_ULONG n = 128;
    CK_BYTE data[64];
    size_t ran = 0;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (CK_BYTE)(0x30 + i);
    assert_int_equal(chsm_core_GetMechanismList(A, 0, list, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_MECHANISM_INFO info;
        assert_int_equal(chsm_core_GetMechanismInfo(A, 0, list[i], &info), CKR_OK);
        if (!(info.flags & (CKF_ENCRYPT | CKF_SIGN | CKF_SIGN_RECOVER)))
            continue;
        const struct row *r = row_for(list[i]);
        if (r == NULL)
            fail_msg("mechanism 0x%lx offers encrypt/sign but has no size-convention row", list[i]);
        if (info.flags & CKF_ENCRYPT)
            crypt_row(r, data);
        if (info.flags & CKF_SIGN)
            sign_row(r, data);
        ran++;
    }
    assert_true(ran >= sizeof(rows) / sizeof(rows[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_mechanism),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
