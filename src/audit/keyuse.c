/*
 * Key-use accounting. "each": one entry per operation, written without
 * fdatasync (the flusher syncs within batch_ms); under sync="batch" it is
 * queued (queue.c) and written by the next drain. "summary": a fixed
 * open-addressing table keyed by (session, object, mechanism, operation,
 * result) counts uses with no allocation, sharded by session so two threads on
 * two sessions take different locks on different cache lines (internal.h); the flusher
 * queues the counts at least every second, and they are also queued and
 * drained at session close, at close, and when the table fills.
 */
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/internal.h"
#include "common/log.h"
#include "common/timeutil.h"

#define KU_FLUSH_NS 1000000000ull

/* The key-use operations, in the order of record.c's k_key_use_ops. */
static const char *const k_ops[] = {"sign", "verify", "encrypt", "decrypt", "digest_key", "mac"};

/* Index into k_ops, -1 for any other name: the first byte picks the candidate and the rest is
 * compared byte by byte up to the terminator, never reading past the end of op (hot path). */
static inline __attribute__((always_inline)) int op_index(const char *op)
{
    if (op == NULL)
        return -1;
    switch (op[0]) {
    case 's':
        return op[1] == 'i' && op[2] == 'g' && op[3] == 'n' && op[4] == '\0' ? 0 : -1;
    case 'v':
        return strcmp(op + 1, "erify") == 0 ? 1 : -1;
    case 'e':
        return strcmp(op + 1, "ncrypt") == 0 ? 2 : -1;
    case 'd':
        return strcmp(op + 1, "ecrypt") == 0 ? 3 : strcmp(op + 1, "igest_key") == 0 ? 4 : -1;
    case 'm':
        return op[1] == 'a' && op[2] == 'c' && op[3] == '\0' ? 5 : -1;
    default:
        return -1;
    }
}

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

/* Hash what the slot stores: the value cut at its cap, like copy_cap. */
static uint32_t fnv_cap(uint32_t h, const char *s, size_t cap)
{
    return s != NULL ? fnv(h, s, strnlen(s, cap - 1)) ^ 0xffu : h;
}

