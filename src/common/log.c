#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static enum chsm_log_level log_level = CHSM_LOG_WARN;
static chsm_log_sink_fn log_sink;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_read_env(void)
{
    const char *v = getenv("CRATON_HSM_LOG");
    if (v == NULL || *v == '\0')
        return;
    if (strcasecmp(v, "error") == 0)
        log_level = CHSM_LOG_ERROR;
    else if (strcasecmp(v, "warn") == 0 || strcasecmp(v, "warning") == 0)
        log_level = CHSM_LOG_WARN;
    else if (strcasecmp(v, "info") == 0)
        log_level = CHSM_LOG_INFO;
    else if (strcasecmp(v, "debug") == 0)
        log_level = CHSM_LOG_DEBUG;
    else
        fprintf(stderr, "craton-hsm: CRATON_HSM_LOG=%s is not one of error|warn|info|debug; using warn\n", v);
}

void chsm_log_init(void)
{
    pthread_once(&log_once, log_read_env);
}

void chsm_log_set_level(enum chsm_log_level level)
{
    chsm_log_init();
    log_level = level;
}

enum chsm_log_level chsm_log_get_level(void)
{
    chsm_log_init();
    return log_level;
}

void chsm_log_set_sink(chsm_log_sink_fn fn)
{
    log_sink = fn;
}

int chsm_log_enabled(enum chsm_log_level level)
{
    chsm_log_init();
    return level <= log_level;
}

static const char *level_name(enum chsm_log_level l)
{
    switch (l) {
    case CHSM_LOG_ERROR:
        return "error";
    case CHSM_LOG_WARN:
        return "warn";
    case CHSM_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void chsm_log(enum chsm_log_level level, const char *fmt, ...)
{
    if (!chsm_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_sink != NULL) {
        log_sink(level, msg);
        return;
    }
    char line[1100];
    int n = snprintf(line, sizeof(line), "craton-hsm[%ld]: %s: %s\n", (long)getpid(), level_name(level), msg);
    if (n > 0) {
        size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
        /* One write() so lines from several threads/processes do not interleave. */
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w;
    }
}

void chsm_log_err(enum chsm_log_level level, const char *what)
{
    const struct chsm_err *e = chsm_err_last();
    const char *file = e->file ? strrchr(e->file, '/') : NULL;
    chsm_log(level, "%s: %s [%s %s:%d]: %s", what, chsm_rv_name(e->rv), e->layer ? e->layer : "?",
             file ? file + 1 : (e->file ? e->file : "?"), e->line, e->msg);
}
