/*
 * Key-use summaries (src/audit/keyuse.c) under the fast path's shortcuts:
 * the shard's last-slot check, the spin lock against concurrent flushes,
 * names compared by content (never by address), and the table-full flush.
 * Every case sums the "count" fields of the written summaries and compares
 * with the number of calls, so a lost or double-counted use fails it.
 */
#include "test_audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/internal.h"

/* Sum of counts per (session, object id, mechanism, event); one row per distinct key. */
struct ku_row {
    uint64_t session;
    char id[2 * 128 + 1];
    char mech[2 * 64 + 1];
    char event[CHSM_AUDIT_EVENT_MAX];
    char actor[2 * 256 + 1]; /* of the row's last entry; "-" for null */
    uint64_t count;
    size_t entries;
};

struct ku_sums {
    struct ku_row row[1024];
    size_t n;
    uint64_t total;
    size_t unparsed;
};

static int sums_cb(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno, bool terminated,
                   void *ctx)
{
    struct ku_sums *s = ctx;
    (void)line, (void)len, (void)lineno, (void)terminated;
    if (e == NULL) {
        s->unparsed++;
        return 0;
    }
    if (e->count == 0)
        return 0; /* not a summary */
    s->total += e->count;
    for (size_t i = 0; i < s->n; i++) {
        struct ku_row *r = &s->row[i];
        if (r->session == e->session && strcmp(r->id, e->object_id) == 0 && strcmp(r->mech, e->mechanism) == 0 &&
            strcmp(r->event, e->event) == 0) {
            r->count += e->count;
            r->entries++;
            snprintf(r->actor, sizeof(r->actor), "%s", e->actor[0] ? e->actor : "-");
            return 0;
        }
    }
    assert_true(s->n < 1024);
    struct ku_row *r = &s->row[s->n++];
    r->session = e->session;
    snprintf(r->id, sizeof(r->id), "%s", e->object_id);
    snprintf(r->mech, sizeof(r->mech), "%s", e->mechanism);
    snprintf(r->event, sizeof(r->event), "%s", e->event);
    r->count = e->count;
    r->entries = 1;
    snprintf(r->actor, sizeof(r->actor), "%s", e->actor[0] ? e->actor : "-");
    return 0;
}

static struct ku_sums *read_sums(const char *p)
{
    struct ku_sums *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(chsm_audit_read_entries(p, sums_cb, s), CKR_OK);
    assert_int_equal(s->unparsed, 0);
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    return s;
}

static const struct ku_row *find_row(const struct ku_sums *s, uint64_t session, const char *id, const char *mech,
                                     const char *event)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->row[i].session == session && strcmp(s->row[i].id, id) == 0 && strcmp(s->row[i].mech, mech) == 0 &&
            strcmp(s->row[i].event, event) == 0)
            return &s->row[i];
    return NULL;
}

static struct chsm_audit *open_summary(const char *p)
{
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    return a;
}

/* A use as the core reports it: key tag (key, 0), mechanism tag mech. */
static void use_tagged(struct chsm_audit *a, uint64_t session, uint64_t key, uint64_t mech, const char *id,
                       const char *mech_name, enum chsm_audit_key_op op, CK_RV rv)
{
    struct chsm_audit_use u = {.session = session, .result = rv, .key_tag = {key, 0}, .mech_tag = mech, .op = op,
                               .slot = 0, .user = CHSM_AUDIT_USER_USER, .object_id = id, .object_label = "k",
                               .mechanism = mech_name};
    chsm_audit_key_used(a, &u);
}

/* ---- two threads, two sessions (one tagged, one by content), a flush running against them ---- */

#define HAMMER_CALLS 20000

