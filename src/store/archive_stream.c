/*
 * Archive body: chunked AES-256-GCM (docs/archive-format.md, "Body").
 * Chunk i on the wire: u8 flags (bit 0 = final), u32 ciphertext length,
 * ciphertext, tag. IV = 0^32 || le64(i) under a key unique to the archive
 * (fresh random salt), AAD = SHA-256(header) || le64(i) || flags. So a
 * flipped, dropped, reordered or appended chunk and a missing final chunk
 * are all detected before any row is handed to the caller as valid.
 */
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/crypto.h"
#include "store/archive.h"

#define LAYER "archive"
#define FLAG_FINAL 0x01u
#define ENTRY_ROW 1u
#define ENTRY_END 2u
#define CHUNK_HDR 5u
#define AAD_LEN (32u + 8u + 1u)
static const char BODY_INFO[] = "craton-hsm archive v1 body";

struct chsm_archive_writer {
    FILE *out;
    struct chsm_secbuf key;
    uint8_t hdr_hash[32];
    uint32_t chunk_size;
    uint64_t index;
    uint64_t rows;
    struct chsm_buf pt;
    uint8_t *ct;
};

struct chsm_archive_reader {
    FILE *in;
    struct chsm_archive_header h;
    struct chsm_secbuf key;
    uint8_t hdr_hash[32];
    uint64_t index;
    uint64_t rows;
    bool final_seen;
    bool end_seen;
    uint8_t *ct;
    uint8_t *pt;   /* decrypted but not yet consumed plaintext */
    size_t pt_len;
    size_t pt_off;
    size_t pt_cap;
};

static CK_RV derive_key(const struct chsm_secbuf *mk, const uint8_t salt[CHSM_ARCHIVE_SALT_LEN],
                        struct chsm_secbuf *key)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(mk != NULL && mk->len == 32, CHSM_ERR(CKR_ARGUMENTS_BAD, LAYER, "master key missing"));
    CHSM_GUARD(chsm_secbuf_alloc(key, 32));
    CHSM_GUARD(chsm_hkdf_sha256(mk->data, mk->len, salt, CHSM_ARCHIVE_SALT_LEN, (const uint8_t *)BODY_INFO,
                                sizeof(BODY_INFO) - 1, key->data, 32));
out:
    return rv;
}

static void chunk_params(const uint8_t hdr_hash[32], uint64_t index, uint8_t flags, uint8_t iv[CHSM_GCM_IV_LEN],
                         uint8_t aad[AAD_LEN])
{
    memset(iv, 0, CHSM_GCM_IV_LEN);
    chsm_store_le64(iv + 4, index);
    memcpy(aad, hdr_hash, 32);
    chsm_store_le64(aad + 32, index);
    aad[40] = flags;
}

/* ---- writer ---- */

CK_RV chsm_archive_writer_new(FILE *out, struct chsm_archive_header *h, const struct chsm_secbuf *mk,
                              struct chsm_archive_writer **wp)
{
    CK_RV rv = CKR_OK;
    uint8_t *hdr = NULL;
    size_t hdr_len = 0;
    struct chsm_archive_writer *w = calloc(1, sizeof(*w));
    *wp = NULL;
    CHSM_ENSURE(w != NULL, CKR_HOST_MEMORY);
    chsm_buf_init(&w->pt, 0);
    if (h->chunk_size == 0)
        h->chunk_size = CHSM_ARCHIVE_CHUNK_DEFAULT;
    CHSM_ENSURE(h->chunk_size <= CHSM_ARCHIVE_CHUNK_MAX, CKR_ARGUMENTS_BAD);
    h->format_version = CHSM_ARCHIVE_FORMAT_VERSION;
    CHSM_GUARD(chsm_rand_bytes(h->salt, CHSM_ARCHIVE_SALT_LEN));
    CHSM_GUARD(derive_key(mk, h->salt, &w->key));
    CHSM_GUARD(chsm_archive_header_encode(h, &hdr, &hdr_len));
    CHSM_GUARD(chsm_sha256(hdr, hdr_len, w->hdr_hash));
    w->out = out;
    w->chunk_size = h->chunk_size;
    w->ct = malloc(h->chunk_size);
    CHSM_ENSURE(w->ct != NULL, CKR_HOST_MEMORY);
    CHSM_ENSURE(fwrite(hdr, 1, hdr_len, out) == hdr_len,
                CHSM_ERR(CKR_DEVICE_ERROR, LAYER, "cannot write the archive header"));
    *wp = w;
    w = NULL;
out:
    free(hdr);
    chsm_archive_writer_free(w);
    return rv;
}

