/*
 * The batch queue (src/audit/queue.c): batchable entries wait in memory and
 * reach the file in call order before any directly written entry, at
 * head/rotate/session close/close, and once the queue reaches its bound; a
 * lost batch fails the next event call. The flusher is stopped (or given a
 * 10 s period) so that only the drain under test can write.
 */
#include "test_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/internal.h"

/* A logger whose flusher never runs: only the drains the test triggers write. */
static struct chsm_audit *open_quiet(const char *p, enum chsm_audit_sync sync, bool fail_open)
{
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    cfg.audit.key_use = CHSM_AUDIT_KEYUSE_EACH;
    cfg.audit.sync = sync;
    cfg.audit.batch_ms = 10000;
    cfg.audit.fail_open = fail_open;
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    audit_flusher_stop(a);
    return a;
}

static void ev_session(struct chsm_audit *a, const char *event, uint64_t session, const char *detail, CK_RV expect)
{
    struct chsm_audit_event ev = {.event = event, .slot = 0, .session = session, .user = CHSM_AUDIT_USER_USER,
                                  .object_id = "0a0b", .result = CKR_OK, .detail = detail, .session_only = true};
    assert_int_equal(chsm_audit_event(a, &ev), expect);
}

struct events {
    char name[16][CHSM_AUDIT_EVENT_MAX];
    uint64_t session[16];
    long pid[16];
    size_t n;
};

static int events_cb(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno,
                     bool terminated, void *ctx)
{
    struct events *ev = ctx;
    (void)line, (void)len, (void)terminated;
    assert_non_null(e);
    assert_int_equal(e->seq, lineno);
    /* RFC 3339 with microseconds, as the per-second cached date prefix must still produce. */
    assert_int_equal(strlen(e->time), 27);
    assert_true(e->time[10] == 'T' && e->time[19] == '.' && e->time[26] == 'Z');
    if (ev->n < 16) {
        snprintf(ev->name[ev->n], sizeof(ev->name[0]), "%s", e->event);
        ev->session[ev->n] = e->session;
        ev->pid[ev->n] = (long)e->pid;
        ev->n++;
    }
    return 0;
}

static void read_events(const char *p, struct events *ev)
{
    memset(ev, 0, sizeof(*ev));
    assert_int_equal(chsm_audit_read_entries(p, events_cb, ev), CKR_OK);
}

static void test_queue_order_before_durable(void **state)
{
    (void)state;
    char *p = t_path("q_order.jsonl");
    struct chsm_audit *a = open_quiet(p, CHSM_AUDIT_SYNC_ALWAYS, false);
    ev_session(a, "session_open", 5, NULL, CKR_OK);
    ev_session(a, "key_generate", 5, NULL, CKR_OK);
    chsm_audit_key_use(a, 0, 5, CHSM_AUDIT_USER_USER, "0a0b", NULL, "CKM_ECDSA", "sign", CKR_OK); /* direct */
    ev_session(a, "object_destroy", 5, NULL, CKR_OK);
    assert_int_equal(t_count_lines(p), 3); /* the direct key use drained the two before it */
    t_ev(a, "login", CKR_OK);              /* durable: drains first, then itself */
    struct events ev;
    read_events(p, &ev);
    static const char *const want[] = {"session_open", "key_generate", "sign", "object_destroy", "login"};
    assert_int_equal(ev.n, CHSM_ARRAY_LEN(want));
    for (size_t i = 0; i < ev.n; i++)
        assert_string_equal(ev.name[i], want[i]);
    chsm_audit_close(a);
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    assert_int_equal(res.entries, 5);
    free(p);
}

static void test_queue_batch_keyuse(void **state)
{
    (void)state;
    char *p = t_path("q_keyuse.jsonl");
    struct chsm_audit *a = open_quiet(p, CHSM_AUDIT_SYNC_BATCH, false);
    for (int i = 0; i < 3; i++)
        chsm_audit_key_use(a, 0, 9, CHSM_AUDIT_USER_USER, "0a0b", NULL, "CKM_ECDSA", "sign", CKR_OK);
    assert_int_equal(t_count_lines(p), 0); /* sync="batch": key use waits in the queue */
    t_ev(a, "object_create", CKR_OK);
    assert_int_equal(t_count_lines(p), 4);
    chsm_audit_close(a);
    free(p);
}