struct hammer {
    struct chsm_audit *a;
    uint64_t session;
    pthread_barrier_t *mid, *resume; /* halfway the workers park while the flusher thread flushes */
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    for (int half = 0; half < 2; half++) {
        for (int i = 0; i < HAMMER_CALLS / 2; i++) {
            /* Mostly one key (the last-slot hit), every 16th a second key (a miss and a probe). */
            const char *id = i % 16 == 0 ? "00aa" : "00bb";
            if (h->session == 1) /* the core's path: identity by tags, no clock */
                use_tagged(h->a, h->session, i % 16 == 0 ? 0xaa : 0xbb, 0x251, id, "CKM_SHA256_HMAC",
                           CHSM_AUDIT_OP_MAC, CKR_OK);
            else /* identity by content */
                chsm_audit_key_use(h->a, 0, h->session, CHSM_AUDIT_USER_USER, id, "k", "CKM_SHA256_HMAC", "mac",
                                   CKR_OK);
        }
        if (half == 0) {
            (void)pthread_barrier_wait(h->mid);
            (void)pthread_barrier_wait(h->resume);
        }
    }
    return NULL;
}

struct flusher_arg {
    struct chsm_audit *a;
    pthread_barrier_t *mid, *resume;
    volatile int *stop;
};

static void *flush_main(void *arg)
{
    struct flusher_arg *f = arg;
    /* At least one flush while both workers are parked halfway, then flushes racing the second half. */
    (void)pthread_barrier_wait(f->mid);
    audit_ku_flush(f->a, false, 0);
    (void)pthread_barrier_wait(f->resume);
    while (!__atomic_load_n(f->stop, __ATOMIC_ACQUIRE))
        audit_ku_flush(f->a, false, 0);
    return NULL;
}

static void test_ku_two_threads_exact(void **state)
{
    (void)state;
    char *p = t_path("ku_threads.jsonl");
    struct chsm_audit *a = open_summary(p);
    pthread_barrier_t mid, resume;
    assert_int_equal(pthread_barrier_init(&mid, NULL, 3), 0);
    assert_int_equal(pthread_barrier_init(&resume, NULL, 3), 0);
    volatile int stop = 0;
    struct hammer h[2] = {{a, 1, &mid, &resume}, {a, 2, &mid, &resume}};
    struct flusher_arg f = {a, &mid, &resume, &stop};
    pthread_t th[2], fl;
    assert_int_equal(pthread_create(&fl, NULL, flush_main, &f), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(fl, NULL), 0);
    pthread_barrier_destroy(&mid);
    pthread_barrier_destroy(&resume);
    chsm_audit_close(a);

    struct ku_sums *s = read_sums(p);
    assert_int_equal(s->total, 2 * HAMMER_CALLS);
    for (uint64_t sess = 1; sess <= 2; sess++) {
        const struct ku_row *ra = find_row(s, sess, "00aa", "CKM_SHA256_HMAC", "mac");
        const struct ku_row *rb = find_row(s, sess, "00bb", "CKM_SHA256_HMAC", "mac");
        assert_non_null(ra);
        assert_non_null(rb);
        assert_int_equal(ra->count, 2 * ((HAMMER_CALLS / 2 + 15) / 16));
        assert_int_equal(ra->count + rb->count, HAMMER_CALLS);
        /* The flush between the halves split each key's uses over at least two summaries. */
        assert_true(ra->entries >= 2 && rb->entries >= 2);
    }
    free(s);
    free(p);
}

/* ---- the core's path: the tags are the identity ---- */

