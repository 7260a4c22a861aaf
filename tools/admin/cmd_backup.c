/*
 * backup --pin SO --output FILE [--force]
 *
 * One archive from a consistent snapshot (a read transaction: other
 * processes keep writing). The SO PIN is checked through the store (it
 * counts toward the lockout). Every row is authenticated under the MK as
 * it is archived; nothing is published unless all pass: the archive goes
 * to a temporary file in the target directory (0600), is fsync'ed and then
 * linked into place (never replacing an existing file without --force).
 * With --output - the stream goes to stdout; a failure then leaves it
 * without its final chunk, which every reader rejects as truncated.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_io.h"
#include "common/bytes.h"
#include "audit/audit.h"
#include "common/timeutil.h"
#include "store_util.h"


struct out_file {
    const char *path;
    char tmp[4200];
    FILE *f;
    bool is_stdout;
};

static int out_open(struct out_file *o, const char *path, bool force)
{
    int fd;
    memset(o, 0, sizeof(*o));
    o->path = path;
    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO))
            return adm_fail(ADM_USAGE, "refusing to write a binary archive to a terminal; redirect --output - into "
                            "a pipe or file");
        o->is_stdout = true;
        o->f = stdout;
        return ADM_OK;
    }
    if (!force && adm_path_exists(path))
        return adm_fail(ADM_REFUSED, "output %s already exists; choose a new name or pass --force to replace it",
                        path);
    snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path);
    fd = mkstemp(o->tmp);
    if (fd < 0) {
        o->tmp[0] = '\0';
        return adm_fail(ADM_FAILED, "cannot create a temporary file beside %s: %s; check the directory exists and "
                        "is writable", path, strerror(errno));
    }
    if (fchmod(fd, 0600) != 0 || (o->f = fdopen(fd, "wb")) == NULL) {
        close(fd);
        return adm_fail(ADM_FAILED, "cannot prepare %s: %s", o->tmp, strerror(errno));
    }
    return ADM_OK;
}

static int out_commit(struct out_file *o, bool force)
{
    if (o->is_stdout)
        return fflush(stdout) == 0 ? ADM_OK : adm_fail(ADM_FAILED, "cannot write the archive to standard output");
    if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0)
        return adm_fail(ADM_FAILED, "cannot write %s: %s; check free space", o->tmp, strerror(errno));
    fclose(o->f);
    o->f = NULL;
    if (force ? rename(o->tmp, o->path) != 0 : link(o->tmp, o->path) != 0) {
        int e = errno;
        return e == EEXIST ? adm_fail(ADM_REFUSED, "output %s appeared while writing; choose a new name or pass "
                                      "--force", o->path)
                           : adm_fail(ADM_FAILED, "cannot publish %s: %s", o->path, strerror(e));
    }
    if (!force)
        unlink(o->tmp);
    o->tmp[0] = '\0';
    adm_fsync_parent(o->path);
    return ADM_OK;
}

static void out_abort(struct out_file *o)
{
    if (o->f != NULL && !o->is_stdout)
        fclose(o->f);
    if (o->tmp[0] != '\0')
        unlink(o->tmp);
    o->f = NULL;
}

static void fill_header(struct adm *a, const struct chsm_config *cfg, const struct chsm_token_state *ts,
                        struct chsm_store *st, uint64_t count, struct chsm_archive_header *h)
{
    struct chsm_audit *au = NULL;
    memset(h, 0, sizeof(*h));
    snprintf(h->software_version, sizeof(h->software_version), "%s", CHSM_VERSION_STRING);
    adm_trim(h->serial, sizeof(h->serial), ts->serial, sizeof(ts->serial));
    adm_trim(h->token_label, sizeof(h->token_label), ts->label, sizeof(ts->label));
    snprintf(h->config_label, sizeof(h->config_label), "%s", cfg->token.label);
    h->slot = adm_slot(a);
    h->object_count = count;
    h->created_unix_us = chsm_time_unix_us();
    h->store_format_version = chsm_store_format_version(st);
    if (cfg->audit.enabled && chsm_audit_open(cfg, &au) == CKR_OK) {
        if (chsm_audit_head(au, &h->audit_seq, h->audit_head) != CKR_OK) {
            h->audit_seq = 0;
            h->audit_head[0] = '\0';
        }
        chsm_audit_close(au);
    }
}

/* Stream every snapshot row into the archive, authenticating each under the MK first. */
static int archive_rows(struct adm *a, struct chsm_store_snapshot *sn, const struct chsm_secbuf *mk,
                        const char serial[16], struct chsm_archive_writer *w, uint64_t total)
{
    struct chsm_snapshot_row row;
    struct chsm_archive_row ar;
    struct adm_progress pr;
    uint64_t n = 0;
    bool done = false;
    CK_RV rv;
    adm_progress_start(&pr, a, "backup", total);
    while ((rv = chsm_store_snapshot_next(sn, &row, &done)) == CKR_OK && !done) {
        struct chsm_store_object obj;
        memset(&obj, 0, sizeof(obj));
        rv = chsm_store_open_row(mk, serial, &row, &obj);
        chsm_store_object_free(&obj);
        if (rv != CKR_OK) {
            char hex[33];
            chsm_hex_encode(row.id, CHSM_OBJECT_ID_LEN, hex);
            return adm_fail(ADM_INTEGRITY, "store record %s fails authentication under the master key; nothing was "
                            "written; investigate the store (restore the last good backup)", hex);
        }
        memcpy(ar.id, row.id, sizeof(ar.id));
        ar.class_ = row.class_;
        ar.key_type = row.key_type;
        ar.blob = row.blob;
        ar.blob_len = row.blob_len;
        if ((rv = chsm_archive_write_row(w, &ar)) != CKR_OK)
            return adm_fail_rv(rv, "cannot write the archive", "check free space");
        adm_progress_step(&pr, ++n);
    }
    adm_progress_end(&pr);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot read the store snapshot", "retry; if it persists check the store");
    return ADM_OK;
}

