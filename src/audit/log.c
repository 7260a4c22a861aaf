/*
 * Appending: the per-process mutex, then an flock() on the sidecar
 * <log_path>.lock (a sidecar, not the log itself, because rotation renames
 * the log: a lock on the old inode would not exclude a writer of the new
 * one). Under the lock the chain head is re-read from the file's tail
 * whenever the file is not the one we last wrote (inode or size differ), so
 * concurrent processes never fork the chain or repeat a seq. Each line (or
 * drained batch of lines, queue.c) goes out in one write(). Before any
 * entry is written directly the queue is drained, so the file holds this
 * process's entries in call order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/internal.h"
#include "common/log.h"
#include "common/timeutil.h"

static _Thread_local char t_actor[AUDIT_CAP_ACTOR + 1];

void chsm_audit_set_actor(const char *actor)
{
    if (actor == NULL) {
        t_actor[0] = '\0';
        return;
    }
    /* Every session lookup sets the actor: a plain copy, not snprintf (~1k instructions). */
    size_t n = strnlen(actor, sizeof(t_actor) - 1);
    memcpy(t_actor, actor, n);
    t_actor[n] = '\0';
}

const char *audit_thread_actor(void)
{
    return t_actor[0] != '\0' ? t_actor : NULL;
}

CK_RV audit_lock(struct chsm_audit *a)
{
    pthread_mutex_lock(&a->mu);
    if (a->lock_fd < 0) {
        a->lock_fd = open(a->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (a->lock_fd < 0) {
            CK_RV rv = CHSM_ERR(CKR_DEVICE_ERROR, "audit", "open %s: %s", a->lock_path, strerror(errno));
            pthread_mutex_unlock(&a->mu);
            return rv;
        }
    }
    while (flock(a->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            CK_RV rv = CHSM_ERR(CKR_DEVICE_ERROR, "audit", "lock %s: %s", a->lock_path, strerror(errno));
            pthread_mutex_unlock(&a->mu);
            return rv;
        }
    }
    return CKR_OK;
}

void audit_unlock(struct chsm_audit *a)
{
    (void)flock(a->lock_fd, LOCK_UN);
    pthread_mutex_unlock(&a->mu);
}

static CK_RV reopen_live(struct chsm_audit *a)
{
    struct stat st;
    if (a->fd >= 0)
        close(a->fd);
    a->head_valid = false;
    a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (a->fd < 0)
        return CHSM_ERR(CKR_DEVICE_ERROR, "audit", "open %s: %s", a->path, strerror(errno));
    if (fstat(a->fd, &st) != 0)
        return CHSM_ERR(CKR_DEVICE_ERROR, "audit", "fstat %s: %s", a->path, strerror(errno));
    a->dev = st.st_dev;
    a->ino = st.st_ino;
    return CKR_OK;
}

CK_RV audit_raw_write(struct chsm_audit *a, const char *p, size_t n)
{
    ssize_t w;
    do {
        w = write(a->fd, p, n);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)n) {
        /* A short write leaves a partial line: forget the head so the next append rescans and recovers it. */
        a->head_valid = false;
        return CHSM_ERR(CKR_DEVICE_ERROR, "audit", "write %s: %s", a->path, w < 0 ? strerror(errno) : "short write");
    }
    a->size += (off_t)n;
    return CKR_OK;
}

CK_RV audit_write_locked(struct chsm_audit *a, const struct audit_rec *r, bool durable)
{
    CK_RV rv = CKR_OK;
    char now[CHSM_RFC3339_LEN], hash[65];
    audit_now(now);
    uint64_t seq = a->head.seq + 1;
    size_t len = audit_encode(a->line, sizeof(a->line) - 1, seq, now, r, audit_pid(), audit_rec_actor(r),
                              a->head.hash);
    /* The field caps bound a line below AUDIT_LINE_MAX: overflow is a broken invariant. */
    CHSM_ENSURE(len > 0, CHSM_ERR(CKR_GENERAL_ERROR, "audit", "entry exceeds %d bytes", AUDIT_LINE_MAX));
    CHSM_GUARD(audit_line_hash(a->line, len, hash));
    a->line[len] = '\n';
    CHSM_GUARD(audit_raw_write(a, a->line, len + 1));
    a->head.seq = seq;
    memcpy(a->head.hash, hash, sizeof(hash));
    a->dirty = true;
    if (durable && a->sync == CHSM_AUDIT_SYNC_ALWAYS) {
        CHSM_ENSURE(fdatasync(a->fd) == 0,
                    CHSM_ERR(CKR_DEVICE_ERROR, "audit", "fdatasync %s: %s", a->path, strerror(errno)));
        a->dirty = false;
    }
out:
    return rv;
}

