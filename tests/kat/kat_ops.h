/*
 * Single-part and multi-part operation wrappers for the KAT programs. Each
 * runs Init + the operation with the spec's size query (NULL buffer first)
 * and returns the first non-OK CKR; *out is malloc'd (free it) and set even
 * on failure (possibly empty).
 */
#ifndef CHSM_TESTS_KAT_OPS_H
#define CHSM_TESTS_KAT_OPS_H

#include "kat_util.h"

#ifndef CKR_AEAD_DECRYPT_FAILED
#define CKR_AEAD_DECRYPT_FAILED 0x00000035UL
#endif

CK_RV op_encrypt(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, uint8_t **out, size_t *on);
CK_RV op_decrypt(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, uint8_t **out, size_t *on);
/* Multi-part: Update with the input split at split, then Final. */
CK_RV op_encrypt_mp(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, size_t split, uint8_t **out,
                    size_t *on);
CK_RV op_decrypt_mp(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, size_t split, uint8_t **out,
                    size_t *on);
CK_RV op_sign(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, uint8_t **out, size_t *on);
CK_RV op_sign_mp(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, size_t split, uint8_t **out,
                 size_t *on);
CK_RV op_verify(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, const uint8_t *sig, size_t sn);
CK_RV op_verify_mp(CK_MECHANISM *m, CK_OBJECT_HANDLE k, const uint8_t *in, size_t n, size_t split, const uint8_t *sig,
                   size_t sn);
/* Read CKA_VALUE of an object (malloc'd). */
CK_RV op_value(CK_OBJECT_HANDLE h, uint8_t **out, size_t *on);

/* rv is one of the listed codes (list ends with (CK_RV)-1). */
bool rv_in(CK_RV rv, ...);
#define RV_END ((CK_RV)-1)

#endif
