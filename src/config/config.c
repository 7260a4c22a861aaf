/*
 * Locating, reading and loading craton_hsm.toml: the coordinator over the
 * TOML parser (toml.c), the schema (schema.c) and the rules (validate.c).
 *
 * Search order (brief): explicit path, else $CRATON_HSM_CONFIG, else
 * ./craton_hsm.toml if it exists, else built-in defaults. A path that was
 * asked for explicitly (argument or environment) and cannot be read is an
 * error, never a silent fall back to defaults: a daemon that quietly ran
 * with 127.0.0.1 and no TLS because of a typo in a unit file would be worse
 * than one that refuses to start.
 */
#define _GNU_SOURCE /* secure_getenv */
#include "config/config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A configuration file is a few KiB; anything this large is not one. */
#define CHSM_CFG_FILE_MAX (1024u * 1024u)
#define CHSM_CFG_DEFAULTS_NAME "(built-in defaults)"
#define CHSM_AUDIT_DEFAULT_FILE "craton_hsm_audit.jsonl"

static CK_RV toml_report(void *ctx, unsigned line, const char *msg)
{
    struct chsm_cfg_ctx *x = ctx;
    CK_RV rv = chsm_cfg_problem(x, line, "%s", msg);
    if (rv != CKR_OK)
        return rv;
    /* Past the cap nothing more is recorded; stop parsing instead of scanning on. */
    return x->problems > CHSM_CFG_MAX_PROBLEMS ? CKR_ARGUMENTS_BAD : CKR_OK;
}

/* Parse text (may be empty: then the defaults alone are validated). */
CHSM_MUST_CHECK static CK_RV load_text(struct chsm_cfg_ctx *x, const char *text, size_t len, const char *source,
                                       struct chsm_config *cfg)
{
    CK_RV rv = CKR_OK;
    struct chsm_toml_doc doc = {0};
    CHSM_GUARD(chsm_config_defaults(cfg));
    rv = chsm_toml_parse(text, len, &doc, toml_report, x);
    CHSM_ENSURE(rv == CKR_OK || rv == CKR_ARGUMENTS_BAD, rv);
    /* After a syntax error, keys may sit in the wrong table: report syntax only, then stop. */
    if (rv == CKR_OK) {
        CHSM_GUARD(chsm_cfg_apply(x, &doc, cfg));
        CHSM_GUARD(chsm_cfg_validate(x, cfg));
    }
    rv = CKR_OK;
    CHSM_ENSURE(x->problems == 0, CKR_ARGUMENTS_BAD);
    if (source != NULL) {
        cfg->source_path = strdup(source);
        CHSM_ENSURE(cfg->source_path != NULL, CKR_HOST_MEMORY);
    }
out:
    chsm_toml_free(&doc);
    return rv;
}

/* Common tail of parse and load: error record, cleanup of cfg and the local diag. */
static CK_RV finish(CK_RV rv, struct chsm_cfg_ctx *x, struct chsm_config *cfg, struct chsm_config_diag *local)
{
    if (rv != CKR_OK) {
        chsm_config_free(cfg);
        if (rv == CKR_ARGUMENTS_BAD && x->problems > 0)
            (void)CHSM_ERR(rv, "config", "%zu configuration problem%s; first: %s", x->problems,
                           x->problems == 1 ? "" : "s", x->diag->items[x->diag->count - x->problems].message);
        else
            (void)CHSM_ERR(rv, "config", "loading configuration from %s failed", x->name);
    }
    chsm_config_diag_free(local);
    return rv;
}

