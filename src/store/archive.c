/*
 * Archive header codec (docs/archive-format.md, "Header"). Explicit
 * little-endian, length-prefixed, followed by a SHA-256 checksum so that a
 * damaged header is reported as an integrity failure rather than a wrong
 * PIN. The checksum is not the authentication: every body chunk's AAD
 * binds the header hash under the MK-derived key.
 */
#include "store/archive.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/crypto.h"

#define HDR_FIXED (CHSM_ARCHIVE_MAGIC_LEN + 2 + 4)
#define HDR_FIELDS_MAX (CHSM_ARCHIVE_BLOB_MAX + 4096u)
#define LAYER "archive"

void chsm_archive_header_free(struct chsm_archive_header *h)
{
    if (h == NULL)
        return;
    if (h->token_blob != NULL) {
        chsm_wipe(h->token_blob, h->token_blob_len);
        free(h->token_blob);
    }
    h->token_blob = NULL;
    h->token_blob_len = 0;
}

static CK_RV put_str(struct chsm_buf *b, const char *s)
{
    return chsm_buf_put_lv(b, s, strlen(s));
}

static CK_RV encode_fields(const struct chsm_archive_header *h, struct chsm_buf *b)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(put_str(b, h->software_version));
    CHSM_GUARD(put_str(b, h->serial));
    CHSM_GUARD(put_str(b, h->token_label));
    CHSM_GUARD(put_str(b, h->config_label));
    CHSM_GUARD(chsm_buf_put_u32(b, h->slot));
    CHSM_GUARD(chsm_buf_put_u64(b, h->object_count));
    CHSM_GUARD(chsm_buf_put_u64(b, (uint64_t)h->created_unix_us));
    CHSM_GUARD(chsm_buf_put_u32(b, h->store_format_version));
    CHSM_GUARD(chsm_buf_put_u64(b, h->audit_seq));
    CHSM_GUARD(put_str(b, h->audit_head));
    CHSM_GUARD(chsm_buf_put_lv(b, h->token_blob, h->token_blob_len));
    CHSM_GUARD(chsm_buf_put(b, h->salt, CHSM_ARCHIVE_SALT_LEN));
    CHSM_GUARD(chsm_buf_put_u32(b, h->chunk_size));
out:
    return rv;
}

CK_RV chsm_archive_header_encode(const struct chsm_archive_header *h, uint8_t **out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    struct chsm_buf fields, all;
    uint8_t sum[32];
    chsm_buf_init(&fields, 0);
    chsm_buf_init(&all, 0);
    *out = NULL;
    *out_len = 0;
    CHSM_GUARD(encode_fields(h, &fields));
    CHSM_ENSURE(fields.len <= HDR_FIELDS_MAX, CHSM_ERR(CKR_DATA_LEN_RANGE, LAYER, "header too large"));
    CHSM_GUARD(chsm_buf_put(&all, CHSM_ARCHIVE_MAGIC, CHSM_ARCHIVE_MAGIC_LEN));
    CHSM_GUARD(chsm_buf_put_u16(&all, h->format_version));
    CHSM_GUARD(chsm_buf_put_u32(&all, (uint32_t)fields.len));
    CHSM_GUARD(chsm_buf_put(&all, fields.data, fields.len));
    CHSM_GUARD(chsm_sha256(all.data, all.len, sum));
    CHSM_GUARD(chsm_buf_put(&all, sum, sizeof(sum)));
    *out = all.data;
    *out_len = all.len;
    all.data = NULL;
out:
    chsm_buf_free(&fields);
    chsm_buf_free(&all);
    return rv;
}

static bool get_str(struct chsm_cursor *c, char *dst, size_t cap)
{
    const uint8_t *p;
    size_t n;
    if (!chsm_cursor_lv(c, &p, &n) || n >= cap || memchr(p, 0, n) != NULL)
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

static bool decode_fields(struct chsm_cursor *c, struct chsm_archive_header *h)
{
    uint64_t created;
    const uint8_t *p;
    size_t n;
    if (!get_str(c, h->software_version, sizeof(h->software_version)) || !get_str(c, h->serial, sizeof(h->serial)) ||
        !get_str(c, h->token_label, sizeof(h->token_label)) ||
        !get_str(c, h->config_label, sizeof(h->config_label)) || !chsm_cursor_u32(c, &h->slot) ||
        !chsm_cursor_u64(c, &h->object_count) || !chsm_cursor_u64(c, &created) ||
        !chsm_cursor_u32(c, &h->store_format_version) || !chsm_cursor_u64(c, &h->audit_seq) ||
        !get_str(c, h->audit_head, sizeof(h->audit_head)) || !chsm_cursor_lv(c, &p, &n) || n == 0 ||
        n > CHSM_ARCHIVE_BLOB_MAX)
        return false;
    h->created_unix_us = (int64_t)created;
    h->token_blob = malloc(n);
    if (h->token_blob == NULL)
        return false;
    memcpy(h->token_blob, p, n);
    h->token_blob_len = n;
    if (!chsm_cursor_bytes(c, CHSM_ARCHIVE_SALT_LEN, &p) || !chsm_cursor_u32(c, &h->chunk_size))
        return false;
    memcpy(h->salt, p, CHSM_ARCHIVE_SALT_LEN);
    return h->chunk_size > 0 && h->chunk_size <= CHSM_ARCHIVE_CHUNK_MAX && chsm_cursor_left(c) == 0;
}

/*
 * Decode a complete header from data. CKR_ENCRYPTED_DATA_LEN_RANGE when
 * data is too short (the stream reader uses this to read the rest).
 */
CK_RV chsm_archive_header_decode(const uint8_t *data, size_t len, struct chsm_archive_header *h, size_t *consumed)
{
    CK_RV rv = CKR_OK;
    struct chsm_cursor fc;
    uint8_t sum[32];
    uint32_t flen;
    memset(h, 0, sizeof(*h));
    if (len < HDR_FIXED)
        return CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, LAYER, "archive truncated inside the header");
    if (memcmp(data, CHSM_ARCHIVE_MAGIC, CHSM_ARCHIVE_MAGIC_LEN) != 0)
        return CHSM_ERR(CKR_DATA_INVALID, LAYER, "not a Craton HSM backup archive (bad magic)");
    h->format_version = chsm_load_le16(data + CHSM_ARCHIVE_MAGIC_LEN);
    if (h->format_version > CHSM_ARCHIVE_FORMAT_VERSION || h->format_version == 0)
        return CHSM_ERR(CKR_SAVED_STATE_INVALID, LAYER,
                        "archive format version %u is newer than this craton-hsm-admin supports (%u)",
                        (unsigned)h->format_version, CHSM_ARCHIVE_FORMAT_VERSION);
    flen = chsm_load_le32(data + CHSM_ARCHIVE_MAGIC_LEN + 2);
    if (flen > HDR_FIELDS_MAX)
        return CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive header length %u is implausible", flen);
    if (len < HDR_FIXED + (size_t)flen + 32)
        return CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, LAYER, "archive truncated inside the header");
    CHSM_GUARD(chsm_sha256(data, HDR_FIXED + (size_t)flen, sum));
    CHSM_ENSURE(chsm_ct_equal(sum, data + HDR_FIXED + flen, 32),
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive header checksum mismatch (damaged or tampered)"));
    chsm_cursor_init(&fc, data + HDR_FIXED, flen);
    CHSM_ENSURE(decode_fields(&fc, h),
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive header fields malformed"));
    *consumed = HDR_FIXED + (size_t)flen + 32;
out:
    if (rv != CKR_OK)
        chsm_archive_header_free(h);
    return rv;
}