static void test_queue_drain_points(void **state)
{
    (void)state;
    char *p = t_path("q_points.jsonl");
    struct chsm_audit *a = open_quiet(p, CHSM_AUDIT_SYNC_ALWAYS, false);
    uint64_t seq;
    char hash[65];
    ev_session(a, "session_open", 1, NULL, CKR_OK);
    ev_session(a, "key_generate", 1, NULL, CKR_OK);
    assert_int_equal(t_count_lines(p), 0);
    assert_int_equal(chsm_audit_head(a, &seq, hash), CKR_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(t_count_lines(p), 2);
    /* Session close: chsm_audit_session_closed drains, and so does the session_close event. */
    ev_session(a, "object_destroy", 1, NULL, CKR_OK);
    chsm_audit_session_closed(a, 1);
    assert_int_equal(t_count_lines(p), 3);
    ev_session(a, "session_open", 2, NULL, CKR_OK);
    ev_session(a, "session_close", 2, NULL, CKR_OK);
    assert_int_equal(t_count_lines(p), 5);
    /* Rotate: queued entries land in the segment they happened in, before its rotate entry. */
    ev_session(a, "session_open", 3, NULL, CKR_OK);
    assert_int_equal(chsm_audit_rotate(a), CKR_OK);
    char seg[600];
    snprintf(seg, sizeof(seg), "%s.000001", p);
    struct events ev;
    read_events(seg, &ev);
    assert_int_equal(ev.n, 7);
    assert_string_equal(ev.name[5], "session_open");
    assert_int_equal(ev.session[5], 3);
    assert_string_equal(ev.name[6], "rotate");
    /* Close drains. */
    ev_session(a, "session_open", 4, NULL, CKR_OK);
    assert_int_equal(t_count_lines(p), 0);
    chsm_audit_close(a);
    assert_int_equal(t_count_lines(p), 1);
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    assert_int_equal(res.entries, 8);
    free(p);
}

static void test_queue_bound_entries(void **state)
{
    (void)state;
    char *p = t_path("q_bound.jsonl");
    struct chsm_audit *a = open_quiet(p, CHSM_AUDIT_SYNC_ALWAYS, false);
    for (unsigned i = 1; i < AUDIT_Q_MAX_ENTRIES; i++)
        ev_session(a, "key_generate", i, NULL, CKR_OK);
    assert_int_equal(t_count_lines(p), 0);
    assert_int_equal(a->q.n, AUDIT_Q_MAX_ENTRIES - 1);
    ev_session(a, "key_generate", AUDIT_Q_MAX_ENTRIES, NULL, CKR_OK); /* reaches the bound: the caller drains */
    assert_int_equal(a->q.n, 0);
    assert_int_equal(t_count_lines(p), AUDIT_Q_MAX_ENTRIES);
    chsm_audit_close(a);
    free(p);
}

static void test_queue_bound_bytes(void **state)
{
    (void)state;
    char *p = t_path("q_bytes.jsonl");
    char detail[AUDIT_CAP_DETAIL + 1];
    memset(detail, 'd', AUDIT_CAP_DETAIL);
    detail[AUDIT_CAP_DETAIL] = '\0';
    struct chsm_audit *a = open_quiet(p, CHSM_AUDIT_SYNC_ALWAYS, false);
    size_t drained_at = 0;
    for (size_t i = 1; i <= 4000 && drained_at == 0; i++) {
        ev_session(a, "object_create", i, detail, CKR_OK);
        assert_true(a->q.len < AUDIT_Q_MAX_BYTES);
        if (a->q.n == 0)
            drained_at = i;
    }
    /* ~1 KiB bodies: the byte bound, not the entry bound, triggered the drain. */
    assert_true(drained_at > 500 && drained_at < AUDIT_Q_MAX_ENTRIES);
    assert_int_equal(t_count_lines(p), drained_at);
    chsm_audit_close(a);
    free(p);
}

static void remove_log(const char *d, const char *lp)
{
    char lk[700];
    snprintf(lk, sizeof(lk), "%s.lock", lp);
    assert_int_equal(unlink(lp), 0);
    assert_int_equal(unlink(lk), 0);
    assert_int_equal(rmdir(d), 0);
}

static void test_queue_drain_failure(void **state)
{
    (void)state;
    for (int open_mode = 0; open_mode < 2; open_mode++) {
        char *d = t_path("q_gone");
        char lp[600];
        assert_int_equal(mkdir(d, 0700), 0);
        snprintf(lp, sizeof(lp), "%s/log.jsonl", d);
        struct chsm_audit *a = open_quiet(lp, CHSM_AUDIT_SYNC_ALWAYS, open_mode == 1);
        t_ev(a, "login", CKR_OK);
        ev_session(a, "key_generate", 1, NULL, CKR_OK);
        remove_log(d, lp);
        /* The flusher's drain fails: the batch is lost and remembered. */
        assert_int_equal(audit_flush_queue(a), CKR_DEVICE_ERROR);
        assert_int_equal(mkdir(d, 0700), 0); /* the log can be written again */
        /* The next event call reports the loss (fail-closed) once, without writing itself. */
        ev_session(a, "key_generate", 2, NULL, open_mode ? CKR_OK : CKR_DEVICE_ERROR);
        t_ev(a, "logout", CKR_OK);
        chsm_audit_close(a);
        struct events ev;
        read_events(lp, &ev);
        assert_int_equal(ev.n, open_mode ? 2 : 1);
        assert_string_equal(ev.name[ev.n - 1], "logout");
        free(d);
    }
}

static void test_queue_fork_child(void **state)
{
    (void)state;
    char *p = t_path("q_fork.jsonl");
    struct chsm_audit *a = open_quiet(p, CHSM_AUDIT_SYNC_ALWAYS, false);
    ev_session(a, "session_open", 1, NULL, CKR_OK);
    ev_session(a, "key_generate", 1, NULL, CKR_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The parent's queued entries are the parent's to write: the child writes only its own. */
        struct chsm_audit_event e = {.event = "session_open", .slot = 0, .session = 77, .session_only = true};
        uint64_t seq;
        char hash[65];
        _exit(chsm_audit_event(a, &e) == CKR_OK && chsm_audit_head(a, &seq, hash) == CKR_OK ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    chsm_audit_close(a);
    struct events ev;
    read_events(p, &ev);
    assert_int_equal(ev.n, 3);
    assert_int_equal(ev.session[0], 77);
    assert_int_equal(ev.pid[0], pid);
    assert_int_equal(ev.pid[1], getpid());
    assert_int_equal(ev.pid[2], getpid());
    assert_string_equal(ev.name[2], "key_generate");
    free(p);
}

const struct CMUnitTest t_queue_tests[] = {
    cmocka_unit_test(test_queue_order_before_durable),
    cmocka_unit_test(test_queue_batch_keyuse),
    cmocka_unit_test(test_queue_drain_points),
    cmocka_unit_test(test_queue_bound_entries),
    cmocka_unit_test(test_queue_bound_bytes),
    cmocka_unit_test(test_queue_drain_failure),
    cmocka_unit_test(test_queue_fork_child),
};
const size_t t_queue_ntests = sizeof(t_queue_tests) / sizeof(t_queue_tests[0]);
