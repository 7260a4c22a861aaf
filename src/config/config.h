/*
 * craton_hsm.toml: locating, parsing (a strict TOML subset), validating.
 *
 * Search order (brief): an explicit path, else $CRATON_HSM_CONFIG, else
 * ./craton_hsm.toml if it exists, else the built-in defaults below.
 *
 * Every problem found is reported as one line naming the file, the line,
 * the field, the rule and the offending value, e.g.
 *   craton_hsm.toml:12: security.pbkdf2_iterations: must be at least 100000 (the floor since 0.9.1), got 50000
 * Unknown tables and keys are errors. Loading never touches the store.
 *
 * Ownership: struct chsm_config owns its strings (free with
 * chsm_config_free). struct chsm_config_diag owns its messages.
 */
#ifndef CHSM_CONFIG_CONFIG_H
#define CHSM_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/result.h"

#define CHSM_CONFIG_ENV "CRATON_HSM_CONFIG"
#define CHSM_CONFIG_DEFAULT_FILE "craton_hsm.toml"

/* Bounds (validation rules; documented in docs/configuration.md). */
#define CHSM_PBKDF2_ITER_MIN 100000u
#define CHSM_PBKDF2_ITER_MAX 10000000u
#define CHSM_PBKDF2_ITER_DEFAULT 600000u
#define CHSM_MAX_FAILED_LOGINS_MIN 3u
#define CHSM_MAX_FAILED_LOGINS_MAX 100u
#define CHSM_PIN_LEN_MIN 4u
#define CHSM_PIN_LEN_MAX 255u
#define CHSM_SERIAL_MAX 16u
#define CHSM_LABEL_MAX 32u
#define CHSM_SLOT_COUNT_MAX 64u

enum chsm_audit_level { CHSM_AUDIT_ALL, CHSM_AUDIT_CRYPTO, CHSM_AUDIT_AUTH, CHSM_AUDIT_ADMIN, CHSM_AUDIT_NONE };
enum chsm_audit_key_use { CHSM_AUDIT_KEYUSE_SUMMARY, CHSM_AUDIT_KEYUSE_EACH };
enum chsm_audit_sync { CHSM_AUDIT_SYNC_ALWAYS, CHSM_AUDIT_SYNC_BATCH };

struct chsm_config {
    char *source_path; /* file it came from, or NULL for built-in defaults */

    struct {
        char *label;         /* default "Craton HSM"; <= 32 bytes UTF-8 */
        char *serial_number; /* default "0000000000000001"; 1..16 printable ASCII */
        uint32_t slot_count; /* 1..64, default 1 */
        uint32_t max_sessions;    /* 1..65536, default 1024 */
        uint32_t max_rw_sessions; /* 1..max_sessions, default 1024 */
        char *storage_path;       /* default "craton_hsm_store"; "" or ":memory:" = volatile */
    } token;

    struct {
        uint32_t pin_min_length;    /* 4..255, default 4 (spec: min <= max) */
        uint32_t pin_max_length;    /* 4..255, default 255 */
        uint32_t max_failed_logins; /* 3..100, default 10 */
        uint32_t pbkdf2_iterations; /* 100000..10000000, default 600000 */
    } security;

    struct {
        bool fips_approved_only; /* default false */
        bool allow_weak_rsa;     /* default false */
        bool allow_sha1_signing; /* default false */
    } algorithms;

    struct {
        bool enabled;                  /* default true */
        char *log_path;                /* default: "craton_hsm_audit.jsonl" beside the store */
        enum chsm_audit_level log_level;     /* "all" (default) | "crypto" | "auth" | "admin" | "none" */
        enum chsm_audit_key_use key_use;     /* "summary" (default) | "each" */
        enum chsm_audit_sync sync;           /* "always" (default) | "batch" */
        uint32_t batch_ms;             /* 1..10000, default 100 */
        uint64_t max_size;             /* bytes, 4096..2^40, default 64 MiB */
        bool fail_open;                /* default false: unwritable log fails state changes */
    } audit;

    struct {
        char *bind;          /* default "127.0.0.1:5696" */
        char *tls_cert;      /* NULL when unset */
        char *tls_key;       /* NULL when unset */
        char *tls_client_ca; /* NULL when unset */
        bool allow_unauthenticated_tls; /* default false */
        uint32_t max_recv_message_bytes; /* default 4 MiB */
        uint32_t max_send_message_bytes; /* default 16 MiB */
        uint32_t max_concurrent_streams; /* default 64 */
        uint32_t max_random_bytes;       /* default 65536 */
        uint32_t session_idle_timeout_s; /* default 300 */
        uint32_t shutdown_grace_s;       /* default 10 */
        uint32_t worker_threads;         /* default 2 */
    } daemon;
};

/* One problem found while loading. */
struct chsm_config_problem {
    char *message; /* complete one-line message: "file:line: table.key: rule, got value" */
};

struct chsm_config_diag {
    struct chsm_config_problem *items;
    size_t count;
};

/* Fill cfg with the built-in defaults (all strings allocated). */
CHSM_MUST_CHECK CK_RV chsm_config_defaults(struct chsm_config *cfg);

/*
 * Locate and load the configuration. explicit_path may be NULL (then the
 * search order applies). On any problem returns CKR_ARGUMENTS_BAD (file
 * unreadable, syntax or validation error), cfg is left freed/zeroed and
 * every problem is appended to diag (which may be NULL). CKR_HOST_MEMORY on
 * allocation failure.
 */
CHSM_MUST_CHECK CK_RV chsm_config_load(const char *explicit_path, struct chsm_config *cfg,
                                       struct chsm_config_diag *diag);

/* Parse from memory (used by the loader, the unit tests and the fuzzer). name labels messages. */
CHSM_MUST_CHECK CK_RV chsm_config_parse(const char *name, const char *text, size_t len, struct chsm_config *cfg,
                                        struct chsm_config_diag *diag);

/* The path the search order picks (explicit, env, ./craton_hsm.toml) or NULL for defaults. Static or env storage. */
const char *chsm_config_locate(const char *explicit_path);

/* Resolved audit log path (log_path, or the default beside the store). Caller frees. NULL on OOM. */
char *chsm_config_audit_log_path(const struct chsm_config *cfg);

/* True when storage_path asks for a volatile (in-memory) store. */
bool chsm_config_is_volatile(const struct chsm_config *cfg);

void chsm_config_free(struct chsm_config *cfg);
void chsm_config_diag_free(struct chsm_config_diag *diag);

/* Write each problem in diag as one line to f (for the CLI, the daemon and C_Initialize's stderr note). */
void chsm_config_print_problems(const struct chsm_config_diag *diag, FILE *f);

#endif
