/*
 * GHASH (NIST SP 800-38D 6.4) for the long-IV GCM path, built on OpenSSL's
 * own GCM so bulk data runs at its GHASH speed (CLMUL when the CPU has it).
 *
 * Why this works: OpenSSL's AES-GCM with a fixed 96-bit IV, fed a byte
 * string S as AAD only, returns
 *     tag = E_K(J0') XOR GHASH_H(S || 0pad || [8|S|]_64 || 0^64)
 * with J0' = IV0 || 0^31 || 1. E_K(J0') is one ECB block, so the GHASH of
 * S followed by OpenSSL's length block L' is known. GHASH is linear in its
 * blocks and the last block is multiplied by H exactly once, so for any other
 * last block L: GHASH(S||0pad||L) = GHASH(S||0pad||L') XOR (L' XOR L)*H.
 * That costs one constant-time GF(2^128) multiply per message.
 *
 * Internal to src/crypto/ (pulls in OpenSSL). A struct chsm_gcm_ghash owns
 * its OpenSSL context (key schedule cleansed on free) and the mask block; it
 * lives inside secure memory owned by the caller and is wiped with it.
 */
#ifndef CHSM_CRYPTO_GCM_GHASH_H
#define CHSM_CRYPTO_GCM_GHASH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/internal.h"

struct chsm_gcm_ghash {
    EVP_CIPHER_CTX *ctx; /* AES-GCM under K with IV0, used for its AAD GHASH only */
    uint8_t mask[16];    /* E_K(J0') */
    uint64_t fed;        /* bytes fed since the last reset (all of S) */
};

/* Z = X * Y in GF(2^128) with GCM's bit order; constant time (no secret-dependent branches or indices). */
void chsm_gcm_gf_mul(const uint8_t x[16], const uint8_t y[16], uint8_t z[16]);

/* Set up g under the AES key (16/24/32 bytes); ecb is the matching AES-ECB context, already keyed. */
CHSM_MUST_CHECK CK_RV chsm_gcm_ghash_init(struct chsm_gcm_ghash *g, EVP_CIPHER_CTX *ecb, const uint8_t *key,
                                          size_t key_len);
/* Start a new string S (the key stays). */
CHSM_MUST_CHECK CK_RV chsm_gcm_ghash_reset(struct chsm_gcm_ghash *g);
/* Append n bytes to S (any split; partial blocks carry over between calls). */
CHSM_MUST_CHECK CK_RV chsm_gcm_ghash_feed(struct chsm_gcm_ghash *g, const uint8_t *p, size_t n);
/* Append zero bytes up to the next 16-byte boundary of S. */
CHSM_MUST_CHECK CK_RV chsm_gcm_ghash_pad(struct chsm_gcm_ghash *g);
/* out = GHASH_H(S || 0pad || last); h = E_K(0^128). Ends S (reset before reuse). */
CHSM_MUST_CHECK CK_RV chsm_gcm_ghash_finish(struct chsm_gcm_ghash *g, const uint8_t h[16], const uint8_t last[16],
                                            uint8_t out[16]);
void chsm_gcm_ghash_free(struct chsm_gcm_ghash *g);

#endif
