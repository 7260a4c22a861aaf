/*
 * Audit log unit tests: encoding and escaping, the strict parser, a scenario
 * of events with exact fields, tamper detection, rotation across restarts,
 * crash recovery, key-use summaries, fail-closed/open, restore continuity.
 * Multi-process tests live in test_audit_procs.c.
 */
#include "test_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"

static char g_dir[256];
static int g_seq;

char *t_path(const char *name)
{
    char *p = malloc(512);
    snprintf(p, 512, "%s/%d_%s", g_dir, ++g_seq, name);
    return p;
}

void t_cfg(struct chsm_config *cfg, const char *path)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->audit.enabled = true;
    cfg->audit.log_path = (char *)path;
    cfg->audit.log_level = CHSM_AUDIT_ALL;
    cfg->audit.key_use = CHSM_AUDIT_KEYUSE_SUMMARY;
    cfg->audit.sync = CHSM_AUDIT_SYNC_ALWAYS;
    cfg->audit.batch_ms = 100;
    cfg->audit.max_size = 64ull << 20;
}

void t_ev(struct chsm_audit *a, const char *event, CK_RV expect)
{
    struct chsm_audit_event ev = {.event = event, .slot = 0, .session = 7, .user = CHSM_AUDIT_USER_USER,
                                  .mechanism = "CKM_AES_GCM", .result = CKR_OK};
    assert_int_equal(chsm_audit_event(a, &ev), expect);
}

void t_verify_log(const char *log_path, const char *from_hash, struct chsm_audit_verify_result *res)
{
    char **files;
    size_t n;
    assert_int_equal(chsm_audit_list_files(log_path, &files, &n), CKR_OK);
    assert_int_equal(chsm_audit_verify_files((const char *const *)files, n, from_hash, res), CKR_OK);
    chsm_audit_free_list(files, n);
}

