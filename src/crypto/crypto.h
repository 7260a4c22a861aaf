/*
 * The crypto adapter: the only code that includes OpenSSL headers (openssl/...).
 *
 * Everything runs in a private OSSL_LIB_CTX created by chsm_crypto_init();
 * the host application's default library context, error queue and
 * providers are never touched (errors are drained here and recorded in the
 * per-thread error record). Randomness comes from an SP 800-90A CTR-DRBG
 * (EVP_RAND "CTR-DRBG", AES-256-CTR, with derivation function) seeded from
 * the OS.
 *
 * This header is the FOUNDATION the store and core use (DRBG, digests, KDFs,
 * AEAD for records, constant-time compare, self-tests). Mechanism-level key
 * objects and operations live in crypto/pkey.h, crypto/cipher.h and
 * crypto/mac.h.
 */
#ifndef CHSM_CRYPTO_CRYPTO_H
#define CHSM_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

/* Reference-counted: the module, the daemon and the CLI may each call it. */
CHSM_MUST_CHECK CK_RV chsm_crypto_init(void);
void chsm_crypto_fini(void);
/* In a forked child the parent's DRBG state must not be reused: reseed/recreate. */
CHSM_MUST_CHECK CK_RV chsm_crypto_after_fork(void);

/* DRBG */
CHSM_MUST_CHECK CK_RV chsm_rand_bytes(void *out, size_t n);
/* Mix caller bytes into the DRBG as additional input (C_SeedRandom). */
CHSM_MUST_CHECK CK_RV chsm_rand_seed(const void *in, size_t n);

/* Constant-time equality (CRYPTO_memcmp). */
bool chsm_ct_equal(const void *a, const void *b, size_t n);

/* Digests: CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA3_256/384/512. */
struct chsm_digest;
/* 0 when the mechanism is not a supported digest. */
size_t chsm_digest_size(CK_MECHANISM_TYPE mech);
CHSM_MUST_CHECK CK_RV chsm_digest_new(CK_MECHANISM_TYPE mech, struct chsm_digest **out);
CHSM_MUST_CHECK CK_RV chsm_digest_update(struct chsm_digest *d, const void *in, size_t n);
/* out must hold chsm_digest_size(mech) bytes. The context is finished afterwards. */
CHSM_MUST_CHECK CK_RV chsm_digest_final(struct chsm_digest *d, uint8_t *out, size_t *out_len);
/* Copy a context's state (for C_DigestKey-like uses and to finalise without ending). */
CHSM_MUST_CHECK CK_RV chsm_digest_dup(const struct chsm_digest *d, struct chsm_digest **out);
void chsm_digest_free(struct chsm_digest *d);
CHSM_MUST_CHECK CK_RV chsm_digest_oneshot(CK_MECHANISM_TYPE mech, const void *in, size_t n, uint8_t *out,
                                          size_t *out_len);
CHSM_MUST_CHECK CK_RV chsm_sha256(const void *in, size_t n, uint8_t out[32]);

/* KDFs */
CHSM_MUST_CHECK CK_RV chsm_pbkdf2_sha256(const void *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                                         uint32_t iterations, uint8_t *out, size_t out_len);
CHSM_MUST_CHECK CK_RV chsm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
CHSM_MUST_CHECK CK_RV chsm_hmac_sha256(const uint8_t *key, size_t key_len, const void *in, size_t n,
                                       uint8_t out[32]);

/*
 * AES-256-GCM with a 96-bit IV and 128-bit tag, for records and archives.
 * open returns CKR_ENCRYPTED_DATA_INVALID when the tag does not verify (and
 * wipes the partial plaintext).
 */
#define CHSM_GCM_IV_LEN 12
#define CHSM_GCM_TAG_LEN 16
CHSM_MUST_CHECK CK_RV chsm_aes256_gcm_seal(const uint8_t key[32], const uint8_t iv[CHSM_GCM_IV_LEN],
                                           const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                                           uint8_t *ct, uint8_t tag[CHSM_GCM_TAG_LEN]);
CHSM_MUST_CHECK CK_RV chsm_aes256_gcm_open(const uint8_t key[32], const uint8_t iv[CHSM_GCM_IV_LEN],
                                           const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                                           const uint8_t tag[CHSM_GCM_TAG_LEN], uint8_t *pt);

/* RFC 3394 AES key wrap (no padding) with a 256-bit KEK; in_len a multiple of 8, >= 16. */
CHSM_MUST_CHECK CK_RV chsm_aes256_kw_wrap(const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out,
                                          size_t *out_len);
/* CKR_WRAPPED_KEY_INVALID when the integrity check fails. */
CHSM_MUST_CHECK CK_RV chsm_aes256_kw_unwrap(const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out,
                                            size_t *out_len);

/*
 * Power-on self-tests: fixed-vector known-answer tests (published vectors,
 * outputs compared byte for byte) for every algorithm family offered.
 * report() is called once per test with its name and result; the caller
 * logs a line containing "self-test" for each. Returns CKR_OK only when all
 * pass (CKR_FUNCTION_FAILED otherwise).
 */
typedef void (*chsm_selftest_report_fn)(void *ctx, const char *name, bool passed);
CHSM_MUST_CHECK CK_RV chsm_selftest_run(chsm_selftest_report_fn report, void *ctx);
/* Test hook: make the named test fail (NULL clears), to prove the failure path. */
void chsm_selftest_force_failure(const char *name);

#endif
