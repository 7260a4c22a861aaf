/*
 * Unit tests for src/config: defaults, round trip of every key, one
 * rejecting case per validation rule (asserting the message names the file,
 * line, field, rule and value), parser negatives, search order, and the
 * path rules against a real temporary directory.
 */
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

/* ---- defaults and round trip ---------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    struct chsm_config c;
    assert_int_equal(chsm_config_defaults(&c), CKR_OK);
    assert_null(c.source_path);
    assert_string_equal(c.token.label, "Craton HSM");
    assert_string_equal(c.token.serial_number, "0000000000000001");
    assert_int_equal(c.token.slot_count, 1);
    assert_int_equal(c.token.max_sessions, 1024);
    assert_int_equal(c.token.max_rw_sessions, 1024);
    assert_string_equal(c.token.storage_path, "craton_hsm_store");
    assert_int_equal(c.security.pin_min_length, 4);
    assert_int_equal(c.security.pin_max_length, 255);
    assert_int_equal(c.security.max_failed_logins, 10);
    assert_int_equal(c.security.pbkdf2_iterations, 600000);
    assert_false(c.algorithms.fips_approved_only);
    assert_false(c.algorithms.allow_weak_rsa);
    assert_false(c.algorithms.allow_sha1_signing);
    assert_true(c.audit.enabled);
    assert_null(c.audit.log_path);
    assert_int_equal(c.audit.log_level, CHSM_AUDIT_ALL);
    assert_int_equal(c.audit.key_use, CHSM_AUDIT_KEYUSE_SUMMARY);
    assert_int_equal(c.audit.sync, CHSM_AUDIT_SYNC_ALWAYS);
    assert_int_equal(c.audit.batch_ms, 100);
    assert_true(c.audit.max_size == 64ull * 1024 * 1024);
    assert_false(c.audit.fail_open);
    assert_string_equal(c.daemon.bind, "127.0.0.1:5696");
    assert_null(c.daemon.tls_cert);
    assert_null(c.daemon.tls_key);
    assert_null(c.daemon.tls_client_ca);
    assert_false(c.daemon.allow_unauthenticated_tls);
    assert_int_equal(c.daemon.max_recv_message_bytes, 4 * 1024 * 1024);
    assert_int_equal(c.daemon.max_send_message_bytes, 16 * 1024 * 1024);
    assert_int_equal(c.daemon.max_concurrent_streams, 64);
    assert_int_equal(c.daemon.max_random_bytes, 65536);
    assert_int_equal(c.daemon.session_idle_timeout_s, 300);
    assert_int_equal(c.daemon.shutdown_grace_s, 10);
    assert_int_equal(c.daemon.worker_threads, 2);
    assert_false(chsm_config_is_volatile(&c));
    chsm_config_free(&c);
    assert_null(c.token.label);
}

static void test_full_round_trip(void **state)
{
    (void)state;
    struct tdir *d = tdir_new();
    char *text = tfmt("# every key, none at its default\n"
                      "[token]\n"
                      "label = \"Prod \\u00e9 HSM\"\n"
                      "serial_number = 'SER-0042'\n"
                      "slot_count = 4\n"
                      "max_sessions = 2_048\n"
                      "max_rw_sessions = 512\n"
                      "storage_path = \"%s/store\"\n"
                      "\n"
                      "[security]\n"
                      "pin_min_length = 8\n"
                      "pin_max_length = 64\n"
                      "max_failed_logins = 5\n"
                      "pbkdf2_iterations = +1_000_000\n"
                      "[algorithms]\n"
                      "fips_approved_only = true\n"
                      "allow_weak_rsa = true\n"
                      "allow_sha1_signing = true\n"
                      "[audit]\n"
                      "enabled = false\n"
                      "log_path = \"%s/audit/log.jsonl\"\n"
                      "log_level = \"auth\"\n"
                      "key_use = \"each\"\n"
                      "sync = \"batch\"\n"
                      "batch_ms = 250\n"
                      "max_size = 1099511627776\n"
                      "fail_open = true\n"
                      "[daemon]\n"
                      "bind = \"[::1]:7000\"\n"
                      "tls_cert = \"%s/c.pem\"\n"
                      "tls_key = \"%s/k.pem\"\n"
                      "tls_client_ca = \"%s/ca.pem\"\n"
                      "allow_unauthenticated_tls = true\n"
                      "max_recv_message_bytes = 8192\n"
                      "max_send_message_bytes = 16384\n"
                      "max_concurrent_streams = 8\n"
                      "max_random_bytes = 1024\n"
                      "session_idle_timeout_s = 60\n"
                      "shutdown_grace_s = 0\n"
                      "worker_threads = 16\n",
                      d->path, d->path, d->path, d->path, d->path);
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_parse("full.toml", text, strlen(text), &c, &diag), CKR_OK);
    assert_int_equal(diag.count, 0);
    assert_string_equal(c.source_path, "full.toml");
    assert_string_equal(c.token.label, "Prod \xc3\xa9 HSM");
    assert_string_equal(c.token.serial_number, "SER-0042");
    assert_int_equal(c.token.slot_count, 4);
    assert_int_equal(c.token.max_sessions, 2048);
    assert_int_equal(c.token.max_rw_sessions, 512);
    char *expect = tfmt("%s/store", d->path);
    assert_string_equal(c.token.storage_path, expect);
    free(expect);
    assert_int_equal(c.security.pin_min_length, 8);
    assert_int_equal(c.security.pin_max_length, 64);
    assert_int_equal(c.security.max_failed_logins, 5);
    assert_int_equal(c.security.pbkdf2_iterations, 1000000);
    assert_true(c.algorithms.fips_approved_only && c.algorithms.allow_weak_rsa && c.algorithms.allow_sha1_signing);
    assert_false(c.audit.enabled);
    expect = tfmt("%s/audit/log.jsonl", d->path);
    assert_string_equal(c.audit.log_path, expect);
    char *alp = chsm_config_audit_log_path(&c);
    assert_string_equal(alp, expect);
    free(alp);
    free(expect);
    assert_int_equal(c.audit.log_level, CHSM_AUDIT_AUTH);
    assert_int_equal(c.audit.key_use, CHSM_AUDIT_KEYUSE_EACH);
    assert_int_equal(c.audit.sync, CHSM_AUDIT_SYNC_BATCH);
    assert_int_equal(c.audit.batch_ms, 250);
    assert_true(c.audit.max_size == 1ull << 40);
    assert_true(c.audit.fail_open);
    assert_string_equal(c.daemon.bind, "[::1]:7000");
    assert_non_null(strstr(c.daemon.tls_cert, "/c.pem"));
    assert_non_null(strstr(c.daemon.tls_key, "/k.pem"));
    assert_non_null(strstr(c.daemon.tls_client_ca, "/ca.pem"));
    assert_true(c.daemon.allow_unauthenticated_tls);
    assert_int_equal(c.daemon.max_recv_message_bytes, 8192);
    assert_int_equal(c.daemon.max_send_message_bytes, 16384);
    assert_int_equal(c.daemon.max_concurrent_streams, 8);
    assert_int_equal(c.daemon.max_random_bytes, 1024);
    assert_int_equal(c.daemon.session_idle_timeout_s, 60);
    assert_int_equal(c.daemon.shutdown_grace_s, 0);
    assert_int_equal(c.daemon.worker_threads, 16);
    chsm_config_free(&c);
    free(text);
    tdir_free(d);
}

/* The shipped example documents the defaults: it must load and equal them. */
static void test_example_file_is_defaults(void **state)
{
    (void)state;
    struct chsm_config c, def;
    struct chsm_config_diag diag = {0};
    CK_RV rv = chsm_config_load(CHSM_EXAMPLE_CONFIG, &c, &diag);
    chsm_config_print_problems(&diag, stderr);
    assert_int_equal(rv, CKR_OK);
    assert_int_equal(chsm_config_defaults(&def), CKR_OK);
    assert_string_equal(c.source_path, CHSM_EXAMPLE_CONFIG);
    assert_string_equal(c.token.label, def.token.label);
    assert_string_equal(c.token.serial_number, def.token.serial_number);
    assert_string_equal(c.token.storage_path, def.token.storage_path);
    assert_string_equal(c.daemon.bind, def.daemon.bind);
    /* Compare every scalar by zeroing the pointers on copies. */
    struct chsm_config a = c, b = def;
    a.source_path = b.source_path = NULL;
    a.token.label = b.token.label = NULL;
    a.token.serial_number = b.token.serial_number = NULL;
    a.token.storage_path = b.token.storage_path = NULL;
    a.daemon.bind = b.daemon.bind = NULL;
    assert_memory_equal(&a.token, &b.token, sizeof(a.token));
    assert_memory_equal(&a.security, &b.security, sizeof(a.security));
    assert_memory_equal(&a.algorithms, &b.algorithms, sizeof(a.algorithms));
    assert_memory_equal(&a.audit, &b.audit, sizeof(a.audit));
    assert_memory_equal(&a.daemon, &b.daemon, sizeof(a.daemon));
    chsm_config_free(&c);
    chsm_config_free(&def);
}