static int do_backup(struct adm *a, const struct chsm_config *cfg, struct chsm_store *st,
                     const struct chsm_secbuf *pin, struct out_file *o)
{
    struct chsm_secbuf mk = {0};
    struct chsm_store_snapshot *sn = NULL;
    struct chsm_archive_writer *w = NULL;
    struct chsm_archive_header h;
    struct chsm_token_state ts;
    CK_RV rv;
    int rc = ADM_OK;
    memset(&h, 0, sizeof(h));
    rv = chsm_store_token_get(st, adm_slot(a), &ts);
    if (rv == CKR_OK && !ts.initialized)
        rv = CKR_TOKEN_NOT_RECOGNIZED;
    if (rv != CKR_OK) {
        rc = rv == CKR_TOKEN_NOT_RECOGNIZED ? adm_fail(ADM_FAILED, "slot %u holds no initialised token; nothing to "
                                                       "back up", adm_slot(a))
                                            : adm_fail_rv(rv, "cannot read the token", "check the store");
        goto out;
    }
    adm_timing("open store", false);
    rv = chsm_store_pin_check(st, adm_slot(a), CHSM_PIN_SO, pin->data, pin->len, cfg->security.max_failed_logins,
                              &mk, NULL);
    adm_timing("SO PIN check", true);
    if (rv != CKR_OK) {
        rc = rv == CKR_PIN_INCORRECT ? adm_fail(ADM_AUTH, "wrong SO PIN (the attempt counts toward the lockout); "
                                                "give the SO PIN, not the user PIN")
             : rv == CKR_PIN_LOCKED  ? adm_fail(ADM_AUTH, "the SO PIN is locked after too many failures; it cannot "
                                                "be unlocked, restore or re-initialise the token")
                                     : adm_fail_rv(rv, "SO PIN check failed", "check the store");
        goto out;
    }
    rv = chsm_store_snapshot_begin(st, adm_slot(a), &sn);
    if (rv != CKR_OK) {
        rc = adm_fail_rv(rv, "cannot take a store snapshot", "retry; if it persists check the store");
        goto out;
    }
    fill_header(a, cfg, &ts, st, chsm_store_snapshot_count(sn), &h);
    rv = chsm_store_snapshot_token(sn, (const uint8_t **)&h.token_blob, &h.token_blob_len);
    if (rv == CKR_OK)
        rv = chsm_archive_writer_new(o->f, &h, &mk, &w);
    h.token_blob = NULL; /* borrowed from the snapshot */
    if (rv != CKR_OK) {
        rc = adm_fail_rv(rv, "cannot start the archive", "check free space and permissions");
        goto out;
    }
    rc = archive_rows(a, sn, &mk, ts.serial, w, chsm_store_snapshot_count(sn));
    if (rc == ADM_OK && (rv = chsm_archive_writer_finish(w)) != CKR_OK)
        rc = adm_fail_rv(rv, "cannot finish the archive", "check free space");
    adm_timing("snapshot, authenticate and archive rows", false);
    if (rc == ADM_OK && a->json && !o->is_stdout)
        printf("{\"output\":\"%s\",\"serial\":\"%s\",\"token_label\":\"%s\",\"objects\":%llu,\"format_version\":%u}\n",
               o->path, h.serial, h.token_label, (unsigned long long)h.object_count, h.format_version);
    else if (rc == ADM_OK && !a->quiet && !o->is_stdout)
        fprintf(stderr, "backup of token \"%s\" (serial %s): %llu objects written to %s\n", h.token_label, h.serial,
                (unsigned long long)h.object_count, o->path);
out:
    chsm_archive_writer_free(w);
    if (sn != NULL)
        chsm_store_snapshot_end(sn);
    chsm_secbuf_free(&mk);
    return rc;
}

