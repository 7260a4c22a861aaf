/* Config validation rules: one rejecting case per rule, asserting file, line, field, rule and value. */
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

/* ---- one rejecting case per validation rule --------------------------------------------------- */

static void test_rule_pbkdf2_floor(void **state)
{
    (void)state;
    rejects_exactly("[security]\npbkdf2_iterations = 50000\n",
                    "t.toml:2: security.pbkdf2_iterations: must be at least 100000 (the floor since 0.9.1), got 50000");
    rejects_exactly("[security]\npbkdf2_iterations = 99_999\n",
                    "t.toml:2: security.pbkdf2_iterations: must be at least 100000 (the floor since 0.9.1), got 99999");
}

static void test_rule_pbkdf2_ceiling(void **state)
{
    (void)state;
    rejects_exactly("[security]\npbkdf2_iterations = 10000001\n",
                    "t.toml:2: security.pbkdf2_iterations: must be between 100000 and 10000000, got 10000001");
}

static void test_rule_max_failed_logins(void **state)
{
    (void)state;
    rejects_exactly("[security]\nmax_failed_logins = 2\n",
                    "t.toml:2: security.max_failed_logins: must be between 3 and 100, got 2");
    rejects_exactly("[security]\nmax_failed_logins = 101\n",
                    "t.toml:2: security.max_failed_logins: must be between 3 and 100, got 101");
}

static void test_rule_pin_length_bounds(void **state)
{
    (void)state;
    rejects_exactly("[security]\npin_min_length = 3\n",
                    "t.toml:2: security.pin_min_length: must be between 4 and 255, got 3");
    rejects_exactly("[security]\npin_max_length = 256\n",
                    "t.toml:2: security.pin_max_length: must be between 4 and 255, got 256");
}

static void test_rule_pin_min_le_max(void **state)
{
    (void)state;
    rejects_exactly("[security]\npin_max_length = 8\npin_min_length = 9\n",
                    "t.toml:3: security.pin_min_length: must not exceed security.pin_max_length (8), got 9");
}

static void test_rule_serial_length(void **state)
{
    (void)state;
    rejects_exactly("[token]\nserial_number = \"\"\n",
                    "t.toml:2: token.serial_number: must be 1 to 16 printable ASCII characters, got \"\"");
    rejects_exactly("[token]\nserial_number = \"01234567890123456\"\n",
                    "t.toml:2: token.serial_number: must be 1 to 16 printable ASCII characters, got "
                    "\"01234567890123456\"");
}

static void test_rule_serial_printable(void **state)
{
    (void)state;
    rejects_exactly("[token]\nserial_number = \"AB\\tC\"\n",
                    "t.toml:2: token.serial_number: must be 1 to 16 printable ASCII characters, got \"AB\\u0009C\"");
    rejects_exactly("[token]\nserial_number = \"caf\\u00e9\"\n",
                    "t.toml:2: token.serial_number: must be 1 to 16 printable ASCII characters, got \"caf\xc3\xa9\"");
}

static void test_rule_label_length(void **state)
{
    (void)state;
    rejects_exactly("[token]\nlabel = ''\n", "t.toml:2: token.label: must be 1 to 32 bytes, got \"\" (0 bytes)");
    rejects_exactly("[token]\nlabel = \"123456789012345678901234567890123\"\n",
                    "t.toml:2: token.label: must be 1 to 32 bytes, got \"123456789012345678901234567890123\" "
                    "(33 bytes)");
    /* 16 two-byte characters = 32 bytes: fits; 17 do not. */
    const char *ok = "[token]\nlabel = \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                     "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"\n";
    struct chsm_config c;
    assert_int_equal(chsm_config_parse("t.toml", ok, strlen(ok), &c, NULL), CKR_OK);
    assert_int_equal(strlen(c.token.label), 32);
    chsm_config_free(&c);
}

static void test_rule_label_control(void **state)
{
    (void)state;
    rejects_exactly("[token]\nlabel = \"a\\nb\"\n",
                    "t.toml:2: token.label: must not contain control characters, got \"a\\u000Ab\"");
}

static void test_rule_slot_count(void **state)
{
    (void)state;
    rejects_exactly("[token]\nslot_count = 0\n", "t.toml:2: token.slot_count: must be between 1 and 64, got 0");
    rejects_exactly("[token]\nslot_count = 65\n", "t.toml:2: token.slot_count: must be between 1 and 64, got 65");
}

static void test_rule_max_sessions(void **state)
{
    (void)state;
    rejects_exactly("[token]\nmax_sessions = 0\n", "t.toml:2: token.max_sessions: must be between 1 and 65536, got 0");
    rejects_exactly("[token]\nmax_rw_sessions = 65537\n",
                    "t.toml:2: token.max_rw_sessions: must be between 1 and 65536, got 65537");
}

static void test_rule_rw_le_sessions(void **state)
{
    (void)state;
    rejects_exactly("[token]\nmax_sessions = 10\nmax_rw_sessions = 11\n",
                    "t.toml:3: token.max_rw_sessions: must not exceed token.max_sessions (10), got 11");
}

