/*
 * Byte views, a growable writer and a bounds-checked reader.
 *
 * Every on-disk and on-wire encoding goes through these: fixed-width
 * little-endian integers and u32-length-prefixed fields, independent of the
 * host's endianness and of sizeof(long). Never memcpy a struct to disk.
 *
 * struct chsm_buf OWNS its storage. With secret=1 the storage comes from the
 * secure allocator and is wiped when it grows and when it is freed; use that
 * for anything holding plaintext attributes. struct chsm_cursor BORROWS the
 * bytes it reads.
 */
#ifndef CHSM_COMMON_BYTES_H
#define CHSM_COMMON_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

struct chsm_bytes {
    const uint8_t *data;
    size_t len;
};

struct chsm_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int secret;
};

/* Writer. All return CKR_OK or CKR_HOST_MEMORY. A zeroed buf is empty and non-secret. */
void chsm_buf_init(struct chsm_buf *b, int secret);
CHSM_MUST_CHECK CK_RV chsm_buf_reserve(struct chsm_buf *b, size_t extra);
CHSM_MUST_CHECK CK_RV chsm_buf_put(struct chsm_buf *b, const void *p, size_t n);
CHSM_MUST_CHECK CK_RV chsm_buf_put_u8(struct chsm_buf *b, uint8_t v);
CHSM_MUST_CHECK CK_RV chsm_buf_put_u16(struct chsm_buf *b, uint16_t v);
CHSM_MUST_CHECK CK_RV chsm_buf_put_u32(struct chsm_buf *b, uint32_t v);
CHSM_MUST_CHECK CK_RV chsm_buf_put_u64(struct chsm_buf *b, uint64_t v);
/* u32 little-endian length, then the bytes. CKR_DATA_LEN_RANGE if n > UINT32_MAX. */
CHSM_MUST_CHECK CK_RV chsm_buf_put_lv(struct chsm_buf *b, const void *p, size_t n);
/* Wipes (if secret) and releases. */
void chsm_buf_free(struct chsm_buf *b);

/* Reader. Every getter returns false (and consumes nothing) when the input is too short. */
struct chsm_cursor {
    const uint8_t *data;
    size_t len;
    size_t off;
};

void chsm_cursor_init(struct chsm_cursor *c, const void *data, size_t len);
size_t chsm_cursor_left(const struct chsm_cursor *c);
CHSM_MUST_CHECK bool chsm_cursor_u8(struct chsm_cursor *c, uint8_t *v);
CHSM_MUST_CHECK bool chsm_cursor_u16(struct chsm_cursor *c, uint16_t *v);
CHSM_MUST_CHECK bool chsm_cursor_u32(struct chsm_cursor *c, uint32_t *v);
CHSM_MUST_CHECK bool chsm_cursor_u64(struct chsm_cursor *c, uint64_t *v);
/* Borrow the next n bytes. */
CHSM_MUST_CHECK bool chsm_cursor_bytes(struct chsm_cursor *c, size_t n, const uint8_t **out);
/* Borrow a u32-length-prefixed field. */
CHSM_MUST_CHECK bool chsm_cursor_lv(struct chsm_cursor *c, const uint8_t **out, size_t *out_len);

/* Little-endian helpers on raw memory. */
void chsm_store_le16(uint8_t *p, uint16_t v);
void chsm_store_le32(uint8_t *p, uint32_t v);
void chsm_store_le64(uint8_t *p, uint64_t v);
uint16_t chsm_load_le16(const uint8_t *p);
uint32_t chsm_load_le32(const uint8_t *p);
uint64_t chsm_load_le64(const uint8_t *p);

/* Lower-case hex of n bytes into out (2n+1 bytes incl. NUL). */
void chsm_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parse exactly 2n hex chars into out; false on any non-hex char or wrong length. */
CHSM_MUST_CHECK bool chsm_hex_decode(const char *hex, uint8_t *out, size_t n);

#endif
