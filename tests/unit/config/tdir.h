/* Test helpers for the config tests: a scratch directory removed at the end, and printf to a new string. */
#ifndef CHSM_TEST_CONFIG_TDIR_H
#define CHSM_TEST_CONFIG_TDIR_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tdir {
    char path[256];
};

static inline char *tfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *tfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        abort();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static inline struct tdir *tdir_new(void)
{
    struct tdir *d = calloc(1, sizeof(*d));
    if (d == NULL)
        abort();
    snprintf(d->path, sizeof(d->path), "/tmp/chsm_config_test_XXXXXX");
    if (mkdtemp(d->path) == NULL)
        abort();
    return d;
}

static inline void tdir_mkdir(struct tdir *d, const char *rel)
{
    char *p = tfmt("%s/%s", d->path, rel);
    if (mkdir(p, 0700) != 0)
        abort();
    free(p);
}

static inline void tdir_write(struct tdir *d, const char *rel, const char *content)
{
    char *p = tfmt("%s/%s", d->path, rel);
    FILE *f = fopen(p, "w");
    if (f == NULL || fputs(content, f) < 0 || fclose(f) != 0)
        abort();
    free(p);
}

/* Create d/linkrel pointing at target (taken literally, so relative targets resolve beside the link). */
static inline void tdir_symlink(struct tdir *d, const char *target, const char *linkrel)
{
    char *p = tfmt("%s/%s", d->path, linkrel);
    if (symlink(target, p) != 0)
        abort();
    free(p);
}

static inline int tdir_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline void tdir_free(struct tdir *d)
{
    nftw(d->path, tdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

#endif
