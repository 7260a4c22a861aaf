/*
 * Reading the chain head back from a file's tail (at open, and under the
 * append lock whenever another process changed the file): the last
 * complete line, the one before it, and any unterminated partial line a
 * crashed writer left behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "audit/internal.h"

#define TAIL_WINDOW_MIN (64 * 1024)
#define TAIL_WINDOW_MAX (16 * 1024 * 1024)

static CK_RV head_of_line(const char *line, size_t len, struct audit_head *h, bool *parsed)
{
    struct chsm_audit_entry e;
    *parsed = chsm_audit_parse_line(line, len, &e) == CKR_OK;
    if (!*parsed)
        return CKR_OK;
    h->seq = e.seq;
    return audit_line_hash(line, len, h->hash);
}

/* Find the line ending at index end (exclusive) in buf[0..]: its start. at_file_start: buf begins the file. */
static bool line_start(const char *buf, size_t end, bool at_file_start, size_t *start)
{
    size_t i = end;
    while (i > 0 && buf[i - 1] != '\n')
        i--;
    if (i == 0 && !at_file_start)
        return false;
    *start = i;
    return true;
}

static CK_RV fill_tail(const char *buf, size_t n, bool whole, struct audit_tail *t, bool *need_more)
{
    CK_RV rv = CKR_OK;
    size_t e1 = n;
    while (e1 > 0 && buf[e1 - 1] != '\n')
        e1--;
    *need_more = false;
    if (e1 == 0 && !whole) {
        *need_more = true;
        return CKR_OK;
    }
    t->partial_len = n - e1;
    if (e1 == 0)
        return CKR_OK; /* no complete line at all */
    size_t s1, s2;
    if (!line_start(buf, e1 - 1, whole, &s1)) {
        *need_more = true;
        return CKR_OK;
    }
    bool parsed;
    CHSM_GUARD(head_of_line(buf + s1, e1 - 1 - s1, &t->good, &parsed));
    if (parsed) {
        t->have_good = true;
        return CKR_OK;
    }
    /* The last complete line is garbage: a partial line terminated by an earlier recovery attempt. */
    t->bad_len = e1 - 1 - s1;
    if (s1 == 0)
        return CKR_OK;
    if (!line_start(buf, s1 - 1, whole, &s2)) {
        *need_more = true;
        return CKR_OK;
    }
    CHSM_GUARD(head_of_line(buf + s2, s1 - 1 - s2, &t->good, &parsed));
    if (!parsed)
        return CHSM_ERR(CKR_DEVICE_ERROR, "audit", "two unparseable lines at the log tail; run audit verify");
    t->have_good = true;
out:
    return rv;
}

CK_RV audit_scan_tail(int fd, struct audit_tail *t)
{
    CK_RV rv = CKR_OK;
    char *buf = NULL;
    struct stat st;
    memset(t, 0, sizeof(*t));
    CHSM_ENSURE(fstat(fd, &st) == 0, CHSM_ERR(CKR_DEVICE_ERROR, "audit", "fstat: %s", strerror(errno)));
    t->size = st.st_size;
    t->empty = st.st_size == 0;
    if (t->empty)
        goto out;
    for (size_t win = TAIL_WINDOW_MIN;; win *= 2) {
        size_t size = (size_t)st.st_size;
        size_t n = win < size ? win : size;
        char *nb = realloc(buf, n);
        CHSM_ENSURE(nb != NULL, CKR_HOST_MEMORY);
        buf = nb;
        ssize_t got = pread(fd, buf, n, (off_t)(size - n));
        CHSM_ENSURE(got == (ssize_t)n,
                    CHSM_ERR(CKR_DEVICE_ERROR, "audit", "read log tail: %s", got < 0 ? strerror(errno) : "short"));
        bool more;
        memset(t, 0, sizeof(*t));
        t->size = st.st_size;
        CHSM_GUARD(fill_tail(buf, n, n == size, t, &more));
        if (!more)
            break;
        CHSM_ENSURE(win < TAIL_WINDOW_MAX, CHSM_ERR(CKR_DEVICE_ERROR, "audit", "log tail line longer than %d bytes",
                                                    TAIL_WINDOW_MAX));
    }
out:
    free(buf);
    return rv;
}

CK_RV audit_head_of_segments(const char *log_path, struct audit_head *h, bool *found)
{
    CK_RV rv = CKR_OK;
    char **files = NULL;
    size_t n = 0;
    int fd = -1;
    *found = false;
    CHSM_GUARD(chsm_audit_list_files(log_path, &files, &n));
    /* The list ends with the live log when it exists; the newest segment is the last numbered one. */
    size_t nseg = n;
    if (nseg > 0 && strcmp(files[nseg - 1], log_path) == 0)
        nseg--;
    if (nseg == 0)
        goto out;
    fd = open(files[nseg - 1], O_RDONLY | O_CLOEXEC);
    CHSM_ENSURE(fd >= 0, CHSM_ERR(CKR_DEVICE_ERROR, "audit", "open %s: %s", files[nseg - 1], strerror(errno)));
    struct audit_tail t;
    CHSM_GUARD(audit_scan_tail(fd, &t));
    CHSM_ENSURE(t.have_good && t.partial_len == 0 && t.bad_len == 0,
                CHSM_ERR(CKR_DEVICE_ERROR, "audit", "segment %s does not end with a complete entry",
                         files[nseg - 1]));
    *h = t.good;
    *found = true;
out:
    if (fd >= 0)
        close(fd);
    chsm_audit_free_list(files, n);
    return rv;
}
