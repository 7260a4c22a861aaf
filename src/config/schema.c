/*
 * The schema: every table and key craton_hsm.toml may contain, its type,
 * bounds and default, and the mapping of a parsed document onto struct
 * chsm_config. Anything not listed here is an error: a misspelt key that
 * silently fell back to a default would weaken security without a word.
 */
#include "config/config_internal.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define OFF(member) offsetof(struct chsm_config, member)
#define MIB (1024u * 1024u)

static const char *const level_names[] = {"all", "crypto", "auth", "admin", "none", NULL};
static const char *const key_use_names[] = {"summary", "each", NULL};
static const char *const sync_names[] = {"always", "batch", NULL};

/* clang-format off */
const struct chsm_cfg_field chsm_cfg_fields[CHSM_CFG_NFIELDS] = {
    [F_TOKEN_LABEL]           = {"token", "label", CFG_STR, OFF(token.label), 0, 0, NULL, 0},
    [F_TOKEN_SERIAL]          = {"token", "serial_number", CFG_STR, OFF(token.serial_number), 0, 0, NULL, 0},
    [F_TOKEN_SLOT_COUNT]      = {"token", "slot_count", CFG_U32, OFF(token.slot_count), 1, CHSM_SLOT_COUNT_MAX, NULL, 0},
    [F_TOKEN_MAX_SESSIONS]    = {"token", "max_sessions", CFG_U32, OFF(token.max_sessions), 1, 65536, NULL, 0},
    [F_TOKEN_MAX_RW_SESSIONS] = {"token", "max_rw_sessions", CFG_U32, OFF(token.max_rw_sessions), 1, 65536, NULL, 0},
    [F_TOKEN_STORAGE_PATH]    = {"token", "storage_path", CFG_STR, OFF(token.storage_path), 0, 0, NULL, CFG_PATH},
    [F_SEC_PIN_MIN]    = {"security", "pin_min_length", CFG_U32, OFF(security.pin_min_length), CHSM_PIN_LEN_MIN, CHSM_PIN_LEN_MAX, NULL, 0},
    [F_SEC_PIN_MAX]    = {"security", "pin_max_length", CFG_U32, OFF(security.pin_max_length), CHSM_PIN_LEN_MIN, CHSM_PIN_LEN_MAX, NULL, 0},
    [F_SEC_MAX_FAILED] = {"security", "max_failed_logins", CFG_U32, OFF(security.max_failed_logins), CHSM_MAX_FAILED_LOGINS_MIN, CHSM_MAX_FAILED_LOGINS_MAX, NULL, 0},
    [F_SEC_PBKDF2]     = {"security", "pbkdf2_iterations", CFG_U32, OFF(security.pbkdf2_iterations), CHSM_PBKDF2_ITER_MIN, CHSM_PBKDF2_ITER_MAX, NULL, 0},
    [F_ALG_FIPS]      = {"algorithms", "fips_approved_only", CFG_BOOL, OFF(algorithms.fips_approved_only), 0, 0, NULL, 0},
    [F_ALG_WEAK_RSA]  = {"algorithms", "allow_weak_rsa", CFG_BOOL, OFF(algorithms.allow_weak_rsa), 0, 0, NULL, 0},
    [F_ALG_SHA1_SIGN] = {"algorithms", "allow_sha1_signing", CFG_BOOL, OFF(algorithms.allow_sha1_signing), 0, 0, NULL, 0},
    [F_AUDIT_ENABLED]   = {"audit", "enabled", CFG_BOOL, OFF(audit.enabled), 0, 0, NULL, 0},
    [F_AUDIT_LOG_PATH]  = {"audit", "log_path", CFG_STR, OFF(audit.log_path), 0, 0, NULL, CFG_PATH | CFG_OPTIONAL},
    [F_AUDIT_LOG_LEVEL] = {"audit", "log_level", CFG_ENUM, 0, 0, 0, level_names, 0},
    [F_AUDIT_KEY_USE]   = {"audit", "key_use", CFG_ENUM, 0, 0, 0, key_use_names, 0},
    [F_AUDIT_SYNC]      = {"audit", "sync", CFG_ENUM, 0, 0, 0, sync_names, 0},
    [F_AUDIT_BATCH_MS]  = {"audit", "batch_ms", CFG_U32, OFF(audit.batch_ms), 1, 10000, NULL, 0},
    [F_AUDIT_MAX_SIZE]  = {"audit", "max_size", CFG_U64, OFF(audit.max_size), 4096, 1ull << 40, NULL, 0},
    [F_AUDIT_FAIL_OPEN] = {"audit", "fail_open", CFG_BOOL, OFF(audit.fail_open), 0, 0, NULL, 0},
    [F_D_BIND]             = {"daemon", "bind", CFG_STR, OFF(daemon.bind), 0, 0, NULL, 0},
    [F_D_TLS_CERT]         = {"daemon", "tls_cert", CFG_STR, OFF(daemon.tls_cert), 0, 0, NULL, CFG_PATH | CFG_OPTIONAL},
    [F_D_TLS_KEY]          = {"daemon", "tls_key", CFG_STR, OFF(daemon.tls_key), 0, 0, NULL, CFG_PATH | CFG_OPTIONAL},
    [F_D_TLS_CLIENT_CA]    = {"daemon", "tls_client_ca", CFG_STR, OFF(daemon.tls_client_ca), 0, 0, NULL, CFG_PATH | CFG_OPTIONAL},
    [F_D_ALLOW_UNAUTH_TLS] = {"daemon", "allow_unauthenticated_tls", CFG_BOOL, OFF(daemon.allow_unauthenticated_tls), 0, 0, NULL, 0},
    [F_D_MAX_RECV]         = {"daemon", "max_recv_message_bytes", CFG_U32, OFF(daemon.max_recv_message_bytes), 4096, 256 * MIB, NULL, 0},
    [F_D_MAX_SEND]         = {"daemon", "max_send_message_bytes", CFG_U32, OFF(daemon.max_send_message_bytes), 4096, 256 * MIB, NULL, 0},
    [F_D_MAX_STREAMS]      = {"daemon", "max_concurrent_streams", CFG_U32, OFF(daemon.max_concurrent_streams), 1, 4096, NULL, 0},
    [F_D_MAX_RANDOM]       = {"daemon", "max_random_bytes", CFG_U32, OFF(daemon.max_random_bytes), 1, MIB, NULL, 0},
    [F_D_IDLE_TIMEOUT]     = {"daemon", "session_idle_timeout_s", CFG_U32, OFF(daemon.session_idle_timeout_s), 1, 86400, NULL, 0},
    [F_D_SHUTDOWN_GRACE]   = {"daemon", "shutdown_grace_s", CFG_U32, OFF(daemon.shutdown_grace_s), 0, 3600, NULL, 0},
    [F_D_WORKERS]          = {"daemon", "worker_threads", CFG_U32, OFF(daemon.worker_threads), 1, 256, NULL, 0},
};
/* clang-format on */

