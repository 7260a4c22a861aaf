/*
 * HMAC and AES-CMAC. HMAC dups a template EVP_MAC_CTX prepared at init
 * (digest already bound), so no digest is fetched per call.
 */
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/mac.h"

struct chsm_mac {
    EVP_MAC_CTX *ctx;
    size_t full_len, out_len;
    bool finished;
    CK_MECHANISM_TYPE mech;
};

CHSM_MUST_CHECK static CK_RV general_len(const void *param, size_t param_len, size_t full, size_t *out)
{
    CK_ULONG len; /* CK_MAC_GENERAL_PARAMS is a CK_ULONG (p11-kit lacks the typedef) */
    if (param == NULL || param_len != sizeof(len))
        return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "needs CK_MAC_GENERAL_PARAMS");
    memcpy(&len, param, sizeof(len));
    if (len < 1 || len > full)
        return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "MAC length %lu", len);
    *out = len;
    return CKR_OK;
}

CK_RV chsm_mac_new(CK_MECHANISM_TYPE mech, const void *param, size_t param_len, const uint8_t *key, size_t key_len,
                   struct chsm_mac **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_mac *m = NULL;
    const EVP_MAC_CTX *tmpl = NULL;
    const char *cmac_cipher = NULL;
    OSSL_PARAM cp[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
    bool general = false;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(out != NULL && (key != NULL || key_len == 0), CKR_ARGUMENTS_BAD);
    switch (mech) {
    case CKM_AES_CMAC_GENERAL: general = true; /* fall through */
    case CKM_AES_CMAC:
        /* OpenSSL cannot dup a keyless CMAC context, so CMAC binds its cipher per operation. */
        cmac_cipher = key_len == 16 ? "AES-128-CBC" : key_len == 24 ? "AES-192-CBC" : key_len == 32 ? "AES-256-CBC" : NULL;
        CHSM_ENSURE(cmac_cipher != NULL, CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "CMAC key length %zu", key_len));
        cp[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)(uintptr_t)cmac_cipher, 0);
        break;
    case CKM_SHA_1_HMAC_GENERAL: case CKM_SHA224_HMAC_GENERAL: case CKM_SHA256_HMAC_GENERAL:
    case CKM_SHA384_HMAC_GENERAL: case CKM_SHA512_HMAC_GENERAL:
        general = true; /* fall through */
    case CKM_SHA_1_HMAC: case CKM_SHA224_HMAC: case CKM_SHA256_HMAC: case CKM_SHA384_HMAC: case CKM_SHA512_HMAC:
        tmpl = chsm_hmac_template(mech);
        break;
    default: break;
    }
    CHSM_ENSURE(tmpl != NULL || cmac_cipher != NULL,
                CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "not a MAC mech 0x%lx", mech));
    m = calloc(1, sizeof(*m));
    CHSM_ENSURE(m != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "mac ctx"));
    m->mech = mech;
    m->ctx = tmpl != NULL ? EVP_MAC_CTX_dup(tmpl) : EVP_MAC_CTX_new(chsm_crypto_g.cmac);
    CHSM_ENSURE(m->ctx != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "MAC ctx"));
    /* A zero-length HMAC key is legal; OpenSSL wants a non-NULL pointer for it. */
    CHSM_ENSURE(EVP_MAC_init(m->ctx, key_len ? key : (const uint8_t *)"", key_len, cp) == 1,
                CHSM_OSSL_ERR(CKR_KEY_SIZE_RANGE, "MAC key"));
    /* The size is known only once the key (HMAC) or cipher (CMAC) is bound. */
    m->full_len = EVP_MAC_CTX_get_mac_size(m->ctx);
    m->out_len = m->full_len;
    if (general)
        CHSM_GUARD(general_len(param, param_len, m->full_len, &m->out_len));
    else
        CHSM_ENSURE(param_len == 0, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "unexpected param"));
    *out = m;
    m = NULL;
out:
    chsm_mac_free(m);
    chsm_ossl_clear();
    return rv;
}

void chsm_mac_free(struct chsm_mac *m)
{
    if (m == NULL)
        return;
    EVP_MAC_CTX_free(m->ctx);
    free(m);
}

