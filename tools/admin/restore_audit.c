#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "common/bytes.h"
#include "crypto/crypto.h"
#include "restore_audit.h"

static bool is_segment(const char *name)
{
    size_t n = strlen(name);
    if (n < 8 || name[n - 7] != '.')
        return false;
    for (size_t i = n - 6; i < n; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    return true;
}

/* The segment whose name sorts last (numbered suffixes sort by number). */
static bool newest_segment(const char *dir, char *out, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char best[1024] = "";
    if (d == NULL)
        return false;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        size_t n = strlen(nm);
        if (!is_segment(nm) || n >= sizeof(best))
            continue;
        if (best[0] == '\0' || strcmp(nm + n - 6, best + strlen(best) - 6) > 0 ||
            (strcmp(nm + n - 6, best + strlen(best) - 6) == 0 && strcmp(nm, best) > 0))
            snprintf(best, sizeof(best), "%s", nm);
    }
    closedir(d);
    if (best[0] == '\0')
        return false;
    snprintf(out, len, "%s/%s", dir, best);
    return true;
}

int adm_audit_archive_head(const char *dir, uint64_t *seq, char hash[65], char *file, size_t file_len)
{
    char line[16384], last[16384] = "";
    uint8_t sum[32];
    const char *p;
    FILE *f;
    if (!newest_segment(dir, file, file_len))
        return adm_fail(ADM_FAILED, "no audit segments (<log>.NNNNNN) in %s; give the directory holding the archived "
                        "segments", dir);
    if ((f = fopen(file, "r")) == NULL)
        return adm_fail(ADM_FAILED, "cannot read audit segment %s; check permissions", file);
    while (fgets(line, sizeof(line), f))
        if (line[0] != '\n')
            memcpy(last, line, sizeof(line));
    fclose(f);
    last[strcspn(last, "\n")] = '\0';
    p = strstr(last, "\"seq\":");
    if (last[0] == '\0' || p == NULL)
        return adm_fail(ADM_INTEGRITY, "the last line of audit segment %s is not an audit entry; verify the archive "
                        "with 'craton-hsm-admin audit verify --segments %s'", file, dir);
    *seq = strtoull(p + 6, NULL, 10);
    if (chsm_sha256(last, strlen(last), sum) != CKR_OK)
        return adm_fail(ADM_FAILED, "cannot hash the audit segment; retry");
    chsm_hex_encode(sum, sizeof(sum), hash);
    return ADM_OK;
}

static int append_restore_event(const struct chsm_config *cfg, const char *detail)
{
    struct chsm_audit *au = NULL;
    struct chsm_audit_event ev;
    CK_RV rv = chsm_audit_open(cfg, &au);
    if (rv == CKR_OK) {
        memset(&ev, 0, sizeof(ev));
        ev.event = "restore";
        ev.slot = -1;
        ev.user = CHSM_AUDIT_USER_SO;
        ev.result = CKR_OK;
        ev.detail = detail;
        rv = chsm_audit_event(au, &ev);
        chsm_audit_close(au);
    }
    return rv == CKR_OK ? ADM_OK : adm_fail_rv(rv, "the store was restored but the audit log could not record it",
                                               "check [audit].log_path, then run 'craton-hsm-admin audit verify'");
}

int adm_restore_audit(struct adm *a, const struct chsm_config *cfg, const struct chsm_archive_header *h)
{
    const char *arch = adm_opt(a, "--audit-archive");
    char *log = NULL, hash[65], file[2048], detail[512];
    uint64_t seq = h->audit_seq;
    struct stat sb;
    int rc = ADM_OK;
    CK_RV rv;
    if (!cfg->audit.enabled)
        return ADM_OK;
    if ((log = chsm_config_audit_log_path(cfg)) == NULL)
        return adm_fail(ADM_FAILED, "out of memory; retry");
    snprintf(hash, sizeof(hash), "%s", h->audit_head);
    snprintf(detail, sizeof(detail), "restore of serial %s from an archive made at %lld", h->serial,
             (long long)(h->created_unix_us / 1000000));
    if (arch != NULL) {
        rc = adm_audit_archive_head(arch, &seq, hash, file, sizeof(file));
        if (rc != ADM_OK)
            goto out;
        snprintf(detail, sizeof(detail), "restore of serial %s; chained from %.400s", h->serial, file);
    }
    if (stat(log, &sb) == 0 && sb.st_size > 0) {
        rc = append_restore_event(cfg, detail);
        goto out;
    }
    if (strlen(hash) != 64) {
        adm_warn("the archive records no audit head and no --audit-archive was given; the new log starts a new chain");
        rc = append_restore_event(cfg, detail);
        goto out;
    }
    rv = chsm_audit_start_chained(log, seq, hash, detail);
    if (rv != CKR_OK)
        rc = adm_fail_rv(rv, "the store was restored but the audit log could not be started",
                         "check [audit].log_path, then run 'craton-hsm-admin audit verify'");
out:
    free(log);
    return rc;
}
