/*
 * Batched entries off the caller's path (issue 5 speed, issue 4 key
 * generation). Events whose loss in a crash costs nothing that survives the
 * crash anyway (session-only state, key-use entries under sync="batch",
 * summaries) are encoded by the calling thread into an in-process queue:
 * no system call, no allocation once the buffer has grown. The queue keeps
 * everything but seq and prev, which need the chain head. The encoding
 * happens before q_mu (threads queueing at once do not serialise on it);
 * under q_mu only the time is taken and patched in, and the bytes copied.
 *
 * A drain is one locked append: under mu + the sidecar flock the head is
 * re-synced once, every queued body is framed with its seq and prev and
 * hashed, and the whole batch goes out with one write(). Drains happen in
 * the flusher every batch_ms, before any entry written directly (so the
 * log order is this process's call order), at session close, head, rotate
 * and close, and in the caller once the queue passes its bound (memory
 * stays bounded and a flood cannot outrun the disk).
 *
 * A failed drain loses its batch: that is logged and remembered, and the
 * next chsm_audit_event returns CKR_DEVICE_ERROR (unless fail_open).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"
#include "common/log.h"

#define Q_INITIAL_CAP (64u * 1024u)

void audit_queue_init(struct chsm_audit *a)
{
    pthread_mutex_init(&a->q_mu, NULL);
    atomic_init(&a->q_failed, false);
    a->q_pid = audit_pid();
}

void audit_queue_fini(struct chsm_audit *a)
{
    pthread_mutex_destroy(&a->q_mu);
    free(a->q.p);
    free(a->qd.p);
    free(a->out);
}

static bool qbuf_reserve(struct audit_qbuf *b, size_t need)
{
    if (b->cap - b->len >= need)
        return true;
    size_t nc = b->cap != 0 ? b->cap * 2 : Q_INITIAL_CAP;
    while (nc - b->len < need)
        nc *= 2;
    char *np = realloc(b->p, nc);
    if (np == NULL)
        return false;
    b->p = np;
    b->cap = nc;
    return true;
}

static void note_lost(struct chsm_audit *a, size_t n)
{
    atomic_store(&a->q_failed, true);
    chsm_log(CHSM_LOG_ERROR, "audit: %zu batched entries could not be written and are lost", n);
}

/* Under q_mu. Entries queued by the parent before a fork() are the parent's to write. */
static void drop_foreign_locked(struct chsm_audit *a, long pid)
{
    if (a->q_pid != pid) {
        a->q.len = a->q.n = 0;
        a->q_pid = pid;
    }
}

/* The body is encoded into this per-thread buffer outside q_mu (the fields caps bound it below). */
static _Thread_local char t_body[AUDIT_LINE_MAX - 1 - AUDIT_FRAME_MAX];
/* Stands in for the time until the queue patches the real one in: same width. */
static const char k_time_placeholder[] = "0000-00-00T00:00:00.000000Z";
_Static_assert(sizeof(k_time_placeholder) - 1 == AUDIT_TIME_LEN, "placeholder is a time's width");

/* Outside any lock: the entry's body with a placeholder time; *len its length. */
static CK_RV encode_unlocked(const struct audit_rec *r, long pid, const char *actor, size_t *len)
{
    CK_RV rv = CKR_OK;
    *len = audit_encode_body(t_body, sizeof(t_body), k_time_placeholder, r, pid, actor);
    /* The field caps bound a body below this, and the time is its first field: anything else is a
     * broken invariant. */
    CHSM_ENSURE(*len > AUDIT_BODY_TIME_OFF + AUDIT_TIME_LEN,
                CHSM_ERR(CKR_GENERAL_ERROR, "audit", "entry exceeds %d bytes", AUDIT_LINE_MAX));
    CHSM_ENSURE(memcmp(t_body + AUDIT_BODY_TIME_OFF, k_time_placeholder, AUDIT_TIME_LEN) == 0,
                CHSM_ERR(CKR_GENERAL_ERROR, "audit", "entry time not at its offset"));
out:
    return rv;
}

/* Under q_mu: only the timestamp and a copy, so queue order and time order agree and two
 * threads hold the lock for a few hundred instructions each. */
static CK_RV enqueue_locked(struct chsm_audit *a, size_t len, long pid, bool *full, bool *wake)
{
    CK_RV rv = CKR_OK;
    uint32_t len32 = (uint32_t)len;
    drop_foreign_locked(a, pid);
    CHSM_ENSURE(qbuf_reserve(&a->q, sizeof(len32) + len),
                CHSM_ERR(CKR_HOST_MEMORY, "audit", "cannot grow the audit queue"));
    char *dst = a->q.p + a->q.len;
    memcpy(dst, &len32, sizeof(len32));
    memcpy(dst + sizeof(len32), t_body, len);
    audit_now_write(dst + sizeof(len32) + AUDIT_BODY_TIME_OFF);
    a->q.len += sizeof(len32) + len;
    a->q.n++;
    *full = a->q.len >= AUDIT_Q_MAX_BYTES || a->q.n >= AUDIT_Q_MAX_ENTRIES;
    *wake = a->q.n == AUDIT_Q_WAKE_ENTRIES;
out:
    return rv;
}