static void test_rule_audit_enums(void **state)
{
    (void)state;
    rejects_exactly("[audit]\nlog_level = \"verbose\"\n",
                    "t.toml:2: audit.log_level: must be one of \"all\", \"crypto\", \"auth\", \"admin\", \"none\", "
                    "got \"verbose\"");
    rejects_exactly("[audit]\nkey_use = \"some\"\n",
                    "t.toml:2: audit.key_use: must be one of \"summary\", \"each\", got \"some\"");
    rejects_exactly("[audit]\nsync = \"ALWAYS\"\n",
                    "t.toml:2: audit.sync: must be one of \"always\", \"batch\", got \"ALWAYS\"");
}

static void test_rule_audit_numbers(void **state)
{
    (void)state;
    rejects_exactly("[audit]\nbatch_ms = 0\n", "t.toml:2: audit.batch_ms: must be between 1 and 10000, got 0");
    rejects_exactly("[audit]\nmax_size = 4095\n",
                    "t.toml:2: audit.max_size: must be between 4096 and 1099511627776, got 4095");
}

static void test_rule_daemon_numbers(void **state)
{
    (void)state;
    rejects_exactly("[daemon]\nworker_threads = 0\n",
                    "t.toml:2: daemon.worker_threads: must be between 1 and 256, got 0");
    rejects_exactly("[daemon]\nmax_recv_message_bytes = 4294967296\n",
                    "t.toml:2: daemon.max_recv_message_bytes: must be between 4096 and 268435456, got 4294967296");
    rejects_exactly("[daemon]\nmax_random_bytes = -1\n",
                    "t.toml:2: daemon.max_random_bytes: must be between 1 and 1048576, got -1");
    rejects_exactly("[daemon]\nshutdown_grace_s = 3601\n",
                    "t.toml:2: daemon.shutdown_grace_s: must be between 0 and 3600, got 3601");
    rejects_exactly("[daemon]\nsession_idle_timeout_s = 0\n",
                    "t.toml:2: daemon.session_idle_timeout_s: must be between 1 and 86400, got 0");
    rejects_exactly("[daemon]\nmax_concurrent_streams = 4097\n",
                    "t.toml:2: daemon.max_concurrent_streams: must be between 1 and 4096, got 4097");
    rejects_exactly("[daemon]\nmax_send_message_bytes = 100\n",
                    "t.toml:2: daemon.max_send_message_bytes: must be between 4096 and 268435456, got 100");
}

static void test_rule_path_nul(void **state)
{
    (void)state;
    rejects_exactly("[token]\nstorage_path = \"store\\u0000x\"\n",
                    "t.toml:2: token.storage_path: must not contain a NUL character, got \"store\\u0000x\"");
}

static void test_rule_path_dotdot(void **state)
{
    (void)state;
    rejects_exactly("[token]\nstorage_path = \"/var/lib/../store\"\n",
                    "t.toml:2: token.storage_path: must not contain '..' components, got \"/var/lib/../store\"");
    rejects_exactly("[audit]\nlog_path = \"../audit.jsonl\"\n",
                    "t.toml:2: audit.log_path: must not contain '..' components, got \"../audit.jsonl\"");
    rejects_exactly("[daemon]\ntls_cert = 'c/..'\ntls_key = 'k'\n",
                    "t.toml:2: daemon.tls_cert: must not contain '..' components, got \"c/..\"");
    /* "..." and "..x" are ordinary names. */
    struct chsm_config c;
    const char *ok = "[token]\nstorage_path = \"no_such_dir_chsm/.../..x/store\"\n";
    assert_int_equal(chsm_config_parse("t.toml", ok, strlen(ok), &c, NULL), CKR_OK);
    chsm_config_free(&c);
}

static void test_rule_path_symlink(void **state)
{
    (void)state;
    struct tdir *d = tdir_new();
    tdir_mkdir(d, "real");
    tdir_symlink(d, "real", "link");
    char *text = tfmt("[token]\nstorage_path = \"%s/link/store\"\n", d->path);
    char *want = tfmt("t.toml:2: token.storage_path: must not have symlinked components (\"%s/link\" is a symbolic "
                      "link), got \"%s/link/store\"",
                      d->path, d->path);
    rejects_exactly(text, want);
    free(text);
    free(want);
    /* The last component counts too (a symlinked key file). */
    tdir_write(d, "real/key.pem", "x");
    tdir_symlink(d, "real/key.pem", "key.pem");
    text = tfmt("[daemon]\ntls_cert = \"%s/real/key.pem\"\ntls_key = \"%s/key.pem\"\n", d->path, d->path);
    want = tfmt("t.toml:3: daemon.tls_key: must not have symlinked components (\"%s/key.pem\" is a symbolic link), "
                "got \"%s/key.pem\"",
                d->path, d->path);
    rejects_exactly(text, want);
    free(text);
    free(want);
    /* Through the real directory, with components that do not exist yet, it is fine. */
    text = tfmt("[token]\nstorage_path = \"%s/real/not/yet/store\"\n", d->path);
    struct chsm_config c;
    assert_int_equal(chsm_config_parse("t.toml", text, strlen(text), &c, NULL), CKR_OK);
    chsm_config_free(&c);
    free(text);
    tdir_free(d);
}

