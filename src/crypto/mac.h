/*
 * MAC mechanisms, sign/verify style (C_Sign/C_Verify with a secret key).
 * Ownership: chsm_mac_new copies the key into OpenSSL's context (cleansed on
 * free). One context per operation, not shared between threads.
 *
 * | mechanism                          | key bytes        | param                 | MAC length |
 * |------------------------------------|------------------|-----------------------|------------|
 * | CKM_SHA_1_HMAC / SHA224/256/384/512 | 0..any (any length; core applies its minimum) | none | hash size |
 * | CKM_SHA*_HMAC_GENERAL              | same             | CK_MAC_GENERAL_PARAMS 1..hash size | param |
 * | CKM_AES_CMAC                       | 16, 24, 32       | none                  | 16         |
 * | CKM_AES_CMAC_GENERAL               | 16, 24, 32       | CK_MAC_GENERAL_PARAMS 1..16 | param |
 * Errors: CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID, CKR_KEY_SIZE_RANGE,
 * CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE, CKR_BUFFER_TOO_SMALL,
 * CKR_OPERATION_NOT_INITIALIZED.
 */
#ifndef CHSM_CRYPTO_MAC_H
#define CHSM_CRYPTO_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

struct chsm_mac;

CHSM_MUST_CHECK CK_RV chsm_mac_new(CK_MECHANISM_TYPE mech, const void *param, size_t param_len, const uint8_t *key,
                                   size_t key_len, struct chsm_mac **out);
void chsm_mac_free(struct chsm_mac *m);
/* An HMAC context: it may be parked with its key object and re-armed for the next operation. */
bool chsm_mac_parkable(const struct chsm_mac *m);
/*
 * Restart a parked HMAC context (any state) for a new operation with this
 * mechanism and parameter. False when it does not fit (another mechanism,
 * not HMAC, a bad parameter, OpenSSL refused): the caller frees it and uses
 * chsm_mac_new, which reports any parameter error. The caller guarantees
 * the key is the one the context was made with (the same key object).
 */
bool chsm_mac_rearm(struct chsm_mac *m, CK_MECHANISM_TYPE mech, const void *param, size_t param_len);
size_t chsm_mac_len(const struct chsm_mac *m);
CHSM_MUST_CHECK CK_RV chsm_mac_update(struct chsm_mac *m, const uint8_t *in, size_t n);
/* out == NULL or *out_len too small: *out_len = chsm_mac_len (CKR_OK / CKR_BUFFER_TOO_SMALL), state kept. */
CHSM_MUST_CHECK CK_RV chsm_mac_sign_final(struct chsm_mac *m, uint8_t *out, size_t *out_len);
/* Constant-time comparison; wrong length is CKR_SIGNATURE_LEN_RANGE. */
CHSM_MUST_CHECK CK_RV chsm_mac_verify_final(struct chsm_mac *m, const uint8_t *mac, size_t len);

#endif
