/* Config TOML-subset parser: every refusal names the line and the problem; accepted forms decode right. */
#define _XOPEN_SOURCE 700 /* nftw in tdir.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/toml.h"
#include "tdir.h"
#include "cfg_test.h"

/* ---- parser negatives --------------------------------------------------------------------------- */

static void test_parse_bad_escapes(void **state)
{
    (void)state;
    syntax_error("[token]\nlabel = \"a\\qb\"\n", "s.toml:2: invalid escape in string: backslash followed by 'q'");
    syntax_error("[token]\nlabel = \"a\\e\"\n", "s.toml:2: invalid escape");
    syntax_error("[token]\nlabel = \"a\\u12\"\n", "s.toml:2: invalid \\u escape in string: expected 4 hex digits");
    syntax_error("[token]\nlabel = \"\\uD800\"\n", "s.toml:2: invalid \\u escape in string: D800 is not a Unicode");
    syntax_error("[token]\nlabel = \"\\U00110000\"\n", "s.toml:2: invalid \\U escape in string: 110000 is not");
    syntax_error("[token]\nlabel = \"a\\", "s.toml:2: invalid escape in string: backslash followed by end of input");
}

static void test_parse_unterminated_strings(void **state)
{
    (void)state;
    syntax_error("[token]\nlabel = \"abc\nserial_number = \"1\"\n", "s.toml:2: unterminated string");
    syntax_error("[token]\n\nlabel = 'abc", "s.toml:3: unterminated string");
    syntax_error("[token]\nlabel = \"\"\"x\"\"\"\n", "s.toml:2: multi-line strings (\"\"\") are not supported");
    syntax_error("[token]\nlabel = '''x'''\n", "s.toml:2: multi-line strings (''') are not supported");
}

static void test_parse_control_characters(void **state)
{
    (void)state;
    syntax_error("[token]\nlabel = \"a\x01\"\n", "s.toml:2: control character U+0001 in string");
    syntax_error("[token]\nlabel = 'a\x7f'\n", "s.toml:2: control character U+007F in string");
    syntax_error("# note \x02\n", "s.toml:1: control character U+0002 in comment");
    syntax_error("[token]\nlabel = \"a\"\r\r\n", "s.toml:2: expected end of line, found byte 0x0D");
    static const char with_nul[] = "[token]\nlabel = \"a\0b\"\n";
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_parse("s.toml", with_nul, sizeof(with_nul) - 1, &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.items[0].message, "s.toml:2: control character U+0000 in string"));
    chsm_config_diag_free(&diag);
}

static void test_parse_duplicates(void **state)
{
    (void)state;
    syntax_error("[token]\nlabel = \"a\"\nlabel = \"b\"\n", "s.toml:3: token.label: duplicate key (first defined on line 2)");
    syntax_error("[token]\n[security]\n[token]\n", "s.toml:3: [token]: duplicate table (first defined on line 1)");
}

static void test_parse_unknown_key_and_table(void **state)
{
    (void)state;
    rejects_exactly("[token]\ncolour = \"blue\"\n", "t.toml:2: token.colour: unknown key in [token], got string \"blue\"");
    rejects_exactly("\n[tokens]\nlabel = \"x\"\n",
                    "t.toml:2: [tokens]: unknown table (expected token, security, algorithms, audit or daemon)");
    rejects_exactly("label = \"x\"\n[token]\n",
                    "t.toml:1: label: key outside any table (keys belong under [token], [security], [algorithms], "
                    "[audit] or [daemon]), got string \"x\"");
}

static void test_parse_wrong_types(void **state)
{
    (void)state;
    rejects_exactly("[security]\npbkdf2_iterations = \"600000\"\n",
                    "t.toml:2: security.pbkdf2_iterations: must be an integer, got string \"600000\"");
    rejects_exactly("[algorithms]\nallow_weak_rsa = 1\n",
                    "t.toml:2: algorithms.allow_weak_rsa: must be a boolean, got integer 1");
    rejects_exactly("[token]\nlabel = true\n", "t.toml:2: token.label: must be a string, got boolean true");
    rejects_exactly("[daemon]\nbind = [\"a:1\", \"b:2\"]\n", "t.toml:2: daemon.bind: must be a string, got array of 2 strings");
    rejects_exactly("[audit]\nlog_level = 3\n", "t.toml:2: audit.log_level: must be a string, got integer 3");
}

