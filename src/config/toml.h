/*
 * A strict parser for the TOML subset craton_hsm.toml uses (TOML 1.0 rules,
 * fewer features):
 *   - [table] headers with bare names (dotted names and [[array tables]] are
 *     refused with a message saying so);
 *   - key = value with bare keys (quoted and dotted keys are refused);
 *   - values: basic strings "..." with the TOML escapes, literal strings
 *     '...', decimal integers (sign, underscores between digits, 64-bit
 *     signed range), true/false, arrays of strings (may span lines, trailing
 *     comma allowed); floats, dates, inline tables, multi-line strings and
 *     hex/octal/binary integers are refused by name;
 *   - # comments and blank lines; LF or CRLF line ends; a leading UTF-8 BOM.
 * The whole input must be valid UTF-8; control characters other than tab
 * are refused in strings and comments. Duplicate keys and tables are errors.
 *
 * Every problem is passed to the caller's report function with its line
 * number; the parser recovers at the next line and keeps going, so one run
 * reports every syntax error. It never reads outside [text, text+len) and
 * accepts any bytes (including NUL) as input: it is fuzzed.
 *
 * Ownership: the document owns every string in it; free with
 * chsm_toml_free (safe on a partially built or zeroed document).
 */
#ifndef CHSM_CONFIG_TOML_H
#define CHSM_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

enum chsm_toml_type { CHSM_TOML_STRING, CHSM_TOML_INT, CHSM_TOML_BOOL, CHSM_TOML_ARRAY };

/* A string value: NUL-terminated for convenience, but may hold NUL (\u0000), hence len. */
struct chsm_toml_str {
    char *ptr;
    size_t len;
};

struct chsm_toml_value {
    enum chsm_toml_type type;
    struct chsm_toml_str str;    /* CHSM_TOML_STRING */
    int64_t i;                   /* CHSM_TOML_INT */
    bool b;                      /* CHSM_TOML_BOOL */
    struct chsm_toml_str *items; /* CHSM_TOML_ARRAY (strings only) */
    size_t n_items;
};

struct chsm_toml_kv {
    char *key;
    unsigned line;
    struct chsm_toml_value value;
};

struct chsm_toml_table {
    char *name; /* "" for keys before the first header */
    unsigned line;
    struct chsm_toml_kv *kvs;
    size_t n_kvs;
};

struct chsm_toml_doc {
    struct chsm_toml_table *tables; /* tables[0] is the root table "" */
    size_t n_tables;
};

/*
 * Report one problem at `line` (message has no file/line prefix). Return
 * CKR_OK to continue parsing; any other value stops the parse, which then
 * returns that value.
 */
typedef CK_RV (*chsm_toml_report_fn)(void *ctx, unsigned line, const char *msg);

/*
 * Parse text into doc (zeroed by the call). Returns CKR_OK when the input is
 * free of errors, CKR_ARGUMENTS_BAD when at least one problem was reported
 * (doc then holds what did parse, for the caller to free), CKR_HOST_MEMORY
 * on allocation failure, or what report returned to stop early.
 */
CHSM_MUST_CHECK CK_RV chsm_toml_parse(const char *text, size_t len, struct chsm_toml_doc *doc,
                                      chsm_toml_report_fn report, void *ctx);

/* The table called name, or NULL. */
const struct chsm_toml_table *chsm_toml_find_table(const struct chsm_toml_doc *doc, const char *name);

/* "string", "integer", "boolean", "array": for type-mismatch messages. */
const char *chsm_toml_type_name(enum chsm_toml_type type);

void chsm_toml_free(struct chsm_toml_doc *doc);

#endif
