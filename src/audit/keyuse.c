/*
 * Key-use accounting. "each": one entry per operation, written without
 * fdatasync (the flusher syncs within batch_ms); under sync="batch" it is
 * queued (queue.c) and written by the next drain. "summary": a fixed
 * open-addressing table keyed by (session, object, mechanism, operation,
 * result) counts uses with no allocation, sharded by session so two threads on
 * two sessions take different locks on different cache lines (internal.h); the flusher
 * queues the counts at least every second, and they are also queued and
 * drained at session close, at close, and when the table fills.
 *
 * A repeated use reads no clock: the flusher stamps, at each tick, the interval
 * end of every summary counted since the last tick with the time of that tick,
 * and a flush does the same before it writes. So "last" is never before the last
 * use and at most one tick (batch_ms) after it; "first" is read from the precise
 * clock when the summary starts.
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

/* What identifies a use: u's session, result and op, and its tags (tagged) or strings. */
struct ku_key {
    const struct chsm_audit_use *u;
    bool tagged;
    uint32_t hash; /* computed only when the shard's last slot does not match */
};

static inline __attribute__((always_inline)) bool tags_match(const struct audit_ku_slot *s,
                                                             const struct chsm_audit_use *u)
{
    return s->session == u->session && s->result == u->result && (unsigned)s->op == (unsigned)u->op &&
           s->key_tag[0] == u->key_tag[0] && s->key_tag[1] == u->key_tag[1] && s->mech_tag == u->mech_tag;
}

static bool slot_matches(const struct audit_ku_slot *s, const struct ku_key *k)
{
    const struct chsm_audit_use *u = k->u;
    if (!s->used || s->tagged != k->tagged)
        return false;
    if (k->tagged)
        return tags_match(s, u);
    return s->session == u->session && s->result == u->result && s->op == (uint8_t)u->op &&
           str_eq_cap(s->object_id, sizeof(s->object_id), u->object_id, s->cut) &&
           str_eq_cap(s->mechanism, sizeof(s->mechanism), u->mechanism, s->cut);
}

