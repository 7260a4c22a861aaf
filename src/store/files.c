/*
 * The store directory and its file modes. The directory is created 0700
 * and every file we create is created 0600 with open(2) ourselves (SQLite
 * gives its -wal and -shm files the mode of the database file), so the
 * process umask is never changed: the module runs inside other people's
 * processes and umask is process-global. An existing directory or file
 * that group or others can access is refused, naming the path and the fix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

static CK_RV check_mode(const char *path, const struct stat *sb)
{
    if ((sb->st_mode & 077) == 0)
        return CKR_OK;
    bool is_dir = S_ISDIR(sb->st_mode);
    return CHSM_ERR(CKR_DEVICE_ERROR, "store",
                    "%s is accessible by group/others (mode %03o); fix with: chmod %s %s", path,
                    (unsigned)(sb->st_mode & 0777), is_dir ? "700" : "600", path);
}

/* Every entry of the directory, so a stray 0644 backup copy or WAL is caught too. */
static CK_RV check_dir_entries(const char *dir)
{
    CK_RV rv = CKR_OK;
    DIR *d = opendir(dir);
    if (d == NULL)
        return CHSM_ERR(CKR_DEVICE_ERROR, "store", "cannot read directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    char path[CHSM_STORE_PATH_MAX + 256];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat sb;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &sb) != 0)
            continue; /* removed meanwhile (another process checkpointing) */
        if (S_ISLNK(sb.st_mode))
            continue; /* a symlink's own mode is meaningless; its target is not ours to judge */
        CHSM_GUARD(check_mode(path, &sb));
    }
out:
    closedir(d);
    return rv;
}

CK_RV chsm_files_create_private(const char *path, bool must_not_exist)
{
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (must_not_exist ? O_EXCL : 0);
    int fd = open(path, flags, 0600);
    if (fd < 0)
        return CHSM_ERR(CKR_DEVICE_ERROR, "store", "cannot create %s: %s", path, strerror(errno));
    /* The umask may only have removed bits; make the mode exactly 0600 regardless. */
    struct stat sb;
    CK_RV rv = CKR_OK;
    if (fstat(fd, &sb) != 0 || (S_ISREG(sb.st_mode) && (sb.st_mode & 0777) != 0600 && fchmod(fd, 0600) != 0))
        rv = CHSM_ERR(CKR_DEVICE_ERROR, "store", "cannot set mode 0600 on %s: %s", path, strerror(errno));
    close(fd);
    return rv;
}

CK_RV chsm_files_prepare(const char *dir, char *db_path, size_t db_path_len)
{
    CK_RV rv = CKR_OK;
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        CHSM_ENSURE(errno == ENOENT,
                    CHSM_ERR(CKR_DEVICE_ERROR, "store", "cannot access %s: %s", dir, strerror(errno)));
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            CHSM_BAIL(CHSM_ERR(CKR_DEVICE_ERROR, "store", "cannot create directory %s: %s", dir, strerror(errno)));
        CHSM_ENSURE(stat(dir, &sb) == 0,
                    CHSM_ERR(CKR_DEVICE_ERROR, "store", "cannot access %s: %s", dir, strerror(errno)));
        /* Created by us: tighten whatever the umask left. */
        if ((sb.st_mode & 077) != 0 && chmod(dir, 0700) == 0)
            sb.st_mode &= (mode_t)~077;
    }
    CHSM_ENSURE(S_ISDIR(sb.st_mode), CHSM_ERR(CKR_DEVICE_ERROR, "store", "%s is not a directory", dir));
    CHSM_GUARD(check_mode(dir, &sb));
    CHSM_GUARD(check_dir_entries(dir));
    int n = snprintf(db_path, db_path_len, "%s/%s", dir, CHSM_STORE_DB_NAME);
    CHSM_ENSURE(n > 0 && (size_t)n < db_path_len, CHSM_ERR(CKR_ARGUMENTS_BAD, "store", "storage_path too long"));
    if (lstat(db_path, &sb) != 0)
        CHSM_GUARD(chsm_files_create_private(db_path, false));
out:
    return rv;
}