CK_RV chsm_config_parse(const char *name, const char *text, size_t len, struct chsm_config *cfg,
                        struct chsm_config_diag *diag)
{
    CK_RV rv = CKR_OK;
    struct chsm_config_diag local = {0};
    struct chsm_cfg_ctx x = {.name = name != NULL ? name : "(config)", .diag = diag != NULL ? diag : &local};
    if (cfg == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(cfg, 0, sizeof(*cfg));
    CHSM_ENSURE(text != NULL || len == 0, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(load_text(&x, text != NULL ? text : "", len, name, cfg));
out:
    return finish(rv, &x, cfg, &local);
}

/* Read a whole regular file of at most CHSM_CFG_FILE_MAX bytes; problems go to x as "FILE: cannot read: ...". */
CHSM_MUST_CHECK static CK_RV read_file(struct chsm_cfg_ctx *x, const char *path, char **out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    char *buf = NULL;
    size_t len = 0;
    struct stat st;
    *out = NULL;
    /* O_NONBLOCK: a FIFO named as the config must be refused below, not block the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        CHSM_BAIL(chsm_cfg_problem(x, 0, "cannot read: %s", strerror(errno)));
    if (fstat(fd, &st) != 0)
        CHSM_BAIL(chsm_cfg_problem(x, 0, "cannot read: %s", strerror(errno)));
    if (!S_ISREG(st.st_mode))
        CHSM_BAIL(chsm_cfg_problem(x, 0, "cannot read: not a regular file"));
    if ((uint64_t)st.st_size > CHSM_CFG_FILE_MAX)
        CHSM_BAIL(chsm_cfg_problem(x, 0, "cannot read: larger than %u bytes", CHSM_CFG_FILE_MAX));
    buf = malloc(CHSM_CFG_FILE_MAX + 1);
    CHSM_ENSURE(buf != NULL, CKR_HOST_MEMORY);
    for (;;) {
        ssize_t r = read(fd, buf + len, CHSM_CFG_FILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            CHSM_BAIL(chsm_cfg_problem(x, 0, "cannot read: %s", strerror(errno)));
        if (r == 0)
            break;
        len += (size_t)r;
        /* The file grew after fstat. */
        if (len > CHSM_CFG_FILE_MAX)
            CHSM_BAIL(chsm_cfg_problem(x, 0, "cannot read: larger than %u bytes", CHSM_CFG_FILE_MAX));
    }
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    /* chsm_cfg_problem returned CKR_OK for a reported problem: turn that into a failure. */
    if (rv == CKR_OK && *out == NULL)
        rv = CKR_ARGUMENTS_BAD;
    return rv;
}

CK_RV chsm_config_load(const char *explicit_path, struct chsm_config *cfg, struct chsm_config_diag *diag)
{
    CK_RV rv = CKR_OK;
    struct chsm_config_diag local = {0};
    const char *path = chsm_config_locate(explicit_path);
    struct chsm_cfg_ctx x = {.name = path != NULL ? path : CHSM_CFG_DEFAULTS_NAME,
                             .diag = diag != NULL ? diag : &local};
    char *text = NULL;
    size_t len = 0;
    if (cfg == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(cfg, 0, sizeof(*cfg));
    if (path != NULL)
        CHSM_GUARD(read_file(&x, path, &text, &len));
    /* Defaults are validated too: the default store path may be a symlink on this host. */
    CHSM_GUARD(load_text(&x, text != NULL ? text : "", len, path, cfg));
out:
    free(text);
    return finish(rv, &x, cfg, &local);
}

const char *chsm_config_locate(const char *explicit_path)
{
    struct stat st;
    if (explicit_path != NULL && explicit_path[0] != '\0')
        return explicit_path;
    /* secure_getenv: a setuid host loading the module must not let the caller choose its config. */
    const char *env = secure_getenv(CHSM_CONFIG_ENV);
    if (env != NULL && env[0] != '\0')
        return env;
    /* Anything other than "does not exist" (e.g. EACCES) is left for the loader to report. */
    if (stat(CHSM_CONFIG_DEFAULT_FILE, &st) == 0 || errno != ENOENT)
        return CHSM_CONFIG_DEFAULT_FILE;
    return NULL;
}

bool chsm_config_is_volatile(const struct chsm_config *cfg)
{
    const char *p = cfg->token.storage_path;
    return p == NULL || p[0] == '\0' || strcmp(p, ":memory:") == 0;
}

char *chsm_config_audit_log_path(const struct chsm_config *cfg)
{
    if (cfg->audit.log_path != NULL)
        return strdup(cfg->audit.log_path);
    /* A volatile store has no directory to sit beside: no default audit file (see docs/configuration.md). */
    if (chsm_config_is_volatile(cfg))
        return NULL;
    const char *sp = cfg->token.storage_path;
    size_t n = strlen(sp);
    while (n > 1 && sp[n - 1] == '/')
        n--;
    size_t dir_len = n;
    while (dir_len > 0 && sp[dir_len - 1] != '/')
        dir_len--;
    size_t total = dir_len + sizeof(CHSM_AUDIT_DEFAULT_FILE);
    char *out = malloc(total);
    if (out == NULL)
        return NULL;
    memcpy(out, sp, dir_len);
    memcpy(out + dir_len, CHSM_AUDIT_DEFAULT_FILE, sizeof(CHSM_AUDIT_DEFAULT_FILE));
    return out;
}

void chsm_config_free(struct chsm_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->source_path);
    free(cfg->token.label);
    free(cfg->token.serial_number);
    free(cfg->token.storage_path);
    free(cfg->audit.log_path);
    free(cfg->daemon.bind);
    free(cfg->daemon.tls_cert);
    free(cfg->daemon.tls_key);
    free(cfg->daemon.tls_client_ca);
    memset(cfg, 0, sizeof(*cfg));
}