static bool is_hmac(CK_MECHANISM_TYPE mech, bool *general)
{
    switch (mech) {
    case CKM_SHA_1_HMAC_GENERAL: case CKM_SHA224_HMAC_GENERAL: case CKM_SHA256_HMAC_GENERAL:
    case CKM_SHA384_HMAC_GENERAL: case CKM_SHA512_HMAC_GENERAL:
        *general = true;
        return true;
    case CKM_SHA_1_HMAC: case CKM_SHA224_HMAC: case CKM_SHA256_HMAC: case CKM_SHA384_HMAC: case CKM_SHA512_HMAC:
        *general = false;
        return true;
    default:
        return false;
    }
}

bool chsm_mac_parkable(const struct chsm_mac *m)
{
    bool general;
    return m != NULL && is_hmac(m->mech, &general);
}

bool chsm_mac_rearm(struct chsm_mac *m, CK_MECHANISM_TYPE mech, const void *param, size_t param_len)
{
    bool general = false;
    size_t out_len = 0;
    CK_ULONG len = 0;
    if (m == NULL || m->mech != mech || !is_hmac(mech, &general))
        return false;
    if (general) {
        if (param == NULL || param_len != sizeof(len))
            return false; /* chsm_mac_new reports it */
        memcpy(&len, param, sizeof(len));
        if (len < 1 || len > m->full_len)
            return false;
        out_len = len;
    } else {
        if (param_len != 0)
            return false;
        out_len = m->full_len;
    }
    /* No key: HMAC restarts from its keyed state (whatever the last operation left). */
    /* The mark keeps the host application's own OpenSSL errors in its queue. */
    ERR_set_mark();
    bool ok = EVP_MAC_init(m->ctx, NULL, 0, NULL) == 1;
    chsm_ossl_clear();
    if (!ok)
        return false;
    m->out_len = out_len;
    m->finished = false;
    return true;
}

size_t chsm_mac_len(const struct chsm_mac *m)
{
    return m->out_len;
}

CK_RV chsm_mac_update(struct chsm_mac *m, const uint8_t *in, size_t n)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_ENSURE(m != NULL && (in != NULL || n == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!m->finished, CKR_OPERATION_NOT_INITIALIZED);
    CHSM_ENSURE(EVP_MAC_update(m->ctx, in, n) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "MAC update"));
out:
    chsm_ossl_clear();
    return rv;
}

CHSM_MUST_CHECK static CK_RV mac_full(struct chsm_mac *m, uint8_t full[64])
{
    size_t len = 0;
    m->finished = true;
    if (EVP_MAC_final(m->ctx, full, &len, 64) != 1 || len != m->full_len)
        return CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "MAC final");
    return CKR_OK;
}

CK_RV chsm_mac_sign_final(struct chsm_mac *m, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    uint8_t full[64];
    ERR_set_mark();
    CHSM_ENSURE(m != NULL && out_len != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!m->finished, CKR_OPERATION_NOT_INITIALIZED);
    if (out == NULL || *out_len < m->out_len) {
        bool query = out == NULL;
        *out_len = m->out_len;
        CHSM_ENSURE(query, CKR_BUFFER_TOO_SMALL);
        goto out;
    }
    CHSM_GUARD(mac_full(m, full));
    memcpy(out, full, m->out_len); /* _GENERAL: leftmost bytes (PKCS#11 2.1, FIPS 198-1 5) */
    *out_len = m->out_len;
out:
    chsm_wipe(full, sizeof(full));
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_mac_verify_final(struct chsm_mac *m, const uint8_t *mac, size_t len)
{
    CK_RV rv = CKR_OK;
    uint8_t full[64];
    ERR_set_mark();
    CHSM_ENSURE(m != NULL && (mac != NULL || len == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!m->finished, CKR_OPERATION_NOT_INITIALIZED);
    CHSM_GUARD(mac_full(m, full));
    CHSM_ENSURE(len == m->out_len, CHSM_ERR(CKR_SIGNATURE_LEN_RANGE, CHSM_LAYER_CRYPTO, "MAC length %zu", len));
    CHSM_ENSURE(chsm_ct_equal(full, mac, len), CHSM_ERR(CKR_SIGNATURE_INVALID, CHSM_LAYER_CRYPTO, "MAC mismatch"));
out:
    chsm_wipe(full, sizeof(full));
    chsm_ossl_clear();
    return rv;
}
