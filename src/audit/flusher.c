/*
 * The background flusher: every batch_ms it stamps the interval end of the
 * key-use summaries counted since the last tick, queues due summaries,
 * drains the queue (queue.c) and fdatasyncs what was written without a
 * sync. The queue wakes it early when it fills up, so a flood is drained
 * on another core while the callers keep queueing; the fdatasync still
 * happens once per period only.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "audit/internal.h"
#include "common/log.h"
#include "common/timeutil.h"

/* fdatasync what was written without it, outside mu (a dup keeps the fd valid across a rotation). */
static void sync_dirty(struct chsm_audit *a)
{
    int d = -1;
    pthread_mutex_lock(&a->mu);
    if (a->dirty && a->fd >= 0) {
        d = dup(a->fd);
        a->dirty = false;
    }
    pthread_mutex_unlock(&a->mu);
    if (d >= 0) {
        if (fdatasync(d) != 0) {
            /* Written but maybe not durable: fail the next event call like a lost batch. */
            chsm_log(CHSM_LOG_ERROR, "audit: fdatasync of %s failed", a->path);
            atomic_store(&a->q_failed, true);
        }
        close(d);
    }
}

static struct timespec mono_ts(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
    return ts;
}

/* Under ku_mu: sleep until the next tick, a wake-up or stop. Returns true at a tick. */
static bool wait_tick(struct chsm_audit *a, uint64_t next_ns)
{
    struct timespec ts = mono_ts(next_ns);
    while (!a->stop && !a->wake && chsm_time_mono_ns() < next_ns) {
        if (pthread_cond_timedwait(&a->cv, &a->ku_mu, &ts) == ETIMEDOUT)
            break;
    }
    a->wake = false;
    return chsm_time_mono_ns() >= next_ns;
}

static void *flusher_main(void *arg)
{
    struct chsm_audit *a = arg;
    uint64_t period_ns = (uint64_t)a->batch_ms * 1000000ull;
    uint64_t next_ns = chsm_time_mono_ns() + period_ns;
    pthread_mutex_lock(&a->ku_mu);
    while (!a->stop) {
        bool tick = wait_tick(a, next_ns);
        if (a->stop)
            break;
        pthread_mutex_unlock(&a->ku_mu);
        if (tick) {
            next_ns = chsm_time_mono_ns() + period_ns;
            /* Stamp the summaries' interval ends (keyuse.c); flush them once a second. */
            if (a->ku_mode == AUDIT_KU_SUMMARY && audit_ku_stamp(a) && audit_ku_due(a, period_ns))
                audit_ku_flush(a, false, 0);
        }
        /* A failure is logged and remembered for the next event call (queue.c). */
        CK_RV rv = audit_flush_queue(a);
        CHSM_UNUSED(rv);
        if (tick)
            sync_dirty(a);
        pthread_mutex_lock(&a->ku_mu);
    }
    pthread_mutex_unlock(&a->ku_mu);
    return NULL;
}

void audit_flusher_wake(struct chsm_audit *a)
{
    pthread_mutex_lock(&a->ku_mu);
    a->wake = true;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->ku_mu);
}

CK_RV audit_flusher_start(struct chsm_audit *a)
{
    sigset_t all, old;
    audit_ku_configure(a);
    a->ku_last_flush_ns = chsm_time_mono_ns();
    /* The flusher must never run the host's signal handlers. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&a->thread, NULL, flusher_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0)
        return CHSM_ERR(CKR_HOST_MEMORY, "audit", "cannot start the audit flusher thread (%d)", e);
    a->thread_started = true;
    return CKR_OK;
}

void audit_flusher_stop(struct chsm_audit *a)
{
    if (!a->thread_started)
        return;
    pthread_mutex_lock(&a->ku_mu);
    a->stop = true;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->ku_mu);
    pthread_join(a->thread, NULL);
    a->thread_started = false;
}

/* Used by close: queue the summaries, drain and sync whatever is pending. */
void audit_flush_all(struct chsm_audit *a)
{
    if (a->key_use == CHSM_AUDIT_KEYUSE_SUMMARY)
        audit_ku_flush(a, false, 0);
    CK_RV rv = audit_flush_queue(a);
    CHSM_UNUSED(rv); /* logged by the drain */
    sync_dirty(a);
}