static void test_parse_integers(void **state)
{
    (void)state;
    syntax_error("[token]\nslot_count = 9223372036854775808\n", "s.toml:2: integer out of range (must fit in 64-bit signed)");
    syntax_error("[token]\nslot_count = -9223372036854775809\n", "s.toml:2: integer out of range");
    syntax_error("[token]\nslot_count = 99999999999999999999999\n", "s.toml:2: integer out of range");
    rejects_exactly("[token]\nslot_count = -9223372036854775808\n",
                    "t.toml:2: token.slot_count: must be between 1 and 64, got -9223372036854775808");
    rejects_exactly("[token]\nslot_count = 9223372036854775807\n",
                    "t.toml:2: token.slot_count: must be between 1 and 64, got 9223372036854775807");
    syntax_error("[token]\nslot_count = 01\n", "s.toml:2: leading zeros are not allowed in integers");
    syntax_error("[token]\nslot_count = 0x10\n", "s.toml:2: hexadecimal, octal and binary integers are not supported");
    syntax_error("[token]\nslot_count = 1__0\n", "s.toml:2: underscores in integers must sit between digits");
    syntax_error("[token]\nslot_count = 1_\n", "s.toml:2: underscores in integers must sit between digits");
    syntax_error("[token]\nslot_count = _1\n", "s.toml:2: invalid value starting with '_'");
    syntax_error("[token]\nslot_count = 1.5\n", "s.toml:2: floating-point values are not supported");
    syntax_error("[token]\nslot_count = 1e3\n", "s.toml:2: floating-point values are not supported");
    syntax_error("[token]\nslot_count = inf\n", "s.toml:2: floating-point values are not supported");
    syntax_error("[token]\nslot_count = 1979-05-27\n", "s.toml:2: dates and times are not supported");
    syntax_error("[token]\nslot_count = 12abc\n", "s.toml:2: invalid integer: unexpected 'a'");
    syntax_error("[token]\nslot_count = -\n", "s.toml:2: invalid value: expected a digit after the sign");
}

static void test_parse_bad_arrays(void **state)
{
    (void)state;
    syntax_error("[daemon]\nbind = [\"a\" \"b\"]\n", "s.toml:2: expected ',' or ']' in array, found '\"'");
    syntax_error("[daemon]\nbind = [\"a\",\n", "s.toml:3: unterminated array (missing ']')");
    syntax_error("[daemon]\nbind = [[\"a\"]]\n", "s.toml:2: nested arrays are not supported");
    syntax_error("[daemon]\nbind = [1, 2]\n", "s.toml:2: arrays may only contain strings; found '1'");
    syntax_error("[daemon]\nbind = [,]\n", "s.toml:2: arrays may only contain strings; found ','");
    syntax_error("[daemon]\nbind = [\n  \"a\",\n  \"b\\x\",\n]\n", "s.toml:4: invalid escape");
}

static void test_parse_unsupported_syntax(void **state)
{
    (void)state;
    syntax_error("[token]\nlabel.x = \"a\"\n", "s.toml:2: dotted keys (a.b = ...) are not supported");
    syntax_error("[token]\n\"label\" = \"a\"\n", "s.toml:2: quoted keys are not supported");
    syntax_error("[[token]]\n", "s.toml:1: array tables ([[...]]) are not supported");
    syntax_error("[token.sub]\n", "s.toml:1: dotted table names ([a.b]) are not supported");
    syntax_error("[token]\nlabel = {a = \"b\"}\n", "s.toml:2: inline tables are not supported");
    syntax_error("[token]\nlabel = bare\n", "s.toml:2: invalid value starting with 'b' (strings must be quoted)");
    syntax_error("[token]\nlabel =\n", "s.toml:2: missing value after '='");
    syntax_error("[token]\nlabel = \"a\" \"b\"\n", "s.toml:2: expected end of line, found '\"'");
    syntax_error("[token]\nlabel \"a\"\n", "s.toml:2: expected '=' after key 'label', found '\"'");
    syntax_error("[token\n", "s.toml:1: expected ']' after table name, found end of line");
    syntax_error("[]\n", "s.toml:1: expected a key name, found ']'");
    syntax_error("[token] x\n", "s.toml:1: expected end of line, found 'x'");
    syntax_error("[token]\nlabel = \"x\"\n\xff\n", "s.toml:3: invalid UTF-8 (byte 0xFF)");
    syntax_error("[token]\nlabel = \"\xc0\xaf\"\n", "s.toml:2: invalid UTF-8 (byte 0xC0)");
    syntax_error("[token]\nlabel = \"\xed\xa0\x80\"\n", "s.toml:2: invalid UTF-8 (byte 0xED)");
}