static const char *const known_tables[] = {"token", "security", "algorithms", "audit", "daemon"};

CHSM_MUST_CHECK static CK_RV dup_str(char **slot, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        return CKR_HOST_MEMORY;
    free(*slot);
    *slot = d;
    return CKR_OK;
}

CK_RV chsm_config_defaults(struct chsm_config *cfg)
{
    CK_RV rv = CKR_OK;
    memset(cfg, 0, sizeof(*cfg));
    CHSM_GUARD(dup_str(&cfg->token.label, "Craton HSM"));
    CHSM_GUARD(dup_str(&cfg->token.serial_number, "0000000000000001"));
    CHSM_GUARD(dup_str(&cfg->token.storage_path, "craton_hsm_store"));
    CHSM_GUARD(dup_str(&cfg->daemon.bind, "127.0.0.1:5696"));
    cfg->token.slot_count = 1;
    cfg->token.max_sessions = 1024;
    cfg->token.max_rw_sessions = 1024;
    cfg->security.pin_min_length = CHSM_PIN_LEN_MIN;
    cfg->security.pin_max_length = CHSM_PIN_LEN_MAX;
    cfg->security.max_failed_logins = 10;
    cfg->security.pbkdf2_iterations = CHSM_PBKDF2_ITER_DEFAULT;
    cfg->audit.enabled = true;
    cfg->audit.log_level = CHSM_AUDIT_ALL;
    cfg->audit.key_use = CHSM_AUDIT_KEYUSE_SUMMARY;
    cfg->audit.sync = CHSM_AUDIT_SYNC_ALWAYS;
    cfg->audit.batch_ms = 100;
    cfg->audit.max_size = 64u * MIB;
    cfg->daemon.max_recv_message_bytes = 4 * MIB;
    cfg->daemon.max_send_message_bytes = 16 * MIB;
    cfg->daemon.max_concurrent_streams = 64;
    cfg->daemon.max_random_bytes = 65536;
    cfg->daemon.session_idle_timeout_s = 300;
    cfg->daemon.shutdown_grace_s = 10;
    cfg->daemon.worker_threads = 2;
out:
    if (rv != CKR_OK)
        chsm_config_free(cfg);
    return rv;
}

