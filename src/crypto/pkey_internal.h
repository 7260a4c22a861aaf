/* struct chsm_pkey internals shared by pkey*.c, sign.c, cipher_rsa.c, derive.c. Private to src/crypto/. */
#ifndef CHSM_CRYPTO_PKEY_INTERNAL_H
#define CHSM_CRYPTO_PKEY_INTERNAL_H

#include <stdatomic.h>

#include "crypto/internal.h"
#include "crypto/pkey.h"

struct chsm_curve {
    enum chsm_pkey_kind kind;
    const char *name;      /* OpenSSL group / key type name */
    const uint8_t *oid;    /* DER of the OBJECT IDENTIFIER (CKA_EC_PARAMS) */
    size_t oid_len;
    size_t field_bytes;    /* EC: coordinate size; Edwards: raw key size */
    size_t bits;
};

struct chsm_pkey {
    atomic_int refs;
    /* Threads sharing a key bump refs per operation: keep that line apart from the fields they read. */
    char refs_pad[64];
    EVP_PKEY *pkey;
    enum chsm_pkey_kind kind;
    bool is_private;
    const struct chsm_curve *curve; /* NULL for RSA */
    /* sign.c: contexts already through sign_init / verify_init, dup'ed per operation (set once). */
    _Atomic(EVP_PKEY_CTX *) op_ctx[2];
    /* EC: the encoded public point when known at creation (generation sets it before the key is
     * shared, so it is read-only afterwards); 0 = ask OpenSSL, which converts the point each time. */
    uint8_t pub_point[2 * 66 + 1];
    size_t pub_point_len;
};

/* EC public point (uncompressed encoding) into raw[cap]. */
CHSM_MUST_CHECK CK_RV chsm_pkey_ec_point(const struct chsm_pkey *k, uint8_t *raw, size_t cap, size_t *len);

/* The curve table's size and a curve's index in it (0..CHSM_CURVE_COUNT-1). */
#define CHSM_CURVE_COUNT 5
size_t chsm_curve_index(const struct chsm_curve *c);
/* Free the per-curve key-generation contexts (crypto shutdown, before the shim is unloaded). */
void chsm_pkey_gen_cache_free(void);

/* Curve from CKA_EC_PARAMS (OID DER or Edwards PrintableString); NULL when unknown. */
const struct chsm_curve *chsm_curve_from_params(const uint8_t *p, size_t len);
/* Wrap an EVP_PKEY (takes ownership on success and on failure). */
CHSM_MUST_CHECK CK_RV chsm_pkey_wrap(EVP_PKEY *pkey, bool is_private, struct chsm_pkey **out);
/* Raw EC point / Edwards public key from CKA_EC_POINT (DER OCTET STRING or raw). */
CHSM_MUST_CHECK CK_RV chsm_ec_point_raw(const struct chsm_curve *c, const uint8_t *in, size_t len,
                                        const uint8_t **raw, size_t *raw_len);
/* A fresh EVP_PKEY_CTX for key in the private library context. */
EVP_PKEY_CTX *chsm_pkey_ctx(const struct chsm_pkey *key);

#endif