/* Accepted syntax: comments everywhere, CRLF, BOM, tabs, literal strings keep backslashes. */
#define FORMS_HEAD                                                                                           \
    "\xEF\xBB\xBF# comment\r\n"                                                                                \
    "\t[ token ]\t# trailing comment\r\n"                                                                     \
    "  label\t=\t'C:\\dir\\x'  # literal: no escapes\r\n"                                                    \
    "serial_number = \"\\\"q\\\\\\u0041\\U00000042\"\n"                                                       \
    "\n"                                                                                                      \
    "slot_count = +2 # sign\n"                                                                               \
    "[security]\n"

static void test_parse_accepts_toml_forms(void **state)
{
    (void)state;
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    const char *ok = FORMS_HEAD "max_failed_logins = 1_0\n";
    assert_int_equal(chsm_config_parse("a.toml", ok, strlen(ok), &c, &diag), CKR_OK);
    assert_int_equal(diag.count, 0);
    assert_string_equal(c.token.label, "C:\\dir\\x");
    assert_string_equal(c.token.serial_number, "\"q\\AB");
    assert_int_equal(c.token.slot_count, 2);
    assert_int_equal(c.security.max_failed_logins, 10);
    chsm_config_free(&c);
    /* The same head with one bad line: exactly that line is reported. */
    const char *bad = FORMS_HEAD "max_failed_logins = 0_0_3\n";
    assert_int_equal(chsm_config_parse("a.toml", bad, strlen(bad), &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(diag.count, 1);
    assert_string_equal(diag.items[0].message, "a.toml:8: leading zeros are not allowed in integers");
    chsm_config_diag_free(&diag);
}

static CK_RV collect(void *ctx, unsigned line, const char *msg)
{
    (void)line;
    (void)msg;
    (*(unsigned *)ctx)++;
    return CKR_OK;
}

/* Arrays are parsed (no current key uses one, but the subset includes them). */
static void test_toml_arrays(void **state)
{
    (void)state;
    const char *t = "[x]\n"
                    "a = [ \"one\", 'two' , # comment inside\n"
                    "      \"th\\u0072ee\",\n"
                    "    ]\n"
                    "b = []\n"
                    "c = [\n]\n"
                    "d = -9223372036854775808\n"
                    "e = false\n";
    struct chsm_toml_doc doc;
    unsigned errors = 0;
    assert_int_equal(chsm_toml_parse(t, strlen(t), &doc, collect, &errors), CKR_OK);
    assert_int_equal(errors, 0);
    const struct chsm_toml_table *x = chsm_toml_find_table(&doc, "x");
    assert_non_null(x);
    assert_int_equal(x->n_kvs, 5);
    assert_int_equal(x->kvs[0].value.type, CHSM_TOML_ARRAY);
    assert_int_equal(x->kvs[0].value.n_items, 3);
    assert_string_equal(x->kvs[0].value.items[0].ptr, "one");
    assert_string_equal(x->kvs[0].value.items[1].ptr, "two");
    assert_string_equal(x->kvs[0].value.items[2].ptr, "three");
    assert_int_equal(x->kvs[1].value.n_items, 0);
    assert_int_equal(x->kvs[1].line, 5);
    assert_int_equal(x->kvs[2].value.n_items, 0);
    assert_int_equal(x->kvs[3].line, 8); /* line counting survives multi-line arrays */
    assert_true(x->kvs[3].value.i == INT64_MIN);
    assert_int_equal(x->kvs[4].value.type, CHSM_TOML_BOOL);
    assert_false(x->kvs[4].value.b);
    assert_null(chsm_toml_find_table(&doc, "y"));
    chsm_toml_free(&doc);
    chsm_toml_free(&doc); /* idempotent */
}

int chsm_test_config_parse(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bad_escapes),
        cmocka_unit_test(test_parse_unterminated_strings),
        cmocka_unit_test(test_parse_control_characters),
        cmocka_unit_test(test_parse_duplicates),
        cmocka_unit_test(test_parse_unknown_key_and_table),
        cmocka_unit_test(test_parse_wrong_types),
        cmocka_unit_test(test_parse_integers),
        cmocka_unit_test(test_parse_bad_arrays),
        cmocka_unit_test(test_parse_unsupported_syntax),
        cmocka_unit_test(test_parse_accepts_toml_forms),
        cmocka_unit_test(test_toml_arrays),
    };
    return cmocka_run_group_tests_name("config_parse", tests, NULL, NULL);
}
