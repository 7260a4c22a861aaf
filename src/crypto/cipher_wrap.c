/* AES key wrap mechanisms (RFC 3394 KW, RFC 5649 KWP), one shot, any AES KEK size. */
#include "common/secbuf.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"

CK_RV chsm_aes_keywrap(CK_MECHANISM_TYPE mech, const void *param, size_t param_len, const uint8_t *kek,
                       size_t kek_len, bool wrap, const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    bool kwp = mech == CKM_AES_KEY_WRAP_KWP || mech == CKM_AES_KEY_WRAP_PAD;
    size_t want;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(kek != NULL && out_len != NULL && (in != NULL || n == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(kwp || mech == CKM_AES_KEY_WRAP, CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "not AES KW"));
    /* Only the default ICVs (RFC 3394 2.2.3.1 / RFC 5649 3) are offered. */
    CHSM_ENSURE(param == NULL && param_len == 0,
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "custom KW IV not supported"));
    CHSM_ENSURE(chsm_aes_cipher(CHSM_C_AES_KW, kek_len) != NULL,
                CHSM_ERR(wrap ? CKR_WRAPPING_KEY_SIZE_RANGE : CKR_UNWRAPPING_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO,
                         "KEK length %zu", kek_len));
    if (wrap) {
        CHSM_ENSURE(kwp ? n >= 1 : (n >= 16 && n % 8 == 0),
                    CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "key wrap input length %zu", n));
        CHSM_ENSURE(n <= INT32_MAX - 16, CKR_DATA_LEN_RANGE);
        want = kwp ? (n + 7) / 8 * 8 + 8 : n + 8;
    } else {
        CHSM_ENSURE(kwp ? (n >= 16 && n % 8 == 0) : (n >= 24 && n % 8 == 0),
                    CHSM_ERR(CKR_WRAPPED_KEY_LEN_RANGE, CHSM_LAYER_CRYPTO, "wrapped length %zu", n));
        want = n - 8; /* KWP: upper bound, exact after unwrapping */
    }
    if (out == NULL || *out_len < want) {
        bool query = out == NULL;
        *out_len = want;
        CHSM_ENSURE(query, CKR_BUFFER_TOO_SMALL);
        goto out;
    }
    CHSM_GUARD(chsm_aes_kw_run(kwp ? CHSM_C_AES_KWP : CHSM_C_AES_KW, wrap, kek, kek_len, in, n, out, out_len));
out:
    chsm_ossl_clear();
    return rv;
}
