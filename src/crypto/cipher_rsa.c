/* RSA encryption mechanisms: PKCS#1 v1.5, OAEP (SHA-1/2, MGF1, label), raw X.509. */
#include <openssl/rsa.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/pkey_internal.h"

CHSM_MUST_CHECK static CK_RV oaep_setup(EVP_PKEY_CTX *pc, const void *param, size_t param_len)
{
    CK_RV rv = CKR_OK;
    CK_RSA_PKCS_OAEP_PARAMS p;
    const EVP_MD *md, *mgf;
    void *label = NULL;
    CHSM_ENSURE(param != NULL && param_len == sizeof(p),
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "OAEP needs CK_RSA_PKCS_OAEP_PARAMS"));
    memcpy(&p, param, sizeof(p));
    md = chsm_digest_size(p.hashAlg) != 0 && p.hashAlg < CKM_SHA3_256 ? chsm_md_for_mech(p.hashAlg) : NULL;
    mgf = chsm_md_for_mgf(p.mgf);
    CHSM_ENSURE(md != NULL && mgf != NULL, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "OAEP hash/MGF"));
    CHSM_ENSURE((p.source == 0 && p.ulSourceDataLen == 0) ||
                    (p.source == CKZ_DATA_SPECIFIED && (p.pSourceData != NULL || p.ulSourceDataLen == 0)),
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "OAEP source"));
    CHSM_ENSURE(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
                    EVP_PKEY_CTX_set_rsa_oaep_md(pc, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, mgf) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "OAEP setup"));
    if (p.ulSourceDataLen > 0) {
        label = OPENSSL_memdup(p.pSourceData, p.ulSourceDataLen);
        CHSM_ENSURE(label != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "label"));
        CHSM_ENSURE(EVP_PKEY_CTX_set0_rsa_oaep_label(pc, label, (int)p.ulSourceDataLen) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "OAEP label"));
        label = NULL; /* owned by pc now */
    }
out:
    OPENSSL_free(label);
    return rv;
}

CHSM_MUST_CHECK static CK_RV rsa_setup(EVP_PKEY_CTX *pc, CK_MECHANISM_TYPE mech, const void *param,
                                       size_t param_len, bool encrypt)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE((encrypt ? EVP_PKEY_encrypt_init(pc) : EVP_PKEY_decrypt_init(pc)) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "RSA crypt init"));
    if (mech == CKM_RSA_PKCS_OAEP) {
        CHSM_GUARD(oaep_setup(pc, param, param_len));
    } else {
        CHSM_ENSURE(param_len == 0, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "unexpected param"));
        CHSM_ENSURE(EVP_PKEY_CTX_set_rsa_padding(pc, mech == CKM_RSA_X_509 ? RSA_NO_PADDING : RSA_PKCS1_PADDING) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "RSA padding"));
    }
out:
    return rv;
}

CK_RV chsm_rsa_crypt(CK_MECHANISM_TYPE mech, const void *param, size_t param_len, struct chsm_pkey *key,
                     bool encrypt, const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY_CTX *pc = NULL;
    struct chsm_secbuf tmp = {0};
    uint8_t block[2048];
    size_t k, outl;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(key != NULL && out_len != NULL && (in != NULL || n == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(mech == CKM_RSA_PKCS || mech == CKM_RSA_PKCS_OAEP || mech == CKM_RSA_X_509,
                CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "not an RSA encryption mech"));
    CHSM_ENSURE(key->kind == CHSM_PKEY_RSA, CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, CHSM_LAYER_CRYPTO, "not RSA"));
    CHSM_ENSURE(encrypt || key->is_private,
                CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, CHSM_LAYER_CRYPTO, "decrypt needs a private key"));
    k = (size_t)EVP_PKEY_get_size(key->pkey);
    pc = chsm_pkey_ctx(key);
    CHSM_ENSURE(pc != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "PKEY_CTX"));
    CHSM_GUARD(rsa_setup(pc, mech, param, param_len, encrypt));
    if (encrypt) {
        if (out == NULL || *out_len < k) {
            bool query = out == NULL;
            *out_len = k;
            CHSM_ENSURE(query, CKR_BUFFER_TOO_SMALL);
            goto out;
        }
        CHSM_ENSURE(n <= k, CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "RSA input too long"));
        if (mech == CKM_RSA_X_509) { /* left-pad to the modulus size (PKCS#11 2.1.8) */
            memset(block, 0, k - n);
            memcpy(block + (k - n), in, n);
            in = block, n = k;
        }
        outl = *out_len;
        CHSM_ENSURE(EVP_PKEY_encrypt(pc, out, &outl, in, n) == 1,
                    CHSM_OSSL_ERR(mech == CKM_RSA_X_509 ? CKR_DATA_INVALID : CKR_DATA_LEN_RANGE, "RSA encrypt"));
        *out_len = outl;
        goto out;
    }
    CHSM_ENSURE(n == k, CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "ciphertext %zu != %zu", n, k));
    CHSM_GUARD(chsm_secbuf_alloc(&tmp, k));
    outl = k;
    CHSM_ENSURE(EVP_PKEY_decrypt(pc, tmp.data, &outl, in, n) == 1,
                CHSM_OSSL_ERR(CKR_ENCRYPTED_DATA_INVALID, "RSA decrypt"));
    if (out == NULL || *out_len < outl) {
        bool query = out == NULL;
        *out_len = outl;
        CHSM_ENSURE(query, CKR_BUFFER_TOO_SMALL);
        goto out;
    }
    memcpy(out, tmp.data, outl);
    *out_len = outl;
out:
    chsm_wipe(block, sizeof(block));
    chsm_secbuf_free(&tmp);
    EVP_PKEY_CTX_free(pc);
    chsm_ossl_clear();
    return rv;
}
