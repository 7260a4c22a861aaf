/*
 * The restore and backup sequences of craton-hsm-admin, replayed with the
 * library calls only (see portab.h). Refusals are returned as the library
 * reports them so the test can assert the precise CKR_* code.
 */
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "common/timeutil.h"
#include "portab.h"

static void serial16(const char *serial, char out[16])
{
    memset(out, ' ', 16);
    memcpy(out, serial, strnlen(serial, 16));
}

/* Blank-padded token field -> C string with trailing blanks trimmed (what the archive header holds). */
static void trim(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t n = srclen;
    while (n > 0 && src[n - 1] == ' ')
        n--;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void list_row(const struct chsm_archive_row *ar, const struct chsm_store_object *obj)
{
    char hex[2 * CHSM_ARCHIVE_ID_LEN + 1];
    const struct chsm_attr *label = chsm_attrlist_get(&obj->attrs, CKA_LABEL);
    chsm_hex_encode(ar->id, CHSM_ARCHIVE_ID_LEN, hex);
    printf("  %s class=0x%llx key_type=0x%llx size=%zu label=%.*s\n", hex, (unsigned long long)ar->class_,
           (unsigned long long)ar->key_type, ar->blob_len, label ? (int)label->len : 1,
           label ? (const char *)label->value : "-");
}

/* Authenticate and import every row; the caller commits or aborts. */
static CK_RV import_rows(struct chsm_archive_reader *r, const struct chsm_secbuf *mk, const char ser[16],
                         struct chsm_store *st, uint32_t slot, uint64_t *n)
{
    CK_RV rv = CKR_OK;
    bool done = false;
    *n = 0;
    while (rv == CKR_OK) {
        struct chsm_archive_row ar;
        struct chsm_snapshot_row sr;
        struct chsm_store_object obj;
        if ((rv = chsm_archive_reader_next(r, &ar, &done)) != CKR_OK || done)
            break;
        memcpy(sr.id, ar.id, CHSM_OBJECT_ID_LEN);
        sr.class_ = ar.class_;
        sr.key_type = ar.key_type;
        sr.blob = ar.blob;
        sr.blob_len = ar.blob_len;
        memset(&obj, 0, sizeof(obj));
        rv = chsm_store_open_row(mk, ser, &sr, &obj);
        if (rv == CKR_OK)
            list_row(&ar, &obj);
        chsm_store_object_free(&obj);
        if (rv == CKR_OK)
            rv = chsm_store_import_row(st, slot, &sr);
        if (rv == CKR_OK)
            (*n)++;
    }
    return rv;
}

static CK_RV import_all(struct chsm_archive_reader *r, const struct chsm_secbuf *mk, const char *dir,
                        struct pt_restored *out)
{
    const struct chsm_archive_header *h = chsm_archive_reader_header(r);
    struct chsm_store *st = NULL;
    struct chsm_token_state ts;
    char ser[16];
    CK_RV rv = CKR_OK;
    serial16(h->serial, ser);
    CHSM_GUARD(chsm_store_open(dir, &st));
    CHSM_GUARD(chsm_store_import_begin(st));
    rv = chsm_store_import_token(st, h->slot, h->token_blob, h->token_blob_len);
    if (rv == CKR_OK)
        rv = import_rows(r, mk, ser, st, h->slot, &out->rows);
    if (rv != CKR_OK) {
        chsm_store_import_abort(st);
        goto out;
    }
    CHSM_GUARD(chsm_store_import_commit(st));
    CHSM_GUARD(chsm_store_token_get(st, h->slot, &ts));
    CHSM_ENSURE(ts.initialized && ts.object_count == h->object_count && out->rows == h->object_count,
                CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, "portab", "restored %llu objects, archive says %llu",
                         (unsigned long long)ts.object_count, (unsigned long long)h->object_count));
out:
    chsm_store_close(st);
    return rv;
}

