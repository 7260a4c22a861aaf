/*
 * Rotation and the segment list. A segment is <log_path>.NNNNNN (6+ digits,
 * numbered from 000001, mode 0400). Rotating appends a final "rotate" entry
 * (detail "segment=<name>") to the live file, renames it to the next
 * segment and starts an empty live file; the next entry, whatever it is,
 * chains from that "rotate" line and continues seq. Other processes notice
 * the inode change under the lock and reopen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/internal.h"
#include "common/log.h"

struct seg {
    unsigned long long num;
    char *path;
};

static int seg_cmp(const void *x, const void *y)
{
    const struct seg *a = x, *b = y;
    return a->num < b->num ? -1 : a->num > b->num;
}

/* "<base>.<digits>" with at least 6 digits -> its number. */
static bool seg_number(const char *name, const char *base, unsigned long long *num)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || name[bl] != '.')
        return false;
    const char *d = name + bl + 1;
    size_t nd = strlen(d);
    if (nd < 6 || nd > 18 || strspn(d, "0123456789") != nd)
        return false;
    *num = strtoull(d, NULL, 10);
    return *num > 0;
}

static void split_path(const char *path, char **dir, char **base)
{
    char *c1 = strdup(path), *c2 = strdup(path);
    *dir = c1 != NULL ? strdup(dirname(c1)) : NULL;
    *base = c2 != NULL ? strdup(basename(c2)) : NULL;
    free(c1);
    free(c2);
}

static CK_RV add_seg(struct seg **v, size_t *n, size_t *cap, const char *dir, const char *name,
                     unsigned long long num)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct seg *nv = realloc(*v, nc * sizeof(**v));
        if (nv == NULL)
            return CKR_HOST_MEMORY;
        *v = nv;
        *cap = nc;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p == NULL)
        return CKR_HOST_MEMORY;
    snprintf(p, len, "%s/%s", dir, name);
    (*v)[(*n)++] = (struct seg){num, p};
    return CKR_OK;
}

static CK_RV scan_segments(const char *log_path, struct seg **out, size_t *nout)
{
    CK_RV rv = CKR_OK;
    char *dir = NULL, *base = NULL;
    struct seg *v = NULL;
    size_t n = 0, cap = 0;
    DIR *d = NULL;
    split_path(log_path, &dir, &base);
    CHSM_ENSURE(dir != NULL && base != NULL, CKR_HOST_MEMORY);
    d = opendir(dir);
    CHSM_ENSURE(d != NULL || errno == ENOENT,
                CHSM_ERR(CKR_DEVICE_ERROR, "audit", "open directory %s: %s", dir, strerror(errno)));
    for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
        unsigned long long num;
        if (seg_number(de->d_name, base, &num))
            CHSM_GUARD(add_seg(&v, &n, &cap, dir, de->d_name, num));
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), seg_cmp);
out:
    if (d != NULL)
        closedir(d);
    free(dir);
    free(base);
    if (rv != CKR_OK) {
        for (size_t i = 0; i < n; i++)
            free(v[i].path);
        free(v);
        v = NULL, n = 0;
    }
    *out = v;
    *nout = n;
    return rv;
}

CK_RV chsm_audit_list_files(const char *log_path, char ***files, size_t *nfiles)
{
    CK_RV rv = CKR_OK;
    struct seg *v = NULL;
    size_t n = 0, k = 0;
    char **list = NULL;
    struct stat st;
    CHSM_ENSURE(log_path != NULL && files != NULL && nfiles != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(scan_segments(log_path, &v, &n));
    list = calloc(n + 1, sizeof(*list));
    CHSM_ENSURE(list != NULL, CKR_HOST_MEMORY);
    for (; k < n; k++)
        list[k] = v[k].path, v[k].path = NULL;
    if (stat(log_path, &st) == 0) {
        list[k] = strdup(log_path);
        CHSM_ENSURE(list[k] != NULL, CKR_HOST_MEMORY);
        k++;
    }
out:
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
    if (rv != CKR_OK) {
        chsm_audit_free_list(list, k);
        list = NULL, k = 0;
    }
    if (files != NULL)
        *files = list;
    if (nfiles != NULL)
        *nfiles = k;
    return rv;
}

void chsm_audit_free_list(char **files, size_t nfiles)
{
    if (files == NULL)
        return;
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
}

CK_RV audit_next_segment(const char *log_path, char **seg_path)
{
    CK_RV rv = CKR_OK;
    struct seg *v = NULL;
    size_t n = 0;
    CHSM_GUARD(scan_segments(log_path, &v, &n));
    unsigned long long next = n > 0 ? v[n - 1].num + 1 : 1;
    size_t len = strlen(log_path) + 24;
    *seg_path = malloc(len);
    CHSM_ENSURE(*seg_path != NULL, CKR_HOST_MEMORY);
    snprintf(*seg_path, len, "%s.%06llu", log_path, next);
out:
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
    return rv;
}

/* Make a rename or create durable: fsync the directory that holds path. */
CK_RV audit_fsync_dir(const char *path)
{
    char *dir = NULL, *base = NULL;
    split_path(path, &dir, &base);
    CK_RV rv = dir != NULL ? CKR_OK : CKR_HOST_MEMORY;
    if (rv == CKR_OK) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0)
            rv = CHSM_ERR(CKR_DEVICE_ERROR, "audit", "fsync directory %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    free(dir);
    free(base);
    return rv;
}

CK_RV audit_rotate_locked(struct chsm_audit *a)
{
    CK_RV rv = CKR_OK;
    char *seg = NULL, *name = NULL, detail[600];
    CHSM_GUARD(audit_next_segment(a->path, &seg));
    char *copy = strdup(seg);
    CHSM_ENSURE(copy != NULL, CKR_HOST_MEMORY);
    snprintf(detail, sizeof(detail), "segment=%s", basename(copy));
    free(copy);
    struct audit_rec r = {.event = "rotate", .slot = -1, .result = CKR_OK, .detail = detail};
    CHSM_GUARD(audit_write_locked(a, &r, true));
    CHSM_ENSURE(fdatasync(a->fd) == 0, CHSM_ERR(CKR_DEVICE_ERROR, "audit", "fdatasync: %s", strerror(errno)));
    CHSM_ENSURE(rename(a->path, seg) == 0,
                CHSM_ERR(CKR_DEVICE_ERROR, "audit", "rename %s -> %s: %s", a->path, seg, strerror(errno)));
    /* Segments are closed history: read-only from here on. */
    if (fchmod(a->fd, 0400) != 0)
        chsm_log(CHSM_LOG_WARN, "audit: chmod 0400 %s failed", seg);
    /* A fresh live file; sync_head finds it empty and takes the head from the segment we just closed. */
    close(a->fd);
    a->fd = -1;
    a->dirty = false;
    CHSM_GUARD(audit_sync_head_locked(a));
    CHSM_GUARD(audit_fsync_dir(a->path));
out:
    free(seg);
    free(name);
    return rv;
}

CK_RV chsm_audit_rotate(struct chsm_audit *a)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(a != NULL, CKR_ARGUMENTS_BAD);
    if (!a->active)
        goto out;
    if (a->key_use == CHSM_AUDIT_KEYUSE_SUMMARY)
        audit_ku_flush(a, false, 0); /* summaries too: queued here, drained below */
    CHSM_GUARD(audit_lock(a));
    rv = audit_sync_head_locked(a);
    if (rv == CKR_OK)
        rv = audit_drain_locked(a); /* queued entries belong to the segment they happened in */
    if (rv == CKR_OK)
        rv = audit_rotate_locked(a);
    audit_unlock(a);
out:
    return rv;
}