static CK_RV emit_chunk(struct chsm_archive_writer *w, size_t n, uint8_t flags)
{
    CK_RV rv = CKR_OK;
    uint8_t iv[CHSM_GCM_IV_LEN], aad[AAD_LEN], tag[CHSM_GCM_TAG_LEN], hdr[CHUNK_HDR];
    chunk_params(w->hdr_hash, w->index, flags, iv, aad);
    CHSM_GUARD(chsm_aes256_gcm_seal(w->key.data, iv, aad, sizeof(aad), w->pt.data, n, w->ct, tag));
    hdr[0] = flags;
    chsm_store_le32(hdr + 1, (uint32_t)n);
    CHSM_ENSURE(fwrite(hdr, 1, CHUNK_HDR, w->out) == CHUNK_HDR && fwrite(w->ct, 1, n, w->out) == n &&
                    fwrite(tag, 1, sizeof(tag), w->out) == sizeof(tag),
                CHSM_ERR(CKR_DEVICE_ERROR, LAYER, "cannot write archive chunk %llu", (unsigned long long)w->index));
    memmove(w->pt.data, w->pt.data + n, w->pt.len - n);
    w->pt.len -= n;
    w->index++;
out:
    return rv;
}

CK_RV chsm_archive_write_row(struct chsm_archive_writer *w, const struct chsm_archive_row *row)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(row->blob_len <= CHSM_ARCHIVE_BLOB_MAX, CHSM_ERR(CKR_DATA_LEN_RANGE, LAYER, "row too large"));
    CHSM_GUARD(chsm_buf_put_u8(&w->pt, ENTRY_ROW));
    CHSM_GUARD(chsm_buf_put(&w->pt, row->id, CHSM_ARCHIVE_ID_LEN));
    CHSM_GUARD(chsm_buf_put_u64(&w->pt, row->class_));
    CHSM_GUARD(chsm_buf_put_u64(&w->pt, row->key_type));
    CHSM_GUARD(chsm_buf_put_lv(&w->pt, row->blob, row->blob_len));
    w->rows++;
    /* Keep at least one byte back so the final chunk is never empty of purpose. */
    while (w->pt.len > w->chunk_size)
        CHSM_GUARD(emit_chunk(w, w->chunk_size, 0));
out:
    return rv;
}

CK_RV chsm_archive_writer_finish(struct chsm_archive_writer *w)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_buf_put_u8(&w->pt, ENTRY_END));
    CHSM_GUARD(chsm_buf_put_u64(&w->pt, w->rows));
    while (w->pt.len > w->chunk_size)
        CHSM_GUARD(emit_chunk(w, w->chunk_size, 0));
    CHSM_GUARD(emit_chunk(w, w->pt.len, FLAG_FINAL));
    CHSM_ENSURE(fflush(w->out) == 0, CHSM_ERR(CKR_DEVICE_ERROR, LAYER, "cannot flush the archive"));
out:
    return rv;
}

void chsm_archive_writer_free(struct chsm_archive_writer *w)
{
    if (w == NULL)
        return;
    chsm_secbuf_free(&w->key);
    chsm_buf_free(&w->pt);
    free(w->ct);
    free(w);
}

/* ---- reader ---- */

/* Read exactly n bytes; CKR_ENCRYPTED_DATA_LEN_RANGE on a short read (truncation). */
static CK_RV read_exact(FILE *in, void *buf, size_t n, const char *what)
{
    size_t got = n == 0 ? 0 : fread(buf, 1, n, in);
    if (got == n)
        return CKR_OK;
    if (ferror(in))
        return CHSM_ERR(CKR_DEVICE_ERROR, LAYER, "read error in %s", what);
    return CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, LAYER, "archive truncated in %s", what);
}

