/*
 * CLI plumbing (tools/admin/cli.c, pin_input.c, output.c): global options
 * anywhere, option parsing refusals, exit-code map, PIN sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin.h"
#include "crypto/crypto.h"

static void test_globals_anywhere(void **state)
{
    (void)state;
    struct adm a;
    char *argv[] = {"craton-hsm-admin", "--json", "token", "--config", "/x.toml", "info", "--quiet", NULL};
    memset(&a, 0, sizeof(a));
    assert_int_equal(adm_take_globals(&a, 7, argv), ADM_OK);
    assert_true(a.json);
    assert_true(a.quiet);
    assert_string_equal(a.config_path, "/x.toml");
    assert_int_equal(a.argc, 2);
    assert_string_equal(a.argv[0], "token");
    assert_string_equal(a.argv[1], "info");
}

static void test_globals_config_needs_value(void **state)
{
    (void)state;
    struct adm a;
    char *argv[] = {"craton-hsm-admin", "status", "--config", NULL};
    memset(&a, 0, sizeof(a));
    assert_int_equal(adm_take_globals(&a, 3, argv), ADM_USAGE);
}

static const struct adm_optspec SPECS[] = {{"--output", true, false}, {"--force", false, false},
                                           {"--bundle", true, true}};

static int parse(struct adm *a, char **argv, int argc)
{
    memset(a, 0, sizeof(*a));
    a->argv = argv;
    a->argc = argc;
    return adm_parse(a, 1, SPECS, 3, 0);
}

static void test_parse_ok(void **state)
{
    (void)state;
    struct adm a;
    char *argv[] = {"backup", "--output=f.enc", "--force", "--bundle", "a", "--bundle", "b", "--slot", "3"};
    assert_int_equal(parse(&a, argv, 9), ADM_OK);
    assert_string_equal(adm_opt(&a, "--output"), "f.enc");
    assert_true(adm_flag(&a, "--force"));
    assert_int_equal(adm_optv(&a, "--bundle")->count, 2);
    assert_string_equal(adm_optv(&a, "--bundle")->values[1], "b");
    assert_int_equal(adm_slot(&a), 3);
    assert_null(adm_opt(&a, "--missing"));
}

static void test_parse_refusals(void **state)
{
    (void)state;
    struct adm a;
    char *unknown[] = {"backup", "--outptu", "x"};
    char *missing[] = {"backup", "--output"};
    char *twice[] = {"backup", "--output", "a", "--output", "b"};
    char *flagval[] = {"backup", "--force=yes"};
    char *positional[] = {"backup", "stray"};
    assert_int_equal(parse(&a, unknown, 3), ADM_USAGE);
    assert_int_equal(parse(&a, missing, 2), ADM_USAGE);
    assert_int_equal(parse(&a, twice, 5), ADM_USAGE);
    assert_int_equal(parse(&a, flagval, 2), ADM_USAGE);
    assert_int_equal(parse(&a, positional, 2), ADM_USAGE);
}

static void test_exit_map(void **state)
{
    (void)state;
    assert_int_equal(adm_exit_for(CKR_OK), ADM_OK);
    assert_int_equal(adm_exit_for(CKR_PIN_INCORRECT), ADM_AUTH);
    assert_int_equal(adm_exit_for(CKR_PIN_LOCKED), ADM_AUTH);
    assert_int_equal(adm_exit_for(CKR_ENCRYPTED_DATA_INVALID), ADM_INTEGRITY);
    assert_int_equal(adm_exit_for(CKR_ENCRYPTED_DATA_LEN_RANGE), ADM_INTEGRITY);
    assert_int_equal(adm_exit_for(CKR_SAVED_STATE_INVALID), ADM_REFUSED);
    assert_int_equal(adm_exit_for(CKR_DEVICE_ERROR), ADM_FAILED);
}

static const struct adm_optspec PINSPECS[] = {ADM_PIN_SPECS("pin")};

static int get_pin(char **argv, int argc, struct chsm_secbuf *out)
{
    struct adm a;
    memset(&a, 0, sizeof(a));
    a.argv = argv;
    a.argc = argc;
    assert_int_equal(adm_parse(&a, 1, PINSPECS, 3, 0), ADM_OK);
    return adm_pin(&a, "pin", "SO PIN", false, out);
}

static void test_pin_sources(void **state)
{
    (void)state;
    char path[] = "/tmp/chsm-test-pin.XXXXXX", empty[] = "/tmp/chsm-test-pin-empty.XXXXXX";
    struct chsm_secbuf p = {0};
    int fd = mkstemp(path), fd2 = mkstemp(empty);
    assert_true(fd >= 0 && fd2 >= 0);
    assert_int_equal(write(fd, "12345678\r\nignored\n", 18), 18);
    close(fd);
    close(fd2);
    char *file[] = {"x", "--pin-file", path};
    assert_int_equal(get_pin(file, 3, &p), ADM_OK);
    assert_int_equal(p.len, 8);
    assert_memory_equal(p.data, "12345678", 8);
    chsm_secbuf_free(&p);
    char *emptyf[] = {"x", "--pin-file", empty};
    assert_int_equal(get_pin(emptyf, 3, &p), ADM_USAGE);
    char *nofile[] = {"x", "--pin-file", "/nonexistent/pin"};
    assert_int_equal(get_pin(nofile, 3, &p), ADM_USAGE);
    setenv("CHSM_TEST_PIN", "env-pin", 1);
    char *env[] = {"x", "--pin-env", "CHSM_TEST_PIN"};
    assert_int_equal(get_pin(env, 3, &p), ADM_OK);
    assert_memory_equal(p.data, "env-pin", 7);
    chsm_secbuf_free(&p);
    char *noenv[] = {"x", "--pin-env", "CHSM_TEST_PIN_UNSET"};
    assert_int_equal(get_pin(noenv, 3, &p), ADM_USAGE);
    char *val[] = {"x", "--pin", "value-pin"};
    assert_int_equal(get_pin(val, 3, &p), ADM_OK);
    assert_int_equal(p.len, 9);
    chsm_secbuf_free(&p);
    if (!isatty(STDIN_FILENO)) {
        char *none[] = {"x"};
        assert_int_equal(get_pin(none, 1, &p), ADM_USAGE);
    }
    unlink(path);
    unlink(empty);
}

static void test_output_helpers(void **state)
{
    (void)state;
    char buf[64], out[8];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    adm_json_str(f, "a\"b\\c\n");
    fclose(f);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\u000a\"");
    adm_trim(out, sizeof(out), "ab   ", 5);
    assert_string_equal(out, "ab");
    adm_trim(out, sizeof(out), "abcdefghij", 10);
    assert_string_equal(out, "abcdefg");
}

int chsm_test_cli(void);
int chsm_test_cli(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_globals_anywhere), cmocka_unit_test(test_globals_config_needs_value),
        cmocka_unit_test(test_parse_ok),         cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_exit_map),         cmocka_unit_test(test_pin_sources),
        cmocka_unit_test(test_output_helpers),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
