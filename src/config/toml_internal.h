/*
 * Shared between toml.c (document structure: lines, headers, keys) and
 * toml_scan.c (values: strings, integers, booleans, arrays). Not for use
 * outside src/config/.
 *
 * The cursor never reads past len: every peek goes through tc_peek, which
 * returns -1 at the end. Errors are reported through the caller's report
 * function immediately; the scanners then return CKR_ARGUMENTS_BAD and the
 * line loop resynchronises at the next newline.
 */
#ifndef CHSM_CONFIG_TOML_INTERNAL_H
#define CHSM_CONFIG_TOML_INTERNAL_H

#include "config/toml.h"

struct toml_cur {
    const unsigned char *p;
    size_t len;
    size_t off;
    unsigned line;
    chsm_toml_report_fn report;
    void *ctx;
    bool failed;  /* at least one problem reported */
    bool in_array; /* inside a (possibly multi-line) array: recovery skips its remaining lines */
    CK_RV stop;   /* non-OK when report asked to stop */
};

/* Next byte, or -1 at end of input. */
static inline int tc_peek(const struct toml_cur *c)
{
    return c->off < c->len ? c->p[c->off] : -1;
}

static inline int tc_peek_at(const struct toml_cur *c, size_t ahead)
{
    return ahead < c->len - c->off ? c->p[c->off + ahead] : -1;
}

/* Report a problem at the cursor's line; always returns CKR_ARGUMENTS_BAD. */
CK_RV tc_error(struct toml_cur *c, const char *fmt, ...) CHSM_PRINTF(2, 3);

/* Describe the byte at the cursor for messages ("'x'", "end of line", "U+0001"). */
const char *tc_describe(const struct toml_cur *c, char *buf, size_t size);

void tc_skip_ws(struct toml_cur *c);
/* Skip spaces, tabs, newlines and comments (inside arrays). */
CHSM_MUST_CHECK CK_RV tc_skip_ws_nl_comments(struct toml_cur *c);
/* At '#': consume the comment up to (not including) the newline, refusing control characters. */
CHSM_MUST_CHECK CK_RV tc_skip_comment(struct toml_cur *c);
/* At a newline (LF or CRLF): consume it and count the line. False if not at one. */
bool tc_eat_newline(struct toml_cur *c);

/* Scan one value at the cursor into out (out zeroed first). */
CHSM_MUST_CHECK CK_RV tc_scan_value(struct toml_cur *c, struct chsm_toml_value *out);

void tc_value_free(struct chsm_toml_value *v);

#endif
