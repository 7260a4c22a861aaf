/* ECDH (SP 800-56A cofactor-free, P-curves) with CKD_NULL or ANSI X9.63 KDFs. */
#include <openssl/core_names.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/derive.h"
#include "crypto/pkey_internal.h"

static CK_MECHANISM_TYPE kdf_hash(CK_ULONG kdf)
{
    switch (kdf) {
    case CKD_SHA1_KDF: return CKM_SHA_1;
    case CKD_SHA224_KDF: return CKM_SHA224;
    case CKD_SHA256_KDF: return CKM_SHA256;
    case CKD_SHA384_KDF: return CKM_SHA384;
    case CKD_SHA512_KDF: return CKM_SHA512;
    default: return 0;
    }
}

CHSM_MUST_CHECK static CK_RV peer_key(const struct chsm_pkey *priv, const CK_ECDH1_DERIVE_PARAMS *p,
                                      struct chsm_pkey **peer)
{
    struct chsm_pkey_parts parts = {.key_type = CKK_EC};
    CK_RV rv;
    parts.ec_params = (struct chsm_bytes){priv->curve->oid, priv->curve->oid_len};
    parts.ec_point = (struct chsm_bytes){p->pPublicData, p->ulPublicDataLen};
    rv = chsm_pkey_from_parts(&parts, peer);
    if (rv != CKR_OK && rv != CKR_HOST_MEMORY)
        rv = CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "peer public point invalid");
    return rv;
}

CHSM_MUST_CHECK static CK_RV x963(CK_MECHANISM_TYPE hash, const struct chsm_secbuf *z, const CK_ECDH1_DERIVE_PARAMS *p,
                                  size_t key_len, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    OSSL_PARAM op[4];
    EVP_KDF_CTX *k = EVP_KDF_CTX_new(chsm_crypto_g.x963);
    CHSM_ENSURE(k != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "KDF ctx"));
    op[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                             (char *)(uintptr_t)EVP_MD_get0_name(chsm_md_for_mech(hash)), 0);
    op[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z->data, z->len);
    op[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, p->pSharedData, p->ulSharedDataLen);
    op[3] = OSSL_PARAM_construct_end();
    CHSM_GUARD(chsm_buf_reserve(out, key_len));
    CHSM_ENSURE(EVP_KDF_derive(k, out->data, key_len, op) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "X9.63 KDF"));
    out->len = key_len;
out:
    EVP_KDF_CTX_free(k);
    return rv;
}

CK_RV chsm_ecdh_derive(struct chsm_pkey *priv, const void *param, size_t param_len, size_t key_len,
                       struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    CK_ECDH1_DERIVE_PARAMS p;
    struct chsm_pkey *peer = NULL;
    struct chsm_secbuf z = {0};
    EVP_PKEY_CTX *pc = NULL;
    size_t zl = 0;
    CK_MECHANISM_TYPE hash;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(priv != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    chsm_buf_init(out, 1);
    CHSM_ENSURE(priv->kind == CHSM_PKEY_EC && priv->is_private,
                CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, CHSM_LAYER_CRYPTO, "ECDH needs an EC private key"));
    CHSM_ENSURE(param != NULL && param_len == sizeof(p),
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "needs CK_ECDH1_DERIVE_PARAMS"));
    memcpy(&p, param, sizeof(p));
    hash = kdf_hash(p.kdf);
    CHSM_ENSURE((p.kdf == CKD_NULL && p.ulSharedDataLen == 0) || hash != 0,
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "KDF 0x%lx / shared data", p.kdf));
    CHSM_ENSURE(p.pPublicData != NULL && p.ulPublicDataLen > 0 && (p.pSharedData != NULL || p.ulSharedDataLen == 0),
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "public/shared data"));
    CHSM_GUARD(peer_key(priv, &p, &peer));
    pc = chsm_pkey_ctx(priv);
    CHSM_ENSURE(pc != NULL && EVP_PKEY_derive_init(pc) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "derive init"));
    CHSM_ENSURE(EVP_PKEY_derive_set_peer_ex(pc, peer->pkey, 1) == 1,
                CHSM_OSSL_ERR(CKR_MECHANISM_PARAM_INVALID, "peer key rejected"));
    CHSM_GUARD(chsm_secbuf_alloc(&z, priv->curve->field_bytes));
    zl = z.len;
    CHSM_ENSURE(EVP_PKEY_derive(pc, z.data, &zl) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "ECDH"));
    chsm_secbuf_truncate(&z, zl);
    if (hash != 0) {
        CHSM_ENSURE(key_len > 0, CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, CHSM_LAYER_CRYPTO, "KDF needs a key length"));
        CHSM_GUARD(x963(hash, &z, &p, key_len, out));
    } else {
        CHSM_ENSURE(key_len <= z.len, CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "key longer than secret"));
        CHSM_GUARD(chsm_buf_put(out, z.data, key_len ? key_len : z.len));
    }
out:
    if (rv != CKR_OK && out != NULL)
        chsm_buf_free(out);
    chsm_secbuf_free(&z);
    EVP_PKEY_CTX_free(pc);
    chsm_pkey_free(peer);
    chsm_ossl_clear();
    return rv;
}
