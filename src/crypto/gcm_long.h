/*
 * AES-GCM for IVs OpenSSL 3.0 will not take (it caps them at 128 bytes;
 * PKCS#11 CK_GCM_PARAMS and issue 4 allow up to 256). Built from OpenSSL
 * primitives by NIST SP 800-38D section 7: J0 = GHASH_H(IV || 0pad || 0^64 ||
 * [8|IV|]_64), CTR from inc32(J0), tag = MSB_t(E_K(J0) XOR GHASH_H(A || 0pad
 * || C || 0pad || [8|A|]_64 || [8|C|]_64)).
 *
 * The functions themselves take any IV length >= 1 (tests compare them with
 * OpenSSL for 1..128); cipher.c routes only 129..256 here.
 *
 * Ownership: chsm_gcm_long_new copies nothing of the key but its OpenSSL key
 * schedules (cleansed on free); the state (H, E_K(J0), counters) lives in
 * secure memory and is wiped by chsm_gcm_long_free. One context serves one
 * message, one direction, one thread. No OpenSSL types here, so tests may
 * include it.
 */
#ifndef CHSM_CRYPTO_GCM_LONG_H
#define CHSM_CRYPTO_GCM_LONG_H

#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

struct chsm_gcm_long;

/* key 16/24/32 bytes (else CKR_KEY_SIZE_RANGE); iv_len >= 1; aad_len <= INT32_MAX. */
CHSM_MUST_CHECK CK_RV chsm_gcm_long_new(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                                        const uint8_t *aad, size_t aad_len, struct chsm_gcm_long **out);
/* Same from a given pre-counter block J0: lets tests drive the 32-bit counter wrap. */
CHSM_MUST_CHECK CK_RV chsm_gcm_long_new_j0(const uint8_t *key, size_t key_len, const uint8_t j0[16],
                                           const uint8_t *aad, size_t aad_len, struct chsm_gcm_long **out);
void chsm_gcm_long_free(struct chsm_gcm_long *g);

/* Encrypt n bytes into out (n bytes; may equal in). CKR_DATA_LEN_RANGE past SP 800-38D's 2^36-32 bytes. */
CHSM_MUST_CHECK CK_RV chsm_gcm_long_seal(struct chsm_gcm_long *g, const uint8_t *in, size_t n, uint8_t *out);
/* After the last seal: the first tag_len (1..16) bytes of the tag. */
CHSM_MUST_CHECK CK_RV chsm_gcm_long_tag(struct chsm_gcm_long *g, uint8_t *tag, size_t tag_len);
/*
 * Whole-message decrypt: checks the tag (constant time) BEFORE any plaintext
 * is produced; out is written only when it verifies. CKR_ENCRYPTED_DATA_INVALID
 * on mismatch, CKR_ENCRYPTED_DATA_LEN_RANGE when n exceeds the GCM limit.
 */
CHSM_MUST_CHECK CK_RV chsm_gcm_long_open(struct chsm_gcm_long *g, const uint8_t *ct, size_t n, const uint8_t *tag,
                                         size_t tag_len, uint8_t *out);

#endif
