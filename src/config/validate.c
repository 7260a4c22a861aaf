/*
 * Validation rules beyond "right type": numeric bounds, token identity
 * strings, cross-field rules, paths and the daemon bind address. Every rule
 * reports one line naming the field, the rule and the value, and every rule
 * runs, so a file with five mistakes yields five lines.
 *
 * Path rules (0.9.1): no "..", no symlinked component. Paths are resolved
 * as written (relative ones against the working directory); each existing
 * prefix is checked with lstat, and checking stops at the first prefix that
 * does not exist yet (the store or log may be created later).
 */
#include "config/config_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define FIELD(id) chsm_cfg_fields[id].table, chsm_cfg_fields[id].key

CK_RV chsm_cfg_check_range(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, unsigned line, int64_t v, bool *ok)
{
    const struct chsm_cfg_field *f = &chsm_cfg_fields[id];
    *ok = v >= 0 && (uint64_t)v >= f->min && (uint64_t)v <= f->max;
    if (*ok)
        return CKR_OK;
    if (id == F_SEC_PBKDF2 && (v < 0 || (uint64_t)v < f->min))
        return chsm_cfg_problem(x, line, "%s.%s: must be at least %" PRIu64 " (the floor since 0.9.1), got %" PRId64,
                                FIELD(id), f->min, v);
    return chsm_cfg_problem(x, line, "%s.%s: must be between %" PRIu64 " and %" PRIu64 ", got %" PRId64, FIELD(id),
                            f->min, f->max, v);
}

CHSM_MUST_CHECK static CK_RV check_label(struct chsm_cfg_ctx *x, const char *s)
{
    char q[96];
    size_t n = strlen(s);
    if (n < 1 || n > CHSM_LABEL_MAX)
        return chsm_cfg_problem(x, x->line[F_TOKEN_LABEL], "%s.%s: must be 1 to %u bytes, got %s (%zu bytes)",
                                FIELD(F_TOKEN_LABEL), CHSM_LABEL_MAX, chsm_cfg_quote(q, sizeof(q), s, n), n);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x20 || b == 0x7f)
            return chsm_cfg_problem(x, x->line[F_TOKEN_LABEL], "%s.%s: must not contain control characters, got %s",
                                    FIELD(F_TOKEN_LABEL), chsm_cfg_quote(q, sizeof(q), s, n));
    }
    return CKR_OK;
}

CHSM_MUST_CHECK static CK_RV check_serial(struct chsm_cfg_ctx *x, const char *s)
{
    char q[96];
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= CHSM_SERIAL_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = s[i] >= 0x20 && s[i] <= 0x7e;
    if (ok)
        return CKR_OK;
    return chsm_cfg_problem(x, x->line[F_TOKEN_SERIAL], "%s.%s: must be 1 to %u printable ASCII characters, got %s",
                            FIELD(F_TOKEN_SERIAL), CHSM_SERIAL_MAX, chsm_cfg_quote(q, sizeof(q), s, n));
}

/* "a must not exceed b": reported on a's line, or b's when a kept its default. */
CHSM_MUST_CHECK static CK_RV check_le(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id a, uint32_t av,
                                      enum chsm_cfg_field_id b, uint32_t bv)
{
    if (av <= bv)
        return CKR_OK;
    unsigned line = x->line[a] ? x->line[a] : x->line[b];
    return chsm_cfg_problem(x, line, "%s.%s: must not exceed %s.%s (%" PRIu32 "), got %" PRIu32, FIELD(a), FIELD(b),
                            bv, av);
}

CHSM_MUST_CHECK static CK_RV check_no_dotdot(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, const char *path,
                                             bool *ok)
{
    char q[96];
    const char *p = path;
    *ok = true;
    while (*p != '\0') {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p != '\0' && *p != '/')
            p++;
        if (p - s == 2 && s[0] == '.' && s[1] == '.') {
            *ok = false;
            return chsm_cfg_problem(x, x->line[id], "%s.%s: must not contain '..' components, got %s", FIELD(id),
                                    chsm_cfg_quote(q, sizeof(q), path, strlen(path)));
        }
    }
    return CKR_OK;
}

/* lstat each existing prefix; a symlink anywhere, or a non-directory before the end, is refused. */
CHSM_MUST_CHECK static CK_RV check_no_symlink(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, const char *path)
{
    char q[96];
    char pq[96];
    char prefix[CHSM_CFG_PATH_MAX + 1];
    size_t len = strlen(path);
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] == '/')
            j++;
        if (j == len)
            break;
        size_t k = j;
        while (k < len && path[k] != '/')
            k++;
        memcpy(prefix, path, k);
        prefix[k] = '\0';
        i = k;
        struct stat st;
        if (lstat(prefix, &st) != 0) {
            if (errno == ENOENT)
                return CKR_OK; /* not created yet: nothing below it can be a symlink today */
            return chsm_cfg_problem(x, x->line[id], "%s.%s: cannot check component %s (%s), got %s", FIELD(id),
                                    chsm_cfg_quote(pq, sizeof(pq), prefix, k), strerror(errno),
                                    chsm_cfg_quote(q, sizeof(q), path, len));
        }
        if (S_ISLNK(st.st_mode))
            return chsm_cfg_problem(x, x->line[id],
                                    "%s.%s: must not have symlinked components (%s is a symbolic link), got %s",
                                    FIELD(id), chsm_cfg_quote(pq, sizeof(pq), prefix, k),
                                    chsm_cfg_quote(q, sizeof(q), path, len));
        if (k < len && !S_ISDIR(st.st_mode))
            return chsm_cfg_problem(x, x->line[id], "%s.%s: component %s is not a directory, got %s", FIELD(id),
                                    chsm_cfg_quote(pq, sizeof(pq), prefix, k), chsm_cfg_quote(q, sizeof(q), path, len));
    }
    return CKR_OK;
}

