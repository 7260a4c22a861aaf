/*
 * Wycheproof driver helpers for the crypto tests: load a vector file from
 * $CHSM_TEST_VECTORS and walk its groups and cases.
 */
#ifndef CHSM_TEST_VEC_H
#define CHSM_TEST_VEC_H

#include <stdbool.h>
#include <string.h>

#include "json.h"

/* Loads tests/vectors/<name>; fails the cmocka test when missing. */
struct json *vec_load(const char *name);
/* "valid" / "invalid" / "acceptable" */
static inline bool vec_valid(const struct json *t) { return strcmp(json_str(t, "result"), "valid") == 0; }
static inline bool vec_invalid(const struct json *t) { return strcmp(json_str(t, "result"), "invalid") == 0; }
bool vec_has_flag(const struct json *t, const char *flag);

/* Group gi / case ti accessors for explicit loops. */
static inline size_t vec_ngroups(const struct json *root) { return json_get(root, "testGroups")->n; }
static inline const struct json *vec_group(const struct json *root, size_t gi)
{
    return json_get(root, "testGroups")->items[gi];
}
static inline size_t vec_ntests(const struct json *g) { return json_get(g, "tests")->n; }
static inline const struct json *vec_test(const struct json *g, size_t ti) { return json_get(g, "tests")->items[ti]; }

#endif