static void set_enum(struct chsm_config *cfg, enum chsm_cfg_field_id id, unsigned v)
{
    switch (id) {
    case F_AUDIT_LOG_LEVEL: cfg->audit.log_level = (enum chsm_audit_level)v; break;
    case F_AUDIT_KEY_USE: cfg->audit.key_use = (enum chsm_audit_key_use)v; break;
    case F_AUDIT_SYNC: cfg->audit.sync = (enum chsm_audit_sync)v; break;
    default: break;
    }
}

static bool find_field(const char *table, const char *key, enum chsm_cfg_field_id *id)
{
    for (unsigned i = 0; i < CHSM_CFG_NFIELDS; i++) {
        if (strcmp(chsm_cfg_fields[i].table, table) == 0 && strcmp(chsm_cfg_fields[i].key, key) == 0) {
            *id = (enum chsm_cfg_field_id)i;
            return true;
        }
    }
    return false;
}

static bool known_table(const char *name)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(known_tables); i++) {
        if (strcmp(known_tables[i], name) == 0)
            return true;
    }
    return false;
}

static enum chsm_toml_type wanted_type(enum chsm_cfg_kind k)
{
    switch (k) {
    case CFG_STR:
    case CFG_ENUM: return CHSM_TOML_STRING;
    case CFG_U32:
    case CFG_U64: return CHSM_TOML_INT;
    case CFG_BOOL: return CHSM_TOML_BOOL;
    }
    return CHSM_TOML_STRING;
}

CHSM_MUST_CHECK static CK_RV apply_enum(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, const struct chsm_toml_kv *kv,
                                        struct chsm_config *cfg)
{
    const struct chsm_cfg_field *f = &chsm_cfg_fields[id];
    char allowed[128] = "";
    char q[96];
    for (unsigned i = 0; f->names[i] != NULL; i++) {
        if (strlen(kv->value.str.ptr) == kv->value.str.len && strcmp(f->names[i], kv->value.str.ptr) == 0) {
            set_enum(cfg, id, i);
            return CKR_OK;
        }
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof(allowed) - used, "%s\"%s\"", i ? ", " : "", f->names[i]);
    }
    return chsm_cfg_problem(x, kv->line, "%s.%s: must be one of %s, got %s", f->table, f->key, allowed,
                            chsm_cfg_quote(q, sizeof(q), kv->value.str.ptr, kv->value.str.len));
}