static void test_rule_path_not_directory(void **state)
{
    (void)state;
    struct tdir *d = tdir_new();
    tdir_write(d, "file", "x");
    char *text = tfmt("[audit]\nlog_path = \"%s/file/audit.jsonl\"\n", d->path);
    char *want = tfmt("t.toml:2: audit.log_path: component \"%s/file\" is not a directory, got \"%s/file/audit.jsonl\"",
                      d->path, d->path);
    rejects_exactly(text, want);
    free(text);
    free(want);
    tdir_free(d);
}

static void test_rule_path_empty_and_long(void **state)
{
    (void)state;
    rejects_exactly("[audit]\nlog_path = \"\"\n",
                    "t.toml:2: audit.log_path: must not be empty (omit the key to leave it unset), got \"\"");
    char *longp = malloc(4200);
    memset(longp, 'a', 4199);
    longp[4199] = '\0';
    char *text = tfmt("[token]\nstorage_path = \"%s\"\n", longp);
    rejects_exactly(text, "t.toml:2: token.storage_path: must be at most 4095 bytes, got a path of 4199 bytes");
    free(text);
    free(longp);
}

static void test_rule_tls_pairing(void **state)
{
    (void)state;
    rejects_exactly("[daemon]\ntls_cert = \"c.pem\"\n",
                    "t.toml:2: daemon.tls_cert: requires daemon.tls_key to be set too, got a certificate without a "
                    "key");
    rejects_exactly("[daemon]\ntls_key = \"k.pem\"\n",
                    "t.toml:2: daemon.tls_key: requires daemon.tls_cert to be set too, got a key without a certificate");
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    const char *t = "[daemon]\ntls_client_ca = \"ca.pem\"\n";
    assert_int_equal(chsm_config_parse("t.toml", t, strlen(t), &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.items[0].message, "t.toml:2: daemon.tls_client_ca: requires daemon.tls_cert"));
    chsm_config_diag_free(&diag);
}

static void check_bind(const char *bind, bool ok)
{
    char *text = tfmt("[daemon]\nbind = \"%s\"\n", bind);
    if (ok) {
        struct chsm_config c;
        assert_int_equal(chsm_config_parse("t.toml", text, strlen(text), &c, NULL), CKR_OK);
        assert_string_equal(c.daemon.bind, bind);
        chsm_config_free(&c);
    } else {
        char *want = tfmt("t.toml:2: daemon.bind: must be \"host:port\" or \"[ipv6]:port\" with port 1..65535, got "
                          "\"%s\"",
                          bind);
        rejects_exactly(text, want);
        free(want);
    }
    free(text);
}

static void test_rule_bind(void **state)
{
    (void)state;
    check_bind("127.0.0.1:5696", true);
    check_bind("0.0.0.0:1", true);
    check_bind("hsm.example.org:65535", true);
    check_bind("[::]:5696", true);
    check_bind("[fe80::1]:443", true);
    check_bind("127.0.0.1", false);
    check_bind("127.0.0.1:0", false);
    check_bind("127.0.0.1:65536", false);
    check_bind("127.0.0.1:", false);
    check_bind(":5696", false);
    check_bind("127.0.0.1:+80", false);
    check_bind("::1:5696", false);
    check_bind("[::1]5696", false);
    check_bind("[zz::1]:5696", false);
    check_bind("host name:80", false);
}

int chsm_test_config_rules(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_pbkdf2_floor),
        cmocka_unit_test(test_rule_pbkdf2_ceiling),
        cmocka_unit_test(test_rule_max_failed_logins),
        cmocka_unit_test(test_rule_pin_length_bounds),
        cmocka_unit_test(test_rule_pin_min_le_max),
        cmocka_unit_test(test_rule_serial_length),
        cmocka_unit_test(test_rule_serial_printable),
        cmocka_unit_test(test_rule_label_length),
        cmocka_unit_test(test_rule_label_control),
        cmocka_unit_test(test_rule_slot_count),
        cmocka_unit_test(test_rule_max_sessions),
        cmocka_unit_test(test_rule_rw_le_sessions),
        cmocka_unit_test(test_rule_audit_enums),
        cmocka_unit_test(test_rule_audit_numbers),
        cmocka_unit_test(test_rule_daemon_numbers),
        cmocka_unit_test(test_rule_path_nul),
        cmocka_unit_test(test_rule_path_dotdot),
        cmocka_unit_test(test_rule_path_symlink),
        cmocka_unit_test(test_rule_path_not_directory),
        cmocka_unit_test(test_rule_path_empty_and_long),
        cmocka_unit_test(test_rule_tls_pairing),
        cmocka_unit_test(test_rule_bind),
    };
    return cmocka_run_group_tests_name("config_rules", tests, NULL, NULL);
}
