/*
 * Process log: human-readable lines on stderr (or a sink the daemon sets).
 * Level from CRATON_HSM_LOG=error|warn|info|debug (default: warn, which
 * explains every failure a caller can cause). Never pass a PIN or key byte.
 */
#ifndef CHSM_COMMON_LOG_H
#define CHSM_COMMON_LOG_H

#include "common/result.h"

enum chsm_log_level { CHSM_LOG_ERROR = 0, CHSM_LOG_WARN = 1, CHSM_LOG_INFO = 2, CHSM_LOG_DEBUG = 3 };

typedef void (*chsm_log_sink_fn)(enum chsm_log_level level, const char *line);

/* Read CRATON_HSM_LOG (idempotent; called by chsm_log on first use). */
void chsm_log_init(void);
void chsm_log_set_level(enum chsm_log_level level);
enum chsm_log_level chsm_log_get_level(void);
/* Replace the stderr writer (NULL restores it). The line has no trailing newline. */
void chsm_log_set_sink(chsm_log_sink_fn fn);
int chsm_log_enabled(enum chsm_log_level level);
void chsm_log(enum chsm_log_level level, const char *fmt, ...) CHSM_PRINTF(2, 3);
/* Log the calling thread's error record at `level`, prefixed by `what`. */
void chsm_log_err(enum chsm_log_level level, const char *what);

#endif
