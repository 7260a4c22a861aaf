/*
 * Per-entry constants made cheap: the process id (getpid() is a system call
 * on every glibc since 2.25) is cached and refreshed in the child after
 * fork() by a pthread_atfork handler; the "YYYY-MM-DDTHH:MM:SS" part of the
 * timestamp is formatted once per second per thread, by arithmetic rather
 * than gmtime_r + strftime, and only the microseconds for every entry.
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

const char audit_digit_pairs[200] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Two digits of v < 100. */
static void put2(char *p, unsigned v)
{
    memcpy(p, audit_digit_pairs + 2 * v, 2);
}

bool audit_fmt_datetime(int64_t sec, char out[19])
{
    /* 9999-12-31T23:59:59: beyond it %Y needs five digits (callers fall back to strftime). */
    if (sec < 0 || sec > 253402300799)
        return false;
    unsigned sod = (unsigned)(sec % 86400);
    /* Days since 1970-01-01 to a civil date: shift the epoch to 0000-03-01 so the leap day ends
     * a year, split into 400-year eras (146097 days) and count years and months inside one. */
    uint64_t z = (uint64_t)(sec / 86400) + 719468u;
    uint64_t era = z / 146097u;
    unsigned doe = (unsigned)(z - era * 146097u);                          /* 0..146096 */
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u; /* 0..399 */
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);              /* 0..365, from Mar 1 */
    unsigned mp = (5u * doy + 2u) / 153u;                                  /* 0..11, March = 0 */
    unsigned day = doy - (153u * mp + 2u) / 5u + 1u;
    unsigned month = mp < 10u ? mp + 3u : mp - 9u;
    unsigned year = (unsigned)(era * 400u) + yoe + (month <= 2u ? 1u : 0u);
    put2(out, year / 100u);
    put2(out + 2, year % 100u);
    out[4] = '-';
    put2(out + 5, month);
    out[7] = '-';
    put2(out + 8, day);
    out[10] = 'T';
    put2(out + 11, sod / 3600u);
    out[13] = ':';
    put2(out + 14, sod / 60u % 60u);
    out[16] = ':';
    put2(out + 17, sod % 60u);
    return true;
}

void audit_fmt_usec(unsigned usec, char out[6])
{
    put2(out, usec / 10000u % 100u);
    put2(out + 2, usec / 100u % 100u);
    put2(out + 4, usec % 100u);
}

static _Thread_local time_t t_date_sec = (time_t)-1;
static _Thread_local char t_date[24];

/* The date part for sec, as the original gmtime_r + strftime gave it (including outside 1970..9999). */
static void format_date(time_t sec, char out[24])
{
    if (audit_fmt_datetime((int64_t)sec, out))
        return;
    struct tm tm;
    gmtime_r(&sec, &tm);
    /* strftime bounds each field: always 19 characters for years 1000..9999. */
    if (strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
        memcpy(out, "0000-00-00T00:00:00", 20);
}

void audit_time_write(char *dst, const struct timespec *ts)
{
    if (ts->tv_sec != t_date_sec) {
        format_date(ts->tv_sec, t_date);
        t_date_sec = ts->tv_sec;
    }
    memcpy(dst, t_date, 19);
    dst[19] = '.';
    audit_fmt_usec((unsigned)(ts->tv_nsec / 1000) % 1000000u, dst + 20);
    dst[26] = 'Z';
}

void audit_now_write(char *dst)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    audit_time_write(dst, &ts);
}

void audit_now(char out[CHSM_RFC3339_LEN])
{
    audit_now_write(out);
    out[AUDIT_TIME_LEN] = '\0';
}
