/*
 * TOML value scanners: basic and literal strings, decimal integers,
 * booleans and arrays of strings. See toml.h for the accepted subset; the
 * refusals name the unsupported TOML feature so an operator knows the file
 * is valid TOML we chose not to accept, rather than a typo.
 */
#include "config/toml_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Growable byte string for decoded string values. */
struct sbuf {
    char *d;
    size_t len;
    size_t cap;
};

CHSM_MUST_CHECK static CK_RV sb_put(struct sbuf *b, unsigned char ch)
{
    if (b->len == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 32;
        char *n = realloc(b->d, ncap);
        if (n == NULL)
            return CKR_HOST_MEMORY;
        b->d = n;
        b->cap = ncap;
    }
    b->d[b->len++] = (char)ch;
    return CKR_OK;
}

static bool is_ctrl(int ch)
{
    return (ch >= 0 && ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static int hex_val(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Where a scalar value may end: whitespace, newline, comment, array punctuation, end of input. */
static bool is_value_end(int ch)
{
    return ch < 0 || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '#' || ch == ',' ||
           ch == ']';
}

static bool at_line_end(const struct toml_cur *c)
{
    int ch = tc_peek(c);
    return ch < 0 || ch == '\n' || (ch == '\r' && tc_peek_at(c, 1) == '\n');
}

CK_RV tc_error(struct toml_cur *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->failed = true;
    if (c->stop == CKR_OK) {
        CK_RV r = c->report(c->ctx, c->line, msg);
        if (r != CKR_OK)
            c->stop = r;
    }
    return CKR_ARGUMENTS_BAD;
}

const char *tc_describe(const struct toml_cur *c, char *buf, size_t size)
{
    int ch = tc_peek(c);
    if (ch < 0)
        snprintf(buf, size, "end of input");
    else if (ch == '\n' || (ch == '\r' && tc_peek_at(c, 1) == '\n'))
        snprintf(buf, size, "end of line");
    else if (ch > 0x20 && ch < 0x7f)
        snprintf(buf, size, "'%c'", ch);
    else
        snprintf(buf, size, "byte 0x%02X", (unsigned)ch);
    return buf;
}

void tc_skip_ws(struct toml_cur *c)
{
    while (tc_peek(c) == ' ' || tc_peek(c) == '\t')
        c->off++;
}

bool tc_eat_newline(struct toml_cur *c)
{
    int ch = tc_peek(c);
    if (ch == '\n') {
        c->off++;
    } else if (ch == '\r' && tc_peek_at(c, 1) == '\n') {
        c->off += 2;
    } else {
        return false;
    }
    c->line++;
    return true;
}

CK_RV tc_skip_comment(struct toml_cur *c)
{
    c->off++; /* '#' */
    while (!at_line_end(c)) {
        int ch = tc_peek(c);
        if (is_ctrl(ch))
            return tc_error(c, "control character U+%04X in comment", (unsigned)ch);
        c->off++;
    }
    return CKR_OK;
}

CK_RV tc_skip_ws_nl_comments(struct toml_cur *c)
{
    CK_RV rv = CKR_OK;
    for (;;) {
        tc_skip_ws(c);
        if (tc_peek(c) == '#') {
            CHSM_GUARD(tc_skip_comment(c));
        } else if (!tc_eat_newline(c)) {
            break;
        }
    }
out:
    return rv;
}

/* Append code point cp (already checked to be a Unicode scalar value) as UTF-8. */
CHSM_MUST_CHECK static CK_RV put_utf8(struct sbuf *b, uint32_t cp)
{
    CK_RV rv = CKR_OK;
    if (cp < 0x80) {
        CHSM_GUARD(sb_put(b, (unsigned char)cp));
    } else if (cp < 0x800) {
        CHSM_GUARD(sb_put(b, (unsigned char)(0xC0 | (cp >> 6))));
        CHSM_GUARD(sb_put(b, (unsigned char)(0x80 | (cp & 0x3F))));
    } else if (cp < 0x10000) {
        CHSM_GUARD(sb_put(b, (unsigned char)(0xE0 | (cp >> 12))));
        CHSM_GUARD(sb_put(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))));
        CHSM_GUARD(sb_put(b, (unsigned char)(0x80 | (cp & 0x3F))));
    } else {
        CHSM_GUARD(sb_put(b, (unsigned char)(0xF0 | (cp >> 18))));
        CHSM_GUARD(sb_put(b, (unsigned char)(0x80 | ((cp >> 12) & 0x3F))));
        CHSM_GUARD(sb_put(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))));
        CHSM_GUARD(sb_put(b, (unsigned char)(0x80 | (cp & 0x3F))));
    }
