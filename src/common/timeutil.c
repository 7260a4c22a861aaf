#include "common/timeutil.h"

#include <stdio.h>
#include <time.h>

int64_t chsm_time_unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t chsm_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void chsm_time_rfc3339(char out[CHSM_RFC3339_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[24];
    /* strftime bounds each field, so the result always fits. */
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    unsigned usec = (unsigned)(ts.tv_nsec / 1000) % 1000000u;
    snprintf(out, CHSM_RFC3339_LEN, "%.19s.%06uZ", date, usec);
}
