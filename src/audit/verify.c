/*
 * Reading and verifying logs. verify walks the files oldest first and
 * checks: every line parses (parse.c), seq rises by exactly one across all
 * files, and every prev is the SHA-256 of the previous line's exact bytes.
 * The one tolerated anomaly is crash recovery: an unparseable line
 * immediately followed by a "recovered" entry that names its byte count and
 * chains from the line before it. The first failure is reported with file,
 * line, expected and found.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

CK_RV chsm_audit_read_entries(const char *file, chsm_audit_entry_cb cb, void *ctx)
{
    CK_RV rv = CKR_OK;
    char *line = NULL;
    size_t cap = 0;
    struct chsm_audit_entry *e = malloc(sizeof(*e));
    FILE *f = NULL;
    CHSM_ENSURE(file != NULL && cb != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(e != NULL, CKR_HOST_MEMORY);
    f = fopen(file, "rbe");
    CHSM_ENSURE(f != NULL, CHSM_ERR(CKR_DEVICE_ERROR, "audit", "open %s: %s", file, strerror(errno)));
    uint64_t lineno = 0;
    for (ssize_t n; (n = getline(&line, &cap, f)) > 0;) {
        size_t len = (size_t)n;
        bool terminated = line[len - 1] == '\n';
        if (terminated)
            len--;
        lineno++;
        bool ok = terminated && chsm_audit_parse_line(line, len, e) == CKR_OK;
        if (cb(ok ? e : NULL, line, len, lineno, terminated, ctx) != 0)
            break;
    }
    CHSM_ENSURE(!ferror(f), CHSM_ERR(CKR_DEVICE_ERROR, "audit", "read %s: %s", file, strerror(errno)));
out:
    if (f != NULL)
        fclose(f);
    free(line);
    free(e);
    return rv;
}

static const char k_zero[] = "0000000000000000000000000000000000000000000000000000000000000000";

struct vstate {
    struct chsm_audit_verify_result *res;
    const char *file;
    const char *from_hash;
    CK_RV rv;      /* an internal failure (hashing) */
    bool started;  /* seen the first parseable entry */
    bool failed;
    uint64_t expect_seq;
    char expect_prev[65];
    /* An unparseable line waiting for the "recovered" entry that must follow it. */
    bool pending;
    size_t pending_len;
    uint64_t pending_line;
    char pending_file[512];
    char pending_found[160];
    char pending_reason[256];
};