static bool queue_empty(struct chsm_audit *a)
{
    pthread_mutex_lock(&a->q_mu);
    bool empty = a->q.n == 0;
    pthread_mutex_unlock(&a->q_mu);
    return empty;
}

CK_RV audit_append_batched(struct chsm_audit *a, const struct audit_rec *r)
{
    bool full = false, wake = false;
    long pid = audit_pid();
    size_t len = 0;
    CK_RV rv = encode_unlocked(r, pid, audit_rec_actor(r), &len);
    if (rv == CKR_OK) {
        pthread_mutex_lock(&a->q_mu);
        rv = enqueue_locked(a, len, pid, &full, &wake);
        pthread_mutex_unlock(&a->q_mu);
    }
    if (wake)
        audit_flusher_wake(a);
    if (rv == CKR_OK && full)
        rv = audit_flush_queue(a);
    if (rv != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, a->fail_open ? "audit: entry lost (fail_open)" : "audit: cannot queue entry");
        if (a->fail_open)
            rv = CKR_OK;
    }
    return rv;
}

/* Under mu: take the queue (the caller threads continue into the other buffer). */
static void take_queue_locked(struct chsm_audit *a)
{
    long pid = audit_pid();
    pthread_mutex_lock(&a->q_mu);
    drop_foreign_locked(a, pid);
    struct audit_qbuf t = a->qd;
    a->qd = a->q;
    a->q = t;
    a->q.len = a->q.n = 0;
    pthread_mutex_unlock(&a->q_mu);
}

/* Under mu: frame qd into out as complete lines chained from the head; *h is the new head. */
static CK_RV frame_batch_locked(struct chsm_audit *a, size_t *out_len, struct audit_head *h)
{
    CK_RV rv = CKR_OK;
    size_t need = a->qd.len + a->qd.n * AUDIT_FRAME_MAX, o = 0;
    if (a->out_cap < need) {
        char *np = realloc(a->out, need);
        CHSM_ENSURE(np != NULL, CHSM_ERR(CKR_HOST_MEMORY, "audit", "cannot grow the audit batch buffer"));
        a->out = np;
        a->out_cap = need;
    }
    *h = a->head;
    for (size_t off = 0; off < a->qd.len;) {
        uint32_t bl;
        memcpy(&bl, a->qd.p + off, sizeof(bl));
        off += sizeof(bl);
        h->seq++;
        size_t ll = audit_frame(a->out + o, a->out_cap - o - 1, h->seq, a->qd.p + off, bl, h->hash);
        CHSM_ENSURE(ll > 0, CHSM_ERR(CKR_GENERAL_ERROR, "audit", "batch buffer too small"));
        CHSM_GUARD(audit_line_hash(a->out + o, ll, h->hash));
        a->out[o + ll] = '\n';
        o += ll + 1;
        off += bl;
    }
    *out_len = o;
out:
    return rv;
}

CK_RV audit_drain_locked(struct chsm_audit *a)
{
    CK_RV rv = CKR_OK;
    size_t len = 0;
    struct audit_head h;
    take_queue_locked(a);
    if (a->qd.n == 0)
        goto out;
    CHSM_GUARD(frame_batch_locked(a, &len, &h));
    CHSM_GUARD(audit_raw_write(a, a->out, len));
    a->head = h;
    a->dirty = true;
out:
    if (rv != CKR_OK)
        note_lost(a, a->qd.n);
    a->qd.len = a->qd.n = 0;
    return rv;
}

void audit_queue_discard(struct chsm_audit *a)
{
    pthread_mutex_lock(&a->q_mu);
    size_t n = a->q.n;
    a->q.len = a->q.n = 0;
    pthread_mutex_unlock(&a->q_mu);
    if (n > 0)
        note_lost(a, n);
}

CK_RV audit_flush_queue(struct chsm_audit *a)
{
    CK_RV rv = CKR_OK;
    if (queue_empty(a))
        return CKR_OK;
    rv = audit_lock(a);
    if (rv != CKR_OK) {
        audit_queue_discard(a); /* the bound holds even while the log is unusable */
        return rv;
    }
    rv = audit_sync_head_locked(a);
    if (rv == CKR_OK)
        rv = audit_drain_locked(a);
    else
        audit_queue_discard(a);
    if (rv == CKR_OK)
        audit_rotate_if_due_locked(a);
    audit_unlock(a);
    return rv;
}
