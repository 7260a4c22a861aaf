/*
 * Archive format (src/store/archive*.c): round trip, and every tamper the
 * format must catch — a flipped byte anywhere, truncation at every offset,
 * reordered or appended chunks, a newer format version, the wrong key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "crypto/crypto.h"
#include "store/archive.h"

static const uint8_t MK1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t TOKEN_BLOB[] = "opaque wrapped-mk token blob v1";

struct arch {
    uint8_t *data;
    size_t len;
};

static void fill_header(struct chsm_archive_header *h, uint64_t rows, uint32_t chunk)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->software_version, sizeof(h->software_version), "0.9.1");
    snprintf(h->serial, sizeof(h->serial), "0000000000000001");
    snprintf(h->token_label, sizeof(h->token_label), "prod token");
    snprintf(h->config_label, sizeof(h->config_label), "Craton HSM");
    h->slot = 0;
    h->object_count = rows;
    h->created_unix_us = 1700000000123456;
    h->store_format_version = 1;
    h->audit_seq = 42;
    memset(h->audit_head, 'a', 64);
    h->token_blob = (uint8_t *)TOKEN_BLOB;
    h->token_blob_len = sizeof(TOKEN_BLOB);
    h->chunk_size = chunk;
}

/* Row i: id = i, blob = i*37 bytes of value i (some rows span several chunks). */
static struct arch make(uint64_t rows, uint32_t chunk, const uint8_t *mk_bytes)
{
    struct arch a = {0};
    struct chsm_archive_header h;
    struct chsm_archive_writer *w = NULL;
    struct chsm_secbuf mk = {0};
    FILE *f = open_memstream((char **)&a.data, &a.len);
    assert_non_null(f);
    assert_int_equal(chsm_secbuf_copy(&mk, mk_bytes, 32), CKR_OK);
    fill_header(&h, rows, chunk);
    assert_int_equal(chsm_archive_writer_new(f, &h, &mk, &w), CKR_OK);
    for (uint64_t i = 0; i < rows; i++) {
        uint8_t blob[400];
        struct chsm_archive_row r;
        memset(&r, 0, sizeof(r));
        r.id[0] = (uint8_t)i;
        r.class_ = i % 4;
        r.key_type = i;
        r.blob_len = (size_t)(i * 37) % sizeof(blob);
        memset(blob, (int)i, sizeof(blob));
        r.blob = blob;
        assert_int_equal(chsm_archive_write_row(w, &r), CKR_OK);
    }
    assert_int_equal(chsm_archive_writer_finish(w), CKR_OK);
    chsm_archive_writer_free(w);
    chsm_secbuf_free(&mk);
    fclose(f);
    return a;
}

/* Read everything back; returns the first failure (rows read so far in *nrows). */
static CK_RV read_all(const uint8_t *data, size_t len, const uint8_t *mk_bytes, uint64_t *nrows)
{
    struct chsm_archive_reader *r = NULL;
    struct chsm_secbuf mk = {0};
    CK_RV rv;
    bool done = false;
    FILE *f;
    *nrows = 0;
    if (len == 0)
        return CKR_ENCRYPTED_DATA_LEN_RANGE; /* fmemopen refuses size 0 */
    f = fmemopen((void *)data, len, "rb");
    assert_non_null(f);
    rv = chsm_archive_reader_open(f, &r);
    if (rv == CKR_OK) {
        assert_int_equal(chsm_secbuf_copy(&mk, mk_bytes, 32), CKR_OK);
        rv = chsm_archive_reader_unlock(r, &mk);
    }
    while (rv == CKR_OK) {
        struct chsm_archive_row row;
        rv = chsm_archive_reader_next(r, &row, &done);
        if (rv != CKR_OK || done)
            break;
        /* Content is checked in the round-trip test; here count only. */
        (*nrows)++;
    }
    chsm_archive_reader_free(r);
    chsm_secbuf_free(&mk);
    fclose(f);
    return rv;
}