static void copy_cap(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strnlen(src, cap - 1) : 0;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The stored value equals s (NULL is stored as ""); a value cut at its cap matches every s
 * with the same first cap-1 bytes, as copy_cap would store them alike. */
static inline __attribute__((always_inline)) bool str_eq_cap(const char *stored, size_t cap, const char *s, bool cut)
{
    if (s == NULL)
        s = "";
    return (cut ? strncmp(stored, s, cap - 1) : strcmp(stored, s)) == 0;
}

struct ku_key {
    uint64_t session;
    const char *object_id, *mechanism;
    CK_RV result;
    uint8_t op;
    uint32_t hash; /* computed only when the shard's last slot does not match */
};

static inline __attribute__((always_inline)) bool slot_matches(const struct audit_ku_slot *s, const struct ku_key *k)
{
    return s->used && s->session == k->session && s->result == k->result && s->op == k->op &&
           str_eq_cap(s->object_id, sizeof(s->object_id), k->object_id, s->cut) &&
           str_eq_cap(s->mechanism, sizeof(s->mechanism), k->mechanism, s->cut);
}

static uint32_t key_hash(const struct ku_key *k)
{
    uint32_t h = fnv(2166136261u, &k->session, sizeof(k->session));
    h = fnv(h, &k->result, sizeof(k->result));
    h = fnv(h, &k->op, sizeof(k->op));
    h = fnv_cap(h, k->object_id, AUDIT_CAP_ID + 1);
    return fnv_cap(h, k->mechanism, AUDIT_CAP_MECH + 1);
}

void audit_ku_init(struct chsm_audit *a)
{
    /* calloc aligns to 16 only: the shards start at the first 64-byte boundary of ku_mem. */
    uintptr_t p = ((uintptr_t)a->ku_mem + 63u) & ~(uintptr_t)63u;
    a->ku = (struct audit_ku_shard *)p;
    for (size_t i = 0; i < AUDIT_KU_SHARDS; i++) {
        memset(&a->ku[i], 0, sizeof(a->ku[i]));
        atomic_init(&a->ku[i].lk, 0);
    }
}

void audit_ku_fini(struct chsm_audit *a)
{
    CHSM_UNUSED(a); /* the shards live inside a: nothing to release */
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static __attribute__((noinline)) void ku_lock_wait(struct audit_ku_shard *sh)
{
    do {
        for (unsigned n = 1; atomic_load_explicit(&sh->lk, memory_order_relaxed) != 0; n++) {
            if (n % 128 == 0)
                sched_yield();
            else
                cpu_relax();
        }
    } while (atomic_exchange_explicit(&sh->lk, 1, memory_order_acquire) != 0);
}

/*
 * The shard lock: held for one slot update (nanoseconds) on the hot path, or for copying a
 * shard out (microseconds) by a flush. One atomic exchange to take and a release store to
 * drop, where a mutex costs two atomic read-modify-writes and ~60 instructions; a waiter
 * spins briefly, then yields so a preempted holder can finish.
 */
static inline __attribute__((always_inline)) void ku_lock(struct audit_ku_shard *sh)
{
    if (atomic_exchange_explicit(&sh->lk, 1, memory_order_acquire) != 0)
        ku_lock_wait(sh);
}

static inline __attribute__((always_inline)) void ku_unlock(struct audit_ku_shard *sh)
{
    atomic_store_explicit(&sh->lk, 0, memory_order_release);
}

/* Sessions have consecutive handles, so the remainder spreads concurrent sessions over shards. */
static struct audit_ku_shard *shard_of(struct chsm_audit *a, uint64_t session)
{
    return &a->ku[session % AUDIT_KU_SHARDS];
}

/* Under the shard lock. Returns the slot to count into, NULL when the shard is full. */
static struct audit_ku_slot *ku_find(struct audit_ku_shard *sh, struct ku_key *k)
{
    if (sh->last != NULL && slot_matches(sh->last, k))
        return sh->last;
    k->hash = key_hash(k);
    for (size_t i = 0; i < AUDIT_KU_SLOTS; i++) {
        size_t j = (k->hash + i) % AUDIT_KU_SLOTS;
        struct audit_ku_slot *s = &sh->slot[j];
        if (!s->used || (s->hash == k->hash && slot_matches(s, k))) {
            sh->last = s;
            return s;
        }
    }
    return NULL;
}

static void rec_of_slot(const struct audit_ku_slot *s, struct audit_rec *r)
{
    *r = (struct audit_rec){.event = s->operation,
                            .slot = s->slot,
                            .session = s->session,
                            .user = s->user,
                            .object_id = s->object_id[0] ? s->object_id : NULL,
                            .object_label = s->object_label[0] ? s->object_label : NULL,
                            .mechanism = s->mechanism[0] ? s->mechanism : NULL,
                            .result = s->result,
                            .count = s->count,
                            .first_us = s->first_us,
                            .last_us = s->last_us,
                            .own_actor = true,
                            .actor = s->actor[0] ? s->actor : NULL};
}

static void ku_rebuild(struct audit_ku_shard *sh, const struct audit_ku_slot *snap, size_t keep_from)
{
    memset(sh->slot, 0, sizeof(sh->slot));
    sh->count = 0;
    sh->last = NULL;
    for (size_t j = keep_from; j < AUDIT_KU_SLOTS; j++) {
        const struct audit_ku_slot *s = &snap[j];
        for (size_t i = 0; i < AUDIT_KU_SLOTS; i++) {
            struct audit_ku_slot *d = &sh->slot[(s->hash + i) % AUDIT_KU_SLOTS];
            if (!d->used) {
                *d = *s;
                sh->count++;
                break;
            }
        }
    }
}

/* Under flush_mu: move the shard's slots to flush to the front of ku_snap and write them
 * (outside the shard lock, so operations keep counting meanwhile). */
static void ku_flush_shard(struct chsm_audit *a, struct audit_ku_shard *sh, bool only_session, uint64_t session)
{
    size_t n = 0, back = AUDIT_KU_SLOTS;
    ku_lock(sh);
    /* Flushed slots go to the front of ku_snap, kept ones to the back, then the shard is rebuilt. */
    for (size_t i = 0; i < AUDIT_KU_SLOTS; i++) {
        if (!sh->slot[i].used)
            continue;
        if (!only_session || sh->slot[i].session == session)
            a->ku_snap[n++] = sh->slot[i];
        else
            a->ku_snap[--back] = sh->slot[i];
    }
    if (n > 0)
        ku_rebuild(sh, a->ku_snap, back);
    ku_unlock(sh);
    for (size_t i = 0; i < n; i++) {
        struct audit_rec r;
        rec_of_slot(&a->ku_snap[i], &r);
        if (audit_append_batched(a, &r) != CKR_OK)
            chsm_log(CHSM_LOG_ERROR, "audit: key-use summary of %llu %s lost",
                     (unsigned long long)r.count, r.event);
    }
}

void audit_ku_flush(struct chsm_audit *a, bool only_session, uint64_t session)
{
    pthread_mutex_lock(&a->flush_mu);
    if (only_session) {
        ku_flush_shard(a, shard_of(a, session), true, session);
    } else {
        for (size_t i = 0; i < AUDIT_KU_SHARDS; i++)
            ku_flush_shard(a, &a->ku[i], false, 0);
        a->ku_last_flush_ns = chsm_time_mono_ns();
    }
    pthread_mutex_unlock(&a->flush_mu);
}

/* A full shard is flushed alone (the others are not due). */
static void ku_flush_one(struct chsm_audit *a, struct audit_ku_shard *sh)
{
    pthread_mutex_lock(&a->flush_mu);
    ku_flush_shard(a, sh, false, 0);
    pthread_mutex_unlock(&a->flush_mu);
}

static void fill_slot(struct audit_ku_slot *s, const struct ku_key *k, int64_t slot, enum chsm_audit_user user,
                      const char *label, int64_t now)
{
    s->used = true;
    s->hash = k->hash;
    s->session = k->session;
    s->slot = slot;
    s->user = user;
    s->result = k->result;
    s->op = k->op;
    s->operation = k_ops[k->op];
    copy_cap(s->object_id, sizeof(s->object_id), k->object_id);
    copy_cap(s->object_label, sizeof(s->object_label), label);
    copy_cap(s->mechanism, sizeof(s->mechanism), k->mechanism);
    copy_cap(s->actor, sizeof(s->actor), audit_thread_actor());
    s->cut = strlen(s->object_id) == sizeof(s->object_id) - 1 || strlen(s->mechanism) == sizeof(s->mechanism) - 1;
    s->count = 0;
    s->first_us = now;
    s->last_us = now;
}

static inline int64_t real_us(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Count one use at time now; false when the shard is full (caller flushes and retries). */
static bool ku_count(struct audit_ku_shard *sh, struct ku_key *k, int64_t slot, enum chsm_audit_user user,
                     const char *label, int64_t now, bool *crowded)
{
    ku_lock(sh);
    struct audit_ku_slot *s = ku_find(sh, k);
    if (s != NULL) {
        if (!s->used) {
            fill_slot(s, k, slot, user, label, now);
            sh->count++;
        }
        s->count++;
        if (now > s->last_us)
            s->last_us = now;
    }
    *crowded = sh->count > AUDIT_KU_SLOTS * 3 / 4;
    ku_unlock(sh);
    return s != NULL;
}

/* A key not in the shard's last slot: probe, fill, flush when crowded or full. */
static __attribute__((noinline)) void ku_count_slow(struct chsm_audit *a, struct audit_ku_shard *sh, int64_t slot,
                                                    uint64_t session, enum chsm_audit_user user,
                                                    const char *object_id, const char *label,
                                                    const char *mechanism, uint8_t op, CK_RV result, int64_t now)
{
    struct ku_key k = {session, object_id, mechanism, result, op, 0};
    bool crowded;
    bool counted = ku_count(sh, &k, slot, user, label, now, &crowded);
    if (crowded || !counted)
        ku_flush_one(a, sh);
    if (!counted)
        (void)ku_count(sh, &k, slot, user, label, now, &crowded);
}

/* "each": one entry per operation. */
static __attribute__((noinline)) void key_use_each(struct chsm_audit *a, int64_t slot, uint64_t session,
                                                   enum chsm_audit_user user, const char *object_id,
                                                   const char *object_label, const char *mechanism,
                                                   const char *operation, CK_RV result)
{
    struct audit_rec r = {.event = operation, .slot = slot, .session = session, .user = user,
                          .object_id = object_id, .object_label = object_label, .mechanism = mechanism,
                          .result = result};
    /* A failure is already logged (and, when batched, remembered for the next event call);
     * this API cannot fail the operation. */
    CK_RV rv = a->sync == CHSM_AUDIT_SYNC_BATCH ? audit_append_batched(a, &r) : audit_append(a, &r, false);
    CHSM_UNUSED(rv);
}

void audit_ku_configure(struct chsm_audit *a)
{
    enum audit_ku_mode m = AUDIT_KU_OFF;
    if (a->active && audit_level_allows(a->level, AUDIT_CAT_CRYPTO))
        m = a->key_use == CHSM_AUDIT_KEYUSE_EACH ? AUDIT_KU_EACH : AUDIT_KU_SUMMARY;
    a->ku_mode = (uint8_t)m;
}

bool chsm_audit_counts_key_use(const struct chsm_audit *a)
{
    return a != NULL && a->ku_mode != AUDIT_KU_OFF;
}

/* The shard's last slot counts this use: same session, result, operation, object and mechanism. */
static inline __attribute__((always_inline)) bool last_matches(const struct audit_ku_slot *s, uint64_t session,
                                                               CK_RV result, int op, const char *object_id,
                                                               const char *mechanism)
{
    return s != NULL && s->session == session && s->result == result && s->op == op && s->used &&
           str_eq_cap(s->object_id, sizeof(s->object_id), object_id, s->cut) &&
           str_eq_cap(s->mechanism, sizeof(s->mechanism), mechanism, s->cut);
}

/*
 * Hot path (summary mode, issue 5): one byte says whether and how to account, the operation
 * name is matched by its first byte, the shard's last slot is compared before any hashing,
 * and the clock is read once, outside the shard lock (the lock keeps counts exact while a
 * flush moves slots out). A hit leaves the shard's slot count as it was, so it cannot make
 * the shard crowded; everything else goes to ku_count_slow.
 */
void chsm_audit_key_use(struct chsm_audit *a, int64_t slot, uint64_t session, enum chsm_audit_user user,
                        const char *object_id, const char *object_label, const char *mechanism,
                        const char *operation, CK_RV result)
{
    if (a == NULL || a->ku_mode == AUDIT_KU_OFF)
        return;
    int op = op_index(operation);
    if (op < 0)
        return;
    if (a->ku_mode == AUDIT_KU_EACH) {
        key_use_each(a, slot, session, user, object_id, object_label, mechanism, operation, result);
        return;
    }
    struct audit_ku_shard *sh = shard_of(a, session);
    /* A repeat use moves the interval's end by the kernel's coarse clock (its tick: a few ms,
     * a third of the precise clock's cost); the first use of a slot reads the precise clock. */
    int64_t now = real_us(CLOCK_REALTIME_COARSE);
    ku_lock(sh);
    struct audit_ku_slot *s = sh->last;
    if (last_matches(s, session, result, op, object_id, mechanism)) {
        s->count++;
        if (now > s->last_us)
            s->last_us = now;
        ku_unlock(sh);
        return;
    }
    ku_unlock(sh);
    ku_count_slow(a, sh, slot, session, user, object_id, object_label, mechanism, (uint8_t)op, result,
                  real_us(CLOCK_REALTIME));
}

void chsm_audit_session_closed(struct chsm_audit *a, uint64_t session)
{
    if (a == NULL || !a->active)
        return;
    if (a->key_use == CHSM_AUDIT_KEYUSE_SUMMARY)
        audit_ku_flush(a, true, session);
    /* The session's queued entries reach the file before C_CloseSession returns; a failure is logged
     * and remembered for the next event call. */
    CK_RV rv = audit_append_flush(a);
    CHSM_UNUSED(rv);
}


/* Flush one period early so no count waits longer than a second. */
bool audit_ku_due(struct chsm_audit *a, uint64_t period_ns)
{
    pthread_mutex_lock(&a->flush_mu);
    bool due = chsm_time_mono_ns() - a->ku_last_flush_ns + period_ns >= KU_FLUSH_NS;
    pthread_mutex_unlock(&a->flush_mu);
    for (size_t i = 0; due && i < AUDIT_KU_SHARDS; i++) {
        ku_lock(&a->ku[i]);
        bool any = a->ku[i].count > 0;
        ku_unlock(&a->ku[i]);
        if (any)
            return true;
    }
    return false;
}