static void test_ku_tagged_identity(void **state)
{
    (void)state;
    char *p = t_path("ku_tagged.jsonl");
    struct chsm_audit *a = open_summary(p);
    for (int i = 0; i < 3; i++)
        use_tagged(a, 4, 1, 0x1041, "00aa", "CKM_ECDSA", CHSM_AUDIT_OP_SIGN, CKR_OK);
    /* The same strings under another key tag, another mechanism tag, and by content: three more
     * summaries (a tag names one object; two objects may print alike once cut). */
    for (int i = 0; i < 2; i++)
        use_tagged(a, 4, 2, 0x1041, "00aa", "CKM_ECDSA", CHSM_AUDIT_OP_SIGN, CKR_OK);
    use_tagged(a, 4, 1, 0x1042, "00aa", "CKM_ECDSA", CHSM_AUDIT_OP_SIGN, CKR_OK);
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, "00aa", "k", "CKM_ECDSA", "sign", CKR_OK);
    /* Another result and another operation on the first key: their own summaries. */
    use_tagged(a, 4, 1, 0x1041, "00aa", "CKM_ECDSA", CHSM_AUDIT_OP_SIGN, CKR_FUNCTION_FAILED);
    use_tagged(a, 4, 1, 0x1041, "00aa", "CKM_ECDSA", CHSM_AUDIT_OP_VERIFY, CKR_OK);
    /* Back to the first key after the misses: counted into its summary again. */
    use_tagged(a, 4, 1, 0x1041, "00aa", "CKM_ECDSA", CHSM_AUDIT_OP_SIGN, CKR_OK);
    /* An operation outside the enumeration is not a key use. */
    use_tagged(a, 4, 1, 0x1041, "00aa", "CKM_ECDSA", CHSM_AUDIT_OP_COUNT, CKR_OK);
    chsm_audit_close(a);

    struct ku_sums *s = read_sums(p);
    assert_int_equal(s->total, 3 + 2 + 1 + 1 + 1 + 1 + 1);
    const struct ku_row *r = find_row(s, 4, "00aa", "CKM_ECDSA", "sign");
    assert_non_null(r);
    /* The rows merge by strings: 4 + 2 + 1 + 1 sign uses with CKR_OK or not, in 5 summaries. */
    assert_int_equal(r->count, 3 + 2 + 1 + 1 + 1 + 1);
    assert_int_equal(r->entries, 5);
    r = find_row(s, 4, "00aa", "CKM_ECDSA", "verify");
    assert_non_null(r);
    assert_int_equal(r->count, 1);
    free(s);
    free(p);
}

/* ---- the interval: first exact, last stamped by the flusher's tick ---- */

struct ku_times {
    int64_t first, last; /* earliest first, latest last over the summaries (unix us) */
    uint64_t count;
    size_t entries;
};

static int64_t parse_us(const char *t)
{
    struct tm tm = {0};
    unsigned usec = 0;
    assert_int_equal(sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec, &usec),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000 + usec;
}

