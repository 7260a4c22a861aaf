/*
 * Symmetric and RSA encryption mechanisms.
 *
 * Ownership: chsm_cipher_new copies the key into OpenSSL's context (cleansed
 * on free); the caller keeps and wipes its own copy. A context serves one
 * operation and is not shared between threads. Parameters are taken exactly
 * as the application passed them (pParameter, ulParameterLen).
 *
 * Size queries (PKCS#11 5.2 buffer convention): chsm_cipher_update_len and
 * chsm_cipher_final_len answer without consuming state. They are exact,
 * except CKM_AES_CBC_PAD decrypt final (an upper bound of 16 bytes: the pad
 * length is known only after decryption).
 *
 * | mechanism             | key bytes   | param                        | multi-part | notes |
 * |-----------------------|-------------|------------------------------|------------|-------|
 * | CKM_AES_ECB           | 16, 24, 32  | none                         | yes | data multiple of 16 |
 * | CKM_AES_CBC           | 16, 24, 32  | 16-byte IV                   | yes | data multiple of 16 |
 * | CKM_AES_CBC_PAD       | 16, 24, 32  | 16-byte IV                   | yes | PKCS#7 padding |
 * | CKM_AES_CTR           | 16, 24, 32  | CK_AES_CTR_PARAMS, counter bits 1..128 | yes | refuses to wrap the counter |
 * | CKM_AES_GCM           | 16, 24, 32  | CK_GCM_PARAMS: IV 1..256 bytes (129..256 by gcm_long.c, past OpenSSL 3.0's limit), tag 0..128 bits in whole bytes (0: no tag, no check), any AAD | yes | decrypt buffers until final |
 * | CKM_AES_KEY_WRAP      | 16, 24, 32  | none                         | no  | RFC 3394, input multiple of 8, >= 16 |
 * | CKM_AES_KEY_WRAP_KWP / CKM_AES_KEY_WRAP_PAD | 16, 24, 32 | none  | no  | RFC 5649, input >= 1 |
 * | CKM_RSA_PKCS          | RSA 1024..16384 bits | none                | no  | PKCS#1 v1.5 encryption |
 * | CKM_RSA_PKCS_OAEP     | RSA         | CK_RSA_PKCS_OAEP_PARAMS (SHA-1/2 hash and MGF1, optional label) | no | |
 * | CKM_RSA_X_509         | RSA         | none                         | no  | raw, input left-padded to modulus |
 *
 * Errors: CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID, CKR_KEY_SIZE_RANGE,
 * CKR_KEY_TYPE_INCONSISTENT, CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_LEN_RANGE,
 * CKR_ENCRYPTED_DATA_INVALID (bad tag / padding), CKR_WRAPPED_KEY_INVALID,
 * CKR_WRAPPED_KEY_LEN_RANGE, CKR_BUFFER_TOO_SMALL (state untouched; *out_len set),
 * CKR_OPERATION_NOT_INITIALIZED (finished context).
 */
#ifndef CHSM_CRYPTO_CIPHER_H
#define CHSM_CRYPTO_CIPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"
#include "crypto/pkey.h"

struct chsm_cipher;

CHSM_MUST_CHECK CK_RV chsm_cipher_new(CK_MECHANISM_TYPE mech, const void *param, size_t param_len,
                                      const uint8_t *key, size_t key_len, bool encrypt, struct chsm_cipher **out);
void chsm_cipher_free(struct chsm_cipher *c);
/*
 * Reuse across operations on one key (the caller keeps finished contexts with the key object).
 * park_ready: true when c is worth keeping - its operation finished (not abandoned half way) and
 * it is CKM_AES_GCM set up for a 12-byte IV - after dropping what it buffered; false: free it.
 * rearm: start a new operation with the same key and direction and new CK_GCM_PARAMS (12-byte
 * IV); false, changing nothing the caller relies on, when the context or the parameters do not
 * fit (the caller then frees it and calls chsm_cipher_new, which reports any parameter error).
 */
bool chsm_cipher_park_ready(struct chsm_cipher *c);
bool chsm_cipher_encrypts(const struct chsm_cipher *c);
bool chsm_cipher_rearm(struct chsm_cipher *c, CK_MECHANISM_TYPE mech, const void *param, size_t param_len,
                       bool encrypt);
size_t chsm_cipher_update_len(const struct chsm_cipher *c, size_t in_len);
size_t chsm_cipher_final_len(const struct chsm_cipher *c);
/* Output of a one-shot call with n input bytes: exact, except an upper bound
 * for CBC-PAD decrypt (the pad length is known only after decryption). */
size_t chsm_cipher_oneshot_len(const struct chsm_cipher *c, size_t n);
/* *out_len: in = capacity of out, out = bytes written. */
CHSM_MUST_CHECK CK_RV chsm_cipher_update(struct chsm_cipher *c, const uint8_t *in, size_t n, uint8_t *out,
                                         size_t *out_len);
/* Finishes the context (also on failure, except CKR_BUFFER_TOO_SMALL). */
CHSM_MUST_CHECK CK_RV chsm_cipher_final(struct chsm_cipher *c, uint8_t *out, size_t *out_len);
/* update + final in one call; out == NULL is a size query (upper bound for CBC_PAD decrypt). */
CHSM_MUST_CHECK CK_RV chsm_cipher_oneshot(struct chsm_cipher *c, const uint8_t *in, size_t n, uint8_t *out,
                                          size_t *out_len);

/*
 * AES key wrap, one shot (CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_KWP/_PAD). wrap=false unwraps.
 * out == NULL: *out_len gets the size (exact for wrap; upper bound for unwrap).
 */
CHSM_MUST_CHECK CK_RV chsm_aes_keywrap(CK_MECHANISM_TYPE mech, const void *param, size_t param_len,
                                       const uint8_t *kek, size_t kek_len, bool wrap, const uint8_t *in, size_t n,
                                       uint8_t *out, size_t *out_len);

/*
 * RSA encryption, one shot (CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP, CKM_RSA_X_509).
 * out == NULL: *out_len = modulus bytes. Decrypt reports the exact plaintext
 * length with CKR_BUFFER_TOO_SMALL when out is too short (no state to lose).
 */
CHSM_MUST_CHECK CK_RV chsm_rsa_crypt(CK_MECHANISM_TYPE mech, const void *param, size_t param_len,
                                     struct chsm_pkey *key, bool encrypt, const uint8_t *in, size_t n, uint8_t *out,
                                     size_t *out_len);

#endif
