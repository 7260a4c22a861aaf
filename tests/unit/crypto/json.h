/*
 * Test-only JSON reader: enough of RFC 8259 for the Wycheproof vector files
 * (objects, arrays, strings with escapes, numbers, true/false/null). Builds a
 * small tree; strict (trailing garbage, bad escapes and truncation fail).
 * Ownership: json_parse/json_load return a tree freed with json_free; every
 * pointer returned by the getters borrows from that tree.
 */
#ifndef CHSM_TEST_JSON_H
#define CHSM_TEST_JSON_H

#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
    enum json_type type;
    double num;
    int boolean;
    char *str;      /* JSON_STR: NUL-terminated (embedded NULs not supported) */
    size_t n;       /* JSON_ARR/JSON_OBJ: number of items */
    struct json **items;
    char **keys;    /* JSON_OBJ only */
};

struct json *json_parse(const char *text, size_t len);
/* Read and parse a file; NULL on I/O or syntax error. */
struct json *json_load(const char *path);
void json_free(struct json *j);

const struct json *json_get(const struct json *obj, const char *key);
const char *json_str(const struct json *obj, const char *key); /* NULL unless a string */
long json_int(const struct json *obj, const char *key, long dflt);
/* Decode obj[key] (a hex string) into a malloc'd buffer (never NULL on success, even for ""). */
uint8_t *json_hex(const struct json *obj, const char *key, size_t *len);

#endif
