/*
 * audit verify | dump | head | rotate: thin wrappers over src/audit's
 * verifier and chain head. verify exits 4 naming the first broken entry.
 */
#include <dirent.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "audit/audit.h"

static int log_path(struct adm *a, char **out)
{
    const struct chsm_config *cfg;
    const char *p = adm_opt(a, "--log");
    int rc;
    if (p != NULL) {
        *out = strdup(p);
        return *out ? ADM_OK : ADM_FAILED;
    }
    rc = adm_config(a, &cfg);
    if (rc != ADM_OK)
        return rc;
    *out = chsm_config_audit_log_path(cfg);
    return *out ? ADM_OK : adm_fail(ADM_FAILED, "out of memory; retry");
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Segment files from a directory (names ending in .NNNNNN) or a glob, sorted, then the live log. */
static int collect(const char *spec, const char *live, char ***files, size_t *n)
{
    struct stat sb;
    glob_t g;
    char pat[4200];
    size_t k = 0;
    memset(&g, 0, sizeof(g));
    if (stat(spec, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(pat, sizeof(pat), "%s/*.[0-9][0-9][0-9][0-9][0-9][0-9]", spec);
    else
        snprintf(pat, sizeof(pat), "%s", spec);
    int g_rc = glob(pat, 0, NULL, &g);
    if (g_rc != 0 && g_rc != GLOB_NOMATCH)
        return adm_fail(ADM_FAILED, "cannot list segments %s; check the path", spec);
    *files = calloc(g.gl_pathc + 2, sizeof(char *));
    for (size_t i = 0; *files && i < g.gl_pathc; i++)
        (*files)[k++] = strdup(g.gl_pathv[i]);
    globfree(&g);
    if (*files == NULL)
        return ADM_FAILED;
    qsort(*files, k, sizeof(char *), cmp_str);
    if (live != NULL && stat(live, &sb) == 0)
        (*files)[k++] = strdup(live);
    *n = k;
    return ADM_OK;
}

static void print_verify(const struct adm *a, const struct chsm_audit_verify_result *r, size_t nfiles)
{
    if (a->json) {
        printf("{\"ok\":%s,\"files\":%zu,\"entries\":%llu,\"first_seq\":%llu,\"last_seq\":%llu,\"head\":\"%s\","
               "\"truncation_recovered\":%s",
               r->ok ? "true" : "false", nfiles, (unsigned long long)r->entries, (unsigned long long)r->first_seq,
               (unsigned long long)r->last_seq, r->head_hash, r->truncation_recovered ? "true" : "false");
        if (!r->ok) {
            printf(",\"bad_file\":");
            adm_json_str(stdout, r->bad_file);
            printf(",\"bad_line\":%llu,\"reason\":", (unsigned long long)r->bad_line);
            adm_json_str(stdout, r->reason);
        }
        printf("}\n");
    } else if (r->ok) {
        printf("audit chain OK: %zu file(s), %llu entries, seq %llu..%llu, head %s%s\n", nfiles,
               (unsigned long long)r->entries, (unsigned long long)r->first_seq, (unsigned long long)r->last_seq,
               r->head_hash, r->truncation_recovered ? " (a truncated line was recovered)" : "");
    }
}

static int audit_verify(struct adm *a)
{
    char *live = NULL, **files = NULL;
    size_t n = 0;
    struct chsm_audit_verify_result r;
    const char *segs = adm_opt(a, "--segments");
    int rc = log_path(a, &live);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    if (segs != NULL)
        rc = collect(segs, live, &files, &n);
    else if ((rv = chsm_audit_list_files(live, &files, &n)) != CKR_OK)
        rc = adm_fail_rv(rv, "cannot list the audit log segments", "check [audit].log_path");
    if (rc != ADM_OK)
        goto out;
    if (n == 0) {
        rc = adm_fail(ADM_FAILED, "no audit log at %s; check [audit].log_path or give --log PATH", live);
        goto out;
    }
    memset(&r, 0, sizeof(r));
    rv = chsm_audit_verify_files((const char *const *)files, n, adm_opt(a, "--from-hash"), &r);
    if (rv != CKR_OK && r.bad_file[0] == '\0') {
        rc = adm_fail_rv(rv, "cannot verify the audit log", "check the files are readable");
        goto out;
    }
    print_verify(a, &r, n);
    if (!r.ok)
        rc = adm_fail(ADM_INTEGRITY, "audit chain broken at %s line %llu: %s (expected %s, found %s); keep the files "
                      "as evidence and investigate", r.bad_file, (unsigned long long)r.bad_line, r.reason,
                      r.expected, r.found);
out:
    if (segs != NULL) {
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
    } else if (files != NULL)
        chsm_audit_free_list(files, n);
    free(live);
    return rc;
}

static int audit_dump(struct adm *a)
{
    char *live = NULL, line[16384];
    const char *last = adm_opt(a, "--last");
    unsigned long want = last ? strtoul(last, NULL, 10) : 0, total = 0, i = 0;
    int rc = log_path(a, &live);
    FILE *f;
    if (rc != ADM_OK)
        return rc;
    f = fopen(live, "r");
    if (f == NULL) {
        rc = adm_fail(ADM_FAILED, "cannot read the audit log %s; check [audit].log_path or --log", live);
        free(live);
        return rc;
    }
    while (fgets(line, sizeof(line), f))
        total++;
    rewind(f);
    if (a->json)
        printf("[");
    bool first = true;
    while (fgets(line, sizeof(line), f)) {
        if (want && i++ < total - (want < total ? want : total))
            continue;
        line[strcspn(line, "\n")] = '\0';
        if (a->json)
            printf("%s%s", first ? "" : ",\n", line);
        else
            printf("%s\n", line);
        first = false;
    }
    if (a->json)
        printf("]\n");
    fclose(f);
    free(live);
    return ADM_OK;
}

static int open_audit(struct adm *a, struct chsm_audit **au)
{
    const struct chsm_config *cfg;
    int rc = adm_config(a, &cfg);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    rv = chsm_audit_open(cfg, au);
    return rv == CKR_OK ? ADM_OK : adm_fail_rv(rv, "cannot open the audit log", "check [audit].log_path");
}

static int audit_head_or_rotate(struct adm *a, bool rotate)
{
    struct chsm_audit *au = NULL;
    uint64_t seq = 0;
    char hash[65] = "";
    CK_RV rv;
    int rc = open_audit(a, &au);
    if (rc != ADM_OK)
        return rc;
    rv = rotate ? chsm_audit_rotate(au) : CKR_OK;
    if (rv == CKR_OK)
        rv = chsm_audit_head(au, &seq, hash);
    chsm_audit_close(au);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, rotate ? "audit rotate failed" : "cannot read the audit head", "check the log file");
    if (a->json)
        printf("{\"seq\":%llu,\"hash\":\"%s\"}\n", (unsigned long long)seq, hash);
    else
        printf("%s%llu %s\n", rotate ? "rotated; head " : "", (unsigned long long)seq, hash);
    return ADM_OK;
}

int cmd_audit(struct adm *a)
{
    static const struct adm_optspec specs[] = {{"--log", true, false}, {"--segments", true, false},
                                               {"--from-hash", true, false}, {"--last", true, false}};
    int rc;
    if (a->argc < 2)
        return adm_fail(ADM_USAGE, "expected 'audit verify|dump|head|rotate'; see craton-hsm-admin --help");
    rc = adm_parse(a, 2, specs, CHSM_ARRAY_LEN(specs), 0);
    if (rc != ADM_OK)
        return rc;
    if (strcmp(a->argv[1], "verify") == 0)
        return audit_verify(a);
    if (strcmp(a->argv[1], "dump") == 0)
        return audit_dump(a);
    if (strcmp(a->argv[1], "head") == 0)
        return audit_head_or_rotate(a, false);
    if (strcmp(a->argv[1], "rotate") == 0)
        return audit_head_or_rotate(a, true);
    return adm_fail(ADM_USAGE, "unknown audit command '%s'; expected verify, dump, head or rotate", a->argv[1]);
}
