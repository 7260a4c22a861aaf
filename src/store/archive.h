/*
 * The backup archive format (docs/archive-format.md): what
 * `craton-hsm-admin backup` writes and `restore` / `backup verify` read.
 *
 *   header  (clear)  magic "CRATONHSMBK", u16 format version, u32 length,
 *                    then length-prefixed fields: software version, serial,
 *                    token label, config label, slot, object count, time,
 *                    audit head, the wrapped-MK token blob, archive salt,
 *                    chunk size; then SHA-256 of all the bytes before it.
 *   body    chunks   u32 ciphertext length, ciphertext, 16-byte GCM tag.
 *
 * The body key is HKDF-SHA256(MK, salt = archive salt, info = "craton-hsm
 * archive v1 body"), so only someone who can unwrap the MK (the SO PIN,
 * via the token blob in the header) opens it. Every chunk's AAD is
 * SHA-256(header) || u64 chunk index || u8 final flag: the whole archive,
 * header included, is authenticated, and reordering or truncation (no chunk
 * with the final flag) is detected. The body plaintext is a sequence of
 * entries: type 1 = one store row (id, class, key type, blob exactly as
 * the store holds it: still encrypted), type 2 = end (u64 row count). No
 * object key is ever decrypted to build an archive.
 *
 * Errors (with detail in the error record):
 *   CKR_ENCRYPTED_DATA_INVALID    tampered (checksum/tag/structure)
 *   CKR_ENCRYPTED_DATA_LEN_RANGE  truncated
 *   CKR_DATA_INVALID              not an archive (bad magic)
 *   CKR_SAVED_STATE_INVALID       format version newer than this binary
 *   CKR_DEVICE_ERROR              I/O error on the stream
 *
 * Ownership: writer/reader own their state; rows returned by the reader
 * borrow its buffer until the next call. The caller owns the FILE streams.
 */
#ifndef CHSM_STORE_ARCHIVE_H
#define CHSM_STORE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/result.h"
#include "common/secbuf.h"

#define CHSM_ARCHIVE_MAGIC "CRATONHSMBK"
#define CHSM_ARCHIVE_MAGIC_LEN 11
#define CHSM_ARCHIVE_FORMAT_VERSION 1u
#define CHSM_ARCHIVE_SALT_LEN 32
#define CHSM_ARCHIVE_CHUNK_DEFAULT (64u * 1024u)
#define CHSM_ARCHIVE_CHUNK_MAX (16u * 1024u * 1024u)
#define CHSM_ARCHIVE_ID_LEN 16
#define CHSM_ARCHIVE_BLOB_MAX (64u * 1024u * 1024u)

struct chsm_archive_header {
    uint16_t format_version;
    char software_version[33];
    char serial[17];       /* token serial, trailing blanks trimmed */
    char token_label[33];  /* token label, trailing blanks trimmed */
    char config_label[33]; /* [token].label of the config that made it */
    uint32_t slot;
    uint64_t object_count;
    int64_t created_unix_us;
    uint32_t store_format_version;
    uint64_t audit_seq;
    char audit_head[65]; /* hex SHA-256 or "" when auditing was off */
    uint8_t *token_blob; /* wrapped MK blob (owned; freed by chsm_archive_header_free) */
    size_t token_blob_len;
    uint8_t salt[CHSM_ARCHIVE_SALT_LEN];
    uint32_t chunk_size;
};
void chsm_archive_header_free(struct chsm_archive_header *h);

/* One row: the store's own encrypted form. blob borrowed. */
struct chsm_archive_row {
    uint8_t id[CHSM_ARCHIVE_ID_LEN];
    uint64_t class_;
    uint64_t key_type;
    const uint8_t *blob;
    size_t blob_len;
};

struct chsm_archive_writer;
/*
 * Start an archive on `out`: draws the salt (h->salt is filled in) when
 * h->chunk_size is 0 it takes the default, writes the header. The writer
 * keeps a copy of the derived body key only.
 */
CHSM_MUST_CHECK CK_RV chsm_archive_writer_new(FILE *out, struct chsm_archive_header *h,
                                              const struct chsm_secbuf *mk, struct chsm_archive_writer **w);
CHSM_MUST_CHECK CK_RV chsm_archive_write_row(struct chsm_archive_writer *w, const struct chsm_archive_row *row);
/* Write the end entry and the final chunk; flushes (does not fsync). */
CHSM_MUST_CHECK CK_RV chsm_archive_writer_finish(struct chsm_archive_writer *w);
void chsm_archive_writer_free(struct chsm_archive_writer *w);

struct chsm_archive_reader;
/* Read and check the header (magic, version, checksum). Nothing decrypted yet. */
CHSM_MUST_CHECK CK_RV chsm_archive_reader_open(FILE *in, struct chsm_archive_reader **r);
const struct chsm_archive_header *chsm_archive_reader_header(const struct chsm_archive_reader *r);
/* Derive the body key from the unwrapped MK. */
CHSM_MUST_CHECK CK_RV chsm_archive_reader_unlock(struct chsm_archive_reader *r, const struct chsm_secbuf *mk);
/* Next row (authenticated); *done after the end entry of the final chunk. */
CHSM_MUST_CHECK CK_RV chsm_archive_reader_next(struct chsm_archive_reader *r, struct chsm_archive_row *row,
                                               bool *done);
void chsm_archive_reader_free(struct chsm_archive_reader *r);

/* Internal to the format, exposed for tests/fuzzing: header codec. */
CHSM_MUST_CHECK CK_RV chsm_archive_header_encode(const struct chsm_archive_header *h, uint8_t **out,
                                                 size_t *out_len);
CHSM_MUST_CHECK CK_RV chsm_archive_header_decode(const uint8_t *data, size_t len,
                                                 struct chsm_archive_header *h, size_t *consumed);

#endif
