/* Key-pair generation with a pairwise-consistency test (FIPS 140-3 IG 10.3.A) before release. */
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/pkey_internal.h"
#include "crypto/shim.h"
#include "crypto/sign.h"

CK_RV chsm_pkey_pairwise_test(const struct chsm_pkey *key)
{
    CK_RV rv = CKR_OK;
    static const uint8_t msg[] = "craton-hsm pairwise consistency";
    uint8_t sig[2048];
    size_t sig_len = sizeof(sig);
    struct chsm_sign *s = NULL, *v = NULL;
    CK_MECHANISM_TYPE mech = key->kind == CHSM_PKEY_RSA  ? CKM_SHA256_RSA_PKCS
                             : key->kind == CHSM_PKEY_EC ? CKM_ECDSA_SHA256
                                                         : CKM_EDDSA;
    struct chsm_pkey *k = (struct chsm_pkey *)(uintptr_t)key; /* the contexts only take references */
    CHSM_GUARD(chsm_sign_new(mech, NULL, 0, k, false, &s));
    CHSM_GUARD(chsm_sign_oneshot(s, msg, sizeof(msg), sig, &sig_len));
    CHSM_GUARD(chsm_sign_new(mech, NULL, 0, k, true, &v));
    rv = chsm_verify_oneshot(v, msg, sizeof(msg), sig, sig_len);
    if (rv != CKR_OK)
        rv = CHSM_ERR(CKR_FUNCTION_FAILED, CHSM_LAYER_CRYPTO, "pairwise consistency test failed");
out:
    chsm_sign_free(s);
    chsm_sign_free(v);
    return rv;
}

CHSM_MUST_CHECK static CK_RV finish(EVP_PKEY *pk, struct chsm_pkey **out)
{
    CK_RV rv = chsm_pkey_wrap(pk, true, out);
    if (rv == CKR_OK && (rv = chsm_pkey_pairwise_test(*out)) != CKR_OK) {
        chsm_pkey_free(*out);
        *out = NULL;
    }
    return rv;
}

CK_RV chsm_pkey_generate_rsa(CK_ULONG bits, const uint8_t *e, size_t e_len, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *c = NULL;
    BIGNUM *bn = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(out != NULL && (e != NULL || e_len == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(bits >= 1024 && bits <= 16384,
                CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "RSA modulus bits %lu", bits));
    bn = e_len ? BN_bin2bn(e, (int)(e_len > 64 ? 64 : e_len), NULL) : BN_new();
    CHSM_ENSURE(bn != NULL && (e_len != 0 || BN_set_word(bn, 65537) == 1), CHSM_OSSL_ERR(CKR_HOST_MEMORY, "BN"));
    /* Odd and > 1 (OpenSSL also caps the size); 3 is allowed by PKCS#11 but 65537 is the default. */
    CHSM_ENSURE(e_len <= 8 && BN_is_odd(bn) && !BN_is_one(bn),
                CHSM_ERR(CKR_ATTRIBUTE_VALUE_INVALID, CHSM_LAYER_CRYPTO, "CKA_PUBLIC_EXPONENT"));
    c = chsm_shim_ctx("RSA"); /* never EVP_PKEY_CTX_new_from_name: host ENGINEs (shim.h) */
    CHSM_ENSURE(c != NULL && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits) == 1 &&
                    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, bn) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "RSA keygen setup"));
    CHSM_ENSURE(EVP_PKEY_generate(c, &pk) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "RSA keygen"));
    rv = finish(pk, out);
out:
    BN_free(bn);
    EVP_PKEY_CTX_free(c);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_pkey_generate_ec(const uint8_t *ec_params, size_t len, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *c = NULL;
    const struct chsm_curve *cv;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(out != NULL, CKR_ARGUMENTS_BAD);
    cv = chsm_curve_from_params(ec_params, len);
    CHSM_ENSURE(cv != NULL, CHSM_ERR(CKR_CURVE_NOT_SUPPORTED, CHSM_LAYER_CRYPTO, "CKA_EC_PARAMS not supported"));
    c = chsm_shim_ctx(cv->kind == CHSM_PKEY_EC ? "EC" : cv->name);
    CHSM_ENSURE(c != NULL && EVP_PKEY_keygen_init(c) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "keygen init"));
    if (cv->kind == CHSM_PKEY_EC)
        CHSM_ENSURE(EVP_PKEY_CTX_set_group_name(c, cv->name) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "group"));
    CHSM_ENSURE(EVP_PKEY_generate(c, &pk) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "EC keygen"));
    rv = finish(pk, out);
out:
    EVP_PKEY_CTX_free(c);
    chsm_ossl_clear();
    return rv;
}
