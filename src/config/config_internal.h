/*
 * Internals shared by the config module's files: the problem collector
 * (diag.c), the schema table and mapping (schema.c) and the validation
 * rules (validate.c). Not for use outside src/config/.
 */
#ifndef CHSM_CONFIG_CONFIG_INTERNAL_H
#define CHSM_CONFIG_CONFIG_INTERNAL_H

#include "config/config.h"
#include "config/toml.h"

/* Stop collecting after this many problems: a binary file would otherwise yield thousands. */
#define CHSM_CFG_MAX_PROBLEMS 50u
/* Longest path accepted (PATH_MAX including the terminator). */
#define CHSM_CFG_PATH_MAX 4095u

/* One entry per configurable key, in schema order. */
enum chsm_cfg_field_id {
    F_TOKEN_LABEL, F_TOKEN_SERIAL, F_TOKEN_SLOT_COUNT, F_TOKEN_MAX_SESSIONS, F_TOKEN_MAX_RW_SESSIONS,
    F_TOKEN_STORAGE_PATH,
    F_SEC_PIN_MIN, F_SEC_PIN_MAX, F_SEC_MAX_FAILED, F_SEC_PBKDF2,
    F_ALG_FIPS, F_ALG_WEAK_RSA, F_ALG_SHA1_SIGN,
    F_AUDIT_ENABLED, F_AUDIT_LOG_PATH, F_AUDIT_LOG_LEVEL, F_AUDIT_KEY_USE, F_AUDIT_SYNC, F_AUDIT_BATCH_MS,
    F_AUDIT_MAX_SIZE, F_AUDIT_FAIL_OPEN,
    F_D_BIND, F_D_TLS_CERT, F_D_TLS_KEY, F_D_TLS_CLIENT_CA, F_D_ALLOW_UNAUTH_TLS, F_D_MAX_RECV, F_D_MAX_SEND,
    F_D_MAX_STREAMS, F_D_MAX_RANDOM, F_D_IDLE_TIMEOUT, F_D_SHUTDOWN_GRACE, F_D_WORKERS,
    CHSM_CFG_NFIELDS
};

enum chsm_cfg_kind { CFG_STR, CFG_U32, CFG_U64, CFG_BOOL, CFG_ENUM };

#define CFG_PATH 0x1u     /* string is a filesystem path: path rules apply */
#define CFG_OPTIONAL 0x2u /* may be unset (NULL); an empty string is still refused */

struct chsm_cfg_field {
    const char *table;
    const char *key;
    enum chsm_cfg_kind kind;
    size_t offset;             /* into struct chsm_config (not used for CFG_ENUM) */
    uint64_t min, max;         /* CFG_U32 / CFG_U64 bounds, inclusive */
    const char *const *names;  /* CFG_ENUM: accepted strings, in enum order, NULL-terminated */
    unsigned flags;
};

extern const struct chsm_cfg_field chsm_cfg_fields[CHSM_CFG_NFIELDS];

/* State of one load: where messages go and which line set each field. */
struct chsm_cfg_ctx {
    const char *name;              /* file name for messages */
    struct chsm_config_diag *diag; /* never NULL here */
    size_t problems;               /* problems added during this load */
    unsigned line[CHSM_CFG_NFIELDS]; /* 0 = still the default */
};

/*
 * Add "NAME:LINE: <message>" (or "NAME: <message>" when line is 0). Returns
 * CKR_OK, or CKR_HOST_MEMORY. Past CHSM_CFG_MAX_PROBLEMS, one final
 * "too many problems" line is added and later ones are dropped.
 */
CHSM_MUST_CHECK CK_RV chsm_cfg_problem(struct chsm_cfg_ctx *x, unsigned line, const char *fmt, ...)
    CHSM_PRINTF(3, 4);

/* Quote s[0..len) for a message: escapes control/non-ASCII bytes, truncates long values. Returns buf. */
const char *chsm_cfg_quote(char *buf, size_t size, const char *s, size_t len);

/* Describe a TOML value for "got ..." in a message. Returns buf. */
const char *chsm_cfg_describe(char *buf, size_t size, const struct chsm_toml_value *v);

/* Map a parsed document onto cfg (which holds the defaults), reporting unknown/mistyped keys and bounds. */
CHSM_MUST_CHECK CK_RV chsm_cfg_apply(struct chsm_cfg_ctx *x, const struct chsm_toml_doc *doc,
                                     struct chsm_config *cfg);

/* Check an integer against a field's bounds (reports; *ok says whether it passed). */
CHSM_MUST_CHECK CK_RV chsm_cfg_check_range(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, unsigned line,
                                           int64_t v, bool *ok);

/* Rules that span fields or look at the filesystem; run after apply. */
CHSM_MUST_CHECK CK_RV chsm_cfg_validate(struct chsm_cfg_ctx *x, const struct chsm_config *cfg);

/* Path rules for one string field (no "..", no symlinked component, length); exposed for tests. */
CHSM_MUST_CHECK CK_RV chsm_cfg_check_path(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, const char *path);

#endif