/* Record the backup in the audit log (issue 5: backup is an audited event). A log failure only warns: the store is unchanged. */
static void audit_backup(const struct chsm_config *cfg, const char *out, uint32_t slot)
{
    struct chsm_audit *au = NULL;
    struct chsm_audit_event ev;
    char detail[512];
    if (!cfg->audit.enabled)
        return;
    snprintf(detail, sizeof(detail), "archive %.400s", out);
    memset(&ev, 0, sizeof(ev));
    ev.event = "backup";
    ev.slot = (int64_t)slot;
    ev.user = CHSM_AUDIT_USER_SO;
    ev.result = CKR_OK;
    ev.detail = detail;
    if (chsm_audit_open(cfg, &au) != CKR_OK || chsm_audit_event(au, &ev) != CKR_OK)
        adm_warn("the backup was written but the audit log could not record it; run 'craton-hsm-admin audit verify'");
    if (au != NULL)
        chsm_audit_close(au);
}

int cmd_backup(struct adm *a)
{
    static const struct adm_optspec specs[] = {{"--output", true, false}, {"--force", false, false},
                                               ADM_PIN_SPECS("pin")};
    const struct chsm_config *cfg;
    struct chsm_store *st = NULL;
    struct chsm_secbuf pin = {0};
    struct out_file o;
    const char *out;
    int rc;
    if (a->argc >= 2 && strcmp(a->argv[1], "verify") == 0)
        return adm_backup_verify(a);
    memset(&o, 0, sizeof(o));
    rc = adm_parse(a, 1, specs, CHSM_ARRAY_LEN(specs), 0);
    if (rc != ADM_OK)
        return rc;
    if ((out = adm_opt(a, "--output")) == NULL)
        return adm_fail(ADM_USAGE, "backup needs --output FILE (or --output - for standard output)");
    if ((rc = adm_config(a, &cfg)) != ADM_OK)
        return rc;
    if (strcmp(out, "-") != 0 && !adm_flag(a, "--force") && adm_path_exists(out))
        return adm_fail(ADM_REFUSED, "output %s already exists; choose a new name or pass --force to replace it",
                        out);
    if ((rc = adm_pin(a, "pin", "SO PIN", false, &pin)) != ADM_OK)
        return rc;
    if ((rc = adm_store_open_existing(cfg, &st)) != ADM_OK)
        goto out;
    if ((rc = out_open(&o, out, adm_flag(a, "--force"))) != ADM_OK)
        goto out;
    rc = do_backup(a, cfg, st, &pin, &o);
    if (rc == ADM_OK)
        rc = out_commit(&o, adm_flag(a, "--force"));
    adm_timing("publish (fsync, link)", false);
    if (rc == ADM_OK)
        audit_backup(cfg, out, adm_slot(a));
    adm_timing("audit event", false);
out:
    out_abort(&o);
    if (st != NULL)
        chsm_store_close(st);
    chsm_secbuf_free(&pin);
    return rc;
}
