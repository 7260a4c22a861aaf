/*
 * Private state of the crypto adapter, shared by its .c files only.
 *
 * Everything OpenSSL is fetched ONCE at chsm_crypto_init() into the private
 * OSSL_LIB_CTX and kept here read-only until the last chsm_crypto_fini(), so
 * hot paths never pay for a fetch. Nothing outside src/crypto/ may include
 * this header (it pulls in OpenSSL).
 */
#ifndef CHSM_CRYPTO_INTERNAL_H
#define CHSM_CRYPTO_INTERNAL_H

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "common/result.h"

enum chsm_md_id {
    CHSM_MD_SHA1 = 0,
    CHSM_MD_SHA224,
    CHSM_MD_SHA256,
    CHSM_MD_SHA384,
    CHSM_MD_SHA512,
    CHSM_MD_SHA3_256,
    CHSM_MD_SHA3_384,
    CHSM_MD_SHA3_512,
    CHSM_MD_COUNT
};

enum chsm_cipher_id {
    CHSM_C_AES_ECB = 0, /* x3 key sizes: 128, 192, 256 */
    CHSM_C_AES_CBC = 3,
    CHSM_C_AES_CTR = 6,
    CHSM_C_AES_GCM = 9,
    CHSM_C_AES_KW = 12,
    CHSM_C_AES_KWP = 15,
    CHSM_C_COUNT = 18
};

struct chsm_crypto_state {
    OSSL_LIB_CTX *lib;
    OSSL_PROVIDER *prov;
    EVP_MD *md[CHSM_MD_COUNT];
    EVP_CIPHER *cipher[CHSM_C_COUNT];
    EVP_MAC *hmac;
    EVP_MAC *cmac;
    EVP_KDF *pbkdf2;
    EVP_KDF *hkdf;
    EVP_RAND *ctr_drbg;
    EVP_KDF *x963;
    EVP_MAC_CTX *hmac_tmpl[5]; /* SHA-1, 224, 256, 384, 512: digest bound, no key */
};

/* The live state; NULL fields before init. Only valid between init and fini. */
extern struct chsm_crypto_state chsm_crypto_g;

#define CHSM_LAYER_CRYPTO "crypto"

/* CKR_CRYPTOKI_NOT_INITIALIZED (recorded) unless chsm_crypto_init() is in effect. */
CHSM_MUST_CHECK CK_RV chsm_crypto_ready(void);

/*
 * Error-queue discipline: every entry point that calls OpenSSL does
 * ERR_set_mark() first and exactly one chsm_ossl_clear() at its `out:`, so the
 * host's queue is left as it was. CHSM_OSSL_ERR records `rv` with the newest
 * OpenSSL error as detail (it does not pop) and evaluates to rv.
 */
CK_RV chsm_ossl_fail(CK_RV rv, const char *file, int line, const char *what);
#define CHSM_OSSL_ERR(rv, what) chsm_ossl_fail((rv), __FILE__, __LINE__, (what))
/* Drop anything OpenSSL queued since the matching ERR_set_mark() (success paths too). */
void chsm_ossl_clear(void);

/* Map a CKM_* digest (or the hash of a CKM_*_HMAC[_GENERAL]) to a fetched EVP_MD; NULL if unknown. */
const EVP_MD *chsm_md_for_mech(CK_MECHANISM_TYPE mech);
/* Map a CKG_MGF1_* to its fetched EVP_MD; NULL if unknown. */
const EVP_MD *chsm_md_for_mgf(CK_RSA_PKCS_MGF_TYPE mgf);
const EVP_MD *chsm_md_by_id(enum chsm_md_id id);
/* AES cipher for a key length (16/24/32) and family base; NULL for other lengths. */
const EVP_CIPHER *chsm_aes_cipher(enum chsm_cipher_id base, size_t key_len);

/* One-shot AES KW (RFC 3394) / KWP (RFC 5649) with any AES KEK length; out holds in_len + 16. */
CHSM_MUST_CHECK CK_RV chsm_aes_kw_run(enum chsm_cipher_id base, int enc, const uint8_t *kek, size_t kek_len,
                                      const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len);

/* Keyless HMAC templates to EVP_MAC_CTX_dup per operation; NULL when unsupported. */
const EVP_MAC_CTX *chsm_hmac_template(CK_MECHANISM_TYPE mech);

/* DRBG internals (rand.c), driven by ctx.c. */
CHSM_MUST_CHECK CK_RV chsm_rand_start(void);
void chsm_rand_stop(void);

#endif
