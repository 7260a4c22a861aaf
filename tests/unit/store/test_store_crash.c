/*
 * Crash safety at the store level: a child process creates and deletes
 * objects and reports each CKR_OK on a pipe; the parent SIGKILLs it at
 * random moments. After every kill the store must open, pass
 * integrity_check, and hold every object whose creation was acknowledged
 * (deletes are announced before they are attempted, so an object with a
 * pending delete may be either present or gone). The 200-kill version runs
 * through the PKCS#11 module in tests/integration.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "store_test.h"

void test_crash_kill(void **state);

#define KILLS 12
#define MAX_IDS 4096

struct ack {
    char op; /* 'P' created, 'd' about to delete */
    uint8_t id[CHSM_OBJECT_ID_LEN];
};

static void child_run(const char *dir, const struct chsm_secbuf *mk, int fd)
{
    struct chsm_store *st = NULL;
    uint8_t last[CHSM_OBJECT_ID_LEN] = {0};
    if (chsm_crypto_after_fork() != CKR_OK || chsm_store_open(dir, &st) != CKR_OK)
        _exit(3);
    for (unsigned i = 0;; i++) {
        struct ack a = {'P', {0}};
        struct chsm_attrlist l;
        uint8_t key[32] = {(uint8_t)i};
        if (chsm_store_new_object_id(a.id) != CKR_OK)
            _exit(4);
        t_secret_key(&l, key, sizeof(key), "crash");
        CK_RV rv = chsm_store_object_put(st, T_SLOT, mk, a.id, &l, NULL);
        chsm_attrlist_free(&l);
        if (rv != CKR_OK)
            _exit(5);
        if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
            _exit(6);
        if (i % 3 == 2) {
            struct ack d = {'d', {0}};
            memcpy(d.id, last, sizeof(last));
            if (write(fd, &d, sizeof(d)) != (ssize_t)sizeof(d) ||
                chsm_store_object_delete(st, T_SLOT, last) != CKR_OK)
                _exit(7);
        }
        memcpy(last, a.id, sizeof(last));
    }
}

struct ledger {
    uint8_t ids[MAX_IDS][CHSM_OBJECT_ID_LEN];
    char maybe_gone[MAX_IDS];
    size_t n;
};

static void ledger_read(struct ledger *lg, int fd)
{
    struct ack a;
    while (read(fd, &a, sizeof(a)) == (ssize_t)sizeof(a)) {
        if (a.op == 'P' && lg->n < MAX_IDS) {
            memcpy(lg->ids[lg->n], a.id, CHSM_OBJECT_ID_LEN);
            lg->maybe_gone[lg->n++] = 0;
        } else if (a.op == 'd') {
            for (size_t i = 0; i < lg->n; i++)
                if (memcmp(lg->ids[i], a.id, CHSM_OBJECT_ID_LEN) == 0)
                    lg->maybe_gone[i] = 1;
        }
    }
}

struct presence {
    const struct ledger *lg;
    char *seen;
};

static CK_RV mark(void *ctx, struct chsm_store_object *o)
{
    struct presence *p = ctx;
    for (size_t i = 0; i < p->lg->n; i++)
        if (memcmp(p->lg->ids[i], o->id, CHSM_OBJECT_ID_LEN) == 0)
            p->seen[i] = 1;
    chsm_store_object_free(o);
    return CKR_OK;
}

static void bad(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN], CK_RV why)
{
    (void)ctx;
    (void)id;
    fail_msg("object failed authentication after a kill (rv 0x%lx)", (unsigned long)why);
}

static void verify(const char *dir, const struct chsm_secbuf *mk, const struct ledger *lg)
{
    struct chsm_store *st = NULL;
    bool ok = false;
    static char seen[MAX_IDS];
    memset(seen, 0, sizeof(seen));
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(chsm_store_integrity_check(st, &ok), CKR_OK);
    assert_true(ok);
    struct presence p = {lg, seen};
    struct chsm_store_feed feed = {&p, mark, NULL, bad};
    assert_int_equal(chsm_store_changes(st, T_SLOT, 0, mk, &feed, NULL), CKR_OK);
    for (size_t i = 0; i < lg->n; i++)
        if (!lg->maybe_gone[i] && !seen[i])
            fail_msg("acknowledged object %zu of %zu lost after SIGKILL", i, lg->n);
    chsm_store_close(st);
}

void test_crash_kill(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    static struct ledger lg;
    memset(&lg, 0, sizeof(lg));
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    chsm_store_close(st); /* no SQLite connection may cross fork() */
    srand((unsigned)getpid());
    for (int k = 0; k < KILLS; k++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_run(dir, &mk, fds[1]);
        }
        close(fds[1]);
        /*
         * Wait (without consuming) until the child has acknowledged its first
         * write, so every round kills a writer that is really writing — under
         * emulation (qemu) start-up alone can outlast the random delay.
         */
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 30000), 1);
        usleep((useconds_t)(2000 + rand() % 30000));
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status)); /* killed mid-work, not exited on an error */
        ledger_read(&lg, fds[0]);
        close(fds[0]);
        verify(dir, &mk, &lg);
    }
    assert_true(lg.n > 0);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}
