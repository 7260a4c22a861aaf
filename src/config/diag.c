/*
 * Problem collection for config loading: every problem becomes one
 * self-contained line "FILE:LINE: table.key: rule, got VALUE" so that an
 * operator sees all of them at once and each can be grepped on its own.
 * Values are quoted with control bytes escaped so a message stays one line.
 */
#include "config/config_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CHSM_MUST_CHECK static CK_RV diag_push(struct chsm_config_diag *d, char *msg)
{
    struct chsm_config_problem *n = realloc(d->items, (d->count + 1) * sizeof(*n));
    if (n == NULL) {
        free(msg);
        return CKR_HOST_MEMORY;
    }
    d->items = n;
    d->items[d->count++].message = msg;
    return CKR_OK;
}

/* "NAME:LINE: body" or "NAME: body", allocated. */
static char *format_line(const char *name, unsigned line, const char *body)
{
    char lbuf[24] = "";
    if (line > 0)
        snprintf(lbuf, sizeof(lbuf), ":%u", line);
    size_t n = strlen(name) + strlen(lbuf) + 2 + strlen(body) + 1;
    char *msg = malloc(n);
    if (msg != NULL)
        snprintf(msg, n, "%s%s: %s", name, lbuf, body);
    return msg;
}

CK_RV chsm_cfg_problem(struct chsm_cfg_ctx *x, unsigned line, const char *fmt, ...)
{
    CK_RV rv = CKR_OK;
    char *body = NULL;
    char *msg = NULL;
    if (x->problems > CHSM_CFG_MAX_PROBLEMS)
        goto out;
    if (x->problems == CHSM_CFG_MAX_PROBLEMS) {
        msg = format_line(x->name, 0, "too many problems; stopped reporting");
    } else {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        CHSM_ENSURE(n >= 0, CKR_GENERAL_ERROR);
        body = malloc((size_t)n + 1);
        CHSM_ENSURE(body != NULL, CKR_HOST_MEMORY);
        va_start(ap, fmt);
        vsnprintf(body, (size_t)n + 1, fmt, ap);
        va_end(ap);
        msg = format_line(x->name, line, body);
    }
    CHSM_ENSURE(msg != NULL, CKR_HOST_MEMORY);
    CHSM_GUARD(diag_push(x->diag, msg));
    /* Counted only once stored: callers index the diag by this count. */
    x->problems++;
out:
    free(body);
    return rv;
}

const char *chsm_cfg_quote(char *buf, size_t size, const char *s, size_t len)
{
    /* Room for the closing quote, "..." and one escape or UTF-8 sequence. */
    const size_t reserve = 12;
    size_t o = 0;
    if (size < reserve + 2) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        bool continuation = (b & 0xC0u) == 0x80u;
        if ((o + reserve >= size && !continuation) || o + 6 >= size) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (b == '"' || b == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)b;
        } else if (b < 0x20 || b == 0x7f) {
            o += (size_t)snprintf(buf + o, size - o, "\\u%04X", (unsigned)b);
        } else {
            buf[o++] = (char)b;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *chsm_cfg_describe(char *buf, size_t size, const struct chsm_toml_value *v)
{
    char q[96];
    switch (v->type) {
    case CHSM_TOML_STRING:
        snprintf(buf, size, "string %s", chsm_cfg_quote(q, sizeof(q), v->str.ptr, v->str.len));
        break;
    case CHSM_TOML_INT:
        snprintf(buf, size, "integer %" PRId64, v->i);
        break;
    case CHSM_TOML_BOOL:
        snprintf(buf, size, "boolean %s", v->b ? "true" : "false");
        break;
    case CHSM_TOML_ARRAY:
        snprintf(buf, size, "array of %zu string%s", v->n_items, v->n_items == 1 ? "" : "s");
        break;
    }
    return buf;
}

void chsm_config_diag_free(struct chsm_config_diag *diag)
{
    if (diag == NULL)
        return;
    for (size_t i = 0; i < diag->count; i++)
        free(diag->items[i].message);
    free(diag->items);
    diag->items = NULL;
    diag->count = 0;
}

void chsm_config_print_problems(const struct chsm_config_diag *diag, FILE *f)
{
    if (diag == NULL || f == NULL)
        return;
    for (size_t i = 0; i < diag->count; i++)
        fprintf(f, "%s\n", diag->items[i].message);
}