static int times_cb(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno,
                    bool terminated, void *ctx)
{
    struct ku_times *t = ctx;
    (void)line, (void)len, (void)lineno, (void)terminated;
    if (e == NULL || e->count == 0)
        return 0;
    int64_t f = parse_us(e->first), l = parse_us(e->last);
    assert_true(f <= l);
    if (t->entries == 0 || f < t->first)
        t->first = f;
    if (t->entries == 0 || l > t->last)
        t->last = l;
    t->count += e->count;
    t->entries++;
    return 0;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void test_ku_interval_stamped(void **state)
{
    (void)state;
    char *p = t_path("ku_interval.jsonl");
    struct chsm_audit *a = open_summary(p); /* batch_ms = 100 */
    int64_t before1 = wall_us();
    use_tagged(a, 3, 7, 0x1041, "0707", "CKM_ECDSA", CHSM_AUDIT_OP_SIGN, CKR_OK);
    int64_t after1 = wall_us();
    sleep_ms(150);
    int64_t before2 = wall_us();
    use_tagged(a, 3, 7, 0x1041, "0707", "CKM_ECDSA", CHSM_AUDIT_OP_SIGN, CKR_OK); /* the fast path: no clock */
    int64_t after2 = wall_us();
    /* Long past a tick, still before the one-second flush: close must not stamp the second use
     * with its own time, the tick after it has. */
    sleep_ms(600);
    chsm_audit_close(a);

    struct ku_times t = {0};
    assert_int_equal(chsm_audit_read_entries(p, times_cb, &t), CKR_OK);
    assert_int_equal(t.count, 2);
    assert_true(t.first >= before1 && t.first <= after1);
    /* Never before the last use; within a tick (100 ms) of it, with room for a loaded machine. */
    assert_true(t.last >= before2);
    assert_true(t.last <= after2 + 400000);
    free(p);
}

/* ---- names are keys by content, not by address ---- */

static void test_ku_names_by_content(void **state)
{
    (void)state;
    char *p = t_path("ku_names.jsonl");
    struct chsm_audit *a = open_summary(p);
    char m1[] = "CKM_ECDSA", m2[] = "CKM_ECDSA", op1[] = "sign", op2[] = "sign", id1[] = "0c0d", id2[] = "0c0d";
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, "0c0d", "k", "CKM_ECDSA", "sign", CKR_OK);
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, id1, "k", m1, op1, CKR_OK);
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, id2, "k", m2, op2, CKR_OK);
    /* One buffer reused for another name (as chsm_mech_name does for unnamed mechanisms): a new key. */
    char buf[32];
    snprintf(buf, sizeof(buf), "%s", "CKM_0x80000001");
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, id1, "k", buf, "sign", CKR_OK);
    snprintf(buf, sizeof(buf), "%s", "CKM_0x80000002");
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, id1, "k", buf, "sign", CKR_OK);
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, id1, "k", buf, "sign", CKR_OK);
    /* The same for the object id buffer. */
    snprintf(id1, sizeof(id1), "%s", "0e0f");
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, id1, "k", m1, op1, CKR_OK);
    /* Sessions 4 and 12 share a shard: alternating keeps missing the last slot, counts stay per session. */
    for (int i = 0; i < 10; i++)
        chsm_audit_key_use(a, 0, i % 2 ? 12 : 4, CHSM_AUDIT_USER_USER, "0c0d", "k", "CKM_ECDSA", "sign", CKR_OK);
    /* Object ids cut at the 128-byte cap: equal up to the cap means one key, as before. */
    char long1[201], long2[201];
    memset(long1, 'a', 200);
    memset(long2, 'a', 200);
    long1[200] = long2[200] = '\0';
    long2[150] = 'b';
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, long1, "k", "CKM_ECDSA", "sign", CKR_OK);
    chsm_audit_key_use(a, 0, 4, CHSM_AUDIT_USER_USER, long2, "k", "CKM_ECDSA", "sign", CKR_OK);
    chsm_audit_close(a);

    struct ku_sums *s = read_sums(p);
    const struct ku_row *r = find_row(s, 4, "0c0d", "CKM_ECDSA", "sign");
    assert_non_null(r);
    assert_int_equal(r->count, 3 + 5);
    assert_int_equal(r->entries, 1);
    r = find_row(s, 12, "0c0d", "CKM_ECDSA", "sign");
    assert_non_null(r);
    assert_int_equal(r->count, 5);
    r = find_row(s, 4, "0c0d", "CKM_0x80000001", "sign");
    assert_non_null(r);
    assert_int_equal(r->count, 1);
    r = find_row(s, 4, "0c0d", "CKM_0x80000002", "sign");
    assert_non_null(r);
    assert_int_equal(r->count, 2);
    r = find_row(s, 4, "0e0f", "CKM_ECDSA", "sign");
    assert_non_null(r);
    assert_int_equal(r->count, 1);
    char cut[129];
    memset(cut, 'a', 128);
    cut[128] = '\0';
    r = find_row(s, 4, cut, "CKM_ECDSA", "sign");
    assert_non_null(r);
    assert_int_equal(r->count, 2);
    assert_int_equal(s->n, 6);
    assert_int_equal(s->total, 3 + 5 + 5 + 1 + 2 + 1 + 2);
    free(s);
    free(p);
}

/* ---- the operation-name match agrees with the event table ---- */

