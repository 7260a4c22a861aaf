/*
 * TOML subset: document structure. One line at a time: blank, comment,
 * [table] header or key = value (whose value may span lines when it is an
 * array). After a problem the parser resynchronises at the next newline so
 * every syntax error in a file is reported in one run; keys after a broken
 * or duplicate header are parsed but not stored, so they cannot produce
 * misleading follow-on errors against the wrong table.
 */
#include "config/toml_internal.h"

#include <stdlib.h>
#include <string.h>

static bool is_bare_key_char(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '-';
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 if it is not one (RFC 3629 table). */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F; /* <= U+10FFFF */
    } else {
        return 0;
    }
    if (n < need + 1 || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    }
    return need + 1;
}

/* TOML documents must be UTF-8; checking once up front keeps the scanners byte-oriented. */
CHSM_MUST_CHECK static CK_RV check_utf8(struct toml_cur *c)
{
    unsigned line = 1;
    size_t i = c->off;
    while (i < c->len) {
        size_t n = utf8_seq_len(c->p + i, c->len - i);
        if (n == 0) {
            c->line = line;
            CK_RV rv = tc_error(c, "invalid UTF-8 (byte 0x%02X)", (unsigned)c->p[i]);
            c->line = 1;
            return rv;
        }
        if (c->p[i] == '\n')
            line++;
        i += n;
    }
    return CKR_OK;
}

const struct chsm_toml_table *chsm_toml_find_table(const struct chsm_toml_doc *doc, const char *name)
{
    for (size_t i = 0; i < doc->n_tables; i++) {
        if (strcmp(doc->tables[i].name, name) == 0)
            return &doc->tables[i];
    }
    return NULL;
}

static const struct chsm_toml_kv *find_kv(const struct chsm_toml_table *t, const char *key)
{
    for (size_t i = 0; i < t->n_kvs; i++) {
        if (strcmp(t->kvs[i].key, key) == 0)
            return &t->kvs[i];
    }
    return NULL;
}

const char *chsm_toml_type_name(enum chsm_toml_type type)
{
    switch (type) {
    case CHSM_TOML_STRING: return "string";
    case CHSM_TOML_INT: return "integer";
    case CHSM_TOML_BOOL: return "boolean";
    case CHSM_TOML_ARRAY: return "array";
    }
    return "value";
}

/* Takes ownership of name on success and on failure. */
CHSM_MUST_CHECK static CK_RV add_table(struct chsm_toml_doc *doc, char *name, unsigned line)
{
    struct chsm_toml_table *n = realloc(doc->tables, (doc->n_tables + 1) * sizeof(*n));
    if (n == NULL) {
        free(name);
        return CKR_HOST_MEMORY;
    }
    doc->tables = n;
    memset(&n[doc->n_tables], 0, sizeof(*n));
    n[doc->n_tables].name = name;
    n[doc->n_tables].line = line;
    doc->n_tables++;
    return CKR_OK;
}

CHSM_MUST_CHECK static CK_RV scan_bare_key(struct toml_cur *c, char **out)
{
    char what[32];
    size_t start = c->off;
    int ch = tc_peek(c);
    if (ch == '"' || ch == '\'')
        return tc_error(c, "quoted keys are not supported");
    while (is_bare_key_char(tc_peek(c)))
        c->off++;
    if (c->off == start)
        return tc_error(c, "expected a key name, found %s", tc_describe(c, what, sizeof(what)));
    size_t n = c->off - start;
    char *k = malloc(n + 1);
    if (k == NULL)
        return CKR_HOST_MEMORY;
    memcpy(k, c->p + start, n);
    k[n] = '\0';
    *out = k;
    return CKR_OK;
}

struct parse_state {
    struct chsm_toml_doc *doc;
    size_t cur;    /* index of the table keys go into */
    bool poisoned; /* the current header was bad: drop its keys */
};

CHSM_MUST_CHECK static CK_RV parse_header(struct toml_cur *c, struct parse_state *st)
{
    CK_RV rv = CKR_OK;
    char what[32];
    char *name = NULL;
    unsigned line = c->line;
    st->poisoned = true;
    c->off++; /* '[' */
    if (tc_peek(c) == '[')
        CHSM_BAIL(tc_error(c, "array tables ([[...]]) are not supported"));
    tc_skip_ws(c);
    CHSM_GUARD(scan_bare_key(c, &name));
    tc_skip_ws(c);
    if (tc_peek(c) == '.')
        CHSM_BAIL(tc_error(c, "dotted table names ([a.b]) are not supported"));
    if (tc_peek(c) != ']')
        CHSM_BAIL(tc_error(c, "expected ']' after table name, found %s", tc_describe(c, what, sizeof(what))));
    c->off++;
    const struct chsm_toml_table *prev = chsm_toml_find_table(st->doc, name);
    if (prev != NULL)
        CHSM_BAIL(tc_error(c, "[%s]: duplicate table (first defined on line %u)", name, prev->line));
    rv = add_table(st->doc, name, line);
    name = NULL;
    CHSM_GUARD(rv);
    st->cur = st->doc->n_tables - 1;
    st->poisoned = false;
out:
    free(name);
    return rv;
}

