/*
 * One sealed part of an object record (record_part.c): clear header, AAD,
 * AES-256-GCM and the public-object MAC. Internal to src/store.
 */
#ifndef CHSM_STORE_RECORD_PART_H
#define CHSM_STORE_RECORD_PART_H

#include "store/store_int.h"

#define CHSM_PART_AAD_MAX (4 + 4 + 16 + CHSM_OBJECT_ID_LEN + 1 + 8 + 32)

/* A parsed part; pointers borrow from the blob. */
struct chsm_part_frame {
    uint16_t version;   /* CHSM_RECORD_VERSION_V1 or CHSM_RECORD_VERSION */
    uint64_t rev;       /* v2 only (v1: 0) */
    const uint8_t *mac; /* v2 public part written with the MK, else NULL */
    const uint8_t *body; /* IV | ciphertext | tag */
    size_t body_len;
    size_t ct_len;
};

/* false on an unknown version, a bad MAC length or a part too short to hold anything. */
CHSM_MUST_CHECK bool chsm_part_parse(const uint8_t *blob, size_t len, struct chsm_part_frame *f);

/* Returns the AAD length. pub_hash: the SHA-256 of the public part, for a v2 secret part (else NULL). */
size_t chsm_part_make_aad(uint8_t aad[CHSM_PART_AAD_MAX], uint16_t version, const char serial[16],
                          const uint8_t id[CHSM_OBJECT_ID_LEN], enum chsm_blob_kind kind, uint64_t rev,
                          const uint8_t pub_hash[32]);

/* Appends a v2 part to out; mac_key non-NULL adds the MAC (public part of a public object, MK known). */
CHSM_MUST_CHECK CK_RV chsm_part_seal(const struct chsm_buf *pt, const uint8_t key[32], const uint8_t *aad,
                                     size_t aad_len, uint64_t rev, const uint8_t *mac_key, struct chsm_buf *out);

/* Decrypts into pt (secure memory, caller frees); non-OK when the tag does not verify. */
CHSM_MUST_CHECK CK_RV chsm_part_open(const struct chsm_part_frame *f, const uint8_t key[32], const uint8_t *aad,
                                     size_t aad_len, struct chsm_secbuf *pt);

/* Constant-time check of a part's MAC; false when absent or different. */
CHSM_MUST_CHECK bool chsm_part_mac_ok(const struct chsm_part_frame *f, const uint8_t mac_key[32],
                                      const uint8_t *aad, size_t aad_len);

#endif