static char *slurp(const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *file, const char *data, size_t len)
{
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

size_t t_count_lines(const char *file)
{
    size_t len, n = 0;
    char *b = slurp(file, &len);
    for (size_t i = 0; i < len; i++)
        n += b[i] == '\n';
    free(b);
    return n;
}

/* The n-th line (1-based) of a file, without newline. */
static char *nth_line(const char *file, size_t n)
{
    size_t len;
    char *b = slurp(file, &len), *p = b;
    for (size_t i = 1; i < n; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    char *e = strchr(p, '\n');
    char *r = strndup(p, e != NULL ? (size_t)(e - p) : strlen(p));
    free(b);
    return r;
}

struct collect {
    struct chsm_audit_entry e[64];
    size_t n;
    size_t unparsed;
};

static int collect_cb(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno,
                      bool terminated, void *ctx)
{
    struct collect *c = ctx;
    (void)line, (void)len, (void)lineno, (void)terminated;
    if (e == NULL)
        c->unparsed++;
    else if (c->n < 64)
        c->e[c->n++] = *e;
    return 0;
}

static struct collect *read_all(const char *file)
{
    struct collect *c = calloc(1, sizeof(*c));
    assert_int_equal(chsm_audit_read_entries(file, collect_cb, c), CKR_OK);
    return c;
}

static int setup_all(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/chsm_audit_test.XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    return chsm_crypto_init() == CKR_OK ? 0 : -1;
}

static int teardown_all(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    chsm_crypto_fini();
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- encoding ---- */

static void test_escaping(void **state)
{
    (void)state;
    char *p = t_path("esc.jsonl");
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    struct chsm_audit_event ev = {.event = "object_create", .slot = 2, .session = 0,
                                  .object_id = "00ff", .object_label = "a\"b\\c\nd\x01\x7f\xc3\xa9\xff!",
                                  .result = CKR_OK};
    assert_int_equal(chsm_audit_event(a, &ev), CKR_OK);
    chsm_audit_close(a);
    char *line = nth_line(p, 1);
    assert_non_null(strstr(line, "\"slot\":2,\"session\":null,\"user\":null,"
                                 "\"object\":{\"id\":\"00ff\",\"label\":\"a\\\"b\\\\c\\nd\\u0001\\u007f\xc3\xa9\\u00ff!\"},"
                                 "\"mechanism\":null,\"result\":\"CKR_OK\","));
    assert_int_equal(strncmp(line, "{\"seq\":1,\"time\":\"", 17), 0);
    assert_non_null(strstr(line, ",\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}"));
    struct chsm_audit_entry e;
    assert_int_equal(chsm_audit_parse_line(line, strlen(line), &e), CKR_OK);
    /* The invalid byte 0xff decodes as U+00FF (documented ambiguity). */
    assert_string_equal(e.object_label, "a\"b\\c\nd\x01\x7f\xc3\xa9\xc3\xbf!");
    assert_true(e.has_slot && e.slot == 2 && !e.has_session && e.has_object);
    free(line);
    free(p);
}

static void test_long_label_capped(void **state)
{
    (void)state;
    char *p = t_path("long.jsonl");
    char label[4000];
    memset(label, '"', sizeof(label) - 1);
    label[sizeof(label) - 1] = '\0';
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    struct chsm_audit_event ev = {.event = "object_create", .slot = -1, .object_label = label, .detail = label};
    assert_int_equal(chsm_audit_event(a, &ev), CKR_OK);
    chsm_audit_close(a);
    struct collect *c = read_all(p);
    assert_int_equal(c->n, 1);
    assert_int_equal(strlen(c->e[0].object_label), 256);
    assert_int_equal(strlen(c->e[0].detail), 512);
    free(c);
    free(p);
}

static void test_parser_rejects(void **state)
{
    (void)state;
    static const char good[] = "{\"seq\":1,\"time\":\"2026-01-02T03:04:05.000006Z\",\"event\":\"login\",\"slot\":0,"
                               "\"session\":3,\"user\":\"so\",\"object\":null,\"mechanism\":null,\"result\":\"CKR_OK\","
                               "\"pid\":9,\"actor\":null,\"prev\":\"" "0000000000000000000000000000000000000000000000000000000000000000\"}";
    struct chsm_audit_entry e;
    assert_int_equal(chsm_audit_parse_line(good, strlen(good), &e), CKR_OK);
    assert_string_equal(e.user, "so");
    const char *bad[] = {
        "",
        "{}",
        "{\"seq\": 1}",
        "{\"seq\":01,\"time\":\"2026-01-02T03:04:05.000006Z\"}",
        "{\"seq\":0,\"time\":\"2026-01-02T03:04:05.000006Z\"}",
        "{\"seq\":99999999999999999999,\"time\":\"x\"}",
    };
    for (size_t i = 0; i < CHSM_ARRAY_LEN(bad); i++)
        assert_int_equal(chsm_audit_parse_line(bad[i], strlen(bad[i]), &e), CKR_DATA_INVALID);
    /* Single substitutions in the good line that must all be rejected. */
    struct {
        const char *from, *to;
    } subs[] = {
        {"\"login\"", "\"logon\""},                  /* unknown event */
        {"\"so\"", "\"root\""},                      /* unknown user */
        {"\"so\"", "\"\""},                          /* empty user */
        {"05.000006Z", "05Z"},                       /* time without microseconds */
        {"\"CKR_OK\"", "\"OK\""},                    /* not a CKR_ name */
        {"\"session\":3", "\"session\":0"},          /* session 0 is written as null */
        {"\"slot\":0", "\"slot\":-1"},               /* negative slot */
        {"\"actor\":null", "\"actor\":\"a\x01\""},   /* raw control char */
        {"\"actor\":null", "\"actor\":\"\xff\""},    /* invalid UTF-8 */
        {"\"actor\":null", "\"actor\":\"\\u0041\""}, /* non-canonical escape */
        {"\"actor\":null", "\"actor\":\"\\x\""},     /* unknown escape */
        {"\"actor\":null", "\"actor\":\"\\u00"},     /* truncated escape */
        {"\"pid\":9", "\"pid\":9 "},                 /* whitespace */
        {"0000\"}", "000g\"}"},                      /* prev not hex */
        {"0000\"}", "000\"}"},                       /* prev too short */
        {"0000\"}", "0000\"}x"},                     /* trailing bytes */
        {"0000\"}", "0000\""},                       /* truncated */
        {"\"mechanism\":null,", ""},                 /* missing key */
        {"\"object\":null", "\"object\":{\"label\":null}"},
    };
    for (size_t i = 0; i < CHSM_ARRAY_LEN(subs); i++) {
        char buf[600];
        const char *at = strstr(good, subs[i].from);
        assert_non_null(at);
        int n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, subs[i].to,
                         at + strlen(subs[i].from));
        assert_true(n > 0);
        if (chsm_audit_parse_line(buf, (size_t)n, &e) != CKR_DATA_INVALID)
            fail_msg("accepted substitution %zu: %s", i, buf);
    }
}

/* ---- scenario ---- */

static void test_scenario(void **state)
{
    (void)state;
    static const char *const events[] = {"initialize", "selftest", "config_load", "token_init", "pin_init",
                                         "session_open", "login_failed", "login", "pin_change", "object_create",
                                         "object_copy", "attribute_change", "key_generate", "keypair_generate",
                                         "wrap", "unwrap", "derive", "object_destroy", "backup", "logout",
                                         "lockout", "session_close", "restore", "finalize"};
    char *p = t_path("scenario.jsonl");
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    cfg.audit.key_use = CHSM_AUDIT_KEYUSE_EACH;
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    chsm_audit_set_actor("CN=client-1");
    for (size_t i = 0; i < CHSM_ARRAY_LEN(events); i++) {
        bool failed = strcmp(events[i], "login_failed") == 0;
        struct chsm_audit_event ev = {.event = events[i], .slot = 1, .session = 42, .user = CHSM_AUDIT_USER_SO,
                                      .object_id = "abcd", .object_label = "k1", .mechanism = "CKM_AES_KEY_WRAP",
                                      .result = failed ? CKR_PIN_INCORRECT : CKR_OK,
                                      .detail = failed ? "attempt 1 of 10" : NULL};
        assert_int_equal(chsm_audit_event(a, &ev), CKR_OK);
    }
    static const char *const ops[] = {"sign", "verify", "encrypt", "decrypt", "digest_key", "mac"};
    for (size_t i = 0; i < CHSM_ARRAY_LEN(ops); i++)
        chsm_audit_key_use(a, 1, 42, CHSM_AUDIT_USER_USER, "abcd", "k1", "CKM_ECDSA", ops[i], CKR_OK);
    struct chsm_audit_event unknown = {.event = "launch_missiles", .slot = -1};
    assert_int_equal(chsm_audit_event(a, &unknown), CKR_ARGUMENTS_BAD);
    uint64_t hseq;
    char hhash[65];
    assert_int_equal(chsm_audit_head(a, &hseq, hhash), CKR_OK);
    chsm_audit_set_actor(NULL);
    chsm_audit_close(a);

    struct collect *c = read_all(p);
    size_t ne = CHSM_ARRAY_LEN(events), no = CHSM_ARRAY_LEN(ops);
    assert_int_equal(c->n, ne + no);
    assert_int_equal(c->unparsed, 0);
    for (size_t i = 0; i < ne + no; i++) {
        const struct chsm_audit_entry *e = &c->e[i];
        assert_int_equal(e->seq, i + 1);
        assert_string_equal(e->event, i < ne ? events[i] : ops[i - ne]);
        assert_true(e->has_slot && e->slot == 1 && e->has_session && e->session == 42);
        assert_string_equal(e->user, i < ne ? "so" : "user");
        assert_string_equal(e->object_id, "abcd");
        assert_string_equal(e->object_label, "k1");
        assert_string_equal(e->mechanism, i < ne ? "CKM_AES_KEY_WRAP" : "CKM_ECDSA");
        assert_string_equal(e->actor, "CN=client-1");
        assert_int_equal(e->pid, getpid());
        assert_int_equal(e->count, 0);
        bool failed = strcmp(e->event, "login_failed") == 0;
        assert_string_equal(e->result, failed ? "CKR_PIN_INCORRECT" : "CKR_OK");
        assert_int_equal(e->has_detail, failed);
    }
    /* Every prev is the SHA-256 of the previous line's exact bytes. */
    for (size_t i = 1; i < ne + no; i++) {
        char *prev = nth_line(p, i);
        uint8_t md[32];
        char hex[65];
        assert_int_equal(chsm_sha256(prev, strlen(prev), md), CKR_OK);
        for (size_t k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        assert_string_equal(c->e[i].prev, hex);
        free(prev);
    }
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    assert_int_equal(res.entries, ne + no);
    assert_int_equal(res.last_seq, hseq);
    assert_string_equal(res.head_hash, hhash);
    assert_false(res.truncation_recovered);
    free(c);
    free(p);
}

static void test_log_levels(void **state)
{
    (void)state;
    static const struct {
        enum chsm_audit_level level;
        size_t lines;
    } cases[] = {{CHSM_AUDIT_ALL, 5}, {CHSM_AUDIT_CRYPTO, 4}, {CHSM_AUDIT_AUTH, 2}, {CHSM_AUDIT_ADMIN, 1}};
    for (size_t i = 0; i < CHSM_ARRAY_LEN(cases); i++) {
        char *p = t_path("level.jsonl");
        struct chsm_config cfg;
        struct chsm_audit *a;
        t_cfg(&cfg, p);
        cfg.audit.log_level = cases[i].level;
        cfg.audit.key_use = CHSM_AUDIT_KEYUSE_EACH;
        assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
        t_ev(a, "token_init", CKR_OK);   /* admin */
        t_ev(a, "login", CKR_OK);        /* auth */
        t_ev(a, "key_generate", CKR_OK); /* crypto */
        chsm_audit_key_use(a, 0, 7, CHSM_AUDIT_USER_USER, "01", NULL, "CKM_ECDSA", "sign", CKR_OK); /* crypto */
        t_ev(a, "session_open", CKR_OK); /* all only */
        chsm_audit_close(a);
        assert_int_equal(t_count_lines(p), cases[i].lines);
        free(p);
    }
    char *p = t_path("none.jsonl");
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    cfg.audit.log_level = CHSM_AUDIT_NONE;
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    t_ev(a, "token_init", CKR_OK);
    chsm_audit_close(a);
    assert_int_equal(access(p, F_OK), -1); /* nothing is even created */
    free(p);
}

/* ---- tamper detection ---- */

static char *make_log(size_t n)
{
    char *p = t_path("tamper.jsonl");
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    for (size_t i = 0; i < n; i++)
        t_ev(a, "object_create", CKR_OK);
    chsm_audit_close(a);
    return p;
}

/* Rewrite the log with line k (1-based) passed through fn. */
typedef void (*line_edit_fn)(char **lines, size_t *n, size_t k);

static void tamper(const char *p, line_edit_fn fn, size_t k)
{
    size_t len, n = 0;
    char *b = slurp(p, &len);
    char *lines[64];
    for (char *s = b, *e; (e = strchr(s, '\n')) != NULL; s = e + 1) {
        *e = '\0';
        lines[n++] = strdup(s);
    }
    fn(lines, &n, k);
    FILE *f = fopen(p, "wb");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\n", lines[i]);
        free(lines[i]);
    }
    fclose(f);
    free(b);
}

static void edit_field(char **l, size_t *n, size_t k)
{
    (void)n;
    char *s = strstr(l[k - 1], "\"slot\":0");
    assert_non_null(s);
    s[7] = '1';
}
static void delete_line(char **l, size_t *n, size_t k)
{
    free(l[k - 1]);
    memmove(&l[k - 1], &l[k], (*n - k) * sizeof(*l));
    (*n)--;
}
static void swap_lines(char **l, size_t *n, size_t k)
{
    (void)n;
    char *t = l[k - 1];
    l[k - 1] = l[k];
    l[k] = t;
}
static void cut_middle(char **l, size_t *n, size_t k)
{
    (void)n;
    size_t len = strlen(l[k - 1]);
    memmove(l[k - 1] + len / 3, l[k - 1] + len / 2, len - len / 2 + 1);
}

static void test_tamper(void **state)
{
    (void)state;
    struct chsm_audit_verify_result res;
    static const struct {
        line_edit_fn fn;
        size_t k, bad;
    } cases[] = {{edit_field, 3, 4}, {delete_line, 3, 3}, {swap_lines, 3, 3}, {cut_middle, 3, 3},
                 {edit_field, 1, 2}, {delete_line, 1, 1}};
    char *p = make_log(6);
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    assert_int_equal(res.entries, 6);
    free(p);
    for (size_t i = 0; i < CHSM_ARRAY_LEN(cases); i++) {
        p = make_log(6);
        tamper(p, cases[i].fn, cases[i].k);
        t_verify_log(p, NULL, &res);
        if (res.ok)
            fail_msg("case %zu not detected", i);
        if (res.bad_line != cases[i].bad)
            fail_msg("case %zu: bad_line %llu, want %zu (%s)", i, (unsigned long long)res.bad_line, cases[i].bad,
                     res.reason);
        assert_string_equal(res.bad_file, p);
        assert_true(res.reason[0] != '\0');
        free(p);
    }
    /* A wrong prev names expected vs found. */
    p = make_log(4);
    tamper(p, edit_field, 2);
    t_verify_log(p, NULL, &res);
    assert_int_equal(strlen(res.expected), 64);
    assert_int_equal(strlen(res.found), 64);
    assert_string_not_equal(res.expected, res.found);
    free(p);
}

/* ---- crash recovery ---- */

static void test_partial_line_recovery(void **state)
{
    (void)state;
    char *p = make_log(3);
    char *last = nth_line(p, 3);
    FILE *f = fopen(p, "ab");
    fputs("{\"seq\":4,\"ti", f); /* what a kill -9 mid-write could leave */
    fclose(f);
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    assert_false(res.ok); /* not yet recovered */
    assert_int_equal(res.bad_line, 4);

    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    t_ev(a, "login", CKR_OK);
    chsm_audit_close(a);
    struct collect *c = read_all(p);
    assert_int_equal(c->unparsed, 1);
    assert_int_equal(c->n, 5);
    assert_string_equal(c->e[3].event, "recovered");
    assert_int_equal(c->e[3].seq, 4);
    assert_string_equal(c->e[3].detail, "partial_line_bytes=12");
    uint8_t md[32];
    char hex[65];
    assert_int_equal(chsm_sha256(last, strlen(last), md), CKR_OK);
    for (size_t k = 0; k < 32; k++)
        snprintf(hex + 2 * k, 3, "%02x", md[k]);
    assert_string_equal(c->e[3].prev, hex); /* chains past the partial line */
    assert_string_equal(c->e[4].event, "login");
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    assert_true(res.truncation_recovered);
    assert_int_equal(res.recovered_count, 1);
    assert_int_equal(res.entries, 5);
    /* Reopening again must not record a second recovery. */
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    chsm_audit_close(a);
    assert_int_equal(t_count_lines(p), 6);
    free(c);
    free(last);
    free(p);
}

static void test_garbage_line_rejected(void **state)
{
    (void)state;
    struct chsm_audit_verify_result res;
    char *p = make_log(2);
    /* A bad line followed by a "recovered" entry with the wrong byte count is not the recovery pattern. */
    FILE *f = fopen(p, "ab");
    fputs("garbage\n", f);
    fclose(f);
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK); /* recovers the terminated garbage line */
    chsm_audit_close(a);
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    size_t len;
    char *b = slurp(p, &len);
    char *at = strstr(b, "partial_line_bytes=7");
    assert_non_null(at);
    at[19] = '8';
    spit(p, b, len);
    t_verify_log(p, NULL, &res);
    assert_false(res.ok);
    assert_int_equal(res.bad_line, 3);
    free(b);
    free(p);
}

/* ---- rotation ---- */

static void test_rotation_restart(void **state)
{
    (void)state;
    char *p = t_path("rot.jsonl");
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    for (int r = 0; r < 3; r++) {
        assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
        t_ev(a, "login", CKR_OK);
        chsm_audit_key_use(a, 0, 7, CHSM_AUDIT_USER_USER, "01", "k", "CKM_ECDSA", "sign", CKR_OK);
        assert_int_equal(chsm_audit_rotate(a), CKR_OK);
        t_ev(a, "logout", CKR_OK);
        chsm_audit_close(a); /* restart */
    }
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    t_ev(a, "finalize", CKR_OK);
    chsm_audit_close(a);
    char **files;
    size_t n;
    assert_int_equal(chsm_audit_list_files(p, &files, &n), CKR_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < 3; i++) {
        struct stat st;
        assert_int_equal(stat(files[i], &st), 0);
        assert_int_equal(st.st_mode & 0777, 0400);
        char *lastline = nth_line(files[i], t_count_lines(files[i]));
        assert_non_null(strstr(lastline, "\"event\":\"rotate\""));
        free(lastline);
    }
    assert_string_equal(files[3], p);
    struct chsm_audit_verify_result res;
    assert_int_equal(chsm_audit_verify_files((const char *const *)files, n, NULL, &res), CKR_OK);
    assert_true(res.ok);
    /* 3 x (login, sign summary, rotate, logout) + finalize */
    assert_int_equal(res.entries, 13);
    assert_int_equal(res.last_seq, 13);
    /* A missing middle segment is a seq gap at the first line of the next file. */
    const char *gap[3] = {files[0], files[2], files[3]};
    assert_int_equal(chsm_audit_verify_files(gap, 3, NULL, &res), CKR_OK);
    assert_false(res.ok);
    assert_string_equal(res.bad_file, files[2]);
    assert_int_equal(res.bad_line, 1);
    chsm_audit_free_list(files, n);
    free(p);
}

static void test_size_rotation(void **state)
{
    (void)state;
    char *p = t_path("size.jsonl");
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    cfg.audit.max_size = 4096;
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    for (int i = 0; i < 40; i++)
        t_ev(a, "object_create", CKR_OK);
    chsm_audit_close(a);
    char **files;
    size_t n;
    assert_int_equal(chsm_audit_list_files(p, &files, &n), CKR_OK);
    assert_true(n >= 3);
    chsm_audit_free_list(files, n);
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    assert_int_equal(res.entries, 40 + n - 1);
    free(p);
}

/* ---- key-use summaries ---- */

static void test_summary_counts(void **state)
{
    (void)state;
    char *p = t_path("summary.jsonl");
    struct chsm_config cfg;
    struct chsm_audit *a;
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    for (int i = 0; i < 5; i++)
        chsm_audit_key_use(a, 0, 1, CHSM_AUDIT_USER_USER, "aa", "k", "CKM_ECDSA", "sign", CKR_OK);
    for (int i = 0; i < 2; i++)
        chsm_audit_key_use(a, 0, 1, CHSM_AUDIT_USER_USER, "aa", "k", "CKM_ECDSA", "sign", CKR_KEY_FUNCTION_NOT_PERMITTED);
    for (int i = 0; i < 3; i++)
        chsm_audit_key_use(a, 0, 2, CHSM_AUDIT_USER_USER, "bb", "k2", "CKM_AES_GCM", "encrypt", CKR_OK);
    chsm_audit_key_use(a, 0, 2, CHSM_AUDIT_USER_USER, "bb", "k2", "CKM_AES_GCM", "launch", CKR_OK); /* ignored */
    chsm_audit_session_closed(a, 1);
    struct collect *c = read_all(p);
    assert_int_equal(c->n, 2); /* session 1 flushed; session 2 still pending */
    size_t ok = strcmp(c->e[0].result, "CKR_OK") == 0 ? 0 : 1;
    assert_int_equal(c->e[ok].count, 5);
    assert_int_equal(c->e[1 - ok].count, 2);
    assert_string_equal(c->e[1 - ok].result, "CKR_KEY_FUNCTION_NOT_PERMITTED");
    assert_string_equal(c->e[0].event, "sign");
    assert_true(strcmp(c->e[0].first, c->e[0].last) <= 0);
    free(c);
    chsm_audit_close(a);
    c = read_all(p);
    assert_int_equal(c->n, 3);
    assert_string_equal(c->e[2].event, "encrypt");
    assert_int_equal(c->e[2].count, 3);
    assert_int_equal(c->e[2].session, 2);
    free(c);
    /* Many distinct keys overflow the table: everything is still counted. */
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    for (int i = 0; i < 600; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%04x", i);
        chsm_audit_key_use(a, 0, 3, CHSM_AUDIT_USER_USER, id, NULL, "CKM_SHA256_HMAC", "mac", CKR_OK);
    }
    chsm_audit_close(a);
    struct chsm_audit_verify_result res;
    t_verify_log(p, NULL, &res);
    assert_true(res.ok);
    assert_int_equal(res.entries, 3 + 600);
    free(p);
}

/* ---- failure policy ---- */

static void test_fail_closed_and_open(void **state)
{
    (void)state;
    for (int open_mode = 0; open_mode < 2; open_mode++) {
        char *d = t_path("gone");
        char lp[600], lk[600];
        assert_int_equal(mkdir(d, 0700), 0);
        snprintf(lp, sizeof(lp), "%s/log.jsonl", d);
        snprintf(lk, sizeof(lk), "%s/log.jsonl.lock", d);
        struct chsm_config cfg;
        struct chsm_audit *a;
        t_cfg(&cfg, lp);
        cfg.audit.fail_open = open_mode == 1;
        assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
        t_ev(a, "login", CKR_OK);
        assert_int_equal(unlink(lp), 0);
        assert_int_equal(unlink(lk), 0);
        assert_int_equal(rmdir(d), 0);
        t_ev(a, "token_init", open_mode ? CKR_OK : CKR_DEVICE_ERROR);
        chsm_audit_close(a);
        /* Opening where the log cannot exist. */
        int rc = chsm_audit_open(&cfg, &a);
        assert_int_equal(rc, open_mode ? CKR_OK : CKR_DEVICE_ERROR);
        if (open_mode) {
            t_ev(a, "login", CKR_OK);
            chsm_audit_close(a);
        }
        free(d);
    }
}

/* ---- restore continuity ---- */

static void test_start_chained(void **state)
{
    (void)state;
    char *p = make_log(3);
    struct chsm_config cfg;
    struct chsm_audit *a;
    uint64_t seq;
    char hash[65];
    t_cfg(&cfg, p);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    assert_int_equal(chsm_audit_rotate(a), CKR_OK);
    assert_int_equal(chsm_audit_head(a, &seq, hash), CKR_OK);
    chsm_audit_close(a);
    assert_int_equal(seq, 4);

    char *np = t_path("restored.jsonl");
    assert_int_equal(chsm_audit_start_chained(np, seq, hash, "archive=x.chsm"), CKR_OK);
    assert_int_equal(chsm_audit_start_chained(np, seq, hash, NULL), CKR_FUNCTION_FAILED);
    assert_int_equal(chsm_audit_start_chained(np, seq, "xyz", NULL), CKR_ARGUMENTS_BAD);
    t_cfg(&cfg, np);
    assert_int_equal(chsm_audit_open(&cfg, &a), CKR_OK);
    t_ev(a, "login", CKR_OK);
    chsm_audit_close(a);
    struct collect *c = read_all(np);
    assert_string_equal(c->e[0].event, "restore");
    assert_int_equal(c->e[0].seq, 5);
    assert_string_equal(c->e[0].prev, hash);
    free(c);

    struct chsm_audit_verify_result res;
    char seg[600];
    snprintf(seg, sizeof(seg), "%s.000001", p);
    const char *all[2] = {seg, np};
    assert_int_equal(chsm_audit_verify_files(all, 2, NULL, &res), CKR_OK);
    assert_true(res.ok);
    assert_int_equal(res.entries, 6);
    assert_int_equal(chsm_audit_verify_files(&all[1], 1, hash, &res), CKR_OK);
    assert_true(res.ok);
    assert_string_equal(res.first_prev, hash);
    hash[0] = hash[0] == '0' ? '1' : '0';
    assert_int_equal(chsm_audit_verify_files(&all[1], 1, hash, &res), CKR_OK);
    assert_false(res.ok);
    assert_int_equal(res.bad_line, 1);
    free(np);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_long_label_capped),
        cmocka_unit_test(test_parser_rejects),
        cmocka_unit_test(test_scenario),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_partial_line_recovery),
        cmocka_unit_test(test_garbage_line_rejected),
        cmocka_unit_test(test_rotation_restart),
        cmocka_unit_test(test_size_rotation),
        cmocka_unit_test(test_summary_counts),
        cmocka_unit_test(test_fail_closed_and_open),
        cmocka_unit_test(test_start_chained),
        cmocka_unit_test(test_two_processes),
        cmocka_unit_test(test_kill9_real),
    };
    /* One group: the queue tests share the per-run directory and crypto init. */
    struct CMUnitTest all[CHSM_ARRAY_LEN(tests) + 16];
    size_t n = 0;
    for (size_t i = 0; i < CHSM_ARRAY_LEN(tests); i++)
        all[n++] = tests[i];
    for (size_t i = 0; i < t_queue_ntests && n < CHSM_ARRAY_LEN(all); i++)
        all[n++] = t_queue_tests[i];
    for (size_t i = 0; i < t_keyuse_ntests && n < CHSM_ARRAY_LEN(all); i++)
        all[n++] = t_keyuse_tests[i];
    return _cmocka_run_group_tests("test_audit", all, n, setup_all, teardown_all);
}