CK_RV chsm_cfg_check_path(struct chsm_cfg_ctx *x, enum chsm_cfg_field_id id, const char *path)
{
    CK_RV rv = CKR_OK;
    bool ok = false;
    size_t len = strlen(path);
    if (len == 0)
        CHSM_BAIL(chsm_cfg_problem(x, x->line[id], "%s.%s: must not be empty (omit the key to leave it unset), got \"\"",
                                   FIELD(id)));
    if (len > CHSM_CFG_PATH_MAX)
        CHSM_BAIL(chsm_cfg_problem(x, x->line[id], "%s.%s: must be at most %u bytes, got a path of %zu bytes",
                                   FIELD(id), CHSM_CFG_PATH_MAX, len));
    CHSM_GUARD(check_no_dotdot(x, id, path, &ok));
    if (ok)
        CHSM_GUARD(check_no_symlink(x, id, path));
out:
    return rv;
}

static bool parse_port(const char *s)
{
    size_t n = strlen(s);
    unsigned long v = 0;
    if (n < 1 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10u + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

static bool host_chars_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                  ch == '-';
        if (!ok)
            return false;
    }
    return n > 0;
}

/* "host:port" (host name or IPv4) or "[IPv6]:port", port 1..65535. */
static bool bind_ok(const char *s)
{
    char host[64];
    const char *port;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
            return false;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, host, &a6) != 1)
            return false;
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL || !host_chars_ok(s, (size_t)(colon - s)))
            return false;
        port = colon + 1;
    }
    return parse_port(port);
}

CHSM_MUST_CHECK static CK_RV check_tls_pair(struct chsm_cfg_ctx *x, const struct chsm_config *cfg)
{
    CK_RV rv = CKR_OK;
    if (cfg->daemon.tls_cert != NULL && cfg->daemon.tls_key == NULL)
        CHSM_GUARD(chsm_cfg_problem(x, x->line[F_D_TLS_CERT], "%s.%s: requires daemon.tls_key to be set too, got %s",
                                    FIELD(F_D_TLS_CERT), "a certificate without a key"));
    if (cfg->daemon.tls_key != NULL && cfg->daemon.tls_cert == NULL)
        CHSM_GUARD(chsm_cfg_problem(x, x->line[F_D_TLS_KEY], "%s.%s: requires daemon.tls_cert to be set too, got %s",
                                    FIELD(F_D_TLS_KEY), "a key without a certificate"));
    if (cfg->daemon.tls_client_ca != NULL && cfg->daemon.tls_cert == NULL)
        CHSM_GUARD(chsm_cfg_problem(x, x->line[F_D_TLS_CLIENT_CA],
                                    "%s.%s: requires daemon.tls_cert and daemon.tls_key, got %s",
                                    FIELD(F_D_TLS_CLIENT_CA), "a client CA without a server certificate"));
out:
    return rv;
}

CK_RV chsm_cfg_validate(struct chsm_cfg_ctx *x, const struct chsm_config *cfg)
{
    CK_RV rv = CKR_OK;
    char q[96];
    static const enum chsm_cfg_field_id optional_paths[] = {F_AUDIT_LOG_PATH, F_D_TLS_CERT, F_D_TLS_KEY,
                                                            F_D_TLS_CLIENT_CA};
    const char *const optional_values[] = {cfg->audit.log_path, cfg->daemon.tls_cert, cfg->daemon.tls_key,
                                           cfg->daemon.tls_client_ca};
    CHSM_GUARD(check_label(x, cfg->token.label));
    CHSM_GUARD(check_serial(x, cfg->token.serial_number));
    CHSM_GUARD(check_le(x, F_TOKEN_MAX_RW_SESSIONS, cfg->token.max_rw_sessions, F_TOKEN_MAX_SESSIONS,
                        cfg->token.max_sessions));
    CHSM_GUARD(check_le(x, F_SEC_PIN_MIN, cfg->security.pin_min_length, F_SEC_PIN_MAX,
                        cfg->security.pin_max_length));
    if (!chsm_config_is_volatile(cfg))
        CHSM_GUARD(chsm_cfg_check_path(x, F_TOKEN_STORAGE_PATH, cfg->token.storage_path));
    for (size_t i = 0; i < CHSM_ARRAY_LEN(optional_paths); i++) {
        if (optional_values[i] != NULL)
            CHSM_GUARD(chsm_cfg_check_path(x, optional_paths[i], optional_values[i]));
    }
    CHSM_GUARD(check_tls_pair(x, cfg));
    if (!bind_ok(cfg->daemon.bind))
        CHSM_GUARD(chsm_cfg_problem(x, x->line[F_D_BIND],
                                    "%s.%s: must be \"host:port\" or \"[ipv6]:port\" with port 1..65535, got %s",
                                    FIELD(F_D_BIND), chsm_cfg_quote(q, sizeof(q), cfg->daemon.bind,
                                                                    strlen(cfg->daemon.bind))));
out:
    return rv;
}