static void test_ku_operation_names(void **state)
{
    (void)state;
    char *p = t_path("ku_ops.jsonl");
    struct chsm_audit *a = open_summary(p);
    /* The six names, and near misses of each: prefixes, extensions, other case, other events. */
    static const char *const names[] = {"sign", "verify", "encrypt", "decrypt", "digest_key", "mac",
                                        "",     "s",      "sig",     "signs",   "Sign",       "verif",
                                        "verifyx", "encryp", "encrypts", "decryp", "digest", "digest_key_",
                                        "ma",   "macs",   "m",       "d",       "login",      "session_open",
                                        "derive", "wrap"};
    size_t expect = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        chsm_audit_key_use(a, 0, 8, CHSM_AUDIT_USER_USER, "0102", NULL, "CKM_AES_GCM", names[i], CKR_OK);
        if (audit_is_key_use_op(names[i]))
            expect++;
    }
    chsm_audit_key_use(a, 0, 8, CHSM_AUDIT_USER_USER, "0102", NULL, "CKM_AES_GCM", NULL, CKR_OK);
    chsm_audit_close(a);
    assert_int_equal(expect, 6);
    struct ku_sums *s = read_sums(p);
    assert_int_equal(s->n, 6);
    assert_int_equal(s->total, 6);
    for (size_t i = 0; i < 6; i++) {
        const struct ku_row *r = find_row(s, 8, "0102", "CKM_AES_GCM", names[i]);
        assert_non_null(r);
        assert_int_equal(r->count, 1);
    }
    free(s);
    free(p);
}

/* ---- more keys than a shard holds ---- */

static void test_ku_table_full(void **state)
{
    (void)state;
    char *p = t_path("ku_full.jsonl");
    struct chsm_audit *a = open_summary(p);
    /* One session (one shard) and 4 * AUDIT_KU_SLOTS distinct keys, each used three times in
     * rounds: the shard fills and is flushed by the calling thread over and over. */
    enum { KEYS = 4 * AUDIT_KU_SLOTS, ROUNDS = 3 };
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < KEYS; i++) {
            char id[16];
            snprintf(id, sizeof(id), "%04x", i);
            chsm_audit_key_use(a, 0, 6, CHSM_AUDIT_USER_USER, id, NULL, "CKM_AES_GCM",
                               i % 2 ? "encrypt" : "decrypt", CKR_OK);
        }
    }
    chsm_audit_close(a);

    struct ku_sums *s = read_sums(p);
    assert_int_equal(s->total, KEYS * ROUNDS);
    assert_int_equal(s->n, KEYS);
    for (int i = 0; i < KEYS; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%04x", i);
        const struct ku_row *r = find_row(s, 6, id, "CKM_AES_GCM", i % 2 ? "encrypt" : "decrypt");
        assert_non_null(r);
        assert_int_equal(r->count, ROUNDS);
    }
    free(s);
    free(p);
}

/* ---- the shards' layout the two-thread speed goal relies on ---- */

static void test_ku_shard_layout(void **state)
{
    (void)state;
    char *p = t_path("ku_layout.jsonl");
    struct chsm_audit *a = open_summary(p);
    assert_int_equal(sizeof(struct audit_ku_shard) % 64, 0);
    for (size_t i = 0; i < AUDIT_KU_SHARDS; i++) {
        assert_int_equal((uintptr_t)&a->ku[i] % 64, 0);
        assert_true((unsigned char *)&a->ku[i + 1] <= a->ku_mem + sizeof(a->ku_mem));
    }
    assert_int_equal(a->ku_mode, AUDIT_KU_SUMMARY);
    chsm_audit_close(a);
    free(p);
}

/* ---- a summary names the actor of its uses, whoever writes it ---- */

