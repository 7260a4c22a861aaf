/*
 * Multi-process behaviour: two forked children appending to one log (with
 * size rotations racing between them) must produce one unbroken chain; a
 * writer killed with SIGKILL leaves a log that reopens and verifies.
 */
#include "test_audit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"

#define PER_CHILD 1500

static void child_cfg(struct chsm_config *cfg, const char *p)
{
    t_cfg(cfg, p);
    cfg->audit.key_use = CHSM_AUDIT_KEYUSE_EACH;
    cfg->audit.sync = CHSM_AUDIT_SYNC_BATCH;
    cfg->audit.max_size = 64 * 1024;
}

static int child_writer(const char *p, int id)
{
    struct chsm_config cfg;
    struct chsm_audit *a;
    child_cfg(&cfg, p);
    if (chsm_crypto_after_fork() != CKR_OK || chsm_audit_open(&cfg, &a) != CKR_OK)
        return 1;
    for (int i = 0; i < PER_CHILD; i++) {
        if (i % 2 == 0) {
            struct chsm_audit_event ev = {.event = "object_create", .slot = id, .session = (uint64_t)i + 1,
                                          .result = CKR_OK};
            if (chsm_audit_event(a, &ev) != CKR_OK)
                return 2;
        } else {
            chsm_audit_key_use(a, id, (uint64_t)i + 1, CHSM_AUDIT_USER_USER, "01", "k", "CKM_ECDSA", "sign", CKR_OK);
        }
        if (id == 1 && i % 500 == 499 && chsm_audit_rotate(a) != CKR_OK)
            return 3;
    }
    chsm_audit_close(a);
    return 0;
}

struct per_pid {
    pid_t pid[2];
    size_t n[2];
    size_t rotates;
};

static int count_cb(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno,
                    bool terminated, void *ctx)
{
    struct per_pid *c = ctx;
    (void)line, (void)len, (void)lineno, (void)terminated;
    if (e == NULL)
        return 1;
    if (strcmp(e->event, "rotate") == 0) {
        c->rotates++;
        return 0;
    }
    for (int i = 0; i < 2; i++)
        if (e->pid == c->pid[i])
            c->n[i]++;
    return 0;
}

void test_two_processes(void **state)
{
    (void)state;
    char *p = t_path("procs.jsonl");
    struct per_pid c = {0};
    for (int i = 0; i < 2; i++) {
        c.pid[i] = fork();
        assert_true(c.pid[i] >= 0);
        if (c.pid[i] == 0)
            _exit(child_writer(p, i));
    }
    for (int i = 0; i < 2; i++) {
        int status;
        assert_int_equal(waitpid(c.pid[i], &status, 0), c.pid[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    char **files;
    size_t n;
    assert_int_equal(chsm_audit_list_files(p, &files, &n), CKR_OK);
    assert_true(n > 3); /* explicit rotations by child 1 and size rotations by both */
    struct chsm_audit_verify_result res;
    assert_int_equal(chsm_audit_verify_files((const char *const *)files, n, NULL, &res), CKR_OK);
    if (!res.ok)
        fail_msg("%s:%llu: %s (expected %s, found %s)", res.bad_file, (unsigned long long)res.bad_line, res.reason,
                 res.expected, res.found);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(chsm_audit_read_entries(files[i], count_cb, &c), CKR_OK);
    assert_int_equal(c.n[0], PER_CHILD);
    assert_int_equal(c.n[1], PER_CHILD);
    assert_int_equal(res.entries, 2 * PER_CHILD + c.rotates);
    assert_int_equal(res.first_seq, 1);
    assert_int_equal(res.last_seq, res.entries); /* no gaps, no duplicates */
    assert_false(res.truncation_recovered);
    chsm_audit_free_list(files, n);
    free(p);
}

void test_kill9_real(void **state)
{
    (void)state;
    char *p = t_path("kill9.jsonl");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct chsm_config cfg;
        struct chsm_audit *a;
        child_cfg(&cfg, p);
        cfg.audit.max_size = 1ull << 30;
        if (chsm_crypto_after_fork() != CKR_OK || chsm_audit_open(&cfg, &a) != CKR_OK)
            _exit(1);
        for (uint64_t i = 1;; i++)
            chsm_audit_key_use(a, 0, i, CHSM_AUDIT_USER_USER, "01", "k", "CKM_ECDSA", "sign", CKR_OK);
    }
    /* Wait for the child to be logging heavily, then kill it mid-stream. */
    while (access(p, F_OK) != 0 || t_count_lines(p) < 300)
        usleep(10000);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    struct chsm_config cfg;
    struct chsm_audit *a;
    child_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    t_ev(a, "initialize", CKR_OK);
    chsm_audit_close(a);
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    if (!res.ok)
        fail_msg("%s:%llu: %s", res.bad_file, (unsigned long long)res.bad_line, res.reason);
    assert_true(res.entries >= 301);
    free(p);
}
