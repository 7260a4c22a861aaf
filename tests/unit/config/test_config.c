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

/* ---- one rejecting case per validation rule --------------------------------------------------- */

/* Exactly one problem, equal to `want`. */
static void rejects_exactly(const char *text, const char *want)
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

/* ---- parser negatives --------------------------------------------------------------------------- */

/* Exactly one problem, containing `want` (parser messages are checked by substring plus line). */
static void syntax_error(const char *text, const char *want)
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
        cmocka_unit_test(test_multiple_problems),
        cmocka_unit_test(test_problem_cap_and_print),
        cmocka_unit_test(test_search_order),
        cmocka_unit_test(test_load_reports_file_name_and_appends),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
