/*
 * Sign / verify contexts for the PKCS#11 signature mechanisms.
 * Ownership: chsm_sign_new takes a reference on the key (the caller keeps
 * its own); chsm_sign_free drops it. A context serves one operation: after
 * a final (or a one-shot) it is finished and must be freed. Contexts are
 * not shared between threads.
 *
 * The mechanism parameter is passed exactly as the application gave it
 * (pParameter, ulParameterLen) so the core can forward it untouched.
 *
 * | mechanism                         | key        | param                 | multi-part | recover |
 * |-----------------------------------|------------|-----------------------|------------|---------|
 * | CKM_RSA_PKCS                      | RSA        | none                  | no         | yes     |
 * | CKM_RSA_X_509                     | RSA        | none                  | no         | yes     |
 * | CKM_SHA{1,224,256,384,512}_RSA_PKCS | RSA      | none                  | yes        | no      |
 * | CKM_RSA_PKCS_PSS                  | RSA        | CK_RSA_PKCS_PSS_PARAMS| no (hash input) | no |
 * | CKM_SHA{1,224,256,384,512}_RSA_PKCS_PSS | RSA  | CK_RSA_PKCS_PSS_PARAMS| yes        | no      |
 * | CKM_ECDSA                         | EC         | none                  | no (hash input) | no |
 * | CKM_ECDSA_SHA{1,224,256,384,512}  | EC         | none                  | yes        | no      |
 * | CKM_EDDSA                         | Ed25519/448| none, or CK_EDDSA_PARAMS with phFlag=0 and no context | yes (buffered) | no |
 * RSA key sizes 1024..16384 bits; EC P-256/384/521; signatures for ECDSA are
 * r||s, each half the curve's field size (PKCS#11 2.3.1).
 *
 * Errors: CKR_MECHANISM_INVALID (not a signature mechanism),
 * CKR_MECHANISM_PARAM_INVALID, CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED
 * (signing with a public key), CKR_DATA_LEN_RANGE (raw input too long / wrong hash
 * size for PSS), CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE,
 * CKR_BUFFER_TOO_SMALL (sig buffer shorter than chsm_sign_len), CKR_OPERATION_NOT_INITIALIZED
 * (context already finished).
 */
#ifndef CHSM_CRYPTO_SIGN_H
#define CHSM_CRYPTO_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"
#include "crypto/pkey.h"

struct chsm_sign;

/* verify=false: signing (needs a private key). */
CHSM_MUST_CHECK CK_RV chsm_sign_new(CK_MECHANISM_TYPE mech, const void *param, size_t param_len,
                                    struct chsm_pkey *key, bool verify, struct chsm_sign **out);
void chsm_sign_free(struct chsm_sign *s);
/* Exact signature length (answers the PKCS#11 size query without touching state). */
size_t chsm_sign_len(const struct chsm_sign *s);
/* Whether the mechanism allows *Update (table above). */
bool chsm_sign_is_multipart(CK_MECHANISM_TYPE mech);

CHSM_MUST_CHECK CK_RV chsm_sign_update(struct chsm_sign *s, const uint8_t *in, size_t n);
/* sig must hold chsm_sign_len(s) bytes; *sig_len receives the length. Finishes the context. */
CHSM_MUST_CHECK CK_RV chsm_sign_final(struct chsm_sign *s, uint8_t *sig, size_t *sig_len);
CHSM_MUST_CHECK CK_RV chsm_verify_final(struct chsm_sign *s, const uint8_t *sig, size_t sig_len);
/* One-shot = update + final. */
CHSM_MUST_CHECK CK_RV chsm_sign_oneshot(struct chsm_sign *s, const uint8_t *in, size_t n, uint8_t *sig,
                                        size_t *sig_len);
CHSM_MUST_CHECK CK_RV chsm_verify_oneshot(struct chsm_sign *s, const uint8_t *in, size_t n, const uint8_t *sig,
                                          size_t sig_len);
/*
 * C_VerifyRecover for CKM_RSA_PKCS / CKM_RSA_X_509 (C_SignRecover is chsm_sign_oneshot
 * with the same mechanism). out must hold chsm_sign_len(s) bytes.
 */
CHSM_MUST_CHECK CK_RV chsm_verify_recover(struct chsm_sign *s, const uint8_t *sig, size_t sig_len, uint8_t *out,
                                          size_t *out_len);

#endif