static const char k_zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* Head when the live file holds no usable line: the newest segment's last line, or the genesis. */
static CK_RV base_head(struct chsm_audit *a, const struct audit_tail *t, struct audit_head *h)
{
    bool found;
    if (t->have_good) {
        *h = t->good;
        return CKR_OK;
    }
    CK_RV rv = audit_head_of_segments(a->path, h, &found);
    if (rv == CKR_OK && !found) {
        h->seq = 0;
        memcpy(h->hash, k_zero_hash, sizeof(k_zero_hash));
    }
    return rv;
}

/*
 * A crashed writer left an unterminated line. The bytes are evidence, so
 * they stay: terminate them with "\n" and record a "recovered" entry that
 * chains from the last complete line, naming the partial line's length
 * (verify accepts exactly this pattern).
 */
static CK_RV recover_tail(struct chsm_audit *a, struct audit_tail *t)
{
    CK_RV rv = CKR_OK;
    char detail[64];
    bool terminated_now = false;
    if (t->partial_len > 0) {
        CHSM_GUARD(audit_raw_write(a, "\n", 1));
        CHSM_GUARD(audit_scan_tail(a->fd, t));
        terminated_now = true;
    }
    CHSM_GUARD(base_head(a, t, &a->head));
    a->head_valid = true;
    if (t->bad_len > 0)
        snprintf(detail, sizeof(detail), "partial_line_bytes=%zu", t->bad_len);
    else if (terminated_now)
        snprintf(detail, sizeof(detail), "unterminated_line_completed");
    else
        goto out;
    chsm_log(CHSM_LOG_WARN, "audit: %s ends with a partial line (%s); recording a recovered entry", a->path, detail);
    struct audit_rec r = {.event = "recovered", .slot = -1, .result = CKR_OK, .detail = detail};
    CHSM_GUARD(audit_write_locked(a, &r, true));
out:
    return rv;
}

CK_RV audit_sync_head_locked(struct chsm_audit *a)
{
    CK_RV rv = CKR_OK;
    struct stat st;
    bool exists = stat(a->path, &st) == 0;
    CHSM_ENSURE(exists || errno == ENOENT,
                CHSM_ERR(CKR_DEVICE_ERROR, "audit", "stat %s: %s", a->path, strerror(errno)));
    if (a->fd >= 0 && exists && st.st_dev == a->dev && st.st_ino == a->ino) {
        if (a->head_valid && st.st_size == a->size)
            goto out; /* nobody else wrote since our last append */
    } else {
        CHSM_GUARD(reopen_live(a)); /* first use, rotated by another process, or removed */
    }
    struct audit_tail t;
    CHSM_GUARD(audit_scan_tail(a->fd, &t));
    a->size = t.size;
    if (t.partial_len > 0 || t.bad_len > 0) {
        CHSM_GUARD(recover_tail(a, &t));
    } else {
        CHSM_GUARD(base_head(a, &t, &a->head));
        a->head_valid = true;
    }
out:
    return rv;
}

void audit_rotate_if_due_locked(struct chsm_audit *a)
{
    /* The entries are written; a failed rotation is retried after the next append. */
    if (a->max_size > 0 && (uint64_t)a->size > a->max_size && audit_rotate_locked(a) != CKR_OK)
        chsm_log_err(CHSM_LOG_WARN, "audit: size rotation failed");
}

static CK_RV append_once(struct chsm_audit *a, const struct audit_rec *r, bool durable)
{
    CK_RV rv = CKR_OK;
    rv = audit_lock(a);
    if (rv != CKR_OK) {
        audit_queue_discard(a);
        goto out;
    }
    rv = audit_sync_head_locked(a);
    if (rv != CKR_OK)
        audit_queue_discard(a);
    /* Queued entries were called before this one: they go first. */
    if (rv == CKR_OK)
        rv = audit_drain_locked(a);
    if (rv == CKR_OK)
        rv = audit_write_locked(a, r, durable);
    if (rv == CKR_OK && strcmp(r->event, "rotate") != 0)
        audit_rotate_if_due_locked(a);
    audit_unlock(a);
out:
    return rv;
}

/* Drain now, with the same failure policy as an append. */
CK_RV audit_append_flush(struct chsm_audit *a)
{
    CK_RV rv = audit_flush_queue(a);
    if (rv != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, a->fail_open ? "audit: entries lost (fail_open)" : "audit: cannot write entries");
        if (a->fail_open)
            rv = CKR_OK;
    }
    return rv;
}

