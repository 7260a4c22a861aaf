/*
 * Foundation record protection: AES-256-GCM (96-bit IV, 128-bit tag) and
 * RFC 3394 AES-256 key wrap, used by the store for records, archives and
 * wrapped master keys. Mechanism-level AES (all modes, all key sizes,
 * streaming) is in cipher.c.
 */
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"

CHSM_MUST_CHECK static CK_RV gcm_run(int enc, const uint8_t key[32], const uint8_t *iv, const uint8_t *aad,
                                     size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    CK_RV rv = CKR_OK;
    int n = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    CHSM_ENSURE(c != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EVP_CIPHER_CTX_new"));
    CHSM_ENSURE(len <= INT32_MAX && aad_len <= INT32_MAX, CKR_DATA_LEN_RANGE);
    CHSM_ENSURE(EVP_CipherInit_ex2(c, chsm_aes_cipher(CHSM_C_AES_GCM, 32), key, iv, enc, NULL) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM init"));
    if (aad_len > 0)
        CHSM_ENSURE(EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM aad"));
    if (len > 0)
        CHSM_ENSURE(EVP_CipherUpdate(c, out, &n, in, (int)len) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM"));
    if (!enc)
        CHSM_ENSURE(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, CHSM_GCM_TAG_LEN, tag) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM set tag"));
    if (EVP_CipherFinal_ex(c, out + len, &n) != 1) {
        CHSM_BAIL(enc ? CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM final")
                      : CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, CHSM_LAYER_CRYPTO, "GCM tag mismatch"));
    }
    if (enc)
        CHSM_ENSURE(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, CHSM_GCM_TAG_LEN, tag) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM get tag"));
out:
    EVP_CIPHER_CTX_free(c);
    return rv;
}

CK_RV chsm_aes256_gcm_seal(const uint8_t key[32], const uint8_t iv[CHSM_GCM_IV_LEN], const uint8_t *aad,
                           size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct,
                           uint8_t tag[CHSM_GCM_TAG_LEN])
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(key != NULL && iv != NULL && tag != NULL && (aad != NULL || aad_len == 0) &&
                    ((pt != NULL && ct != NULL) || pt_len == 0),
                CKR_ARGUMENTS_BAD);
    CHSM_GUARD(gcm_run(1, key, iv, aad, aad_len, pt, pt_len, ct, tag));
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_aes256_gcm_open(const uint8_t key[32], const uint8_t iv[CHSM_GCM_IV_LEN], const uint8_t *aad,
                           size_t aad_len, const uint8_t *ct, size_t ct_len, const uint8_t tag[CHSM_GCM_TAG_LEN],
                           uint8_t *pt)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(key != NULL && iv != NULL && tag != NULL && (aad != NULL || aad_len == 0) &&
                    ((pt != NULL && ct != NULL) || ct_len == 0),
                CKR_ARGUMENTS_BAD);
    /* OpenSSL's GCM wants a writable tag buffer; the cast is only for its API. */
    rv = gcm_run(0, key, iv, aad, aad_len, ct, ct_len, pt, (uint8_t *)(uintptr_t)tag);
    if (rv != CKR_OK && ct_len > 0)
        chsm_wipe(pt, ct_len); /* never hand out unauthenticated plaintext */
out:
    chsm_ossl_clear();
    return rv;
}

/* Shared by the foundation KW and cipher.c: one-shot KW/KWP with any AES key length. */
CK_RV chsm_aes_kw_run(enum chsm_cipher_id base, int enc, const uint8_t *kek, size_t kek_len, const uint8_t *in,
                      size_t in_len, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    int n = 0, f = 0;
    const EVP_CIPHER *ci = chsm_aes_cipher(base, kek_len);
    EVP_CIPHER_CTX *c = NULL;
    CHSM_ENSURE(ci != NULL, CHSM_ERR(enc ? CKR_WRAPPING_KEY_SIZE_RANGE : CKR_UNWRAPPING_KEY_SIZE_RANGE,
                                     CHSM_LAYER_CRYPTO, "AES KEK length %zu", kek_len));
    CHSM_ENSURE(in_len <= INT32_MAX - 16, CKR_DATA_LEN_RANGE);
    c = EVP_CIPHER_CTX_new();
    CHSM_ENSURE(c != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EVP_CIPHER_CTX_new"));
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    CHSM_ENSURE(EVP_CipherInit_ex2(c, ci, kek, NULL, enc, NULL) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "KW init"));
    if (EVP_CipherUpdate(c, out, &n, in, (int)in_len) != 1 || EVP_CipherFinal_ex(c, out + n, &f) != 1) {
        if (n > 0)
            chsm_wipe(out, (size_t)n);
        CHSM_BAIL(enc ? CHSM_OSSL_ERR(CKR_DATA_LEN_RANGE, "KW wrap")
                      : CHSM_OSSL_ERR(CKR_WRAPPED_KEY_INVALID, "KW unwrap integrity check"));
    }
    *out_len = (size_t)n + (size_t)f;
out:
    EVP_CIPHER_CTX_free(c);
    return rv;
}

CK_RV chsm_aes256_kw_wrap(const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(kek != NULL && in != NULL && out != NULL && out_len != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(in_len >= 16 && in_len % 8 == 0,
                CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "KW input length %zu", in_len));
    CHSM_GUARD(chsm_aes_kw_run(CHSM_C_AES_KW, 1, kek, 32, in, in_len, out, out_len));
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_aes256_kw_unwrap(const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out,
                            size_t *out_len)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(kek != NULL && in != NULL && out != NULL && out_len != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(in_len >= 24 && in_len % 8 == 0,
                CHSM_ERR(CKR_WRAPPED_KEY_LEN_RANGE, CHSM_LAYER_CRYPTO, "KW input length %zu", in_len));
    CHSM_GUARD(chsm_aes_kw_run(CHSM_C_AES_KW, 0, kek, 32, in, in_len, out, out_len));
out:
    chsm_ossl_clear();
    return rv;
}