static CK_RV read_header(struct chsm_archive_reader *r)
{
    CK_RV rv = CKR_OK;
    uint8_t fixed[CHSM_ARCHIVE_MAGIC_LEN + 6];
    uint8_t *all = NULL;
    size_t total, consumed = 0;
    CHSM_GUARD(read_exact(r->in, fixed, sizeof(fixed), "the header"));
    /* Let the decoder judge magic and version before trusting the length. */
    rv = chsm_archive_header_decode(fixed, sizeof(fixed), &r->h, &consumed);
    CHSM_ENSURE(rv == CKR_ENCRYPTED_DATA_LEN_RANGE || rv == CKR_OK, rv);
    rv = CKR_OK;
    total = sizeof(fixed) + (size_t)chsm_load_le32(fixed + CHSM_ARCHIVE_MAGIC_LEN + 2) + 32;
    all = malloc(total);
    CHSM_ENSURE(all != NULL, CKR_HOST_MEMORY);
    memcpy(all, fixed, sizeof(fixed));
    CHSM_GUARD(read_exact(r->in, all + sizeof(fixed), total - sizeof(fixed), "the header"));
    CHSM_GUARD(chsm_archive_header_decode(all, total, &r->h, &consumed));
    CHSM_GUARD(chsm_sha256(all, total, r->hdr_hash));
out:
    free(all);
    return rv;
}

CK_RV chsm_archive_reader_open(FILE *in, struct chsm_archive_reader **rp)
{
    CK_RV rv = CKR_OK;
    struct chsm_archive_reader *r = calloc(1, sizeof(*r));
    *rp = NULL;
    CHSM_ENSURE(r != NULL, CKR_HOST_MEMORY);
    r->in = in;
    CHSM_GUARD(read_header(r));
    r->ct = malloc(r->h.chunk_size + (size_t)CHSM_GCM_TAG_LEN);
    r->pt_cap = 2u * r->h.chunk_size;
    r->pt = malloc(r->pt_cap);
    CHSM_ENSURE(r->ct != NULL && r->pt != NULL, CKR_HOST_MEMORY);
    *rp = r;
    r = NULL;
out:
    chsm_archive_reader_free(r);
    return rv;
}

const struct chsm_archive_header *chsm_archive_reader_header(const struct chsm_archive_reader *r)
{
    return &r->h;
}

CK_RV chsm_archive_reader_unlock(struct chsm_archive_reader *r, const struct chsm_secbuf *mk)
{
    chsm_secbuf_free(&r->key);
    return derive_key(mk, r->h.salt, &r->key);
}

/* Read, authenticate and append the next chunk's plaintext. */
static CK_RV pull_chunk(struct chsm_archive_reader *r)
{
    CK_RV rv = CKR_OK;
    uint8_t hdr[CHUNK_HDR], iv[CHSM_GCM_IV_LEN], aad[AAD_LEN];
    uint32_t n;
    if (r->final_seen)
        return CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive body ends without an end entry");
    CHSM_GUARD(read_exact(r->in, hdr, CHUNK_HDR, "a chunk header"));
    n = chsm_load_le32(hdr + 1);
    CHSM_ENSURE((hdr[0] & ~FLAG_FINAL) == 0 && n <= r->h.chunk_size,
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive chunk %llu header malformed",
                         (unsigned long long)r->index));
    CHSM_GUARD(read_exact(r->in, r->ct, (size_t)n + CHSM_GCM_TAG_LEN, "a chunk"));
    if (r->pt_off > 0) {
        memmove(r->pt, r->pt + r->pt_off, r->pt_len - r->pt_off);
        r->pt_len -= r->pt_off;
        r->pt_off = 0;
    }
    if (r->pt_len + n > r->pt_cap) {
        size_t cap = r->pt_len + n;
        uint8_t *np = realloc(r->pt, cap);
        CHSM_ENSURE(np != NULL, CKR_HOST_MEMORY);
        r->pt = np;
        r->pt_cap = cap;
    }
    chunk_params(r->hdr_hash, r->index, hdr[0], iv, aad);
    rv = chsm_aes256_gcm_open(r->key.data, iv, aad, sizeof(aad), r->ct, n, r->ct + n, r->pt + r->pt_len);
    CHSM_ENSURE(rv == CKR_OK, CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER,
                                       "archive chunk %llu fails authentication (tampered, reordered or wrong key)",
                                       (unsigned long long)r->index));
    r->pt_len += n;
    r->index++;
    r->final_seen = (hdr[0] & FLAG_FINAL) != 0;