static uint32_t key_hash(const struct ku_key *k)
{
    const struct chsm_audit_use *u = k->u;
    uint8_t op = (uint8_t)u->op;
    uint32_t h = fnv(2166136261u, &u->session, sizeof(u->session));
    h = fnv(h, &u->result, sizeof(u->result));
    h = fnv(h, &op, sizeof(op));
    if (k->tagged) {
        h = fnv(h, u->key_tag, sizeof(u->key_tag));
        return fnv(h, &u->mech_tag, sizeof(u->mech_tag));
    }
    h = fnv_cap(h, u->object_id, AUDIT_CAP_ID + 1);
    return fnv_cap(h, u->mechanism, AUDIT_CAP_MECH + 1);
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

static inline int64_t real_us(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Under the shard lock: every use counted so far happened before now, so now ends their interval.
 * The clock is read under the lock (a use counted after the read cannot be stamped with it), and
 * only when some use is unstamped. */
static void ku_stamp_locked(struct audit_ku_shard *sh)
{
    int64_t now = 0;
    for (size_t i = 0; i < AUDIT_KU_SLOTS && sh->count > 0; i++) {
        struct audit_ku_slot *s = &sh->slot[i];
        if (!s->used || s->count == s->stamped)
            continue;
        if (now == 0)
            now = real_us(CLOCK_REALTIME);
        if (now > s->last_us) /* a wall clock stepped back never moves an end backwards */
            s->last_us = now;
        s->stamped = s->count;
    }
}

bool audit_ku_stamp(struct chsm_audit *a)
{
    bool any = false;
    for (size_t i = 0; i < AUDIT_KU_SHARDS; i++) {
        ku_lock(&a->ku[i]);
        ku_stamp_locked(&a->ku[i]);
        any = any || a->ku[i].count > 0;
        ku_unlock(&a->ku[i]);
    }
    return any;
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
    ku_stamp_locked(sh);
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

static void fill_slot(struct audit_ku_slot *s, const struct ku_key *k, int64_t now)
{
    const struct chsm_audit_use *u = k->u;
    s->used = true;
    s->tagged = k->tagged;
    s->hash = k->hash;
    s->session = u->session;
    s->slot = u->slot;
    s->user = u->user;
    s->result = u->result;
    s->op = (uint8_t)u->op;
    s->operation = k_ops[u->op];
    s->key_tag[0] = k->tagged ? u->key_tag[0] : 0;
    s->key_tag[1] = k->tagged ? u->key_tag[1] : 0;
    s->mech_tag = k->tagged ? u->mech_tag : 0;
    copy_cap(s->object_id, sizeof(s->object_id), u->object_id);
    copy_cap(s->object_label, sizeof(s->object_label), u->object_label);
    copy_cap(s->mechanism, sizeof(s->mechanism), u->mechanism);
    copy_cap(s->actor, sizeof(s->actor), audit_thread_actor());
    s->cut = strlen(s->object_id) == sizeof(s->object_id) - 1 || strlen(s->mechanism) == sizeof(s->mechanism) - 1;
    s->count = 0;
    s->stamped = 1; /* the first use: first_us and last_us are its time */
    s->first_us = now;
    s->last_us = now;
}

/* Count one use at time now; false when the shard is full (caller flushes and retries). */
static bool ku_count(struct audit_ku_shard *sh, struct ku_key *k, int64_t now, bool *crowded)
{
    ku_lock(sh);
    struct audit_ku_slot *s = ku_find(sh, k);
    if (s != NULL) {
        if (!s->used) {
            fill_slot(s, k, now);
            sh->count++;
        }
        s->count++;
        if (s->count > 1 && now > s->last_us) {
            /* The slow path has read the clock anyway: this use is stamped exactly. */
            s->last_us = now;
            s->stamped = s->count;
        }
    }
    *crowded = sh->count > AUDIT_KU_SLOTS * 3 / 4;
    ku_unlock(sh);
    return s != NULL;
}

/* A key not in the shard's last slot: probe, fill, flush when crowded or full. */
static __attribute__((noinline)) void ku_count_slow(struct chsm_audit *a, struct audit_ku_shard *sh,
                                                    const struct chsm_audit_use *u, bool tagged)
{
    struct ku_key k = {u, tagged, 0};
    int64_t now = real_us(CLOCK_REALTIME);
    bool crowded;
    bool counted = ku_count(sh, &k, now, &crowded);
    if (crowded || !counted)
        ku_flush_one(a, sh);
    if (!counted)
        (void)ku_count(sh, &k, now, &crowded);
}

/* "each": one entry per operation. */
static __attribute__((noinline)) void key_use_each(struct chsm_audit *a, const struct chsm_audit_use *u)
{
    struct audit_rec r = {.event = k_ops[u->op], .slot = u->slot, .session = u->session, .user = u->user,
                          .object_id = u->object_id, .object_label = u->object_label,
                          .mechanism = u->mechanism, .result = u->result};
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

/*
 * Hot path (summary mode, issue 5): one byte says whether to account, and the shard's last
 * slot is compared as integers, with no clock read (the flusher stamps the interval's end).
 * The lock keeps counts exact while a flush moves slots out. A hit leaves the shard's slot
 * count as it was, so it cannot make the shard crowded; everything else goes to ku_count_slow
 * through chsm_audit_key_used.
 */
bool chsm_audit_key_repeat(struct chsm_audit *a, const struct chsm_audit_use *u)
{
    if (a == NULL || a->ku_mode != AUDIT_KU_SUMMARY)
        return false;
    struct audit_ku_shard *sh = shard_of(a, u->session);
    ku_lock(sh);
    struct audit_ku_slot *s = sh->last;
    bool hit = s != NULL && s->tagged && tags_match(s, u);
    if (hit)
        s->count++;
    ku_unlock(sh);
    return hit;
}

void chsm_audit_key_used(struct chsm_audit *a, const struct chsm_audit_use *u)
{
    if (a == NULL || a->ku_mode == AUDIT_KU_OFF || (unsigned)u->op >= CHSM_AUDIT_OP_COUNT)
        return;
    if (a->ku_mode == AUDIT_KU_EACH)
        key_use_each(a, u);
    else if (!chsm_audit_key_repeat(a, u))
        ku_count_slow(a, shard_of(a, u->session), u, true);
}

/* The general entry: the identity is the strings' content (an object_id or mechanism longer than
 * its cap is compared up to the cap, as it is written). */
void chsm_audit_key_use(struct chsm_audit *a, int64_t slot, uint64_t session, enum chsm_audit_user user,
                        const char *object_id, const char *object_label, const char *mechanism,
                        const char *operation, CK_RV result)
{
    if (a == NULL || a->ku_mode == AUDIT_KU_OFF)
        return;
    int op = op_index(operation);
    if (op < 0)
        return;
    struct chsm_audit_use u = {.session = session, .result = result, .op = (enum chsm_audit_key_op)op,
                               .slot = slot, .user = user, .object_id = object_id,
                               .object_label = object_label, .mechanism = mechanism};
    if (a->ku_mode == AUDIT_KU_EACH) {
        key_use_each(a, &u);
        return;
    }
    ku_count_slow(a, shard_of(a, session), &u, false);
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
    return due;
}
