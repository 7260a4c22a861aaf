/*
 * Key derivation mechanisms on asymmetric keys.
 * Ownership: the derived secret is returned in a secret chsm_buf the caller
 * frees (wiped). The private key is borrowed.
 *
 * | mechanism          | key            | param                   | KDFs |
 * |--------------------|----------------|-------------------------|------|
 * | CKM_ECDH1_DERIVE   | EC P-256/384/521 private | CK_ECDH1_DERIVE_PARAMS | CKD_NULL (no shared data), CKD_SHA1_KDF, CKD_SHA224_KDF, CKD_SHA256_KDF, CKD_SHA384_KDF, CKD_SHA512_KDF (ANSI X9.63, shared data optional) |
 * pPublicData: the peer's point, raw (uncompressed or compressed) or as a DER OCTET STRING.
 * key_len: bytes wanted (the new key's CKA_VALUE_LEN); 0 means the whole raw
 * secret (CKD_NULL only). With CKD_NULL the leading key_len bytes of the
 * secret are used. Errors: CKR_MECHANISM_PARAM_INVALID (bad struct, KDF,
 * shared data with CKD_NULL, peer point not on the curve), CKR_KEY_TYPE_INCONSISTENT,
 * CKR_KEY_SIZE_RANGE (key_len larger than CKD_NULL can give).
 */
#ifndef CHSM_CRYPTO_DERIVE_H
#define CHSM_CRYPTO_DERIVE_H

#include <stddef.h>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/pkey.h"

CHSM_MUST_CHECK CK_RV chsm_ecdh_derive(struct chsm_pkey *priv, const void *param, size_t param_len, size_t key_len,
                                       struct chsm_buf *out);

#endif