CK_RV pt_restore(const char *archive, const char *so_pin, const char *dir, struct pt_restored *out)
{
    struct chsm_archive_reader *r = NULL;
    struct chsm_secbuf mk = {0};
    const struct chsm_archive_header *h;
    CK_RV rv = CKR_OK;
    FILE *f = fopen(archive, "rb");
    memset(out, 0, sizeof(*out));
    CHSM_ENSURE(f != NULL, CHSM_ERR(CKR_DEVICE_ERROR, "portab", "cannot read %s", archive));
    CHSM_GUARD(chsm_archive_reader_open(f, &r));
    h = chsm_archive_reader_header(r);
    snprintf(out->serial, sizeof(out->serial), "%s", h->serial);
    snprintf(out->token_label, sizeof(out->token_label), "%s", h->token_label);
    snprintf(out->config_label, sizeof(out->config_label), "%s", h->config_label);
    out->slot = h->slot;
    out->object_count = h->object_count;
    printf("archive %s: format v%u, software %s, serial %s, token \"%s\", %llu objects\n", archive,
           h->format_version, h->software_version, h->serial, h->token_label, (unsigned long long)h->object_count);
    CHSM_GUARD(chsm_store_unwrap_mk_from_token_blob(h->token_blob, h->token_blob_len, CHSM_PIN_SO,
                                                    (const uint8_t *)so_pin, strlen(so_pin), &mk));
    CHSM_GUARD(chsm_archive_reader_unlock(r, &mk));
    rv = import_all(r, &mk, dir, out);
out:
    chsm_archive_reader_free(r);
    chsm_secbuf_free(&mk);
    if (f != NULL)
        fclose(f);
    return rv;
}

static CK_RV archive_rows(struct chsm_store_snapshot *sn, const struct chsm_secbuf *mk, const char ser[16],
                          struct chsm_archive_writer *w)
{
    struct chsm_snapshot_row row;
    bool done = false;
    CK_RV rv;
    while ((rv = chsm_store_snapshot_next(sn, &row, &done)) == CKR_OK && !done) {
        struct chsm_store_object obj;
        struct chsm_archive_row ar;
        memset(&obj, 0, sizeof(obj));
        rv = chsm_store_open_row(mk, ser, &row, &obj);
        chsm_store_object_free(&obj);
        if (rv != CKR_OK)
            return rv;
        memcpy(ar.id, row.id, sizeof(ar.id));
        ar.class_ = row.class_;
        ar.key_type = row.key_type;
        ar.blob = row.blob;
        ar.blob_len = row.blob_len;
        if ((rv = chsm_archive_write_row(w, &ar)) != CKR_OK)
            return rv;
    }
    return rv;
}

CK_RV pt_backup(const char *dir, const char *so_pin, const struct pt_restored *like, const char *out_path)
{
    struct chsm_store *st = NULL;
    struct chsm_store_snapshot *sn = NULL;
    struct chsm_archive_writer *w = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_archive_header h;
    struct chsm_token_state ts;
    FILE *f = NULL;
    CK_RV rv = CKR_OK;
    memset(&h, 0, sizeof(h));
    CHSM_GUARD(chsm_store_open(dir, &st));
    CHSM_GUARD(chsm_store_token_get(st, like->slot, &ts));
    CHSM_GUARD(chsm_store_pin_check(st, like->slot, CHSM_PIN_SO, (const uint8_t *)so_pin, strlen(so_pin),
                                    PT_MAX_FAILED, &mk, NULL));
    CHSM_GUARD(chsm_store_snapshot_begin(st, like->slot, &sn));
    snprintf(h.software_version, sizeof(h.software_version), "%s", CHSM_VERSION_STRING);
    trim(h.serial, sizeof(h.serial), ts.serial, sizeof(ts.serial));
    trim(h.token_label, sizeof(h.token_label), ts.label, sizeof(ts.label));
    snprintf(h.config_label, sizeof(h.config_label), "%s", like->config_label);
    h.slot = like->slot;
    h.object_count = chsm_store_snapshot_count(sn);
    h.created_unix_us = chsm_time_unix_us();
    h.store_format_version = chsm_store_format_version(st);
    CHSM_GUARD(chsm_store_snapshot_token(sn, (const uint8_t **)&h.token_blob, &h.token_blob_len));
    f = fopen(out_path, "wb");
    CHSM_ENSURE(f != NULL, CHSM_ERR(CKR_DEVICE_ERROR, "portab", "cannot write %s", out_path));
    CHSM_GUARD(chsm_archive_writer_new(f, &h, &mk, &w));
    CHSM_GUARD(archive_rows(sn, &mk, ts.serial, w));
    CHSM_GUARD(chsm_archive_writer_finish(w));
out:
    h.token_blob = NULL; /* borrowed from the snapshot */
    chsm_archive_writer_free(w);
    if (f != NULL && fclose(f) != 0 && rv == CKR_OK)
        rv = CHSM_ERR(CKR_DEVICE_ERROR, "portab", "cannot close %s", out_path);
    if (sn != NULL)
        chsm_store_snapshot_end(sn);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    return rv;
}