static bool is_integrity(CK_RV rv)
{
    return rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE || rv == CKR_DATA_INVALID ||
           rv == CKR_SAVED_STATE_INVALID;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct arch a = make(20, 64, MK1);
    struct chsm_archive_reader *r = NULL;
    struct chsm_secbuf mk = {0};
    FILE *f = fmemopen(a.data, a.len, "rb");
    bool done = false;
    uint64_t i = 0;
    assert_int_equal(memcmp(a.data, "CRATONHSMBK", 11), 0);
    assert_int_equal(chsm_archive_reader_open(f, &r), CKR_OK);
    const struct chsm_archive_header *h = chsm_archive_reader_header(r);
    assert_int_equal(h->format_version, CHSM_ARCHIVE_FORMAT_VERSION);
    assert_string_equal(h->serial, "0000000000000001");
    assert_string_equal(h->token_label, "prod token");
    assert_string_equal(h->config_label, "Craton HSM");
    assert_int_equal(h->object_count, 20);
    assert_int_equal(h->audit_seq, 42);
    assert_int_equal(h->created_unix_us, 1700000000123456);
    assert_int_equal(h->token_blob_len, sizeof(TOKEN_BLOB));
    assert_memory_equal(h->token_blob, TOKEN_BLOB, sizeof(TOKEN_BLOB));
    assert_int_equal(chsm_secbuf_copy(&mk, MK1, 32), CKR_OK);
    assert_int_equal(chsm_archive_reader_unlock(r, &mk), CKR_OK);
    for (;;) {
        struct chsm_archive_row row;
        assert_int_equal(chsm_archive_reader_next(r, &row, &done), CKR_OK);
        if (done)
            break;
        assert_int_equal(row.id[0], i);
        assert_int_equal(row.class_, i % 4);
        assert_int_equal(row.key_type, i);
        assert_int_equal(row.blob_len, (i * 37) % 400);
        for (size_t k = 0; k < row.blob_len; k++)
            assert_int_equal(row.blob[k], (uint8_t)i);
        i++;
    }
    assert_int_equal(i, 20);
    /* After the end, next keeps reporting done. */
    struct chsm_archive_row row;
    assert_int_equal(chsm_archive_reader_next(r, &row, &done), CKR_OK);
    assert_true(done);
    chsm_archive_reader_free(r);
    chsm_secbuf_free(&mk);
    fclose(f);
    free(a.data);
}

static void test_empty_and_default_chunk(void **state)
{
    (void)state;
    struct arch a = make(0, 0, MK1);
    uint64_t n = 99;
    assert_int_equal(read_all(a.data, a.len, MK1, &n), CKR_OK);
    assert_int_equal(n, 0);
    free(a.data);
}

static void test_flip_every_byte(void **state)
{
    (void)state;
    struct arch a = make(5, 48, MK1);
    uint64_t n;
    for (size_t off = 0; off < a.len; off++) {
        uint8_t *copy = malloc(a.len);
        memcpy(copy, a.data, a.len);
        copy[off] ^= 0x01;
        CK_RV rv = read_all(copy, a.len, MK1, &n);
        if (!is_integrity(rv))
            fail_msg("flipped byte at offset %zu of %zu gave rv 0x%lx", off, a.len, (unsigned long)rv);
        free(copy);
    }
    free(a.data);
}

static void test_truncate_every_offset(void **state)
{
    (void)state;
    struct arch a = make(5, 48, MK1);
    uint64_t n;
    for (size_t len = 0; len < a.len; len++) {
        CK_RV rv = read_all(a.data, len, MK1, &n);
        if (!is_integrity(rv))
            fail_msg("truncation to %zu of %zu bytes gave rv 0x%lx", len, a.len, (unsigned long)rv);
    }
    assert_int_equal(read_all(a.data, a.len, MK1, &n), CKR_OK);
    assert_int_equal(n, 5);
    free(a.data);
}

static void test_appended_bytes(void **state)
{
    (void)state;
    struct arch a = make(3, 48, MK1);
    uint8_t *copy = malloc(a.len + 1);
    uint64_t n;
    memcpy(copy, a.data, a.len);
    copy[a.len] = 0;
    assert_int_equal(read_all(copy, a.len + 1, MK1, &n), CKR_ENCRYPTED_DATA_INVALID);
    free(copy);
    free(a.data);
}

