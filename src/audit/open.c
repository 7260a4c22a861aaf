/*
 * Logger lifetime: open (creating the log, reading the chain head back and
 * recovering a partial last line), close (flushing summaries and syncing),
 * and start_chained for restore continuity.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/internal.h"
#include "common/log.h"

static CK_RV alloc_logger(const char *path, struct chsm_audit **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_audit *a = calloc(1, sizeof(*a));
    CHSM_ENSURE(a != NULL, CKR_HOST_MEMORY);
    a->fd = a->lock_fd = -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->ku_mu, NULL);
    pthread_mutex_init(&a->flush_mu, NULL);
    audit_ku_init(a);
    audit_queue_init(a);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = a;
    if (path == NULL)
        goto out;
    size_t n = strlen(path);
    a->path = strdup(path);
    a->lock_path = malloc(n + sizeof(".lock"));
    CHSM_ENSURE(a->path != NULL && a->lock_path != NULL, CKR_HOST_MEMORY);
    memcpy(a->lock_path, path, n);
    memcpy(a->lock_path + n, ".lock", sizeof(".lock"));
out:
    return rv;
}

static void free_logger(struct chsm_audit *a)
{
    if (a->fd >= 0)
        close(a->fd);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->ku_mu);
    pthread_mutex_destroy(&a->flush_mu);
    audit_ku_fini(a);
    audit_queue_fini(a);
    pthread_cond_destroy(&a->cv);
    free(a->path);
    free(a->lock_path);
    free(a);
}

static char *resolve_path(const struct chsm_config *cfg)
{
    if (cfg->audit.log_path != NULL && cfg->audit.log_path[0] != '\0')
        return strdup(cfg->audit.log_path);
    return chsm_config_audit_log_path(cfg);
}

static CK_RV first_sync(struct chsm_audit *a)
{
    CK_RV rv = audit_lock(a);
    if (rv != CKR_OK)
        return rv;
    rv = audit_sync_head_locked(a);
    audit_unlock(a);
    return rv;
}

CK_RV chsm_audit_open(const struct chsm_config *cfg, struct chsm_audit **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_audit *a = NULL;
    char *path = NULL;
    CHSM_ENSURE(cfg != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    *out = NULL;
    audit_pid_init();
    bool active = cfg->audit.enabled && cfg->audit.log_level != CHSM_AUDIT_NONE;
    if (active) {
        path = resolve_path(cfg);
        CHSM_ENSURE(path != NULL, CKR_HOST_MEMORY);
    }
    CHSM_GUARD(alloc_logger(path, &a));
    a->active = active;
    a->level = cfg->audit.log_level;
    a->key_use = cfg->audit.key_use;
    a->sync = cfg->audit.sync;
    a->batch_ms = cfg->audit.batch_ms > 0 && cfg->audit.batch_ms <= 10000 ? cfg->audit.batch_ms : 100;
    a->max_size = cfg->audit.max_size;
    a->fail_open = cfg->audit.fail_open;
    if (!active)
        goto out;
    rv = first_sync(a);
    if (rv != CKR_OK && a->fail_open) {
        /* Every append retries the open; entries are dropped (and logged) until it works. */
        chsm_log_err(CHSM_LOG_ERROR, "audit: log unavailable, continuing (fail_open)");
        rv = CKR_OK;
    }
    CHSM_GUARD(rv);
    CHSM_GUARD(audit_flusher_start(a));
out:
    free(path);
    if (rv != CKR_OK && a != NULL) {
        free_logger(a);
        a = NULL;
    }
    if (out != NULL)
        *out = a;
    return rv;
}

void chsm_audit_close(struct chsm_audit *a)
{
    if (a == NULL)
        return;
    if (a->active) {
        audit_flusher_stop(a);
        audit_flush_all(a);
    }
    free_logger(a);
}

static bool is_hex64(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static CK_RV write_restore_entry(struct chsm_audit *a, uint64_t prev_seq, const char *prev_hash, const char *detail)
{
    CK_RV rv = CKR_OK;
    struct stat st;
    CHSM_GUARD(audit_lock(a));
    if (stat(a->path, &st) == 0 && st.st_size > 0) {
        rv = CHSM_ERR(CKR_FUNCTION_FAILED, "audit", "%s already holds entries; move it aside before a restore",
                      a->path);
    } else {
        a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (a->fd < 0) {
            rv = CHSM_ERR(CKR_DEVICE_ERROR, "audit", "create %s: %s", a->path, strerror(errno));
        } else {
            a->head.seq = prev_seq;
            memcpy(a->head.hash, prev_hash, 65);
            a->head_valid = true;
            struct audit_rec r = {.event = "restore", .slot = -1, .result = CKR_OK, .detail = detail};
            rv = audit_write_locked(a, &r, true);
            if (rv == CKR_OK)
                rv = audit_fsync_dir(a->path);
        }
    }
    audit_unlock(a);
out:
    return rv;
}

CK_RV chsm_audit_start_chained(const char *log_path, uint64_t prev_seq, const char *prev_hash_hex,
                               const char *detail)
{
    CK_RV rv = CKR_OK;
    struct chsm_audit *a = NULL;
    CHSM_ENSURE(log_path != NULL && is_hex64(prev_hash_hex) && prev_seq < UINT64_MAX,
                CHSM_ERR(CKR_ARGUMENTS_BAD, "audit", "start_chained needs a path and a 64-digit lower-case hex hash"));
    CHSM_GUARD(alloc_logger(log_path, &a));
    a->active = true;
    a->sync = CHSM_AUDIT_SYNC_ALWAYS;
    CHSM_GUARD(write_restore_entry(a, prev_seq, prev_hash_hex, detail));
out:
    if (a != NULL)
        free_logger(a);
    return rv;
}