CK_RV audit_append(struct chsm_audit *a, const struct audit_rec *r, bool durable)
{
    CK_RV rv = append_once(a, r, durable);
    if (rv != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, a->fail_open ? "audit: entry lost (fail_open)" : "audit: cannot write entry");
        if (a->fail_open)
            rv = CKR_OK;
    }
    return rv;
}

/* Ladder: admin < auth < crypto < all (docs/audit-format.md). */
bool audit_level_allows(enum chsm_audit_level level, int cat)
{
    switch (level) {
    case CHSM_AUDIT_ALL:
        return true;
    case CHSM_AUDIT_CRYPTO:
        return cat != AUDIT_CAT_SESSION;
    case CHSM_AUDIT_AUTH:
        return cat == AUDIT_CAT_ADMIN || cat == AUDIT_CAT_AUTH;
    case CHSM_AUDIT_ADMIN:
        return cat == AUDIT_CAT_ADMIN;
    default:
        return false;
    }
}

bool audit_wants(const struct chsm_audit *a, const char *event)
{
    int cat = audit_event_category(event);
    return a != NULL && a->active && cat >= 0 && audit_level_allows(a->level, cat);
}

/*
 * Which entries may wait in the queue: events about volatile session state
 * (their subject does not survive a crash either) and, under sync="batch",
 * key-use entries. Everything else is written (and per sync fdatasync'ed)
 * before the call returns.
 */
static bool event_batchable(const struct chsm_audit *a, const struct chsm_audit_event *ev, bool key_use)
{
    return ev->session_only || strcmp(ev->event, "session_open") == 0 || strcmp(ev->event, "session_close") == 0 ||
           (key_use && a->sync == CHSM_AUDIT_SYNC_BATCH);
}

CK_RV chsm_audit_event(struct chsm_audit *a, const struct chsm_audit_event *ev)
{
    int cat = ev != NULL ? audit_event_category(ev->event) : -1;
    if (cat < 0)
        return CHSM_ERR(CKR_ARGUMENTS_BAD, "audit", "unknown audit event \"%s\"",
                        ev != NULL && ev->event != NULL ? ev->event : "(null)");
    if (a == NULL || !a->active || !audit_level_allows(a->level, cat))
        return CKR_OK;
    /* A batch lost since the last event call fails this one (fail-closed), once. */
    if (atomic_exchange(&a->q_failed, false) && !a->fail_open)
        return CHSM_ERR(CKR_DEVICE_ERROR, "audit", "batched audit entries of %s were lost", a->path);
    struct audit_rec r = {.event = ev->event,
                          .slot = ev->slot,
                          .session = ev->session,
                          .user = ev->user,
                          .object_id = ev->object_id,
                          .object_label = ev->object_label,
                          .mechanism = ev->mechanism,
                          .result = ev->result,
                          .detail = ev->detail};
    bool key_use = audit_is_key_use_op(ev->event);
    CK_RV rv;
    if (event_batchable(a, ev, key_use)) {
        rv = audit_append_batched(a, &r);
        /* A closed session's entries are written now: its summaries and close are on disk when C_CloseSession returns. */
        if (rv == CKR_OK && strcmp(ev->event, "session_close") == 0)
            rv = audit_append_flush(a);
    } else {
        /* Key-use entries are synced by the flusher; everything else is state-changing. */
        rv = audit_append(a, &r, !key_use && !ev->session_only);
    }
    if (rv != CKR_OK)
        atomic_store(&a->q_failed, false); /* this call reports the loss */
    return rv;
}

CK_RV chsm_audit_head(struct chsm_audit *a, uint64_t *seq, char hash_hex[65])
{
    CK_RV rv = CKR_OK;
    if (a == NULL || seq == NULL || hash_hex == NULL)
        return CKR_ARGUMENTS_BAD;
    if (!a->active) {
        *seq = 0;
        memcpy(hash_hex, k_zero_hash, sizeof(k_zero_hash));
        return CKR_OK;
    }
    CHSM_GUARD(audit_lock(a));
    rv = audit_sync_head_locked(a);
    if (rv == CKR_OK)
        rv = audit_drain_locked(a); /* the head covers every event called before */
    if (rv == CKR_OK) {
        *seq = a->head.seq;
        memcpy(hash_hex, a->head.hash, 65);
    }
    audit_unlock(a);
out:
    return rv;
}