out:
    return rv;
}

/* At 'u' or 'U' after a backslash: ndigits hex digits naming a Unicode scalar value. */
CHSM_MUST_CHECK static CK_RV scan_unicode_escape(struct toml_cur *c, struct sbuf *b, unsigned ndigits)
{
    char esc = (char)tc_peek(c);
    uint32_t cp = 0;
    c->off++;
    for (unsigned i = 0; i < ndigits; i++) {
        int h = hex_val(tc_peek(c));
        if (h < 0)
            return tc_error(c, "invalid \\%c escape in string: expected %u hex digits", esc, ndigits);
        cp = (cp << 4) | (uint32_t)h;
        c->off++;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return tc_error(c, "invalid \\%c escape in string: %X is not a Unicode scalar value", esc, (unsigned)cp);
    return put_utf8(b, cp);
}

/* At a backslash inside a basic string. TOML 1.0's escapes only. */
CHSM_MUST_CHECK static CK_RV scan_escape(struct toml_cur *c, struct sbuf *b)
{
    char what[32];
    unsigned char out;
    c->off++; /* backslash */
    switch (tc_peek(c)) {
    case 'b': out = '\b'; break;
    case 't': out = '\t'; break;
    case 'n': out = '\n'; break;
    case 'f': out = '\f'; break;
    case 'r': out = '\r'; break;
    case '"': out = '"'; break;
    case '\\': out = '\\'; break;
    case 'u': return scan_unicode_escape(c, b, 4);
    case 'U': return scan_unicode_escape(c, b, 8);
    default:
        return tc_error(c, "invalid escape in string: backslash followed by %s",
                        tc_describe(c, what, sizeof(what)));
    }
    c->off++;
    return sb_put(b, out);
}

/* At the opening quote of a basic ('"') or literal ('\'') string. */
CHSM_MUST_CHECK static CK_RV scan_string(struct toml_cur *c, struct chsm_toml_str *out)
{
    CK_RV rv = CKR_OK;
    struct sbuf b = {0};
    int quote = tc_peek(c);
    c->off++;
    if (tc_peek(c) == quote && tc_peek_at(c, 1) == quote)
        CHSM_BAIL(tc_error(c, "multi-line strings (%c%c%c) are not supported", quote, quote, quote));
    for (;;) {
        int ch = tc_peek(c);
        if (ch < 0 || at_line_end(c))
            CHSM_BAIL(tc_error(c, "unterminated string"));
        if (ch == quote) {
            c->off++;
            break;
        }
        if (ch == '\\' && quote == '"') {
            CHSM_GUARD(scan_escape(c, &b));
            continue;
        }
        if (is_ctrl(ch))
            CHSM_BAIL(tc_error(c, "control character U+%04X in string (use an escape)", (unsigned)ch));
        CHSM_GUARD(sb_put(&b, (unsigned char)ch));
        c->off++;
    }
    CHSM_GUARD(sb_put(&b, 0));
    out->ptr = b.d;
    out->len = b.len - 1;
    b.d = NULL;
out:
    free(b.d);
    return rv;
}

/* Decimal integer with optional sign and single underscores between digits; 64-bit signed range. */
CHSM_MUST_CHECK static CK_RV scan_int(struct toml_cur *c, int64_t *out)
{
    char what[32];
    bool neg = false, overflow = false;
    int ch = tc_peek(c);
    if (ch == '+' || ch == '-') {
        neg = ch == '-';
        c->off++;
        ch = tc_peek(c);
    }
    if (!is_digit(ch))
        return tc_error(c, "invalid value: expected a digit after the sign, found %s",
                        tc_describe(c, what, sizeof(what)));
    if (ch == '0') {
        int nx = tc_peek_at(c, 1);
        if (nx == 'x' || nx == 'o' || nx == 'b')
            return tc_error(c, "hexadecimal, octal and binary integers are not supported");
        if (is_digit(nx) || nx == '_')
            return tc_error(c, "leading zeros are not allowed in integers");
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    for (;;) {
        ch = tc_peek(c);
        if (is_digit(ch)) {
            uint64_t d = (uint64_t)(ch - '0');
            if (mag > (limit - d) / 10u)
                overflow = true;
            else
                mag = mag * 10u + d;
        } else if (ch == '_') {
            if (!is_digit(tc_peek_at(c, 1)))
                return tc_error(c, "underscores in integers must sit between digits");
        } else {
            break;
        }
        c->off++;
    }
    if (ch == '.' || ch == 'e' || ch == 'E')
        return tc_error(c, "floating-point values are not supported");
    if (ch == '-' || ch == ':')
        return tc_error(c, "dates and times are not supported");
    if (!is_value_end(ch))
        return tc_error(c, "invalid integer: unexpected %s", tc_describe(c, what, sizeof(what)));
    if (overflow)
        return tc_error(c, "integer out of range (must fit in 64-bit signed)");
    if (neg)
        *out = mag == limit ? INT64_MIN : -(int64_t)mag;
    else
        *out = (int64_t)mag;
    return CKR_OK;
}

static bool match_word(const struct toml_cur *c, const char *w)
{
    size_t n = strlen(w);
    if (c->len - c->off < n || memcmp(c->p + c->off, w, n) != 0)
        return false;
    return is_value_end(tc_peek_at(c, n));
}

CHSM_MUST_CHECK static CK_RV scan_array(struct toml_cur *c, struct chsm_toml_value *v)
{
    CK_RV rv = CKR_OK;
    char what[32];
    size_t cap = 0;
    c->in_array = true;
    c->off++; /* '[' */
    for (;;) {
        CHSM_GUARD(tc_skip_ws_nl_comments(c));
        int ch = tc_peek(c);
        if (ch == ']') {
            c->off++;
            break;
        }
        if (ch < 0)
            CHSM_BAIL(tc_error(c, "unterminated array (missing ']')"));
        if (ch == '[')
            CHSM_BAIL(tc_error(c, "nested arrays are not supported"));
        if (ch != '"' && ch != '\'')
            CHSM_BAIL(tc_error(c, "arrays may only contain strings; found %s", tc_describe(c, what, sizeof(what))));
        if (v->n_items == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct chsm_toml_str *n = realloc(v->items, ncap * sizeof(*n));
            CHSM_ENSURE(n != NULL, CKR_HOST_MEMORY);
            v->items = n;
            cap = ncap;
        }
        CHSM_GUARD(scan_string(c, &v->items[v->n_items]));
        v->n_items++;
        CHSM_GUARD(tc_skip_ws_nl_comments(c));
        ch = tc_peek(c);
        if (ch == ',') {
            c->off++;
        } else if (ch == ']') {
            c->off++;
            break;
        } else {
            CHSM_BAIL(tc_error(c, "expected ',' or ']' in array, found %s", tc_describe(c, what, sizeof(what))));
        }
    }
    c->in_array = false;
out:
    return rv;
}

CK_RV tc_scan_value(struct toml_cur *c, struct chsm_toml_value *out)
{
    char what[32];
    int ch = tc_peek(c);
    memset(out, 0, sizeof(*out));
    switch (ch) {
    case '"':
    case '\'':
        out->type = CHSM_TOML_STRING;
        return scan_string(c, &out->str);
    case '[':
        out->type = CHSM_TOML_ARRAY;
        return scan_array(c, out);
    case '{':
        return tc_error(c, "inline tables are not supported");
    default:
        break;
    }
    if (is_digit(ch) || ch == '+' || ch == '-') {
        out->type = CHSM_TOML_INT;
        return scan_int(c, &out->i);
    }
    if (match_word(c, "true") || match_word(c, "false")) {
        out->type = CHSM_TOML_BOOL;
        out->b = ch == 't';
        c->off += out->b ? 4u : 5u;
        return CKR_OK;
    }
    if (match_word(c, "inf") || match_word(c, "nan"))
        return tc_error(c, "floating-point values are not supported");
    if (at_line_end(c))
        return tc_error(c, "missing value after '='");
    return tc_error(c, "invalid value starting with %s (strings must be quoted)", tc_describe(c, what, sizeof(what)));
}

void tc_value_free(struct chsm_toml_value *v)
{
    free(v->str.ptr);
    for (size_t i = 0; i < v->n_items; i++)
        free(v->items[i].ptr);
    free(v->items);
    memset(v, 0, sizeof(*v));
}