static void printable(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        out[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[k] = '\0';
}

/* Copy into a fixed report field, cut at its size on purpose (snprintf would warn at -O3). */
static void put_field(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int bad(struct vstate *v, const char *file, uint64_t lineno, const char *expected, const char *found,
               const char *reason)
{
    struct chsm_audit_verify_result *r = v->res;
    v->failed = true;
    r->ok = false;
    put_field(r->bad_file, sizeof(r->bad_file), file);
    r->bad_line = lineno;
    put_field(r->expected, sizeof(r->expected), expected);
    put_field(r->found, sizeof(r->found), found);
    put_field(r->reason, sizeof(r->reason), reason);
    return 1;
}

static int fail_pending(struct vstate *v)
{
    return bad(v, v->pending_file, v->pending_line, "a complete audit entry", v->pending_found, v->pending_reason);
}

/* The first entry anchors the chain: --from-hash if given, else 64 zeros for a log that starts at seq 1. */
static int check_first(struct vstate *v, const struct chsm_audit_entry *e, uint64_t lineno)
{
    struct chsm_audit_verify_result *r = v->res;
    const char *anchor = v->from_hash != NULL ? v->from_hash : e->seq == 1 ? k_zero : NULL;
    /* Without an anchor only a genesis (seq 1) or a restore start may begin the chain: anything else
     * means entries or segments before it are missing. */
    if (anchor == NULL && strcmp(e->event, "restore") != 0) {
        char got[64];
        snprintf(got, sizeof(got), "seq %llu", (unsigned long long)e->seq);
        return bad(v, v->file, lineno, "seq 1 (or a restore entry)", got,
                   "chain does not start at its beginning: entries or segments missing (use --from-hash to "
                   "verify a partial chain)");
    }
    if (anchor != NULL && strcmp(anchor, e->prev) != 0)
        return bad(v, v->file, lineno, anchor, e->prev,
                   v->from_hash != NULL ? "first entry does not chain from the given hash"
                                        : "first entry (seq 1) does not chain from 64 zeros");
    r->first_seq = e->seq;
    snprintf(r->first_prev, sizeof(r->first_prev), "%s", e->prev);
    v->started = true;
    return 0;
}

static int check_link(struct vstate *v, const struct chsm_audit_entry *e, uint64_t lineno)
{
    char exp[64], got[64];
    if (!v->started)
        return check_first(v, e, lineno);
    if (e->seq != v->expect_seq) {
        snprintf(exp, sizeof(exp), "seq %llu", (unsigned long long)v->expect_seq);
        snprintf(got, sizeof(got), "seq %llu", (unsigned long long)e->seq);
        return bad(v, v->file, lineno, exp, got,
                   e->seq > v->expect_seq ? "seq gap: entries (or a segment) missing before this line"
                                          : "seq out of order or repeated");
    }
    if (strcmp(e->prev, v->expect_prev) != 0)
        return bad(v, v->file, lineno, v->expect_prev, e->prev,
                   "prev does not match SHA-256 of the previous line (that line or this one was altered)");
    return 0;
}

static int check_recovery(struct vstate *v, const struct chsm_audit_entry *e, uint64_t lineno)
{
    char want[64];
    snprintf(want, sizeof(want), "partial_line_bytes=%zu", v->pending_len);
    if (e == NULL || strcmp(e->event, "recovered") != 0 || !e->has_detail || strcmp(e->detail, want) != 0)
        return fail_pending(v);
    v->pending = false;
    v->res->recovered_count++;
    return check_link(v, e, lineno);
}

static void set_pending(struct vstate *v, const char *line, size_t len, uint64_t lineno)
{
    v->pending = true;
    v->pending_len = len;
    v->pending_line = lineno;
    snprintf(v->pending_file, sizeof(v->pending_file), "%s", v->file);
    printable(v->pending_found, sizeof(v->pending_found), line, len);
    /* read_entries just parsed this line: the thread's error record holds why it failed. */
    snprintf(v->pending_reason, sizeof(v->pending_reason), "unparseable line: %.200s", chsm_err_last()->msg);
}

static int verify_line(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno,
                       bool terminated, void *ctx)
{
    struct vstate *v = ctx;
    char found[160];
    if (!terminated) {
        printable(found, sizeof(found), line, len);
        return bad(v, v->file, lineno, "a newline-terminated entry", found,
                   "unterminated last line (a crashed write not yet recovered: open the log to record recovery)");
    }
    if (v->pending) {
        if (check_recovery(v, e, lineno) != 0)
            return 1;
    } else if (e == NULL) {
        set_pending(v, line, len, lineno);
        return 0;
    } else if (check_link(v, e, lineno) != 0) {
        return 1;
    }
    v->rv = audit_line_hash(line, len, v->expect_prev);
    if (v->rv != CKR_OK)
        return 1;
    v->expect_seq = e->seq + 1;
    v->res->entries++;
    v->res->last_seq = e->seq;
    if (strcmp(e->event, "recovered") == 0)
        v->res->truncation_recovered = true;
    return 0;
}

CK_RV chsm_audit_verify_files(const char *const *files, size_t nfiles, const char *from_hash_hex,
                              struct chsm_audit_verify_result *res)
{
    CK_RV rv = CKR_OK;
    if (res == NULL || (files == NULL && nfiles > 0))
        return CKR_ARGUMENTS_BAD;
    memset(res, 0, sizeof(*res));
    res->ok = true;
    struct vstate *v = calloc(1, sizeof(*v));
    CHSM_ENSURE(v != NULL, CKR_HOST_MEMORY);
    v->res = res;
    v->from_hash = from_hash_hex;
    snprintf(v->expect_prev, sizeof(v->expect_prev), "%s", from_hash_hex != NULL ? from_hash_hex : k_zero);
    for (size_t i = 0; i < nfiles && !v->failed; i++) {
        v->file = files[i];
        if (chsm_audit_read_entries(files[i], verify_line, v) != CKR_OK)
            (void)bad(v, files[i], 0, "a readable file", "", chsm_err_last()->msg);
        CHSM_GUARD(v->rv);
    }
    if (!v->failed && v->pending)
        (void)fail_pending(v);
    snprintf(res->head_hash, sizeof(res->head_hash), "%s", v->expect_prev);
out:
    free(v);
    return rv;
}
