/*
 * Per-entry constants made cheap: the process id (getpid() is a system call
 * on every glibc since 2.25) is cached and refreshed in the child after
 * fork() by a pthread_atfork handler; the "YYYY-MM-DDTHH:MM:SS" part of the
 * timestamp is formatted once per second per thread instead of running
 * gmtime_r + strftime for every entry.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/internal.h"

static atomic_int g_pid;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static void pid_after_fork(void)
{
    atomic_store_explicit(&g_pid, (int)getpid(), memory_order_relaxed);
}

static void register_atfork(void)
{
    /* glibc drops the handler when the module is dlclose()d (it is keyed to this DSO). If the
     * registration fails the cache stays correct for the parent; a child refreshes at its next open. */
    (void)pthread_atfork(NULL, NULL, pid_after_fork);
}

void audit_pid_init(void)
{
    (void)pthread_once(&g_atfork_once, register_atfork);
    pid_after_fork();
}

long audit_pid(void)
{
    int p = atomic_load_explicit(&g_pid, memory_order_relaxed);
    return p != 0 ? (long)p : (long)getpid();
}

static _Thread_local time_t t_date_sec = (time_t)-1;
static _Thread_local char t_date[24];

void audit_now(char out[CHSM_RFC3339_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != t_date_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        /* strftime bounds each field: always 19 characters for years 1000..9999. */
        if (strftime(t_date, sizeof(t_date), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
            memcpy(t_date, "0000-00-00T00:00:00", 20);
        t_date_sec = ts.tv_sec;
    }
    memcpy(out, t_date, 19);
    out[19] = '.';
    unsigned usec = (unsigned)(ts.tv_nsec / 1000) % 1000000u;
    for (int i = 25; i >= 20; i--) {
        out[i] = (char)('0' + usec % 10);
        usec /= 10;
    }
    out[26] = 'Z';
    out[27] = '\0';
}
