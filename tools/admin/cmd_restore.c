/*
 * restore --pin SO --input FILE [--force] [--audit-archive DIR]
 *
 * Every refusal happens before anything on disk changes (spec, "Restore to
 * the same host" / "Restore to a new host"; brief, "Backup and restore"):
 * a daemon holding the store (5), an existing store without --force (5),
 * an unreadable (1) / damaged (4) / newer (5) archive, a config whose
 * serial_number or label differs from the archive's (5), a wrong SO PIN
 * (3). The new store is built in a sibling mkdtemp directory (mode 0700,
 * removed on every failure), every record authenticated, then renamed
 * into place; with --force the old store is first moved to
 * <store>.quarantine.<unix time>.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_io.h"
#include "restore_audit.h"
#include "store_util.h"

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    CHSM_UNUSED(sb);
    CHSM_UNUSED(flag);
    CHSM_UNUSED(ftw);
    return remove(p);
}

/* Only ever called on the mkdtemp directory this run created (make_scratch). */
static void rm_rf(const char *dir)
{
    (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * The scratch store beside the real one (same filesystem, so the final
 * rename is atomic): "<storage_path>.restore.XXXXXX" from mkdtemp, mode
 * 0700, created by this run. A predictable name (the pid) let anyone with
 * write access to the parent plant a directory or symlink there for us to
 * rm -rf or to build the store in; now nothing is removed that this run
 * did not create. On failure tmp is "" (nothing to clean up).
 */
static int make_scratch(const char *dir, char *tmp, size_t cap)
{
    size_t len = strlen(dir);
    int n;
    /* "store/" must not put the scratch directory inside the store it replaces. */
    while (len > 1 && dir[len - 1] == '/')
        len--;
    n = snprintf(tmp, cap, "%.*s.restore.XXXXXX", (int)len, dir);
    if (n < 0 || (size_t)n >= cap) {
        tmp[0] = '\0';
        return adm_fail(ADM_FAILED, "[token].storage_path %s is too long; shorten it", dir);
    }
    if (mkdtemp(tmp) == NULL) {
        int e = errno;
        tmp[0] = '\0';
        return adm_fail(ADM_FAILED, "cannot create a scratch directory beside %s: %s; check the parent directory of "
                        "[token].storage_path exists and is writable", dir, strerror(e));
    }
    return ADM_OK;
}

static int refuse_early(struct adm *a, const struct chsm_config *cfg)
{
    const char *dir = cfg->token.storage_path;
    int held;
    CHSM_UNUSED(a);
    if (chsm_config_is_volatile(cfg))
        return adm_fail(ADM_REFUSED, "[token].storage_path selects a volatile in-memory store; set a directory to "
                        "restore into");
    held = chsm_store_lock_probe(dir);
    if (held == 1)
        return adm_fail(ADM_REFUSED, "a running daemon holds the store %s; stop it first (sudo systemctl stop "
                        "craton-hsm)", dir);
    if (held < 0)
        return adm_fail(ADM_FAILED, "cannot probe the store lock in %s; check permissions", dir);
    if (adm_dir_nonempty(dir) && !adm_flag(a, "--force"))
        return adm_fail(ADM_REFUSED, "the store %s already exists; quarantine it first (mv %s %s.quarantine.$(date "
                        "+%%s)) or pass --force", dir, dir, dir);
    return ADM_OK;
}

static int check_identity(const struct chsm_config *cfg, const struct chsm_archive_header *h)
{
    if (strcmp(cfg->token.serial_number, h->serial) != 0)
        return adm_fail(ADM_REFUSED, "config [token].serial_number \"%s\" differs from the archive's \"%s\"; never "
                        "change serial_number during a restore, install the config from the backup bundle",
                        cfg->token.serial_number, h->serial);
    if (strcmp(cfg->token.label, h->config_label) != 0)
        return adm_fail(ADM_REFUSED, "config [token].label \"%s\" differs from the archive's \"%s\"; never change "
                        "label during a restore, install the config from the backup bundle", cfg->token.label,
                        h->config_label);
    return ADM_OK;
}

/* Import every archived row into the empty store at tmp, authenticating each. */
static int build(struct adm *a, struct adm_in *in, const char *tmp)
{
    const struct chsm_archive_header *h = chsm_archive_reader_header(in->r);
    struct chsm_store *st = NULL;
    struct adm_progress pr;
    struct chsm_token_state ts;
    uint64_t n = 0;
    bool done = false;
    CK_RV rv = chsm_store_open(tmp, &st);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot create the new store", "check the parent directory is writable");
    rv = chsm_store_import_begin(st);
    if (rv == CKR_OK)
        rv = chsm_store_import_token(st, h->slot, h->token_blob, h->token_blob_len);
    adm_progress_start(&pr, a, "restore", h->object_count);
    while (rv == CKR_OK) {
        struct chsm_archive_row ar;
        struct chsm_snapshot_row sr;
        struct chsm_store_object obj;
        if ((rv = chsm_archive_reader_next(in->r, &ar, &done)) != CKR_OK || done)
            break;
        adm_row_to_store(&ar, &sr);
        memset(&obj, 0, sizeof(obj));
        rv = chsm_store_open_row(&in->mk, in->serial16, &sr, &obj);
        chsm_store_object_free(&obj);
        if (rv != CKR_OK) {
            rv = CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, "admin", "archived record %llu fails authentication",
                          (unsigned long long)n);
            break;
        }
        rv = chsm_store_import_row(st, h->slot, &sr);
        adm_progress_step(&pr, ++n);
    }
    adm_progress_end(&pr);
    adm_timing("decrypt, authenticate and import rows", false);
    /* One transaction: a failure anywhere leaves the scratch store empty (and it is removed anyway). */
    if (rv == CKR_OK)
        rv = chsm_store_import_commit(st);
    else
        chsm_store_import_abort(st);
    if (rv == CKR_OK)
        rv = chsm_store_token_get(st, h->slot, &ts);
    if (rv == CKR_OK && (!ts.initialized || ts.object_count != h->object_count))
        rv = CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, "admin", "restored store holds %llu objects, archive says %llu",
                      (unsigned long long)ts.object_count, (unsigned long long)h->object_count);
    chsm_store_close(st);
    adm_timing("commit and check", false);
    if (rv != CKR_OK)
        return adm_archive_fail(rv, "restore failed, nothing was changed");
    return ADM_OK;
}

