/*
 * Shared by the config test files (one executable, test_config): expected-
 * problem assertions and the per-file group runners. Include after cmocka.h.
 */
#ifndef CHSM_TEST_CONFIG_CFG_TEST_H
#define CHSM_TEST_CONFIG_CFG_TEST_H

#include <stdio.h>
#include <string.h>

#include "config/config.h"

/* Exactly one problem, equal to `want`. */
static inline void rejects_exactly(const char *text, const char *want)
{
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_parse("t.toml", text, strlen(text), &c, &diag), CKR_ARGUMENTS_BAD);
    assert_null(c.token.label); /* cfg left freed/zeroed */
    if (diag.count != 1)
        chsm_config_print_problems(&diag, stderr);
    assert_int_equal(diag.count, 1);
    assert_string_equal(diag.items[0].message, want);
    chsm_config_diag_free(&diag);
}

/* Exactly one problem, containing `want` (parser messages are checked by substring plus line). */
static inline void syntax_error(const char *text, const char *want)
{
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_parse("s.toml", text, strlen(text), &c, &diag), CKR_ARGUMENTS_BAD);
    if (diag.count != 1 || strstr(diag.items[0].message, want) == NULL) {
        fprintf(stderr, "input: %s\nwanted: %s\n", text, want);
        chsm_config_print_problems(&diag, stderr);
    }
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.items[0].message, want));
    chsm_config_diag_free(&diag);
}

/* Group runners (return the number of failed tests). */
int chsm_test_config_rules(void);
int chsm_test_config_parse(void);

#endif
