/* r||s <-> DER ECDSA-Sig-Value (RFC 3279 2.2.3) conversion for PKCS#11's signature format. */
#include <openssl/ec.h>

#include "crypto/ecdsa_sig.h"
#include "crypto/internal.h"

CK_RV chsm_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t half, uint8_t *raw)
{
    CK_RV rv = CKR_OK;
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    CHSM_ENSURE(sig != NULL, CHSM_OSSL_ERR(CKR_GENERAL_ERROR, "ECDSA DER from OpenSSL"));
    ECDSA_SIG_get0(sig, &r, &s);
    CHSM_ENSURE(BN_bn2binpad(r, raw, (int)half) >= 0 && BN_bn2binpad(s, raw + half, (int)half) >= 0,
                CHSM_OSSL_ERR(CKR_GENERAL_ERROR, "ECDSA r/s width"));
out:
    ECDSA_SIG_free(sig);
    return rv;
}

CK_RV chsm_ecdsa_raw_to_der(const uint8_t *raw, size_t half, uint8_t *der, size_t cap, size_t *der_len)
{
    CK_RV rv = CKR_OK;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL), *s = BN_bin2bn(raw + half, (int)half, NULL);
    unsigned char *p = der;
    int n;
    CHSM_ENSURE(sig != NULL && r != NULL && s != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "ECDSA_SIG"));
    CHSM_ENSURE(!BN_is_zero(r) && !BN_is_zero(s), CHSM_ERR(CKR_SIGNATURE_INVALID, "crypto", "ECDSA r or s is zero"));
    CHSM_ENSURE(ECDSA_SIG_set0(sig, r, s) == 1, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "ECDSA_SIG_set0"));
    r = s = NULL;
    n = i2d_ECDSA_SIG(sig, NULL);
    CHSM_ENSURE(n > 0 && (size_t)n <= cap && i2d_ECDSA_SIG(sig, &p) == n,
                CHSM_OSSL_ERR(CKR_GENERAL_ERROR, "ECDSA DER encode"));
    *der_len = (size_t)n;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rv;
}
