/*
 * CLI plumbing shared by every command: the one-line error format, the
 * CK_RV -> exit code map, global options anywhere on the line, per-command
 * option parsing, and the lazily loaded configuration.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

void adm_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("craton-hsm-admin: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int adm_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("craton-hsm-admin: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int adm_exit_for(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
        return ADM_OK;
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
    case CKR_USER_PIN_NOT_INITIALIZED:
        return ADM_AUTH;
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
    case CKR_DATA_INVALID:
        return ADM_INTEGRITY;
    case CKR_SAVED_STATE_INVALID:
        return ADM_REFUSED;
    case CKR_ARGUMENTS_BAD:
        return ADM_USAGE;
    default:
        return ADM_FAILED;
    }
}

int adm_fail_rv(CK_RV rv, const char *what, const char *hint)
{
    const struct chsm_err *e = chsm_err_last();
    if (e->rv == rv && e->msg[0] != '\0')
        return adm_fail(adm_exit_for(rv), "%s: %s (%s); %s", what, e->msg, chsm_rv_name(rv), hint);
    return adm_fail(adm_exit_for(rv), "%s: %s; %s", what, chsm_rv_name(rv), hint);
}

/*
 * Strip global options wherever they appear; the rest is the command line.
 * --slot N is parsed with each command's options, so when it comes before
 * the command it is moved after it.
 */
int adm_take_globals(struct adm *a, int argc, char **argv)
{
    char *slot[2] = {NULL, NULL};
    int n = 0;
    for (int i = 1; i < argc; i++) {
        char *s = argv[i];
        if (n == 0 && strncmp(s, "--slot=", 7) == 0)
            slot[0] = s;
        else if (n == 0 && strcmp(s, "--slot") == 0) {
            if (i + 1 >= argc)
                return adm_fail(ADM_USAGE, "--slot needs a number; see craton-hsm-admin --help");
            slot[0] = s;
            slot[1] = argv[++i];
        } else if (strcmp(s, "--json") == 0)
            a->json = true;
        else if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0)
            a->quiet = true;
        else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
            a->help = true;
        else if (strcmp(s, "--timings") == 0)
            a->timings = true;
        else if (strncmp(s, "--config=", 9) == 0)
            a->config_path = s + 9;
        else if (strcmp(s, "--config") == 0) {
            if (i + 1 >= argc)
                return adm_fail(ADM_USAGE, "--config needs a PATH; see craton-hsm-admin --help");
            a->config_path = argv[++i];
        } else
            argv[n++] = argv[i];
    }
    for (int k = 0; k < 2 && slot[k] != NULL; k++)
        argv[n++] = slot[k];
    a->argc = n;
    a->argv = argv;
    return ADM_OK;
}

static const struct adm_optspec *find_spec(const struct adm_optspec *specs, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0)
            return &specs[i];
    return NULL;
}

static int add_val(struct adm *a, const struct adm_optspec *sp, const char *val)
{
    struct adm_optval *v = NULL;
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, sp->name) == 0)
            v = &a->opts[i];
    if (v == NULL) {
        if (a->nopts >= ADM_MAX_OPTS)
            return adm_fail(ADM_USAGE, "too many options; see craton-hsm-admin --help");
        v = &a->opts[a->nopts++];
        v->name = sp->name;
    } else if (!sp->multi) {
        return adm_fail(ADM_USAGE, "%s given twice; give it once", sp->name);
    }
    if (v->count >= CHSM_ARRAY_LEN(v->values))
        return adm_fail(ADM_USAGE, "%s given too often", sp->name);
    v->values[v->count++] = val;
    return ADM_OK;
}

int adm_parse(struct adm *a, int from, const struct adm_optspec *specs, size_t nspecs, size_t max_pos)
{
    static const struct adm_optspec slot = {"--slot", true, false};
    for (int i = from; i < a->argc; i++) {
        const char *s = a->argv[i];
        if (strncmp(s, "--", 2) == 0 && s[2] != '\0') {
            const char *eq = strchr(s, '=');
            size_t len = eq ? (size_t)(eq - s) : strlen(s);
            const struct adm_optspec *sp = find_spec(specs, nspecs, s, len);
            if (sp == NULL && len == 6 && strncmp(s, "--slot", 6) == 0)
                sp = &slot;
            if (sp == NULL)
                return adm_fail(ADM_USAGE, "unknown option %.*s for '%s'; see craton-hsm-admin --help", (int)len,
                                s, a->argv[0]);
            const char *val = NULL;
            if (sp->has_arg) {
                if (eq)
                    val = eq + 1;
                else if (i + 1 < a->argc)
                    val = a->argv[++i];
                else
                    return adm_fail(ADM_USAGE, "%s needs a value; see craton-hsm-admin --help", sp->name);
            } else if (eq) {
                return adm_fail(ADM_USAGE, "%s takes no value", sp->name);
            }
            int rc = add_val(a, sp, val);
            if (rc != ADM_OK)
                return rc;
        } else {
            if (a->npos >= max_pos)
                return adm_fail(ADM_USAGE, "unexpected argument '%s'; see craton-hsm-admin --help", s);
            a->pos[a->npos++] = s;
        }
    }
    return ADM_OK;
}

const struct adm_optval *adm_optv(const struct adm *a, const char *name)
{
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            return &a->opts[i];
    return NULL;
}

const char *adm_opt(const struct adm *a, const char *name)
{
    const struct adm_optval *v = adm_optv(a, name);
    return v ? v->values[0] : NULL;
}

bool adm_flag(const struct adm *a, const char *name)
{
    return adm_optv(a, name) != NULL;
}

uint32_t adm_slot(const struct adm *a)
{
    const char *s = adm_opt(a, "--slot");
    return s ? (uint32_t)strtoul(s, NULL, 10) : 0u;
}

int adm_config(struct adm *a, const struct chsm_config **out)
{
    struct chsm_config_diag diag = {0};
    if (!a->cfg_loaded) {
        CK_RV rv = chsm_config_load(a->config_path, &a->cfg, &diag);
        if (rv != CKR_OK) {
            for (size_t i = 0; i < diag.count; i++)
                fprintf(stderr, "%s\n", diag.items[i].message);
            const char *p = chsm_config_locate(a->config_path);
            size_t n = diag.count;
            chsm_config_diag_free(&diag);
            return adm_fail(ADM_FAILED, "configuration %s is invalid (%zu problem%s above); fix it and run "
                            "'craton-hsm-admin config check'", p ? p : "(defaults)", n, n == 1 ? "" : "s");
        }
        chsm_config_diag_free(&diag);
        a->cfg_loaded = true;
    }
    *out = &a->cfg;
    return ADM_OK;
}

