/* Backup RPC: see backup.h. Mirrors tools/admin/cmd_backup.c's do_backup over an in-memory stream. */
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "common/timeutil.h"
#include "core/core.h"
#include "store/archive.h"
#include "store/store.h"

static void trim(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t n = srclen;
    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
        n--;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void fill_header(uint32_t slot, const struct chsm_token_state *ts, struct chsm_store *st, uint64_t count,
                        struct chsm_archive_header *h)
{
    const struct chsm_config *cfg = chsm_core_config();
    struct chsm_core_status cs;

    memset(h, 0, sizeof *h);
    snprintf(h->software_version, sizeof h->software_version, "%s", CHSM_VERSION_STRING);
    trim(h->serial, sizeof h->serial, ts->serial, sizeof ts->serial);
    trim(h->token_label, sizeof h->token_label, ts->label, sizeof ts->label);
    snprintf(h->config_label, sizeof h->config_label, "%s", cfg ? cfg->token.label : "");
    h->slot = slot;
    h->object_count = count;
    h->created_unix_us = chsm_time_unix_us();
    h->store_format_version = chsm_store_format_version(st);
    if (chsm_core_get_status(&cs) == CKR_OK) {
        h->audit_seq = cs.audit_seq;
        cs.audit_head[sizeof cs.audit_head - 1] = '\0';
        snprintf(h->audit_head, sizeof h->audit_head, "%s", cs.audit_head);
    }
}

static CK_RV archive_rows(struct chsm_store_snapshot *sn, const struct chsm_secbuf *mk, const char serial[16],
                          struct chsm_archive_writer *w)
{
    struct chsm_snapshot_row row;
    struct chsm_archive_row ar;
    bool done = false;
    CK_RV rv;

    while ((rv = chsm_store_snapshot_next(sn, &row, &done)) == CKR_OK && !done) {
        struct chsm_store_object obj;
        memset(&obj, 0, sizeof obj);
        rv = chsm_store_open_row(mk, serial, &row, &obj);
        chsm_store_object_free(&obj);
        if (rv != CKR_OK)
            return CHSM_ERR(CKR_DEVICE_ERROR, "daemon", "a store record fails authentication; nothing was archived");
        memcpy(ar.id, row.id, sizeof ar.id);
        ar.class_ = row.class_;
        ar.key_type = row.key_type;
        ar.blob = row.blob;
        ar.blob_len = row.blob_len;
        rv = chsm_archive_write_row(w, &ar);
        if (rv != CKR_OK)
            return rv;
    }
    return rv;
}

static CK_RV write_archive(struct chsm_store *st, uint32_t slot, const uint8_t *pin, size_t pin_len, FILE *f)
{
    const struct chsm_config *cfg = chsm_core_config();
    struct chsm_secbuf mk = {0};
    struct chsm_store_snapshot *sn = NULL;
    struct chsm_archive_writer *w = NULL;
    struct chsm_archive_header h;
    struct chsm_token_state ts;
    CK_RV rv = CKR_OK;

    memset(&h, 0, sizeof h);
    CHSM_GUARD(chsm_store_token_get(st, slot, &ts));
    CHSM_ENSURE(ts.initialized, CHSM_ERR(CKR_TOKEN_NOT_RECOGNIZED, "daemon", "slot holds no initialised token"));
    CHSM_GUARD(chsm_store_pin_check(st, slot, CHSM_PIN_SO, pin, pin_len, cfg->security.max_failed_logins, &mk,
                                    NULL));
    CHSM_GUARD(chsm_store_snapshot_begin(st, slot, &sn));
    fill_header(slot, &ts, st, chsm_store_snapshot_count(sn), &h);
    rv = chsm_store_snapshot_token(sn, (const uint8_t **)&h.token_blob, &h.token_blob_len);
    if (rv == CKR_OK)
        rv = chsm_archive_writer_new(f, &h, &mk, &w);
    h.token_blob = NULL; /* borrowed from the snapshot */
    CHSM_GUARD(rv);
    CHSM_GUARD(archive_rows(sn, &mk, ts.serial, w));
    CHSM_GUARD(chsm_archive_writer_finish(w));
out:
    chsm_archive_writer_free(w);
    if (sn != NULL)
        chsm_store_snapshot_end(sn);
    chsm_secbuf_free(&mk);
    return rv;
}

CK_RV chsm_daemon_backup(uint32_t slot, const uint8_t *so_pin, size_t pin_len, size_t max_bytes, uint8_t **out,
                         size_t *out_len)
{
    const struct chsm_config *cfg = chsm_core_config();
    struct chsm_store *st = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    CK_RV rv = CKR_OK;

    *out = NULL;
    *out_len = 0;
    CHSM_ENSURE(cfg != NULL, CKR_CRYPTOKI_NOT_INITIALIZED);
    CHSM_ENSURE(so_pin != NULL && pin_len > 0, CHSM_ERR(CKR_ARGUMENTS_BAD, "daemon", "so_pin is required"));
    CHSM_ENSURE(!chsm_config_is_volatile(cfg),
                CHSM_ERR(CKR_FUNCTION_NOT_SUPPORTED, "daemon", "a volatile store cannot be backed up"));
    /* A second handle on the store: a read snapshot beside the core's own. */
    CHSM_GUARD(chsm_store_open(cfg->token.storage_path, &st));
    f = open_memstream(&buf, &len);
    CHSM_ENSURE(f != NULL, CKR_HOST_MEMORY);
    rv = write_archive(st, slot, so_pin, pin_len, f);
    if (fclose(f) != 0 && rv == CKR_OK)
        rv = CKR_HOST_MEMORY;
    f = NULL;
    CHSM_GUARD(rv);
    CHSM_ENSURE(len <= max_bytes, CHSM_ERR(CKR_DEVICE_MEMORY, "daemon",
                                           "archive of %zu bytes exceeds max_send_message_bytes; use "
                                           "craton-hsm-admin backup on the host", len));
    *out = (uint8_t *)buf;
    *out_len = len;
    buf = NULL;
out:
    free(buf);
    if (st != NULL)
        chsm_store_close(st);
    return rv;
}
