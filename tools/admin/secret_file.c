/*
 * Secret file input with read(2) into secure memory (see secret_file.h).
 * stdio would keep a copy of the key in its FILE buffer and realloc would
 * leave the old block unwiped in the heap, so neither is used here: the
 * buffer is sized from fstat and, if the file is larger than that (it grew,
 * or it is a pipe), replaced by a bigger secret buffer, copied, and the old
 * one wiped and freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret_file.h"

/* Initial capacity for pipes and files whose size fstat cannot tell. */
#define UNSIZED_CAP 4096u

/* Replace buf by one of cap bytes holding its first len bytes; the old one is wiped. */
static int grow(struct chsm_secbuf *buf, size_t len, size_t cap)
{
    struct chsm_secbuf bigger = {0};
    if (chsm_secbuf_alloc(&bigger, cap) != CKR_OK)
        return adm_fail(ADM_FAILED, "out of secure memory reading a key file; raise RLIMIT_MEMLOCK or retry");
    memcpy(bigger.data, buf->data, len);
    chsm_secbuf_move(buf, &bigger);
    return ADM_OK;
}

static int too_big(const char *path)
{
    return adm_fail(ADM_USAGE, "%s is larger than 1 MiB, which no key file is; check the path", path);
}

/* Read fd to EOF into buf (capacity buf->len), growing up to one byte past the limit to detect it. */
static int read_all(int fd, const char *path, struct chsm_secbuf *buf, size_t *len)
{
    int rc = ADM_OK;
    *len = 0;
    for (;;) {
        if (*len == buf->len) {
            if (*len > ADM_SECRET_FILE_MAX)
                return too_big(path);
            size_t cap = buf->len * 2 < ADM_SECRET_FILE_MAX + 1 ? buf->len * 2 : ADM_SECRET_FILE_MAX + 1;
            if ((rc = grow(buf, *len, cap)) != ADM_OK)
                return rc;
        }
        ssize_t got = read(fd, buf->data + *len, buf->len - *len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return adm_fail(ADM_FAILED, "cannot read %s: %s; check the file", path, strerror(errno));
        if (got == 0)
            break;
        *len += (size_t)got;
    }
    return *len > ADM_SECRET_FILE_MAX ? too_big(path) : ADM_OK;
}

static int open_checked(const char *path, int *fd, size_t *cap)
{
    struct stat st;
    bool is_stdin = strcmp(path, "-") == 0;
    *fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0 && errno == ELOOP)
        return adm_fail(ADM_USAGE, "%s is a symbolic link; give the key file's real path", path);
    if (*fd < 0)
        return adm_fail(ADM_FAILED, "cannot read %s: %s; check the path", path, strerror(errno));
    if (fstat(*fd, &st) != 0) {
        int e = errno;
        if (!is_stdin)
            close(*fd);
        *fd = -1;
        return adm_fail(ADM_FAILED, "cannot stat %s: %s; check the file", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && (uint64_t)st.st_size > ADM_SECRET_FILE_MAX)) {
        if (!is_stdin)
            close(*fd);
        *fd = -1;
        return S_ISDIR(st.st_mode) ? adm_fail(ADM_USAGE, "%s is a directory; give the key file", path)
                                   : too_big(path);
    }
    /* One spare byte: a file read in full then shows EOF without growing. */
    *cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : UNSIZED_CAP;
    return ADM_OK;
}

int adm_secret_file_read(const char *path, struct chsm_secbuf *out)
{
    struct chsm_secbuf buf = {0};
    size_t cap = 0, len = 0;
    int fd = -1;
    int rc = open_checked(path, &fd, &cap);
    memset(out, 0, sizeof(*out));
    if (rc != ADM_OK)
        return rc;
    if (chsm_secbuf_alloc(&buf, cap) != CKR_OK)
        rc = adm_fail(ADM_FAILED, "out of secure memory reading %s; raise RLIMIT_MEMLOCK or retry", path);
    else
        rc = read_all(fd, path, &buf, &len);
    if (strcmp(path, "-") != 0)
        close(fd);
    if (rc != ADM_OK) {
        chsm_secbuf_free(&buf);
        return rc;
    }
    chsm_secbuf_truncate(&buf, len);
    chsm_secbuf_move(out, &buf);
    return ADM_OK;
}
