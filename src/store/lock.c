/*
 * The advisory maintenance lock: flock(2) on <dir>/craton_hsm.lock. The
 * daemon holds it exclusively while serving and restore takes it before
 * touching a store, so restore can tell that a daemon is running. Ordinary
 * module users never take it (they share the store through SQLite's own
 * locking). flock locks belong to the open file description, so the lock is
 * released by the kernel when the holder dies, even on SIGKILL, and a probe
 * from the holding process itself (a new open) also sees it as held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store/store_int.h"

static int lock_path(const char *dir, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s", dir, CHSM_STORE_LOCK_NAME);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

CK_RV chsm_store_lock_exclusive(struct chsm_store *st)
{
    char path[CHSM_STORE_PATH_MAX + 32];
    CK_RV rv = CKR_OK;
    int fd = -1;
    if (st->is_volatile || st->lock_fd >= 0)
        return CKR_OK; /* nothing to share a volatile store with; already held */
    CHSM_ENSURE(lock_path(st->dir, path, sizeof(path)) == 0, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_files_create_private(path, false));
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    CHSM_ENSURE(fd >= 0, CHSM_ERR(CKR_DEVICE_ERROR, "store", "cannot open %s: %s", path, strerror(errno)));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        CHSM_BAIL(e == EWOULDBLOCK
                      ? CHSM_ERR(CKR_FUNCTION_FAILED, "store",
                                 "store %s is locked by another process (is craton-hsmd running?)", st->dir)
                      : CHSM_ERR(CKR_DEVICE_ERROR, "store", "flock %s: %s", path, strerror(e)));
    }
    st->lock_fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return rv;
}

void chsm_store_unlock(struct chsm_store *st)
{
    if (st == NULL || st->lock_fd < 0)
        return;
    (void)flock(st->lock_fd, LOCK_UN);
    close(st->lock_fd);
    st->lock_fd = -1;
}

int chsm_store_lock_probe(const char *dir)
{
    char path[CHSM_STORE_PATH_MAX + 32];
    if (dir == NULL || dir[0] == '\0' || strcmp(dir, ":memory:") == 0)
        return 0;
    if (lock_path(dir, path, sizeof(path)) != 0)
        return -1;
    /* Read-only open: a probe never creates the lock file (nor the directory). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    /* A shared probe does not conflict with other probes, only with the exclusive holder. */
    int r;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        (void)flock(fd, LOCK_UN);
        r = 0;
    } else {
        r = errno == EWOULDBLOCK ? 1 : -1;
    }
    close(fd);
    return r;
}