static void test_ku_summary_actor(void **state)
{
    (void)state;
    char *p = t_path("ku_actor.jsonl");
    struct chsm_audit *a = open_summary(p);
    chsm_audit_set_actor("CN=client-a");
    chsm_audit_key_use(a, 0, 5, CHSM_AUDIT_USER_USER, "0a0a", "k", "CKM_ECDSA", "sign", CKR_OK);
    chsm_audit_key_use(a, 0, 5, CHSM_AUDIT_USER_USER, "0a0a", "k", "CKM_ECDSA", "sign", CKR_OK);
    chsm_audit_set_actor("CN=client-b");
    chsm_audit_key_use(a, 0, 6, CHSM_AUDIT_USER_USER, "0b0b", "k", "CKM_ECDSA", "sign", CKR_OK);
    chsm_audit_set_actor(NULL);
    chsm_audit_key_use(a, 0, 7, CHSM_AUDIT_USER_USER, "0c0c", "k", "CKM_ECDSA", "sign", CKR_OK);
    /* Written by a thread with another actor (a flusher has none; a daemon worker serves many clients). */
    chsm_audit_set_actor("CN=someone-else");
    audit_ku_flush(a, false, 0);
    chsm_audit_set_actor(NULL);
    chsm_audit_close(a);
    struct ku_sums *s = read_sums(p);
    const struct ku_row *r = find_row(s, 5, "0a0a", "CKM_ECDSA", "sign");
    assert_non_null(r);
    assert_int_equal(r->count, 2);
    assert_string_equal(r->actor, "CN=client-a");
    r = find_row(s, 6, "0b0b", "CKM_ECDSA", "sign");
    assert_non_null(r);
    assert_string_equal(r->actor, "CN=client-b");
    r = find_row(s, 7, "0c0c", "CKM_ECDSA", "sign");
    assert_non_null(r);
    assert_string_equal(r->actor, "-");
    free(s);
    free(p);
}

/* ---- whether key use is counted at all (core skips building the record when not) ---- */

static void test_ku_counts_key_use(void **state)
{
    (void)state;
    assert_false(chsm_audit_counts_key_use(NULL));
    static const struct {
        bool enabled;
        enum chsm_audit_level level;
        enum chsm_audit_key_use key_use;
        bool counts;
    } rows[] = {
        {true, CHSM_AUDIT_ALL, CHSM_AUDIT_KEYUSE_SUMMARY, true},
        {true, CHSM_AUDIT_ALL, CHSM_AUDIT_KEYUSE_EACH, true},
        {true, CHSM_AUDIT_CRYPTO, CHSM_AUDIT_KEYUSE_SUMMARY, true},
        {true, CHSM_AUDIT_AUTH, CHSM_AUDIT_KEYUSE_SUMMARY, false},
        {true, CHSM_AUDIT_ADMIN, CHSM_AUDIT_KEYUSE_EACH, false},
        {true, CHSM_AUDIT_NONE, CHSM_AUDIT_KEYUSE_EACH, false},
        {false, CHSM_AUDIT_ALL, CHSM_AUDIT_KEYUSE_SUMMARY, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char name[40];
        (void)snprintf(name, sizeof(name), "ku_counts_%zu.jsonl", i);
        char *p = t_path(name);
        struct chsm_config cfg;
        struct chsm_audit *a;
        t_cfg(&cfg, p);
        cfg.audit.enabled = rows[i].enabled;
        cfg.audit.log_level = rows[i].level;
        cfg.audit.key_use = rows[i].key_use;
        assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
        assert_int_equal(chsm_audit_counts_key_use(a), rows[i].counts);
        chsm_audit_close(a);
        free(p);
    }
}

const struct CMUnitTest t_keyuse_tests[] = {
    cmocka_unit_test(test_ku_counts_key_use),
    cmocka_unit_test(test_ku_summary_actor),
    cmocka_unit_test(test_ku_two_threads_exact),
    cmocka_unit_test(test_ku_names_by_content),
    cmocka_unit_test(test_ku_tagged_identity),
    cmocka_unit_test(test_ku_interval_stamped),
    cmocka_unit_test(test_ku_operation_names),
    cmocka_unit_test(test_ku_table_full),
    cmocka_unit_test(test_ku_shard_layout),
};
const size_t t_keyuse_ntests = sizeof(t_keyuse_tests) / sizeof(t_keyuse_tests[0]);
