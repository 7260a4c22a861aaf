/*
 * Foundation KDFs and HMAC-SHA256 used by the store's key hierarchy:
 * PBKDF2-HMAC-SHA256 (PIN -> KEK), HKDF-SHA256 (master key -> record keys).
 * Outputs are written to caller buffers; nothing secret is kept here.
 */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"

CHSM_MUST_CHECK static CK_RV kdf_run(EVP_KDF *kdf, const OSSL_PARAM *p, uint8_t *out, size_t out_len,
                                     const char *what)
{
    CK_RV rv = CKR_OK;
    EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
    CHSM_ENSURE(k != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EVP_KDF_CTX_new"));
    CHSM_ENSURE(EVP_KDF_derive(k, out, out_len, p) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, what));
out:
    EVP_KDF_CTX_free(k);
    return rv;
}

CK_RV chsm_pbkdf2_sha256(const void *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                         uint32_t iterations, uint8_t *out, size_t out_len)
{
    CK_RV rv = CKR_OK;
    OSSL_PARAM p[6];
    uint64_t iter = iterations;
    /* OpenSSL: pkcs5=1 turns OFF its SP 800-132 floors (salt >= 128 bits, iter >= 1000);
     * the floors are policy, enforced by config/core, not by this primitive. */
    int pkcs5_checks = 1;
    static char digest[] = "SHA2-256";
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE((pass != NULL || pass_len == 0) && (salt != NULL || salt_len == 0) && out != NULL,
                CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(iterations >= 1 && out_len >= 1,
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "pbkdf2: iterations/length zero"));
    p[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(uintptr_t)pass, pass_len);
    p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt, salt_len);
    p[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter);
    p[3] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    p[4] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5_checks);
    p[5] = OSSL_PARAM_construct_end();
    CHSM_GUARD(kdf_run(chsm_crypto_g.pbkdf2, p, out, out_len, "PBKDF2"));
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    CK_RV rv = CKR_OK;
    OSSL_PARAM p[5];
    size_t n = 0;
    static char digest[] = "SHA2-256";
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE((ikm != NULL || ikm_len == 0) && (salt != NULL || salt_len == 0) &&
                    (info != NULL || info_len == 0) && out != NULL,
                CKR_ARGUMENTS_BAD);
    /* RFC 5869 2.3: L <= 255*HashLen. */
    CHSM_ENSURE(out_len >= 1 && out_len <= 255 * 32,
                CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "hkdf: output length %zu", out_len));
    p[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    p[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)ikm, ikm_len);
    if (salt_len > 0)
        p[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt, salt_len);
    p[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info, info_len);
    p[n] = OSSL_PARAM_construct_end();
    CHSM_GUARD(kdf_run(chsm_crypto_g.hkdf, p, out, out_len, "HKDF"));
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_hmac_sha256(const uint8_t *key, size_t key_len, const void *in, size_t n, uint8_t out[32])
{
    CK_RV rv = CKR_OK;
    EVP_MAC_CTX *m = NULL;
    size_t len = 0;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE((key != NULL || key_len == 0) && (in != NULL || n == 0) && out != NULL, CKR_ARGUMENTS_BAD);
    m = EVP_MAC_CTX_dup(chsm_hmac_template(CKM_SHA256_HMAC)); /* digest already bound: no fetch */
    CHSM_ENSURE(m != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EVP_MAC_CTX_dup"));
    /* An empty key is legal HMAC; OpenSSL wants a non-NULL pointer for it. */
    CHSM_ENSURE(EVP_MAC_init(m, key_len ? key : (const uint8_t *)"", key_len, NULL) == 1 &&
                    EVP_MAC_update(m, in, n) == 1 && EVP_MAC_final(m, out, &len, 32) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "HMAC-SHA256"));
out:
    EVP_MAC_CTX_free(m);
    chsm_ossl_clear();
    return rv;
}
