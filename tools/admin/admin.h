/*
 * craton-hsm-admin internals: the shared context every command receives,
 * option parsing, exit codes, error printing, PIN input and output helpers.
 * Library code returns CK_RV; only this program prints and exits.
 */
#ifndef CHSM_ADMIN_ADMIN_H
#define CHSM_ADMIN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/result.h"
#include "common/secbuf.h"
#include "config/config.h"

/* Exit codes (documented in --help and craton-hsm-admin.1). */
enum adm_exit {
    ADM_OK = 0,
    ADM_FAILED = 1,    /* operation failed */
    ADM_USAGE = 2,     /* bad command line */
    ADM_AUTH = 3,      /* wrong PIN, PIN locked */
    ADM_INTEGRITY = 4, /* tampered/truncated archive, store or log */
    ADM_REFUSED = 5,   /* safety rule: store exists, daemon running, version too new, identity mismatch */
};

#define ADM_MAX_OPTS 24
#define ADM_MAX_POS 8

struct adm_optspec {
    const char *name; /* "--output" */
    bool has_arg;
    bool multi; /* may repeat (values collected) */
};

struct adm_optval {
    const char *name;
    const char *values[16];
    size_t count;
};

struct adm {
    const char *prog;
    const char *config_path; /* --config, or NULL */
    bool json;
    bool quiet;
    bool help;
    bool timings; /* --timings: phase timings on stderr */
    /* Command words and options after globals are removed. */
    int argc;
    char **argv;
    /* Parsed command options. */
    struct adm_optval opts[ADM_MAX_OPTS];
    size_t nopts;
    const char *pos[ADM_MAX_POS];
    size_t npos;
    /* Loaded lazily by adm_config(). */
    struct chsm_config cfg;
    bool cfg_loaded;
};

/* Print "craton-hsm-admin: <msg>" on stderr (one line) and return code. */
int adm_fail(int code, const char *fmt, ...) CHSM_PRINTF(2, 3);
/* Same, appending the thread's error record detail: "<msg>: <detail>; <hint>". */
int adm_fail_rv(CK_RV rv, const char *what, const char *hint);
/* Exit code for a CK_RV. */
int adm_exit_for(CK_RV rv);
void adm_warn(const char *fmt, ...) CHSM_PRINTF(1, 2);

/* Strip --config/--json/--quiet/--help wherever they appear; the rest becomes a->argv. */
int adm_take_globals(struct adm *a, int argc, char **argv);
/* Parse a.argv[from..] against specs; returns ADM_OK or ADM_USAGE (message printed). */
int adm_parse(struct adm *a, int from, const struct adm_optspec *specs, size_t nspecs, size_t max_pos);
const char *adm_opt(const struct adm *a, const char *name);
bool adm_flag(const struct adm *a, const char *name);
const struct adm_optval *adm_optv(const struct adm *a, const char *name);

/* Load the configuration once (prints every problem and returns non-zero on failure). */
int adm_config(struct adm *a, const struct chsm_config **out);
/* Slot chosen with --slot (default 0). */
uint32_t adm_slot(const struct adm *a);

/*
 * PINs. base "pin" accepts --pin VALUE (warns: visible in ps), --pin-file,
 * --pin-env, --pin - (stdin), else a no-echo prompt on a terminal. confirm
 * asks twice at a prompt (new PINs). Returns an exit code. Reading consumes
 * the source: --pin VALUE is wiped from argv and --pin-env NAME is wiped and
 * unset (pin_input.c), so read each base once and pass the secbuf on.
 */
int adm_pin(const struct adm *a, const char *base, const char *what, bool confirm, struct chsm_secbuf *out);
/* Option specs for base ("pin" -> --pin, --pin-file, --pin-env). */
#define ADM_PIN_SPECS(base) {"--" base, true, false}, {"--" base "-file", true, false}, {"--" base "-env", true, false}

/* Output helpers: JSON string escaping, trimmed blank-padded fields. */
void adm_json_str(FILE *f, const char *s);
void adm_trim(char *dst, size_t cap, const char *src, size_t n);

/* Progress on stderr when it is a terminal and not --quiet. */
struct adm_progress {
    bool on;
    const char *what;
    uint64_t total;
    uint64_t done;
    uint64_t start_ns;
    uint64_t last_ns;
};
void adm_progress_start(struct adm_progress *p, const struct adm *a, const char *what, uint64_t total);
void adm_progress_step(struct adm_progress *p, uint64_t done);
void adm_progress_end(struct adm_progress *p);

/* --help: the program's usage, or the text of `CMD [SUB]` (help.c); exit code. */
void adm_help_usage(FILE *f);
int adm_help(const struct adm *a);

/* --timings: phase timings on stderr (timings.c). adm_timing closes the phase
 * that started at the previous mark; pbkdf2 marks it as the PIN derivation. */
void adm_timing_start(bool on);
void adm_timing(const char *phase, bool pbkdf2);
void adm_timing_end(void);

/* Commands. Each returns an exit code. */
int cmd_config(struct adm *a);
int cmd_token(struct adm *a);
int cmd_status(struct adm *a);
int cmd_pin(struct adm *a);
int cmd_audit(struct adm *a);
int cmd_backup(struct adm *a);
int cmd_restore(struct adm *a);
int cmd_key(struct adm *a);
int cmd_manifest(struct adm *a);
int cmd_drill(struct adm *a);
int adm_backup_verify(struct adm *a);
/* Token facts recorded in a manifest file. */
int adm_manifest_token(const char *path, char label[64], char serial[32], uint64_t *count);
/* The restore itself (after the early refusals): --input/--force/--audit-archive from a, into cfg's store. */
int adm_restore_into(struct adm *a, const struct chsm_config *cfg, const struct chsm_secbuf *pin);

#endif