CHSM_MUST_CHECK static CK_RV apply_kv(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, const struct chsm_toml_kv *kv,
                                      struct chsm_config *cfg)
{
    CK_RV rv = CKR_OK;
    const struct chsm_cfg_field *f = &chsm_cfg_fields[id];
    const struct chsm_toml_value *v = &kv->value;
    char *base = (char *)cfg + f->offset;
    char got[128];
    char q[96];
    bool ok = false;
    enum chsm_toml_type want = wanted_type(f->kind);
    if (v->type != want) {
        CHSM_GUARD(chsm_cfg_problem(x, kv->line, "%s.%s: must be a%s %s, got %s", f->table, f->key,
                                    want == CHSM_TOML_INT ? "n" : "", chsm_toml_type_name(want),
                                    chsm_cfg_describe(got, sizeof(got), v)));
        goto out;
    }
    x->line[id] = kv->line;
    switch (f->kind) {
    case CFG_STR:
        /* A C string cannot carry \u0000; truncating silently would change a path's meaning. */
        if (strlen(v->str.ptr) != v->str.len) {
            CHSM_GUARD(chsm_cfg_problem(x, kv->line, "%s.%s: must not contain a NUL character, got %s", f->table,
                                        f->key, chsm_cfg_quote(q, sizeof(q), v->str.ptr, v->str.len)));
            break;
        }
        CHSM_GUARD(dup_str((char **)(void *)base, v->str.ptr));
        break;
    case CFG_ENUM:
        CHSM_GUARD(apply_enum(x, id, kv, cfg));
        break;
    case CFG_BOOL:
        *(bool *)(void *)base = v->b;
        break;
    case CFG_U32:
        CHSM_GUARD(chsm_cfg_check_range(x, id, kv->line, v->i, &ok));
        if (ok)
            *(uint32_t *)(void *)base = (uint32_t)v->i;
        break;
    case CFG_U64:
        CHSM_GUARD(chsm_cfg_check_range(x, id, kv->line, v->i, &ok));
        if (ok)
            *(uint64_t *)(void *)base = (uint64_t)v->i;
        break;
    }
out:
    return rv;
}

CHSM_MUST_CHECK static CK_RV apply_table(struct chsm_cfg_ctx *x, const struct chsm_toml_table *t,
                                         struct chsm_config *cfg)
{
    CK_RV rv = CKR_OK;
    char got[128];
    for (size_t i = 0; i < t->n_kvs; i++) {
        const struct chsm_toml_kv *kv = &t->kvs[i];
        enum chsm_cfg_field_id id;
        if (t->name[0] == '\0') {
            CHSM_GUARD(chsm_cfg_problem(x, kv->line,
                                        "%s: key outside any table (keys belong under [token], [security], "
                                        "[algorithms], [audit] or [daemon]), got %s",
                                        kv->key, chsm_cfg_describe(got, sizeof(got), &kv->value)));
        } else if (!find_field(t->name, kv->key, &id)) {
            CHSM_GUARD(chsm_cfg_problem(x, kv->line, "%s.%s: unknown key in [%s], got %s", t->name, kv->key,
                                        t->name, chsm_cfg_describe(got, sizeof(got), &kv->value)));
        } else {
            CHSM_GUARD(apply_kv(x, id, kv, cfg));
        }
    }
out:
    return rv;
}

CK_RV chsm_cfg_apply(struct chsm_cfg_ctx *x, const struct chsm_toml_doc *doc, struct chsm_config *cfg)
{
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < doc->n_tables; i++) {
        const struct chsm_toml_table *t = &doc->tables[i];
        if (t->name[0] != '\0' && !known_table(t->name)) {
            CHSM_GUARD(chsm_cfg_problem(x, t->line,
                                        "[%s]: unknown table (expected token, security, algorithms, audit or "
                                        "daemon)",
                                        t->name));
            continue;
        }
        CHSM_GUARD(apply_table(x, t, cfg));
    }
    /* max_rw_sessions defaults to max_sessions when only the latter is lowered. */
    if (x->line[F_TOKEN_MAX_RW_SESSIONS] == 0 && cfg->token.max_rw_sessions > cfg->token.max_sessions)
        cfg->token.max_rw_sessions = cfg->token.max_sessions;
out:
    return rv;
}
