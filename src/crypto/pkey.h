/*
 * Asymmetric key objects for the mechanism layer: struct chsm_pkey wraps a
 * parsed OpenSSL key so the core can cache it per object (a sign never
 * re-parses). Ownership: every constructor returns a key with one reference;
 * chsm_pkey_up_ref adds one, chsm_pkey_free drops one and the key (and its
 * secret material, which OpenSSL keeps in cleansed memory) goes with the
 * last. A key is immutable after construction, so one cached key may be
 * used by many threads at once. Outputs that hold secrets are chsm_buf with
 * secret=1 (wiped on free).
 *
 * Supported key types and sizes (for CK_MECHANISM_INFO):
 * | key / mechanism                 | min    | max    | notes                                      |
 * |---------------------------------|--------|--------|--------------------------------------------|
 * | CKK_RSA  CKM_RSA_PKCS_KEY_PAIR_GEN | 1024 | 16384 | bits; < 2048 is a policy decision (core)   |
 * | CKK_EC   CKM_EC_KEY_PAIR_GEN    | 256    | 521    | P-256, P-384, P-521 (CKA_EC_PARAMS OID)    |
 * | CKK_EC_EDWARDS CKM_EC_EDWARDS_KEY_PAIR_GEN | 255 | 448 | Ed25519, Ed448 (OID or PrintableString) |
 * Import (C_CreateObject / unwrap): the same types from PKCS#11 components or
 * PKCS#8; RSA private keys may carry only n, e, d (no CRT: slower sign).
 */
#ifndef CHSM_CRYPTO_PKEY_H
#define CHSM_CRYPTO_PKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/result.h"

struct chsm_pkey;

enum chsm_pkey_kind { CHSM_PKEY_RSA = 1, CHSM_PKEY_EC, CHSM_PKEY_ED25519, CHSM_PKEY_ED448 };

/*
 * PKCS#11 components, borrowed (big-endian unsigned integers as in CKA_*).
 * key_type: CKK_RSA, CKK_EC or CKK_EC_EDWARDS. Fields not used by the type
 * are ignored; empty (len 0) means absent.
 *  RSA: n, e [, d [, p, q, dp, dq, qinv]]
 *  EC/Edwards: ec_params (CKA_EC_PARAMS); ec_point (CKA_EC_POINT, DER OCTET
 *  STRING or raw) for public keys; value (CKA_VALUE, the private scalar or raw
 *  Edwards private key) for private keys.
 */
struct chsm_pkey_parts {
    CK_KEY_TYPE key_type;
    bool is_private;
    struct chsm_bytes n, e, d, p, q, dp, dq, qinv;
    struct chsm_bytes ec_params, ec_point, value;
};

/* CKR_TEMPLATE_INCOMPLETE (missing component), CKR_ATTRIBUTE_VALUE_INVALID (bad value),
 * CKR_CURVE_NOT_SUPPORTED / CKR_DOMAIN_PARAMS_INVALID (unknown CKA_EC_PARAMS). */
CHSM_MUST_CHECK CK_RV chsm_pkey_from_parts(const struct chsm_pkey_parts *parts, struct chsm_pkey **out);

/* Generation. e: public exponent big-endian (NULL/0 -> 65537). ec_params: CKA_EC_PARAMS.
 * A pairwise-consistency test runs before the key is returned: sign+verify, except
 * for EC pairs outside FIPS mode, which get the Q == d*G key-pair check (pkey_gen.c). */
CHSM_MUST_CHECK CK_RV chsm_pkey_generate_rsa(CK_ULONG bits, const uint8_t *e, size_t e_len, struct chsm_pkey **out);
CHSM_MUST_CHECK CK_RV chsm_pkey_generate_ec(const uint8_t *ec_params, size_t len, struct chsm_pkey **out);
/* FIPS mode ([algorithms] fips_approved_only): every generated pair gets the sign+verify test. */
void chsm_pkey_set_fips_pct(bool on);
/* Runs one sign/verify round trip with the key's natural mechanism (CKR_FUNCTION_FAILED if it fails). */
CHSM_MUST_CHECK CK_RV chsm_pkey_pairwise_test(const struct chsm_pkey *key);

void chsm_pkey_up_ref(struct chsm_pkey *key);
void chsm_pkey_free(struct chsm_pkey *key);

enum chsm_pkey_kind chsm_pkey_kind(const struct chsm_pkey *key);
bool chsm_pkey_is_private(const struct chsm_pkey *key);
/* Modulus bits (RSA), field bits (EC: 256/384/521), 255/448 (Edwards) -> CKA_MODULUS_BITS etc. */
size_t chsm_pkey_bits(const struct chsm_pkey *key);
/* Signature size in bytes for this key (RSA: modulus bytes; ECDSA r||s: 2*field bytes; EdDSA: 64/114). */
size_t chsm_pkey_sig_len(const struct chsm_pkey *key);

/*
 * Export one component by its CKA_* type into *out (initialised by this call):
 * public: CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS, CKA_EC_POINT (DER OCTET STRING);
 * private (out is a secret buffer): CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
 * CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT, CKA_VALUE (EC scalar / Edwards raw).
 * CKR_ATTRIBUTE_TYPE_INVALID for a component the key type does not have;
 * CKR_KEY_UNEXTRACTABLE for a private component of a public key or one absent (n,e,d-only RSA).
 */
CHSM_MUST_CHECK CK_RV chsm_pkey_get_component(const struct chsm_pkey *key, CK_ATTRIBUTE_TYPE type,
                                              struct chsm_buf *out);

/* SubjectPublicKeyInfo DER of the public half (also for CKA_PUBLIC_KEY_INFO). */
CHSM_MUST_CHECK CK_RV chsm_pkey_export_spki(const struct chsm_pkey *key, struct chsm_buf *out);
/* Public key from SubjectPublicKeyInfo DER. CKR_ATTRIBUTE_VALUE_INVALID when it does not parse. */
CHSM_MUST_CHECK CK_RV chsm_pkey_import_spki(const uint8_t *der, size_t len, struct chsm_pkey **out);
/* PKCS#8 PrivateKeyInfo DER (unencrypted: C_WrapKey encrypts it). out is a secret buffer. */
CHSM_MUST_CHECK CK_RV chsm_pkey_export_pkcs8(const struct chsm_pkey *key, struct chsm_buf *out);
/* CKR_WRAPPED_KEY_INVALID when the bytes are not a supported PKCS#8 private key. */
CHSM_MUST_CHECK CK_RV chsm_pkey_import_pkcs8(const uint8_t *der, size_t len, struct chsm_pkey **out);
/* CLI import: PEM or DER, PKCS#8 or traditional (RSA PRIVATE KEY / EC PRIVATE KEY), unencrypted.
 * CKR_DATA_INVALID when nothing usable is found. */
CHSM_MUST_CHECK CK_RV chsm_pkey_import_private_any(const uint8_t *data, size_t len, struct chsm_pkey **out);

#endif