CHSM_MUST_CHECK static CK_RV parse_keyval(struct toml_cur *c, struct parse_state *st)
{
    CK_RV rv = CKR_OK;
    char what[32];
    char *key = NULL;
    struct chsm_toml_value val = {0};
    unsigned line = c->line;
    CHSM_GUARD(scan_bare_key(c, &key));
    tc_skip_ws(c);
    if (tc_peek(c) == '.')
        CHSM_BAIL(tc_error(c, "dotted keys (a.b = ...) are not supported"));
    if (tc_peek(c) != '=')
        CHSM_BAIL(tc_error(c, "expected '=' after key '%s', found %s", key, tc_describe(c, what, sizeof(what))));
    c->off++;
    tc_skip_ws(c);
    CHSM_GUARD(tc_scan_value(c, &val));
    if (st->poisoned)
        goto out;
    struct chsm_toml_table *t = &st->doc->tables[st->cur];
    const struct chsm_toml_kv *prev = find_kv(t, key);
    if (prev != NULL) {
        /* Report where the duplicate starts, not where its (array) value ended. */
        unsigned end_line = c->line;
        c->line = line;
        rv = tc_error(c, "%s%s%s: duplicate key (first defined on line %u)", t->name, t->name[0] ? "." : "", key,
                      prev->line);
        c->line = end_line;
        goto out;
    }
    struct chsm_toml_kv *n = realloc(t->kvs, (t->n_kvs + 1) * sizeof(*n));
    CHSM_ENSURE(n != NULL, CKR_HOST_MEMORY);
    t->kvs = n;
    n[t->n_kvs].key = key;
    n[t->n_kvs].line = line;
    n[t->n_kvs].value = val;
    t->n_kvs++;
    key = NULL;
    memset(&val, 0, sizeof(val));
out:
    free(key);
    tc_value_free(&val);
    return rv;
}

CHSM_MUST_CHECK static CK_RV parse_line(struct toml_cur *c, struct parse_state *st)
{
    CK_RV rv = CKR_OK;
    char what[32];
    tc_skip_ws(c);
    int ch = tc_peek(c);
    if (ch == '[')
        CHSM_GUARD(parse_header(c, st));
    else if (ch >= 0 && ch != '#' && ch != '\n' && !(ch == '\r' && tc_peek_at(c, 1) == '\n'))
        CHSM_GUARD(parse_keyval(c, st));
    tc_skip_ws(c);
    if (tc_peek(c) == '#')
        CHSM_GUARD(tc_skip_comment(c));
    if (!tc_eat_newline(c) && tc_peek(c) >= 0)
        CHSM_BAIL(tc_error(c, "expected end of line, found %s", tc_describe(c, what, sizeof(what))));
out:
    return rv;
}

static void skip_rest_of_line(struct toml_cur *c)
{
    while (tc_peek(c) >= 0 && tc_peek(c) != '\n')
        c->off++;
    (void)tc_eat_newline(c);
}

/* Does the line at the cursor start a header or a key = value? Looks ahead only. */
static bool line_starts_statement(const struct toml_cur *c)
{
    struct toml_cur look = *c;
    tc_skip_ws(&look);
    if (tc_peek(&look) == '[') {
        look.off++;
        tc_skip_ws(&look);
        return tc_peek(&look) == '[' || is_bare_key_char(tc_peek(&look));
    }
    if (!is_bare_key_char(tc_peek(&look)))
        return false;
    while (is_bare_key_char(tc_peek(&look)))
        look.off++;
    tc_skip_ws(&look);
    return tc_peek(&look) == '=';
}

/*
 * Resynchronise after an error: drop the rest of the line, and when the
 * error was inside a multi-line array, also its remaining element lines,
 * which would otherwise each be reported as a bogus key.
 */
static void recover(struct toml_cur *c)
{
    skip_rest_of_line(c);
    if (c->in_array) {
        while (tc_peek(c) >= 0 && !line_starts_statement(c))
            skip_rest_of_line(c);
        c->in_array = false;
    }
}

CK_RV chsm_toml_parse(const char *text, size_t len, struct chsm_toml_doc *doc, chsm_toml_report_fn report, void *ctx)
{
    CK_RV rv = CKR_OK;
    struct toml_cur c = {.p = (const unsigned char *)text, .len = len, .line = 1, .report = report, .ctx = ctx};
    struct parse_state st = {.doc = doc};
    memset(doc, 0, sizeof(*doc));
    char *root = strdup("");
    CHSM_ENSURE(root != NULL, CKR_HOST_MEMORY);
    CHSM_GUARD(add_table(doc, root, 0));
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c.off = 3;
    CHSM_GUARD(check_utf8(&c));
    while (c.off < c.len) {
        size_t before = c.off;
        rv = parse_line(&c, &st);
        CHSM_ENSURE(rv != CKR_HOST_MEMORY, CKR_HOST_MEMORY);
        CHSM_ENSURE(c.stop == CKR_OK, c.stop);
        if (rv != CKR_OK)
            recover(&c);
        /* Every iteration consumes input; a stall would be a parser bug, not an input error. */
        CHSM_ENSURE(c.off > before, CKR_GENERAL_ERROR);
    }
    rv = c.failed ? CKR_ARGUMENTS_BAD : CKR_OK;
out:
    if (rv == CKR_ARGUMENTS_BAD && c.stop != CKR_OK)
        rv = c.stop;
    return rv;
}

void chsm_toml_free(struct chsm_toml_doc *doc)
{
    if (doc == NULL)
        return;
    for (size_t i = 0; i < doc->n_tables; i++) {
        struct chsm_toml_table *t = &doc->tables[i];
        for (size_t j = 0; j < t->n_kvs; j++) {
            free(t->kvs[j].key);
            tc_value_free(&t->kvs[j].value);
        }
        free(t->kvs);
        free(t->name);
    }
    free(doc->tables);
    memset(doc, 0, sizeof(*doc));
}
