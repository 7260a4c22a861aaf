/*
 * Secret memory.
 *
 * struct chsm_secbuf OWNS its bytes: they live in locked pages excluded from
 * core dumps (mlock + MADV_DONTDUMP, best effort when the memlock limit is
 * reached — a warning is logged once) and are wiped on every free. There is
 * no way to free one without wiping it. Use it for keys, PINs, derived
 * secrets and decrypted attribute blobs. chsm_wipe() is for stack copies.
 *
 * Ownership: the struct owns data; copying the struct by value is a bug
 * (move it with chsm_secbuf_move). A zeroed struct is a valid empty buffer,
 * and chsm_secbuf_free on it is a no-op.
 */
#ifndef CHSM_COMMON_SECBUF_H
#define CHSM_COMMON_SECBUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

struct chsm_secbuf {
    uint8_t *data;
    size_t len; /* visible length */
    size_t cap; /* allocated length (internal: what free releases) */
};

/* Allocate len zeroed secret bytes (len may be 0). CKR_HOST_MEMORY on failure. */
CHSM_MUST_CHECK CK_RV chsm_secbuf_alloc(struct chsm_secbuf *b, size_t len);
/* Allocate and copy len bytes from src. */
CHSM_MUST_CHECK CK_RV chsm_secbuf_copy(struct chsm_secbuf *b, const void *src, size_t len);
/* Shrink the visible length (the tail is wiped). */
void chsm_secbuf_truncate(struct chsm_secbuf *b, size_t new_len);
/* Wipe and release; leaves b empty. Safe on an empty buffer. */
void chsm_secbuf_free(struct chsm_secbuf *b);
/* Transfer ownership from src to dst (dst is freed first). */
void chsm_secbuf_move(struct chsm_secbuf *dst, struct chsm_secbuf *src);

/* Raw secure allocation for structures that hold secrets (zeroed; wiped on free). */
void *chsm_secure_malloc(size_t len);
void chsm_secure_free(void *p, size_t len);

/* Wipe memory in a way the compiler may not elide. */
void chsm_wipe(void *p, size_t len);

#endif
