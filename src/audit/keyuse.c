/*
 * Key-use accounting. "each": one entry per operation, written without
 * fdatasync (the flusher syncs within batch_ms); under sync="batch" it is
 * queued (queue.c) and written by the next drain. "summary": a fixed
 * open-addressing table keyed by (session, object, mechanism, operation,
 * result) counts uses with no allocation, sharded by session so two threads on
 * two sessions take different locks (internal.h); the flusher
 * queues the counts at least every second, and they are also queued and
 * drained at session close, at close, and when the table fills.
 */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/internal.h"
#include "common/log.h"
#include "common/timeutil.h"

#define KU_FLUSH_NS 1000000000ull

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t fnv_str(uint32_t h, const char *s)
{
    return s != NULL ? fnv(h, s, strlen(s) + 1) : fnv(h, "", 1);
}

static void copy_cap(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strnlen(src, cap - 1) : 0;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool str_eq_cap(const char *stored, size_t cap, const char *s)
{
    return strncmp(stored, s != NULL ? s : "", cap - 1) == 0;
}

struct ku_key {
    uint64_t session;
    const char *object_id, *mechanism, *operation;
    CK_RV result;
    uint32_t hash;
};

static bool slot_matches(const struct audit_ku_slot *s, const struct ku_key *k)
{
    return s->hash == k->hash && s->session == k->session && s->result == k->result &&
           str_eq_cap(s->object_id, sizeof(s->object_id), k->object_id) &&
           str_eq_cap(s->mechanism, sizeof(s->mechanism), k->mechanism) &&
           str_eq_cap(s->operation, sizeof(s->operation), k->operation);
}

void audit_ku_init(struct chsm_audit *a)
{
    for (size_t i = 0; i < AUDIT_KU_SHARDS; i++)
        pthread_mutex_init(&a->ku[i].mu, NULL);
}

void audit_ku_fini(struct chsm_audit *a)
{
    for (size_t i = 0; i < AUDIT_KU_SHARDS; i++)
        pthread_mutex_destroy(&a->ku[i].mu);
}

/* Sessions have consecutive handles, so the remainder spreads concurrent sessions over shards. */
static struct audit_ku_shard *shard_of(struct chsm_audit *a, uint64_t session)
{
    return &a->ku[session % AUDIT_KU_SHARDS];
}

/* Under sh->mu. Returns the slot to count into, NULL when the shard is full. */
static struct audit_ku_slot *ku_find(struct audit_ku_shard *sh, const struct ku_key *k)
{
    for (size_t i = 0; i < AUDIT_KU_SLOTS; i++) {
        struct audit_ku_slot *s = &sh->slot[(k->hash + i) % AUDIT_KU_SLOTS];
        if (!s->used || slot_matches(s, k))
            return s;
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
                            .last_us = s->last_us};
}

static void ku_rebuild(struct audit_ku_shard *sh, const struct audit_ku_slot *snap, size_t keep_from)
{
    memset(sh->slot, 0, sizeof(sh->slot));
    sh->count = 0;
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
    pthread_mutex_lock(&sh->mu);
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
    pthread_mutex_unlock(&sh->mu);
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
    copy_cap(s->object_id, sizeof(s->object_id), k->object_id);
    copy_cap(s->object_label, sizeof(s->object_label), label);
    copy_cap(s->mechanism, sizeof(s->mechanism), k->mechanism);
    copy_cap(s->operation, sizeof(s->operation), k->operation);
    s->count = 0;
    s->first_us = now;
}

/* Count one use; false when the shard is full (caller flushes and retries). */
static bool ku_count(struct audit_ku_shard *sh, const struct ku_key *k, int64_t slot, enum chsm_audit_user user,
                     const char *label, bool *crowded)
{
    int64_t now = chsm_time_unix_us();
    pthread_mutex_lock(&sh->mu);
    struct audit_ku_slot *s = ku_find(sh, k);
    if (s != NULL) {
        if (!s->used) {
            fill_slot(s, k, slot, user, label, now);
            sh->count++;
        }
        s->count++;
        s->last_us = now;
    }
    *crowded = sh->count > AUDIT_KU_SLOTS * 3 / 4;
    pthread_mutex_unlock(&sh->mu);
    return s != NULL;
}

void chsm_audit_key_use(struct chsm_audit *a, int64_t slot, uint64_t session, enum chsm_audit_user user,
                        const char *object_id, const char *object_label, const char *mechanism,
                        const char *operation, CK_RV result)
{
    /* Hot path: no event-table walk, just the six operation names. */
    if (a == NULL || !a->active || !audit_level_allows(a->level, AUDIT_CAT_CRYPTO) || !audit_is_key_use_op(operation))
        return;
    if (a->key_use == CHSM_AUDIT_KEYUSE_EACH) {
        struct audit_rec r = {.event = operation, .slot = slot, .session = session, .user = user,
                              .object_id = object_id, .object_label = object_label, .mechanism = mechanism,
                              .result = result};
        /* A failure is already logged (and, when batched, remembered for the next event call);
         * this API cannot fail the operation. */
        CK_RV rv = a->sync == CHSM_AUDIT_SYNC_BATCH ? audit_append_batched(a, &r) : audit_append(a, &r, false);
        CHSM_UNUSED(rv);
        return;
    }
    struct ku_key k = {session, object_id, mechanism, operation, result, 0};
    uint32_t h = fnv(2166136261u, &session, sizeof(session));
    h = fnv(h, &result, sizeof(result));
    h = fnv_str(fnv_str(fnv_str(h, object_id), mechanism), operation);
    k.hash = h;
    struct audit_ku_shard *sh = shard_of(a, session);
    bool crowded;
    bool counted = ku_count(sh, &k, slot, user, object_label, &crowded);
    if (crowded || !counted)
        ku_flush_one(a, sh);
    if (!counted)
        (void)ku_count(sh, &k, slot, user, object_label, &crowded);
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
        pthread_mutex_lock(&a->ku[i].mu);
        bool any = a->ku[i].count > 0;
        pthread_mutex_unlock(&a->ku[i].mu);
        if (any)
            return true;
    }
    return false;
}
