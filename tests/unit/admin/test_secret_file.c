/*
 * Secret file input (tools/admin/secret_file.c): key files are read with
 * read(2) into a secret buffer; symlinks, directories and files over 1 MiB
 * are refused; pipes (no size from fstat) grow by secret-buffer copies and
 * hit the same limit.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "secret_file.h"

struct dir {
    char path[64];
    char file[96];
};

static int setup(void **state)
{
    struct dir *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -1;
    snprintf(d->path, sizeof(d->path), "/tmp/chsm-test-secfile.XXXXXX");
    if (mkdtemp(d->path) == NULL)
        return -1;
    snprintf(d->file, sizeof(d->file), "%s/key", d->path);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dir *d = *state;
    char p[128];
    static const char *names[] = {"key", "link", "big", "max", "sub"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", d->path, names[i]);
        (void)(strcmp(names[i], "sub") == 0 ? rmdir(p) : unlink(p));
    }
    rmdir(d->path);
    free(d);
    return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void sparse_file(const char *path, off_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
}

static void test_reads_whole_file(void **state)
{
    struct dir *d = *state;
    struct chsm_secbuf b = {0};
    static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0};
    write_file(d->file, key, sizeof(key));
    assert_int_equal(adm_secret_file_read(d->file, &b), ADM_OK);
    assert_int_equal(b.len, sizeof(key));
    assert_memory_equal(b.data, key, sizeof(key));
    chsm_secbuf_free(&b);
    assert_null(b.data);
    write_file(d->file, "", 0);
    assert_int_equal(adm_secret_file_read(d->file, &b), ADM_OK);
    assert_int_equal(b.len, 0);
    chsm_secbuf_free(&b);
}

static void test_refusals(void **state)
{
    struct dir *d = *state;
    struct chsm_secbuf b = {0};
    char p[128];
    write_file(d->file, "secret", 6);
    snprintf(p, sizeof(p), "%s/link", d->path);
    assert_int_equal(symlink(d->file, p), 0);
    assert_int_equal(adm_secret_file_read(p, &b), ADM_USAGE);
    assert_null(b.data);
    snprintf(p, sizeof(p), "%s/sub", d->path);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(adm_secret_file_read(p, &b), ADM_USAGE);
    snprintf(p, sizeof(p), "%s/missing", d->path);
    assert_int_equal(adm_secret_file_read(p, &b), ADM_FAILED);
    assert_null(b.data);
}

static void test_size_limit(void **state)
{
    struct dir *d = *state;
    struct chsm_secbuf b = {0};
    char p[128];
    snprintf(p, sizeof(p), "%s/big", d->path);
    sparse_file(p, (off_t)ADM_SECRET_FILE_MAX + 1);
    assert_int_equal(adm_secret_file_read(p, &b), ADM_USAGE);
    assert_null(b.data);
    snprintf(p, sizeof(p), "%s/max", d->path);
    sparse_file(p, (off_t)ADM_SECRET_FILE_MAX);
    assert_int_equal(adm_secret_file_read(p, &b), ADM_OK);
    assert_int_equal(b.len, ADM_SECRET_FILE_MAX);
    chsm_secbuf_free(&b);
}

/* Standard input from a pipe fed by a child with n bytes of 'k'; returns adm_secret_file_read's code. */
static int read_pipe(size_t n, struct chsm_secbuf *b)
{
    int fds[2], saved = dup(STDIN_FILENO), rc;
    pid_t pid;
    assert_true(saved >= 0);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static char chunk[4096];
        close(fds[0]);
        memset(chunk, 'k', sizeof(chunk));
        for (size_t left = n; left > 0;) {
            size_t w = left < sizeof(chunk) ? left : sizeof(chunk);
            if (write(fds[1], chunk, w) != (ssize_t)w)
                _exit(1);
            left -= w;
        }
        _exit(0);
    }
    close(fds[1]);
    assert_true(dup2(fds[0], STDIN_FILENO) >= 0);
    close(fds[0]);
    rc = adm_secret_file_read("-", b);
    assert_true(dup2(saved, STDIN_FILENO) >= 0);
    close(saved);
    kill(pid, SIGKILL); /* the refusal stops reading early; the writer may still block */
    waitpid(pid, NULL, 0);
    return rc;
}

static void test_pipe_grows_and_is_capped(void **state)
{
    (void)state;
    struct chsm_secbuf b = {0};
    assert_int_equal(read_pipe(20000, &b), ADM_OK);
    assert_int_equal(b.len, 20000);
    assert_int_equal(b.data[0], 'k');
    assert_int_equal(b.data[19999], 'k');
    chsm_secbuf_free(&b);
    assert_int_equal(read_pipe(ADM_SECRET_FILE_MAX + 100, &b), ADM_USAGE);
    assert_null(b.data);
}

int chsm_test_secret_file(void);
int chsm_test_secret_file(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_whole_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
        cmocka_unit_test(test_pipe_grows_and_is_capped),
    };
    return cmocka_run_group_tests_name("secret_file", tests, NULL, NULL);
}
