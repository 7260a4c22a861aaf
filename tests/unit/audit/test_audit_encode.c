/*
 * The queued-entry fast path (queue.c, record.c, now.c): the table-driven
 * encoder writes exactly the bytes of a plain snprintf reference (the chain
 * hashes them, and the Python verifier re-hashes lines); the arithmetic,
 * per-second-cached time equals gmtime_r + strftime; and two threads queueing
 * at once keep an exact count with times in queue order.
 */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "audit/internal.h"
#include "config/config.h"
#include "crypto/crypto.h"

static char g_dir[64];

/* ---- the reference encoder: one byte at a time, snprintf for every number ---- */

struct ref {
    char *p;
    size_t len, cap;
};

static void ref_printf(struct ref *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ref_printf(struct ref *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < b->cap - b->len);
    b->len += (size_t)n;
}

/* Valid UTF-8 sequence length at s with n bytes left (RFC 3629), 0 if invalid. */
static size_t ref_utf8(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp;
    size_t len;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07u;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void ref_str(struct ref *b, const char *s, size_t cap)
{
    if (s == NULL) {
        ref_printf(b, "null");
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strnlen(s, cap);
    ref_printf(b, "\"");
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        size_t l;
        if (c == '"' || c == '\\')
            ref_printf(b, "\\%c", c);
        else if (c == '\n')
            ref_printf(b, "\\n");
        else if (c == '\r')
            ref_printf(b, "\\r");
        else if (c == '\t')
            ref_printf(b, "\\t");
        else if (c < 0x20 || c == 0x7f)
            ref_printf(b, "\\u%04x", c);
        else if (c < 0x80)
            ref_printf(b, "%c", c);
        else if ((l = ref_utf8(u + i, n - i)) == 0)
            ref_printf(b, "\\u%04x", c);
        else {
            ref_printf(b, "%.*s", (int)l, s + i);
            i += l;
            continue;
        }
        i++;
    }
    ref_printf(b, "\"");
}

static void ref_time_us(int64_t us, char out[CHSM_RFC3339_LEN])
{
    time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    char date[24];
    gmtime_r(&sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, CHSM_RFC3339_LEN, "%.19s.%06uZ", date, (unsigned)(us % 1000000));
}

static const char *const k_users[] = {"public", "so", "user"};

static size_t ref_body(char *out, size_t cap, const char *time, const struct audit_rec *r, long pid,
                       const char *actor)
{
    struct ref b = {out, 0, cap};
    ref_printf(&b, ",\"time\":\"%s\",\"event\":\"%s\",\"slot\":", time, r->event);
    if (r->slot < 0)
        ref_printf(&b, "null");
    else
        ref_printf(&b, "%" PRId64, r->slot);
    if (r->session == 0)
        ref_printf(&b, ",\"session\":null");
    else
        ref_printf(&b, ",\"session\":%" PRIu64, r->session);
    if ((unsigned)r->user >= 1 && (unsigned)r->user <= 3)
        ref_printf(&b, ",\"user\":\"%s\"", k_users[r->user - 1]);
    else
        ref_printf(&b, ",\"user\":null");
    ref_printf(&b, ",\"object\":");
    if (r->object_id == NULL && r->object_label == NULL) {
        ref_printf(&b, "null");
    } else {
        ref_printf(&b, "{\"id\":");
        ref_str(&b, r->object_id, AUDIT_CAP_ID);
        ref_printf(&b, ",\"label\":");
        ref_str(&b, r->object_label, AUDIT_CAP_LABEL);
        ref_printf(&b, "}");
    }
    ref_printf(&b, ",\"mechanism\":");
    ref_str(&b, r->mechanism, AUDIT_CAP_MECH);
    ref_printf(&b, ",\"result\":\"%s\",\"pid\":%ld,\"actor\":", chsm_rv_name(r->result), pid);
    ref_str(&b, actor, AUDIT_CAP_ACTOR);
    if (r->detail != NULL) {
        ref_printf(&b, ",\"detail\":");
        ref_str(&b, r->detail, AUDIT_CAP_DETAIL);
    }
    if (r->count > 0) {
        char f[CHSM_RFC3339_LEN], l[CHSM_RFC3339_LEN];
        ref_time_us(r->first_us, f);
        ref_time_us(r->last_us, l);
        ref_printf(&b, ",\"count\":%" PRIu64 ",\"interval\":{\"first\":\"%s\",\"last\":\"%s\"}", r->count, f, l);
    }
    return b.len;
}

#define BUF (AUDIT_LINE_MAX - 1 - AUDIT_FRAME_MAX)

/* Both encoders on one record: same length, same bytes; the framed line adds seq and prev. */
static void check_same(const struct audit_rec *r, long pid, const char *actor)
{
    static char got[BUF], want[BUF], line[AUDIT_LINE_MAX], framed[AUDIT_LINE_MAX];
    static const char prev[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const char *time = "2026-11-27T17:42:31.266055Z";
    size_t n = audit_encode_body(got, sizeof(got), time, r, pid, actor);
    size_t m = ref_body(want, sizeof(want), time, r, pid, actor);
    assert_int_equal(n, m);
    assert_memory_equal(got, want, n);
    size_t ll = audit_encode(line, sizeof(line), 18446744073709551615ull, time, r, pid, actor, prev);
    size_t fl = audit_frame(framed, sizeof(framed), 18446744073709551615ull, got, n, prev);
    assert_true(ll > 0 && ll == fl);
    assert_memory_equal(line, framed, ll);
    assert_int_equal(strncmp(line, "{\"seq\":18446744073709551615,\"time\":", 35), 0);
    /* Whatever the encoder writes, the strict parser reads back (its pid range stops one short of
     * LONG_MIN, which no process has). */
    struct chsm_audit_entry e;
    if (pid != LONG_MIN && chsm_audit_parse_line(line, ll, &e) != CKR_OK)
        fail_msg("parse: %s in %.*s", chsm_err_last()->msg, (int)ll, line);
    /* Too small a buffer is refused, never a cut line. */
    assert_int_equal(audit_encode_body(got, n - 1, time, r, pid, actor), 0);
}

static void test_encode_escape_classes(void **state)
{
    (void)state;
    char all[256], ctl[40], cap_id[AUDIT_CAP_ID + 8], cut[AUDIT_CAP_LABEL + 1], esc_detail[AUDIT_CAP_DETAIL + 8];
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1); /* every byte value but NUL */
    all[255] = '\0';
    for (int i = 0; i < 32; i++)
        ctl[i] = (char)(i == 0 ? 0x7f : i);
    memcpy(ctl + 32, "\"\\/ok", 6);
    memset(cap_id, 'a', sizeof(cap_id) - 1);
    cap_id[sizeof(cap_id) - 1] = '\0';
    /* A 3-byte character straddling the label cap: its bytes before the cap are escaped. */
    memset(cut, 'x', sizeof(cut) - 1);
    memcpy(cut + AUDIT_CAP_LABEL - 2, "\xe2\x82", 2);
    cut[AUDIT_CAP_LABEL] = '\0';
    memset(esc_detail, '\x01', sizeof(esc_detail) - 1); /* every byte 6 wide at the longest field */
    esc_detail[sizeof(esc_detail) - 1] = '\0';
    const char *texts[] = {"", "plain", all, ctl, cap_id, cut, esc_detail, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                           "\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80\xf8\x88\x80\x80\x80", /* overlong, surrogate, > U+10FFFF */
                           "\xc3", "\xe2\x82", "trail\xc3", "a\"b\\c\nd\r\te"};
    for (size_t i = 0; i < CHSM_ARRAY_LEN(texts); i++) {
        const char *t = texts[i];
        struct audit_rec r = {.event = "object_create", .slot = 0, .session = 1, .user = CHSM_AUDIT_USER_SO,
                              .object_id = t, .object_label = t, .mechanism = t, .result = CKR_OK, .detail = t};
        check_same(&r, 1234, t);
        r.object_id = NULL;
        check_same(&r, 1234, NULL);
        r.object_label = NULL;
        r.object_id = t;
        r.mechanism = NULL;
        r.detail = NULL;
        check_same(&r, 1234, t);
    }
}

static void test_encode_integers(void **state)
{
    (void)state;
    const int64_t slots[] = {-1, INT64_MIN, 0, 1, 9, 10, 99, 100, 4294967295ll, INT64_MAX};
    const uint64_t sessions[] = {0, 1, 10, 18446744073709551615ull, 1000000000000ull};
    const long pids[] = {0, 1, -1, 2147483647l, -2147483647l - 1, 9223372036854775807l, -9223372036854775807l - 1};
    const CK_RV results[] = {CKR_OK, CKR_PIN_INCORRECT, 0x7ffffffful, CKR_VENDOR_DEFINED};
    for (size_t i = 0; i < CHSM_ARRAY_LEN(slots); i++) {
        struct audit_rec r = {.event = "mac", .slot = slots[i], .session = sessions[i % CHSM_ARRAY_LEN(sessions)],
                              .user = (enum chsm_audit_user)(i % 5), .mechanism = "CKM_SHA256_HMAC",
                              .result = results[i % CHSM_ARRAY_LEN(results)], .object_id = "00ff"};
        check_same(&r, pids[i % CHSM_ARRAY_LEN(pids)], "pid:1");
        /* Summaries: count and the interval's two times. */
        r.count = i == 0 ? 18446744073709551615ull : (uint64_t)i;
        r.first_us = (int64_t)i * 123456789012345ll;
        r.last_us = r.first_us + 999999;
        check_same(&r, pids[i % CHSM_ARRAY_LEN(pids)], "pid:1");
    }
}

/* A fixed-seed walk over random bytes: mostly plain text, some escapes, some UTF-8 pieces. */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

static void rnd_text(char *s, size_t max)
{
    static const char *const pieces[] = {"\"", "\\", "\n", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xed\xa0\x80", "ab"};
    size_t n = rnd((unsigned)max), i = 0;
    while (i < n) {
        if (rnd(4) == 0) {
            const char *p = pieces[rnd(CHSM_ARRAY_LEN(pieces))];
            size_t l = strlen(p);
            if (i + l > n)
                break;
            memcpy(s + i, p, l);
            i += l;
        } else {
            s[i++] = (char)(1 + rnd(255));
        }
    }
    s[i] = '\0';
}

static void test_encode_random(void **state)
{
    (void)state;
    char id[200], label[300], mech[100], detail[600], actor[300];
    for (int k = 0; k < 2000; k++) {
        rnd_text(id, sizeof(id) - 4);
        rnd_text(label, sizeof(label) - 4);
        rnd_text(mech, sizeof(mech) - 4);
        rnd_text(detail, sizeof(detail) - 4);
        rnd_text(actor, sizeof(actor) - 4);
        struct audit_rec r = {.event = "sign", .slot = (int64_t)rnd(3) - 1, .session = rnd(1000),
                              .user = (enum chsm_audit_user)rnd(4), .object_id = id, .object_label = label,
                              .mechanism = mech, .result = CKR_OK, .detail = rnd(2) ? detail : NULL};
        check_same(&r, (long)rnd(100000), actor);
    }
}

/* ---- time ---- */

static void ref_time(const struct timespec *ts, char out[CHSM_RFC3339_LEN])
{
    struct tm tm;
    char date[24];
    gmtime_r(&ts->tv_sec, &tm);
    if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
        memcpy(date, "0000-00-00T00:00:00", 20);
    snprintf(out, CHSM_RFC3339_LEN, "%.19s.%06uZ", date, (unsigned)(ts->tv_nsec / 1000));
}

static void check_time(time_t sec, long nsec)
{
    struct timespec ts = {sec, nsec};
    char got[CHSM_RFC3339_LEN] = {0}, want[CHSM_RFC3339_LEN];
    audit_time_write(got, &ts);
    ref_time(&ts, want);
    assert_int_equal(strlen(want), AUDIT_TIME_LEN);
    assert_string_equal(got, want);
    /* The summary interval's formatter agrees wherever both are defined. */
    if (sec >= 0 && sec < 253402300800) {
        char t[CHSM_RFC3339_LEN];
        int64_t us = (int64_t)sec * 1000000 + nsec / 1000;
        audit_format_time_us(us, t);
        assert_string_equal(t, want);
    }
}

static void test_time_cached_across_seconds(void **state)
{
    (void)state;
    /* Second, minute, day, month, leap-day, century and year-2038 boundaries, and a clock step back. */
    const time_t edges[] = {1, 60, 86400, 951782400, 951868800, 946684800, 1709251200, 2147483648, 4107542400,
                            253402300799, 1798761600, 1798761600 - 3600};
    for (size_t i = 0; i < CHSM_ARRAY_LEN(edges); i++) {
        time_t s = edges[i];
        check_time(s - 1, 999999999);
        check_time(s, 0);
        check_time(s, 1000);
        check_time(s - 1, 500000000); /* back into the previous second: the cache must not answer */
        check_time(s, 999999999);
        check_time(s + 1, 123456000);
    }
    /* Every day over four centuries (each month and leap rule), a varying time of day. */
    for (int64_t d = 0; d < 146097 + 366; d += 1) {
        time_t s = (time_t)(d * 86400 + (d * 7919) % 86400);
        check_time(s, (long)(d % 1000) * 1000);
    }
    /* Outside 1970..9999 the strftime path is kept as it was. */
    check_time(-1, 0);
    check_time(253402300800, 0);
}

static void test_fmt_datetime_range(void **state)
{
    (void)state;
    char d[20] = {0};
    assert_false(audit_fmt_datetime(-1, d));
    assert_false(audit_fmt_datetime(253402300800, d));
    assert_int_equal(d[0], 0); /* untouched */
    assert_true(audit_fmt_datetime(0, d));
    assert_memory_equal(d, "1970-01-01T00:00:00", 19);
    assert_true(audit_fmt_datetime(253402300799, d));
    assert_memory_equal(d, "9999-12-31T23:59:59", 19);
    char u[7] = {0};
    audit_fmt_usec(7, u);
    assert_string_equal(u, "000007");
    audit_fmt_usec(999999, u);
    assert_string_equal(u, "999999");
}

/* ---- two threads queueing at once ---- */

#define PER_THREAD 3000

struct qthread {
    struct chsm_audit *a;
    uint64_t session;
    CK_RV rv;
};

static void *queue_worker(void *p)
{
    struct qthread *t = p;
    char detail[24];
    t->rv = CKR_OK;
    for (int i = 0; i < PER_THREAD && t->rv == CKR_OK; i++) {
        snprintf(detail, sizeof(detail), "%d", i);
        struct audit_rec r = {.event = "mac", .slot = 0, .session = t->session, .user = CHSM_AUDIT_USER_USER,
                              .object_id = "00ff", .mechanism = "CKM_SHA256_HMAC", .result = CKR_OK,
                              .detail = detail};
        t->rv = audit_append_batched(t->a, &r);
    }
    return NULL;
}

struct order {
    char last_time[32];
    size_t n[2];
    long next[2];
    size_t bad_time, bad_order, unparsed;
};

static int order_cb(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno,
                    bool terminated, void *ctx)
{
    struct order *o = ctx;
    (void)line, (void)len, (void)lineno, (void)terminated;
    if (e == NULL) {
        o->unparsed++;
        return 0;
    }
    if (strcmp(e->event, "mac") != 0 || (e->session != 1 && e->session != 2))
        return 0;
    size_t k = e->session - 1;
    /* File order is queue order: times never go back, and each thread's entries are in its order. */
    if (strcmp(e->time, o->last_time) < 0)
        o->bad_time++;
    memcpy(o->last_time, e->time, sizeof(o->last_time));
    if (strtol(e->detail, NULL, 10) != o->next[k])
        o->bad_order++;
    o->next[k]++;
    o->n[k]++;
    return 0;
}

static void test_two_threads_queue(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/q2.jsonl", g_dir);
    struct chsm_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.audit.enabled = true;
    cfg.audit.log_path = path;
    cfg.audit.log_level = CHSM_AUDIT_ALL;
    cfg.audit.key_use = CHSM_AUDIT_KEYUSE_EACH;
    cfg.audit.sync = CHSM_AUDIT_SYNC_BATCH;
    cfg.audit.batch_ms = 1;
    cfg.audit.max_size = 64ull << 20;
    struct chsm_audit *a;
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    struct qthread t[2] = {{a, 1, CKR_OK}, {a, 2, CKR_OK}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, queue_worker, &t[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    chsm_audit_close(a);
    assert_int_equal(t[0].rv, CKR_OK);
    assert_int_equal(t[1].rv, CKR_OK);
    struct order o;
    memset(&o, 0, sizeof(o));
    assert_int_equal(chsm_audit_read_entries(path, order_cb, &o), CKR_OK);
    assert_int_equal(o.unparsed, 0);
    assert_int_equal(o.n[0], PER_THREAD);
    assert_int_equal(o.n[1], PER_THREAD);
    assert_int_equal(o.bad_time, 0);
    assert_int_equal(o.bad_order, 0);
}

static int setup_all(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/chsm_audit_enc.XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    return chsm_crypto_init() == CKR_OK ? 0 : -1;
}

static int teardown_all(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    chsm_crypto_fini();
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_escape_classes),
        cmocka_unit_test(test_encode_integers),
        cmocka_unit_test(test_encode_random),
        cmocka_unit_test(test_time_cached_across_seconds),
        cmocka_unit_test(test_fmt_datetime_range),
        cmocka_unit_test(test_two_threads_queue),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
