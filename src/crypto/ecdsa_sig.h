/* ECDSA signature encodings: DER (OpenSSL) <-> r||s fixed width (PKCS#11). Private to src/crypto/. */
#ifndef CHSM_CRYPTO_ECDSA_SIG_H
#define CHSM_CRYPTO_ECDSA_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

/* raw receives 2*half bytes. */
CHSM_MUST_CHECK CK_RV chsm_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t half, uint8_t *raw);
/* CKR_SIGNATURE_INVALID when r or s is zero (cannot be a valid signature). */
CHSM_MUST_CHECK CK_RV chsm_ecdsa_raw_to_der(const uint8_t *raw, size_t half, uint8_t *der, size_t cap,
                                            size_t *der_len);

#endif
