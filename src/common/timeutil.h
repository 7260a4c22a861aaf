#ifndef CHSM_COMMON_TIMEUTIL_H
#define CHSM_COMMON_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock as RFC 3339 UTC with microseconds: "2026-11-27T11:50:42.123456Z" (28 chars + NUL). */
#define CHSM_RFC3339_LEN 32
void chsm_time_rfc3339(char out[CHSM_RFC3339_LEN]);
/* Wall clock, microseconds since the Unix epoch. */
int64_t chsm_time_unix_us(void);
/* Monotonic clock in nanoseconds. */
uint64_t chsm_time_mono_ns(void);

#endif