out:
    return rv;
}

/* Make at least n plaintext bytes available. */
static CK_RV need(struct chsm_archive_reader *r, size_t n)
{
    CK_RV rv = CKR_OK;
    while (r->pt_len - r->pt_off < n)
        CHSM_GUARD(pull_chunk(r));
out:
    return rv;
}

static CK_RV read_end(struct chsm_archive_reader *r, bool *done)
{
    CK_RV rv = CKR_OK;
    uint8_t extra;
    CHSM_GUARD(need(r, 8));
    CHSM_ENSURE(chsm_load_le64(r->pt + r->pt_off) == r->rows,
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive row count mismatch"));
    r->pt_off += 8;
    CHSM_ENSURE(r->final_seen && r->pt_off == r->pt_len,
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive has data after its end entry"));
    CHSM_ENSURE(fread(&extra, 1, 1, r->in) == 0,
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive has trailing bytes after its final chunk"));
    CHSM_ENSURE(r->rows == r->h.object_count,
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "archive holds %llu rows, header says %llu",
                         (unsigned long long)r->rows, (unsigned long long)r->h.object_count));
    r->end_seen = true;
    *done = true;
out:
    return rv;
}

CK_RV chsm_archive_reader_next(struct chsm_archive_reader *r, struct chsm_archive_row *row, bool *done)
{
    CK_RV rv = CKR_OK;
    const uint8_t *p;
    uint8_t type;
    uint32_t blen;
    *done = false;
    CHSM_ENSURE(r->key.data != NULL, CHSM_ERR(CKR_ARGUMENTS_BAD, LAYER, "archive not unlocked"));
    if (r->end_seen) {
        *done = true;
        goto out;
    }
    CHSM_GUARD(need(r, 1));
    type = r->pt[r->pt_off++];
    if (type == ENTRY_END) {
        CHSM_GUARD(read_end(r, done));
        goto out;
    }
    CHSM_ENSURE(type == ENTRY_ROW, CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "unknown archive entry %u", type));
    CHSM_GUARD(need(r, CHSM_ARCHIVE_ID_LEN + 8 + 8 + 4));
    p = r->pt + r->pt_off;
    blen = chsm_load_le32(p + CHSM_ARCHIVE_ID_LEN + 16);
    CHSM_ENSURE(blen <= CHSM_ARCHIVE_BLOB_MAX, CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, LAYER, "row too large"));
    CHSM_GUARD(need(r, CHSM_ARCHIVE_ID_LEN + 20 + (size_t)blen));
    p = r->pt + r->pt_off; /* need() may have moved the buffer */
    memcpy(row->id, p, CHSM_ARCHIVE_ID_LEN);
    row->class_ = chsm_load_le64(p + CHSM_ARCHIVE_ID_LEN);
    row->key_type = chsm_load_le64(p + CHSM_ARCHIVE_ID_LEN + 8);
    row->blob = p + CHSM_ARCHIVE_ID_LEN + 20;
    row->blob_len = blen;
    r->pt_off += CHSM_ARCHIVE_ID_LEN + 20 + (size_t)blen;
    r->rows++;
out:
    return rv;
}

void chsm_archive_reader_free(struct chsm_archive_reader *r)
{
    if (r == NULL)
        return;
    chsm_archive_header_free(&r->h);
    chsm_secbuf_free(&r->key);
    free(r->ct);
    free(r->pt);
    free(r);
}