static void test_max_rw_follows_max_sessions(void **state)
{
    (void)state;
    struct chsm_config c;
    const char *t = "[token]\nmax_sessions = 10\n";
    assert_int_equal(chsm_config_parse("t.toml", t, strlen(t), &c, NULL), CKR_OK);
    assert_int_equal(c.token.max_sessions, 10);
    assert_int_equal(c.token.max_rw_sessions, 10);
    chsm_config_free(&c);
}

static void test_volatile_store(void **state)
{
    (void)state;
    struct chsm_config c;
    const char *t1 = "[token]\nstorage_path = \":memory:\"\n";
    assert_int_equal(chsm_config_parse("t.toml", t1, strlen(t1), &c, NULL), CKR_OK);
    assert_true(chsm_config_is_volatile(&c));
    assert_null(chsm_config_audit_log_path(&c)); /* documented: no default audit file */
    chsm_config_free(&c);
    const char *t2 = "[token]\nstorage_path = \"\"\n[audit]\nlog_path = \"a.jsonl\"\n";
    assert_int_equal(chsm_config_parse("t.toml", t2, strlen(t2), &c, NULL), CKR_OK);
    assert_true(chsm_config_is_volatile(&c));
    char *p = chsm_config_audit_log_path(&c);
    assert_string_equal(p, "a.jsonl");
    free(p);
    chsm_config_free(&c);
}

