/*
 * Known-value private keys for the store tests: an EC P-256 private key with
 * a fixed scalar and an RSA-2048 key generated here, both imported through
 * C_CreateObject, so the no-secrets scan knows exactly which bytes must
 * never appear on disk, and a later process can prove the key still works
 * (ECDSA signature checked by OpenSSL, when the module offers CKM_ECDSA).
 */
#define _POSIX_C_SOURCE 200809L
#include "st_known.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

/* DER of OID prime256v1 (1.2.840.10045.3.1.7). */
static const unsigned char P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

void st_ec_scalar(unsigned char d[32])
{
    for (int i = 0; i < 32; i++)
        d[i] = (unsigned char)(0x11 + 7 * i); /* < n of P-256: first byte 0x11 */
}

static void hex_line(FILE *fp, const char *name, const unsigned char *b, size_t n)
{
    fprintf(fp, "%s ", name);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%02x", b[i]);
    fputc('\n', fp);
}

CK_RV st_import_ec(CK_SESSION_HANDLE s, const char *label, FILE *secrets)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_BBOOL t = CK_TRUE;
    unsigned char d[32];
    st_ec_scalar(d);
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},         {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &t, sizeof t},             {CKA_PRIVATE, &t, sizeof t},
        {CKA_SENSITIVE, &t, sizeof t},         {CKA_SIGN, &t, sizeof t},
        {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_ID, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_EC_PARAMS, (void *)P256_OID, sizeof P256_OID},
        {CKA_VALUE, d, sizeof d},
    };
    CK_OBJECT_HANDLE h;
    if (secrets != NULL)
        hex_line(secrets, "ec_scalar", d, sizeof d);
    return F->C_CreateObject(s, tmpl, sizeof tmpl / sizeof tmpl[0], &h);
}

static CK_ULONG bn_bytes(EVP_PKEY *pk, const char *name, unsigned char *out)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1)
        return 0;
    int n = BN_bn2bin(bn, out);
    BN_free(bn);
    return n > 0 ? (CK_ULONG)n : 0;
}

CK_RV st_import_rsa(CK_SESSION_HANDLE s, const char *label, FILE *secrets)
{
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    if (pk == NULL)
        return CKR_GENERAL_ERROR;
    static unsigned char n[256], e[8], d[256], p[128], q[128], dp[128], dq[128], qi[128];
    CK_ULONG ln = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_N, n), le = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_E, e),
             ld = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_D, d), lp = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_FACTOR1, p),
             lq = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_FACTOR2, q), ldp = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp),
             ldq = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq),
             lqi = bn_bytes(pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi);
    EVP_PKEY_free(pk);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    CK_BBOOL t = CK_TRUE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},      {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_TOKEN, &t, sizeof t},
        {CKA_PRIVATE, &t, sizeof t},        {CKA_SENSITIVE, &t, sizeof t},  {CKA_SIGN, &t, sizeof t},
        {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_ID, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_MODULUS, n, ln},               {CKA_PUBLIC_EXPONENT, e, le},   {CKA_PRIVATE_EXPONENT, d, ld},
        {CKA_PRIME_1, p, lp},               {CKA_PRIME_2, q, lq},           {CKA_EXPONENT_1, dp, ldp},
        {CKA_EXPONENT_2, dq, ldq},          {CKA_COEFFICIENT, qi, lqi},
    };
    if (secrets != NULL) {
        hex_line(secrets, "rsa_d", d, ld);
        hex_line(secrets, "rsa_p", p, lp);
        hex_line(secrets, "rsa_q", q, lq);
    }
    CK_OBJECT_HANDLE h;
    return F->C_CreateObject(s, tmpl, sizeof tmpl / sizeof tmpl[0], &h);
}

/* ECDSA(r||s over SHA-256 of msg) checked with the public point of the known scalar. */
static bool ec_verify(const unsigned char *msg, size_t mlen, const unsigned char *sig, CK_ULONG slen)
{
    bool ok = false;
    unsigned char d[32], hash[32];
    unsigned int hl = 32;
    st_ec_scalar(d);
    EVP_Digest(msg, mlen, hash, &hl, EVP_sha256(), NULL);
    EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *bd = BN_bin2bn(d, 32, NULL), *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    EC_POINT *pub = EC_POINT_new(EC_KEY_get0_group(k));
    ECDSA_SIG *es = ECDSA_SIG_new();
    if (slen == 64 && EC_POINT_mul(EC_KEY_get0_group(k), pub, bd, NULL, NULL, NULL) == 1 &&
        EC_KEY_set_public_key(k, pub) == 1 && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;
        ok = ECDSA_do_verify(hash, 32, es, k) == 1;
    }
    BN_free(r), BN_free(s), BN_free(bd);
    ECDSA_SIG_free(es);
    EC_POINT_free(pub);
    EC_KEY_free(k);
    return ok;
}

int st_use_ec(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    CK_MECHANISM_INFO info;
    if (F->C_GetMechanismInfo(0, CKM_ECDSA_SHA256, &info) != CKR_OK)
        return -1; /* not offered (yet) */
    static const unsigned char msg[] = "store acceptance: sign after restart";
    unsigned char sig[128];
    CK_ULONG slen = sizeof sig;
    CK_RV rv = F->C_SignInit(s, &m, h);
    if (rv == CKR_OK)
        rv = F->C_Sign(s, (CK_BYTE *)msg, sizeof msg - 1, sig, &slen);
    if (rv != CKR_OK) {
        fprintf(stderr, "FAIL: ECDSA sign: %s\n", st_rv(rv));
        return 0;
    }
    return ec_verify(msg, sizeof msg - 1, sig, slen) ? 1 : 0;
}