static int put_in_place(struct adm *a, const char *dir, const char *tmp)
{
    char q[4200];
    if (adm_path_exists(dir)) {
        if (!adm_flag(a, "--force") && adm_dir_nonempty(dir))
            return adm_fail(ADM_REFUSED, "the store %s appeared during the restore; quarantine it and retry", dir);
        if (adm_dir_nonempty(dir)) {
            snprintf(q, sizeof(q), "%s.quarantine.%lld", dir, (long long)time(NULL));
            /* Never clobber an earlier quarantine made in the same second. */
            for (int i = 1; adm_path_exists(q) && i < 100; i++)
                snprintf(q, sizeof(q), "%s.quarantine.%lld.%d", dir, (long long)time(NULL), i);
            if (rename(dir, q) != 0)
                return adm_fail(ADM_FAILED, "cannot quarantine %s: %s; move it aside by hand", dir, strerror(errno));
            if (!a->quiet)
                fprintf(stderr, "craton-hsm-admin: existing store moved to %s\n", q);
        } else if (rmdir(dir) != 0) {
            return adm_fail(ADM_FAILED, "cannot replace the empty directory %s: %s", dir, strerror(errno));
        }
    }
    if (rename(tmp, dir) != 0)
        return adm_fail(ADM_FAILED, "cannot move the restored store into %s: %s", dir, strerror(errno));
    adm_fsync_parent(dir);
    return ADM_OK;
}

int adm_restore_into(struct adm *a, const struct chsm_config *cfg, const struct chsm_secbuf *pin)
{
    const char *dir = cfg->token.storage_path;
    char tmp[4200];
    struct adm_in in;
    int rc;
    tmp[0] = '\0';
    if ((rc = adm_in_open(adm_opt(a, "--input"), &in)) != ADM_OK)
        goto out;
    if ((rc = adm_archive_not_newer(chsm_archive_reader_header(in.r))) != ADM_OK ||
        (rc = check_identity(cfg, chsm_archive_reader_header(in.r))) != ADM_OK)
        goto out;
    adm_timing("read header", false);
    if ((rc = adm_in_unlock(&in, pin)) != ADM_OK)
        goto out;
    adm_timing("unwrap master key", true);
    if ((rc = make_scratch(dir, tmp, sizeof(tmp))) != ADM_OK)
        goto out;
    if ((rc = build(a, &in, tmp)) != ADM_OK || (rc = put_in_place(a, dir, tmp)) != ADM_OK)
        goto out;
    tmp[0] = '\0';
    adm_timing("publish (rename)", false);
    rc = adm_restore_audit(a, cfg, chsm_archive_reader_header(in.r));
    adm_timing("audit log", false);
    if (rc == ADM_OK && !a->quiet) {
        const struct chsm_archive_header *h = chsm_archive_reader_header(in.r);
        fprintf(stderr, "restored token \"%s\" (serial %s): %llu objects into %s\n", h->token_label, h->serial,
                (unsigned long long)h->object_count, dir);
    }
out:
    if (tmp[0] != '\0')
        rm_rf(tmp);
    adm_in_close(&in);
    return rc;
}

int cmd_restore(struct adm *a)
{
    static const struct adm_optspec specs[] = {{"--input", true, false}, {"--force", false, false},
                                               {"--audit-archive", true, false}, ADM_PIN_SPECS("pin")};
    const struct chsm_config *cfg;
    struct chsm_secbuf pin = {0};
    int rc = adm_parse(a, 1, specs, CHSM_ARRAY_LEN(specs), 0);
    if (rc != ADM_OK)
        return rc;
    if (adm_opt(a, "--input") == NULL)
        return adm_fail(ADM_USAGE, "restore needs --input FILE (or --input - for standard input)");
    if ((rc = adm_config(a, &cfg)) != ADM_OK || (rc = refuse_early(a, cfg)) != ADM_OK)
        return rc;
    if (strcmp(adm_opt(a, "--input"), "-") == 0 && adm_opt(a, "--pin") && strcmp(adm_opt(a, "--pin"), "-") == 0)
        return adm_fail(ADM_USAGE, "--pin - and --input - both want standard input; use --pin-file or --pin-env");
    if ((rc = adm_pin(a, "pin", "SO PIN", false, &pin)) != ADM_OK)
        return rc;
    rc = adm_restore_into(a, cfg, &pin);
    chsm_secbuf_free(&pin);
    return rc;
}