static void test_wrong_key(void **state)
{
    (void)state;
    uint8_t other[32];
    struct arch a = make(3, 48, MK1);
    uint64_t n;
    memcpy(other, MK1, 32);
    other[31] ^= 0x80;
    assert_int_equal(read_all(a.data, a.len, other, &n), CKR_ENCRYPTED_DATA_INVALID);
    assert_int_equal(n, 0);
    free(a.data);
}

/* Two same-size middle chunks swapped: each authenticates alone, the index in the AAD catches the order. */
static void test_reordered_chunks(void **state)
{
    (void)state;
    struct arch a = make(40, 64, MK1);
    struct chsm_archive_header h;
    size_t hdr_len = 0, c0, c1, clen = 5 + 64 + 16;
    uint64_t n;
    assert_int_equal(chsm_archive_header_decode(a.data, a.len, &h, &hdr_len), CKR_OK);
    chsm_archive_header_free(&h);
    c0 = hdr_len + clen; /* chunk 1 */
    c1 = c0 + clen;      /* chunk 2 */
    assert_true(c1 + clen < a.len);
    assert_int_equal(chsm_load_le32(a.data + c0 + 1), 64);
    assert_int_equal(chsm_load_le32(a.data + c1 + 1), 64);
    uint8_t tmp[5 + 64 + 16];
    memcpy(tmp, a.data + c0, clen);
    memmove(a.data + c0, a.data + c1, clen);
    memcpy(a.data + c1, tmp, clen);
    assert_int_equal(read_all(a.data, a.len, MK1, &n), CKR_ENCRYPTED_DATA_INVALID);
    free(a.data);
}

static void test_newer_version_refused(void **state)
{
    (void)state;
    struct chsm_archive_header h, out;
    uint8_t *enc = NULL;
    size_t len = 0, used = 0;
    fill_header(&h, 0, 64);
    h.format_version = 3;
    assert_int_equal(chsm_archive_header_encode(&h, &enc, &len), CKR_OK);
    chsm_err_clear();
    assert_int_equal(chsm_archive_header_decode(enc, len, &out, &used), CKR_SAVED_STATE_INVALID);
    assert_non_null(strstr(chsm_err_last()->msg,
                           "archive format version 3 is newer than this craton-hsm-admin supports (1)"));
    uint64_t n;
    assert_int_equal(read_all(enc, len, MK1, &n), CKR_SAVED_STATE_INVALID);
    free(enc);
}

static void test_bad_magic(void **state)
{
    (void)state;
    static const uint8_t junk[64] = "this is not an archive, it is a text file of some length....";
    uint64_t n;
    assert_int_equal(read_all(junk, sizeof(junk), MK1, &n), CKR_DATA_INVALID);
}

/* The committed fixture of format version 1 must keep opening (never regenerated). */
static void test_fixture_v1(void **state)
{
    (void)state;
    char path[1024];
    const char *dir = getenv("CHSM_TEST_FIXTURES");
    uint8_t buf[8192];
    uint64_t n;
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/archive/format-v1.chsmbk", dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("fixture %s missing (tests/fixtures/archive/gen_fixture.c writes it once)", path);
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(read_all(buf, len, MK1, &n), CKR_OK);
    assert_int_equal(n, 7);
}

static int setup(void **state)
{
    (void)state;
    return chsm_crypto_init() == CKR_OK ? 0 : -1;
}

int chsm_test_archive(void);
int chsm_test_archive(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),          cmocka_unit_test(test_empty_and_default_chunk),
        cmocka_unit_test(test_flip_every_byte),     cmocka_unit_test(test_truncate_every_offset),
        cmocka_unit_test(test_appended_bytes),      cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_reordered_chunks),    cmocka_unit_test(test_newer_version_refused),
        cmocka_unit_test(test_bad_magic),           cmocka_unit_test(test_fixture_v1),
    };
    return cmocka_run_group_tests_name("archive", tests, setup, NULL);
}