static void check_audit_default(const char *storage, const char *expect)
{
    struct chsm_config c;
    assert_int_equal(chsm_config_defaults(&c), CKR_OK);
    free(c.token.storage_path);
    c.token.storage_path = strdup(storage);
    char *p = chsm_config_audit_log_path(&c);
    assert_non_null(p);
    assert_string_equal(p, expect);
    free(p);
    chsm_config_free(&c);
}

static void test_audit_path_beside_store(void **state)
{
    (void)state;
    check_audit_default("craton_hsm_store", "craton_hsm_audit.jsonl");
    check_audit_default("craton_hsm_store/", "craton_hsm_audit.jsonl");
    check_audit_default("/var/lib/craton-hsm/store", "/var/lib/craton-hsm/craton_hsm_audit.jsonl");
    check_audit_default("/var/lib/craton-hsm/store//", "/var/lib/craton-hsm/craton_hsm_audit.jsonl");
    check_audit_default("data/store", "data/craton_hsm_audit.jsonl");
    check_audit_default("/store", "/craton_hsm_audit.jsonl");
}

/* ---- several problems at once ------------------------------------------------------------------- */

static void test_multiple_problems(void **state)
{
    (void)state;
    const char *t = "[token]\n"
                    "slot_count = 0\n"
                    "colour = 1\n"
                    "[security]\n"
                    "pbkdf2_iterations = 1000\n"
                    "pin_min_length = true\n"
                    "[daemon]\n"
                    "bind = \"nowhere\"\n";
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_parse("m.toml", t, strlen(t), &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(diag.count, 5);
    assert_non_null(strstr(diag.items[0].message, "m.toml:2: token.slot_count:"));
    assert_non_null(strstr(diag.items[1].message, "m.toml:3: token.colour: unknown key"));
    assert_non_null(strstr(diag.items[2].message, "m.toml:5: security.pbkdf2_iterations: must be at least 100000"));
    assert_non_null(strstr(diag.items[3].message, "m.toml:6: security.pin_min_length: must be an integer"));
    assert_non_null(strstr(diag.items[4].message, "m.toml:8: daemon.bind:"));
    /* The detail of the first problem is in the per-thread error record too. */
    assert_non_null(strstr(chsm_err_last()->msg, "5 configuration problems"));
    chsm_config_diag_free(&diag);

    /* Syntax errors are all reported (recovery at the next line), with their own lines. */
    const char *s = "[token]\nlabel = \"\\q\"\nserial_number = 'x\nslot_count = 1\nmax_sessions = 1.0\n";
    assert_int_equal(chsm_config_parse("m.toml", s, strlen(s), &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(diag.count, 3);
    assert_non_null(strstr(diag.items[0].message, "m.toml:2: invalid escape"));
    assert_non_null(strstr(diag.items[1].message, "m.toml:3: unterminated string"));
    assert_non_null(strstr(diag.items[2].message, "m.toml:5: floating-point"));
    chsm_config_diag_free(&diag);
}

static void test_problem_cap_and_print(void **state)
{
    (void)state;
    size_t n = 200;
    char *t = malloc(n * 8 + 1);
    t[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(t, "x = y\n");
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_parse("cap.toml", t, strlen(t), &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(diag.count, 51);
    assert_string_equal(diag.items[50].message, "cap.toml: too many problems; stopped reporting");
    FILE *f = tmpfile();
    assert_non_null(f);
    chsm_config_print_problems(&diag, f);
    rewind(f);
    char line[512];
    size_t lines = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        lines++;
    fclose(f);
    assert_int_equal(lines, 51);
    chsm_config_diag_free(&diag);
    assert_int_equal(diag.count, 0);
    free(t);
}

/* ---- search order ---------------------------------------------------------------------------------- */

static void load_label(const char *explicit_path, CK_RV want_rv, const char *want_label, const char *want_msg)
{
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_load(explicit_path, &c, &diag), want_rv);
    if (want_label != NULL)
        assert_string_equal(c.token.label, want_label);
    if (want_msg != NULL) {
        assert_int_equal(diag.count, 1);
        assert_string_equal(diag.items[0].message, want_msg);
    }
    chsm_config_free(&c);
    chsm_config_diag_free(&diag);
}

static void test_search_order(void **state)
{
    (void)state;
    struct tdir *d = tdir_new();
    tdir_write(d, "a.toml", "[token]\nlabel = \"from A\"\nstorage_path = ':memory:'\n");
    tdir_write(d, "b.toml", "[token]\nlabel = \"from B\"\nstorage_path = ':memory:'\n");
    tdir_mkdir(d, "cwd");
    tdir_write(d, "cwd/craton_hsm.toml", "[token]\nlabel = \"from cwd\"\nstorage_path = ':memory:'\n");
    tdir_mkdir(d, "empty");
    char *a = tfmt("%s/a.toml", d->path), *b = tfmt("%s/b.toml", d->path), *missing = tfmt("%s/none.toml", d->path);
    char *cwd = tfmt("%s/cwd", d->path), *empty = tfmt("%s/empty", d->path);
    char old[4096];
    assert_non_null(getcwd(old, sizeof(old)));
    assert_int_equal(chdir(cwd), 0);

    /* explicit > env > ./craton_hsm.toml */
    assert_int_equal(setenv(CHSM_CONFIG_ENV, b, 1), 0);
    assert_string_equal(chsm_config_locate(a), a);
    load_label(a, CKR_OK, "from A", NULL);
    assert_string_equal(chsm_config_locate(NULL), b);
    load_label(NULL, CKR_OK, "from B", NULL);
    assert_int_equal(unsetenv(CHSM_CONFIG_ENV), 0);
    assert_string_equal(chsm_config_locate(NULL), "craton_hsm.toml");
    load_label(NULL, CKR_OK, "from cwd", NULL);
    /* An empty variable counts as unset. */
    assert_int_equal(setenv(CHSM_CONFIG_ENV, "", 1), 0);
    load_label(NULL, CKR_OK, "from cwd", NULL);

    /* A named file that does not exist is an error, never a fallback. */
    char *msg = tfmt("%s: cannot read: No such file or directory", missing);
    assert_int_equal(setenv(CHSM_CONFIG_ENV, missing, 1), 0);
    load_label(NULL, CKR_ARGUMENTS_BAD, NULL, msg);
    assert_int_equal(unsetenv(CHSM_CONFIG_ENV), 0);
    load_label(missing, CKR_ARGUMENTS_BAD, NULL, msg);
    free(msg);
    msg = tfmt("%s: cannot read: not a regular file", d->path);
    load_label(d->path, CKR_ARGUMENTS_BAD, NULL, msg);
    free(msg);
    /* A FIFO is refused without blocking on open. */
    char *fifo = tfmt("%s/fifo", d->path);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    msg = tfmt("%s: cannot read: not a regular file", fifo);
    load_label(fifo, CKR_ARGUMENTS_BAD, NULL, msg);
    free(msg);
    free(fifo);

    /* Nothing anywhere: built-in defaults, no source. */
    assert_int_equal(chdir(empty), 0);
    assert_null(chsm_config_locate(NULL));
    struct chsm_config c;
    assert_int_equal(chsm_config_load(NULL, &c, NULL), CKR_OK);
    assert_null(c.source_path);
    assert_string_equal(c.token.label, "Craton HSM");
    chsm_config_free(&c);

    /* The defaults are validated too: a symlinked default store is refused. */
    tdir_mkdir(d, "empty/elsewhere");
    tdir_symlink(d, "elsewhere", "empty/craton_hsm_store");
    load_label(NULL, CKR_ARGUMENTS_BAD, NULL,
               "(built-in defaults): token.storage_path: must not have symlinked components (\"craton_hsm_store\" is a "
               "symbolic link), got \"craton_hsm_store\"");

    assert_int_equal(chdir(old), 0);
    free(a);
    free(b);
    free(missing);
    free(cwd);
    free(empty);
    tdir_free(d);
}

static void test_load_reports_file_name_and_appends(void **state)
{
    (void)state;
    struct tdir *d = tdir_new();
    tdir_write(d, "bad.toml", "[security]\n\npbkdf2_iterations = 50000\n");
    char *p = tfmt("%s/bad.toml", d->path);
    struct chsm_config c;
    struct chsm_config_diag diag = {0};
    assert_int_equal(chsm_config_load(p, &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(chsm_config_load(p, &c, &diag), CKR_ARGUMENTS_BAD);
    assert_int_equal(diag.count, 2); /* appended, not replaced */
    char *want = tfmt("%s:3: security.pbkdf2_iterations: must be at least 100000 (the floor since 0.9.1), got 50000", p);
    assert_string_equal(diag.items[1].message, want);
    assert_null(c.token.label);
    free(want);
    free(p);
    chsm_config_diag_free(&diag);
    tdir_free(d);
}

static void test_null_arguments(void **state)
{
    (void)state;
    struct chsm_config c;
    assert_int_equal(chsm_config_parse("x", NULL, 5, &c, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(chsm_config_parse("x", "", 0, NULL, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(chsm_config_load(NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
    /* Empty input is a valid (all-defaults) document. */
    assert_int_equal(chsm_config_parse(NULL, NULL, 0, &c, NULL), CKR_OK);
    chsm_config_free(&c);
    chsm_config_free(NULL);
    chsm_config_diag_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_round_trip),
        cmocka_unit_test(test_example_file_is_defaults),
        cmocka_unit_test(test_max_rw_follows_max_sessions),
        cmocka_unit_test(test_volatile_store),
        cmocka_unit_test(test_audit_path_beside_store),
        cmocka_unit_test(test_multiple_problems),
        cmocka_unit_test(test_problem_cap_and_print),
        cmocka_unit_test(test_search_order),
        cmocka_unit_test(test_load_reports_file_name_and_appends),
        cmocka_unit_test(test_null_arguments),
    };
    int failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
    failed += chsm_test_config_rules();
    failed += chsm_test_config_parse();
    return failed;
}
