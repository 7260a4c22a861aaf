/*
 * Store integrity tests: tampered rows fail authentication (never wrong
 * data, never a crash), newer formats are refused, snapshots are consistent
 * while another handle writes, export/import round-trips, nothing plaintext
 * reaches the disk, and the committed v1 fixture still opens.
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "fixture_v1.h"
#include "store_test.h"

void test_tamper(void **state);
void test_newer_version_refused(void **state);
void test_snapshot_while_writing(void **state);
void test_export_import(void **state);
void test_import_refusals(void **state);
void test_token_blob_negative(void **state);
void test_no_plaintext_on_disk(void **state);
void test_fixture_v1_opens(void **state);

static char g_log[2048];
static void capture_log(enum chsm_log_level level, const char *line)
{
    (void)level;
    strncat(g_log, line, sizeof(g_log) - strlen(g_log) - 2);
    strcat(g_log, "\n");
}

/* changes() must report exactly `expect_bad` (and deliver the others intact). */
#define expect_bad(st, mk, id, total) expect_bad_at(__LINE__, st, mk, id, total)
static void expect_bad_at(int line, struct chsm_store *st, const struct chsm_secbuf *mk, const uint8_t *bad_id, size_t total)
{
    struct t_seen seen = {0};
    g_log[0] = '\0';
    assert_int_equal(t_changes(st, T_SLOT, 0, mk, &seen, NULL), CKR_OK);
    if (seen.n_bad != 1)
        fail_msg("line %d: expected 1 bad object, got %zu (log: %s)", line, seen.n_bad, g_log);
    assert_memory_equal(seen.bad[0], bad_id, CHSM_OBJECT_ID_LEN);
    assert_int_equal(seen.n_upsert, total - 1);
    assert_null(t_find(&seen, bad_id));
    char hex[2 * CHSM_OBJECT_ID_LEN + 1], want[128];
    for (size_t i = 0; i < CHSM_OBJECT_ID_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", bad_id[i]);
    snprintf(want, sizeof(want), "store: object %s failed authentication", hex);
    assert_non_null(strstr(g_log, want));
    t_seen_reset(&seen);
}

void test_tamper(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0}, mk2 = {0};
    struct chsm_attrlist l;
    uint8_t a[CHSM_OBJECT_ID_LEN], b[CHSM_OBJECT_ID_LEN], c[CHSM_OBJECT_ID_LEN], key[32] = {0x11};
    uint8_t pa[512], pb[512], sb_[512], tmp[512];
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(a), CKR_OK);
    assert_int_equal(chsm_store_new_object_id(b), CKR_OK);
    assert_int_equal(chsm_store_new_object_id(c), CKR_OK);
    t_secret_key(&l, key, sizeof(key), "a");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, a, &l, NULL), CKR_OK);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, b, &l, NULL), CKR_OK);
    chsm_attrlist_free(&l);
    t_public_data(&l, "c", "public");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, c, &l, NULL), CKR_OK);
    chsm_attrlist_free(&l);
    chsm_log_set_sink(capture_log);

    /* 1. a flipped byte in a public part, then in a secret part */
    size_t na = t_raw_get(dir, T_SLOT, a, "pub_blob", pa, sizeof(pa));
    memcpy(tmp, pa, na);
    tmp[na / 2] ^= 0x01;
    t_raw_set(dir, T_SLOT, a, "pub_blob", tmp, na);
    expect_bad(st, &mk, a, 3);
    t_raw_set(dir, T_SLOT, a, "pub_blob", pa, na);
    size_t ns = t_raw_get(dir, T_SLOT, b, "sec_blob", sb_, sizeof(sb_));
    memcpy(tmp, sb_, ns);
    tmp[ns - 1] ^= 0x80;
    t_raw_set(dir, T_SLOT, b, "sec_blob", tmp, ns);
    expect_bad(st, &mk, b, 3);
    t_raw_set(dir, T_SLOT, b, "sec_blob", sb_, ns);

    /* 2. two objects' ciphertexts swapped: both fail (the AAD names the object id) */
    size_t nb = t_raw_get(dir, T_SLOT, b, "pub_blob", pb, sizeof(pb));
    t_raw_set(dir, T_SLOT, a, "pub_blob", pb, nb);
    t_raw_set(dir, T_SLOT, b, "pub_blob", pa, na);
    struct t_seen seen = {0};
    assert_int_equal(t_changes(st, T_SLOT, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_bad, 2);
    assert_true(t_has_id(seen.bad, 2, a) && t_has_id(seen.bad, 2, b));
    assert_int_equal(seen.n_upsert, 1);
    t_seen_reset(&seen);
    t_raw_set(dir, T_SLOT, a, "pub_blob", pa, na);
    t_raw_set(dir, T_SLOT, b, "pub_blob", pb, nb);
    /* a secret part moved to the public column of the same object: the part kind is in the AAD */
    t_raw_set(dir, T_SLOT, a, "pub_blob", sb_, ns);
    expect_bad(st, &mk, a, 3);
    t_raw_set(dir, T_SLOT, a, "pub_blob", pa, na);

    /* 3. a record copied from another token (slot 2, other serial and MK) over object a */
    static const char serial2[16] = "0000000000000002";
    assert_int_equal(chsm_store_token_init(st, 2, T_SO_PIN, T_SO_PIN_LEN, T_LABEL, serial2, T_ITER, &mk2), CKR_OK);
    t_secret_key(&l, key, sizeof(key), "a");
    assert_int_equal(chsm_store_object_put(st, 2, &mk2, a, &l, NULL), CKR_OK); /* same id on purpose */
    chsm_attrlist_free(&l);
    uint8_t op[512], os[512];
    uint8_t sa[512];
    size_t nsa = t_raw_get(dir, T_SLOT, a, "sec_blob", sa, sizeof(sa));
    size_t nop = t_raw_get(dir, 2, a, "pub_blob", op, sizeof(op));
    size_t nos = t_raw_get(dir, 2, a, "sec_blob", os, sizeof(os));
    t_raw_set(dir, T_SLOT, a, "pub_blob", op, nop);
    t_raw_set(dir, T_SLOT, a, "sec_blob", os, nos);
    expect_bad(st, &mk, a, 3);
    t_raw_set(dir, T_SLOT, a, "pub_blob", pa, na);
    t_raw_set(dir, T_SLOT, a, "sec_blob", sa, nsa);

    /* 4. clear columns altered: class of b, is_private of c */
    {
        sqlite3 *db = t_raw_open(dir);
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, "UPDATE objects SET class = 3 WHERE slot = 1 AND id = ?1", -1, &s,
                                            NULL), SQLITE_OK);
        sqlite3_bind_blob(s, 1, b, CHSM_OBJECT_ID_LEN, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    expect_bad(st, &mk, b, 3);
    {
        sqlite3 *db = t_raw_open(dir);
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, "UPDATE objects SET class = 4, is_private = 1 WHERE slot = 1 "
                                                "AND (id = ?1 OR id = ?2)", -1, &s, NULL), SQLITE_OK);
        sqlite3_bind_blob(s, 1, b, CHSM_OBJECT_ID_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, c, CHSM_OBJECT_ID_LEN, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    /* b is repaired (class 4 = CKO_SECRET_KEY), c now claims to be private: sealed under the wrong key. */
    expect_bad(st, &mk, c, 3);

    chsm_log_set_sink(NULL);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    chsm_secbuf_free(&mk2);
    t_rmrf(dir);
}

void test_newer_version_refused(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    chsm_store_close(st);
    t_sql(dir, "UPDATE meta SET value = '99' WHERE key = 'format_version'");
    assert_int_equal(chsm_store_open(dir, &st), CKR_DEVICE_ERROR);
    assert_null(st);
    assert_non_null(strstr(chsm_err_last()->msg, "store format version 99 is newer than this binary supports (1)"));
    t_sql(dir, "DELETE FROM meta WHERE key = 'format_version'");
    assert_int_equal(chsm_store_open(dir, &st), CKR_DEVICE_ERROR);
    assert_non_null(strstr(chsm_err_last()->msg, "not a Craton HSM store"));
    t_rmrf(dir);
}

#define N_SNAP 5
struct snap_fixture {
    const char *dir;
    struct chsm_store *st;
    struct chsm_secbuf mk;
    uint8_t ids[N_SNAP][CHSM_OBJECT_ID_LEN];
};

static void snap_fill(struct snap_fixture *f)
{
    struct chsm_attrlist l;
    f->dir = t_tmpdir();
    assert_int_equal(chsm_store_open(f->dir, &f->st), CKR_OK);
    t_init_token(f->st, T_SLOT, &f->mk);
    for (int i = 0; i < N_SNAP; i++) {
        uint8_t key[32];
        memset(key, 0x40 + i, sizeof(key));
        assert_int_equal(chsm_store_new_object_id(f->ids[i]), CKR_OK);
        if (i == 0)
            t_public_data(&l, "pub", "data");
        else
            t_secret_key(&l, key, sizeof(key), "snap");
        assert_int_equal(chsm_store_object_put(f->st, T_SLOT, i == 0 ? NULL : &f->mk, f->ids[i], &l, NULL), CKR_OK);
        chsm_attrlist_free(&l);
    }
}

void test_snapshot_while_writing(void **state)
{
    (void)state;
    struct snap_fixture f = {0};
    struct chsm_store *other = NULL;
    struct chsm_store_snapshot *sn = NULL;
    struct chsm_attrlist l;
    struct chsm_secbuf mk = {0};
    snap_fill(&f);
    assert_int_equal(chsm_store_open(f.dir, &other), CKR_OK);
    assert_int_equal(chsm_store_snapshot_begin(f.st, T_SLOT, &sn), CKR_OK);
    assert_int_equal(chsm_store_snapshot_count(sn), N_SNAP);
    /* Writers keep going: another "process" and the same handle both write during the snapshot. */
    for (int i = 0; i < 3; i++) {
        uint8_t id[CHSM_OBJECT_ID_LEN];
        assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
        t_public_data(&l, "late", "x");
        assert_int_equal(chsm_store_object_put(i == 0 ? f.st : other, T_SLOT, NULL, id, &l, NULL), CKR_OK);
        chsm_attrlist_free(&l);
    }
    assert_int_equal(chsm_store_object_delete(other, T_SLOT, f.ids[2]), CKR_OK);
    const uint8_t *tb = NULL;
    size_t tlen = 0;
    assert_int_equal(chsm_store_snapshot_token(sn, &tb, &tlen), CKR_OK);
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(tb, tlen, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, &mk), CKR_OK);
    assert_memory_equal(mk.data, f.mk.data, CHSM_MASTER_KEY_LEN);
    size_t n = 0;
    bool done = false;
    struct chsm_snapshot_row row;
    for (;;) {
        assert_int_equal(chsm_store_snapshot_next(sn, &row, &done), CKR_OK);
        if (done)
            break;
        n++;
        int known = 0;
        for (int i = 0; i < N_SNAP; i++)
            known |= memcmp(row.id, f.ids[i], CHSM_OBJECT_ID_LEN) == 0;
        assert_true(known); /* nothing written after the snapshot began */
        struct chsm_store_object o;
        assert_int_equal(chsm_store_open_row(&mk, T_SERIAL, &row, &o), CKR_OK);
        assert_int_equal(chsm_attrlist_get_ulong(&o.attrs, CKA_CLASS, 99), row.class_);
        chsm_store_object_free(&o);
        /* A wrong serial (another token's archive) does not authenticate. */
        assert_int_equal(chsm_store_open_row(&mk, "0000000000000009", &row, &o), CKR_DEVICE_ERROR);
    }
    assert_int_equal(n, N_SNAP); /* including the object deleted meanwhile */
    chsm_store_snapshot_end(sn);
    struct chsm_token_state ts;
    assert_int_equal(chsm_store_token_get(f.st, T_SLOT, &ts), CKR_OK);
    assert_int_equal(ts.object_count, N_SNAP + 3 - 1);
    chsm_secbuf_free(&mk);
    chsm_secbuf_free(&f.mk);
    chsm_store_close(other);
    chsm_store_close(f.st);
    t_rmrf(f.dir);
}

void test_export_import(void **state)
{
    (void)state;
    struct snap_fixture f = {0};
    struct chsm_store *dst = NULL;
    struct chsm_store_snapshot *sn = NULL;
    struct chsm_secbuf mk = {0};
    struct t_seen seen = {0};
    snap_fill(&f);
    const char *dir2 = t_tmpdir();
    assert_int_equal(chsm_store_open(dir2, &dst), CKR_OK);
    assert_int_equal(chsm_store_snapshot_begin(f.st, T_SLOT, &sn), CKR_OK);
    const uint8_t *tb = NULL;
    size_t tlen = 0;
    assert_int_equal(chsm_store_snapshot_token(sn, &tb, &tlen), CKR_OK);
    assert_int_equal(chsm_store_import_begin(dst), CKR_OK);
    assert_int_equal(chsm_store_import_token(dst, T_SLOT, tb, tlen), CKR_OK);
    struct chsm_snapshot_row row;
    bool done = false;
    while (chsm_store_snapshot_next(sn, &row, &done) == CKR_OK && !done)
        assert_int_equal(chsm_store_import_row(dst, T_SLOT, &row), CKR_OK);
    assert_true(done);
    assert_int_equal(chsm_store_import_commit(dst), CKR_OK);
    chsm_store_snapshot_end(sn);
    chsm_store_close(dst);

    assert_int_equal(chsm_store_open(dir2, &dst), CKR_OK);
    struct chsm_token_state ts;
    assert_int_equal(chsm_store_token_get(dst, T_SLOT, &ts), CKR_OK);
    assert_int_equal(ts.object_count, N_SNAP);
    assert_memory_equal(ts.serial, T_SERIAL, 16);
    assert_memory_equal(ts.label, T_LABEL, 32);
    assert_int_equal(chsm_store_pin_check(dst, T_SLOT, CHSM_PIN_USER, T_USER_PIN, T_USER_PIN_LEN, 3, &mk, NULL), CKR_OK);
    assert_memory_equal(mk.data, f.mk.data, CHSM_MASTER_KEY_LEN);
    assert_int_equal(t_changes(dst, T_SLOT, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, N_SNAP);
    assert_int_equal(seen.n_bad, 0);
    const struct chsm_store_object *o = t_find(&seen, f.ids[3]);
    assert_non_null(o);
    uint8_t key[32];
    memset(key, 0x43, sizeof(key));
    assert_memory_equal(chsm_attrlist_get(&o->attrs, CKA_VALUE)->value, key, sizeof(key));
    t_seen_reset(&seen);
    chsm_secbuf_free(&mk);
    chsm_secbuf_free(&f.mk);
    chsm_store_close(dst);
    chsm_store_close(f.st);
    t_rmrf(dir2);
    t_rmrf(f.dir);
}

void test_import_refusals(void **state)
{
    (void)state;
    struct snap_fixture f = {0};
    struct chsm_store_snapshot *sn = NULL;
    snap_fill(&f);
    assert_int_equal(chsm_store_snapshot_begin(f.st, T_SLOT, &sn), CKR_OK);
    const uint8_t *tb = NULL;
    size_t tlen = 0;
    assert_int_equal(chsm_store_snapshot_token(sn, &tb, &tlen), CKR_OK);
    uint8_t *copy = malloc(tlen);
    memcpy(copy, tb, tlen);
    struct chsm_snapshot_row row;
    bool done = false;
    assert_int_equal(chsm_store_snapshot_next(sn, &row, &done), CKR_OK);
    assert_int_equal(chsm_store_import_row(f.st, T_SLOT, &row), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(chsm_store_import_token(f.st, 5, copy, tlen), CKR_OPERATION_NOT_INITIALIZED);
    chsm_store_snapshot_end(sn);
    /* Into a slot that holds a token: refused, nothing changes. */
    assert_int_equal(chsm_store_import_begin(f.st), CKR_OK);
    assert_int_equal(chsm_store_import_begin(f.st), CKR_OPERATION_ACTIVE);
    assert_int_equal(chsm_store_import_token(f.st, T_SLOT, copy, tlen), CKR_FUNCTION_FAILED);
    assert_non_null(strstr(chsm_err_last()->msg, "already holds a token"));
    /* Garbage rows are refused by the decoder. */
    struct chsm_snapshot_row junk = {.class_ = 4, .key_type = 0x1f, .blob = (const uint8_t *)"CHOBxx", .blob_len = 6};
    assert_int_equal(chsm_store_import_row(f.st, T_SLOT, &junk), CKR_DATA_INVALID);
    chsm_store_import_abort(f.st);
    /* An import into another slot that is aborted leaves nothing behind. */
    assert_int_equal(chsm_store_import_begin(f.st), CKR_OK);
    assert_int_equal(chsm_store_import_token(f.st, 5, copy, tlen), CKR_OK);
    chsm_store_import_abort(f.st);
    struct chsm_token_state ts;
    assert_int_equal(chsm_store_token_get(f.st, 5, &ts), CKR_OK);
    assert_false(ts.initialized);
    assert_int_equal(chsm_store_token_get(f.st, T_SLOT, &ts), CKR_OK);
    assert_int_equal(ts.object_count, N_SNAP);
    free(copy);
    chsm_secbuf_free(&f.mk);
    chsm_store_close(f.st);
    t_rmrf(f.dir);
}

void test_token_blob_negative(void **state)
{
    (void)state;
    struct snap_fixture f = {0};
    struct chsm_store_snapshot *sn = NULL;
    struct chsm_secbuf mk = {0};
    snap_fill(&f);
    assert_int_equal(chsm_store_snapshot_begin(f.st, T_SLOT, &sn), CKR_OK);
    const uint8_t *tb = NULL;
    size_t tlen = 0;
    assert_int_equal(chsm_store_snapshot_token(sn, &tb, &tlen), CKR_OK);
    uint8_t *b = malloc(tlen + 1);
    memcpy(b, tb, tlen);
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, tlen, CHSM_PIN_SO, (const uint8_t *)"bad", 3, &mk),
                     CKR_PIN_INCORRECT);
    assert_null(mk.data);
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, tlen, CHSM_PIN_SO, T_USER_PIN, T_USER_PIN_LEN, &mk),
                     CKR_PIN_INCORRECT);
    for (size_t cut = 0; cut < tlen; cut += 7)
        assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, cut, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, &mk),
                         CKR_DATA_INVALID);
    b[tlen] = 0;
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, tlen + 1, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, &mk),
                     CKR_DATA_INVALID); /* trailing byte */
    b[4] = 2;
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, tlen, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, &mk),
                     CKR_DATA_INVALID);
    assert_non_null(strstr(chsm_err_last()->msg, "token blob format version 2 is newer than this binary supports (1)"));
    b[4] = 1;
    b[0] = 'X';
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, tlen, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, &mk),
                     CKR_DATA_INVALID);
    b[0] = 'C';
    /* The wrapped MK altered while the verifier still matches: a device error, not a wrong PIN. */
    /* Offset of the SO PIN's wrapped MK in token blob v1 (layout in src/store/tokenblob.c). */
    size_t so_wrap = 4 + 2 + 32 + 16 + 8 + 8 + 32 + 1 + 4 + 16 + 32;
    b[so_wrap] ^= 1;
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, tlen, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, &mk),
                     CKR_DEVICE_ERROR);
    b[so_wrap] ^= 1;
    assert_int_equal(chsm_store_unwrap_mk_from_token_blob(b, tlen, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, &mk), CKR_OK);
    chsm_secbuf_free(&mk);
    free(b);
    chsm_store_snapshot_end(sn);
    chsm_secbuf_free(&f.mk);
    chsm_store_close(f.st);
    t_rmrf(f.dir);
}

/* Every file under dir, searched for every needle. */
static void scan_dir(const char *dir, const uint8_t *const *needles, const size_t *lens, size_t n)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[700];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        fseek(fp, 0, SEEK_END);
        long sz = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        uint8_t *buf = malloc((size_t)sz + 1);
        assert_int_equal(fread(buf, 1, (size_t)sz, fp), (size_t)sz);
        fclose(fp);
        for (size_t i = 0; i < n; i++)
            if (memmem(buf, (size_t)sz, needles[i], lens[i]) != NULL)
                fail_msg("needle %zu found in %s", i, path);
        free(buf);
        files++;
    }
    closedir(d);
    assert_true(files >= 1);
}

void test_no_plaintext_on_disk(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0}, got = {0};
    struct chsm_attrlist l;
    uint8_t aes[32], rsa_d[64], id[CHSM_OBJECT_ID_LEN];
    for (size_t i = 0; i < sizeof(aes); i++)
        aes[i] = (uint8_t)(0xE0 ^ (i * 37));
    for (size_t i = 0; i < sizeof(rsa_d); i++)
        rsa_d[i] = (uint8_t)(0x5A ^ (i * 11));
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_secret_key(&l, aes, sizeof(aes), "scan-aes");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    chsm_attrlist_free(&l);
    chsm_attrlist_init(&l);
    assert_int_equal(chsm_attrlist_set_ulong(&l, CKA_CLASS, CKO_PRIVATE_KEY), CKR_OK);
    assert_int_equal(chsm_attrlist_set_ulong(&l, CKA_KEY_TYPE, CKK_RSA), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_PRIVATE, false), CKR_OK); /* even a "public" private key */
    assert_int_equal(chsm_attrlist_set(&l, CKA_PRIVATE_EXPONENT, rsa_d, sizeof(rsa_d)), CKR_OK);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    chsm_attrlist_free(&l);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_USER, T_USER_PIN, T_USER_PIN_LEN, 3, &got, NULL), CKR_OK);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, 3, NULL, NULL), CKR_OK);
    const uint8_t *needles[] = {aes, rsa_d, T_SO_PIN, T_USER_PIN, mk.data, got.data};
    const size_t lens[] = {sizeof(aes), sizeof(rsa_d), T_SO_PIN_LEN, T_USER_PIN_LEN, CHSM_MASTER_KEY_LEN,
                           CHSM_MASTER_KEY_LEN};
    scan_dir(dir, needles, lens, CHSM_ARRAY_LEN(needles)); /* while open: db, -wal, -shm */
    chsm_store_close(st);
    scan_dir(dir, needles, lens, CHSM_ARRAY_LEN(needles)); /* after close */
    /* Sanity: the scanner finds what is there (the label is stored... encrypted, so use the file magic). */
    const uint8_t *magic[] = {(const uint8_t *)"SQLite format 3"};
    const size_t mlen[] = {15};
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, CHSM_STORE_DB_NAME);
    FILE *fp = fopen(path, "rb");
    char head[16] = {0};
    assert_int_equal(fread(head, 1, 15, fp), 15);
    fclose(fp);
    assert_memory_equal(head, magic[0], mlen[0]);
    chsm_secbuf_free(&mk);
    chsm_secbuf_free(&got);
    t_rmrf(dir);
}

void test_fixture_v1_opens(void **state)
{
    (void)state;
    const char *fixtures = getenv("CHSM_TEST_FIXTURES");
    assert_non_null(fixtures); /* a missing fixture dir is an error, not a skip */
    const char *dir = t_tmpdir();
    char from[600], to[600];
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(from, sizeof(from), "%s/store/v1/%s", fixtures, CHSM_STORE_DB_NAME);
    snprintf(to, sizeof(to), "%s/%s", dir, CHSM_STORE_DB_NAME);
    t_copy_file(from, to);
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_token_state ts;
    struct t_seen seen = {0};
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(chsm_store_format_version(st), 1);
    assert_int_equal(chsm_store_token_get(st, FX_SLOT, &ts), CKR_OK);
    assert_true(ts.initialized);
    assert_memory_equal(ts.label, FX_LABEL, 32);
    assert_memory_equal(ts.serial, FX_SERIAL, 16);
    assert_int_equal(ts.object_count, 3);
    /* Logged out: only the public data object. */
    assert_int_equal(t_changes(st, FX_SLOT, 0, NULL, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 1);
    assert_memory_equal(chsm_attrlist_get(&seen.objs[0].attrs, CKA_VALUE)->value, FX_DATA_VALUE,
                        strlen(FX_DATA_VALUE));
    assert_int_equal(chsm_store_pin_check(st, FX_SLOT, CHSM_PIN_USER, (const uint8_t *)FX_USER_PIN,
                                          strlen(FX_USER_PIN), 3, &mk, NULL), CKR_OK);
    assert_int_equal(t_changes(st, FX_SLOT, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 3);
    assert_int_equal(seen.n_bad, 0);
    int found_aes = 0, found_sec = 0;
    for (size_t i = 0; i < seen.n_upsert; i++) {
        const struct chsm_attr *lab = chsm_attrlist_get(&seen.objs[i].attrs, CKA_LABEL);
        const struct chsm_attr *val = chsm_attrlist_get(&seen.objs[i].attrs, CKA_VALUE);
        assert_non_null(lab);
        assert_non_null(val);
        if (lab->len == strlen(FX_AES_LABEL) && memcmp(lab->value, FX_AES_LABEL, lab->len) == 0) {
            assert_int_equal(val->len, 32);
            for (size_t k = 0; k < 32; k++)
                assert_int_equal(val->value[k], k);
            found_aes = 1;
        }
        if (lab->len == strlen(FX_SECRET_LABEL) && memcmp(lab->value, FX_SECRET_LABEL, lab->len) == 0) {
            assert_int_equal(val->len, 20);
            assert_int_equal(val->value[19], 0xC3);
            assert_memory_equal(chsm_attrlist_get(&seen.objs[i].attrs, CKA_ID)->value, FX_SECRET_ID, 4);
            found_sec = 1;
        }
    }
    assert_true(found_aes && found_sec);
    t_seen_reset(&seen);
    chsm_secbuf_free(&mk);
    assert_int_equal(chsm_store_pin_check(st, FX_SLOT, CHSM_PIN_SO, (const uint8_t *)FX_SO_PIN, strlen(FX_SO_PIN), 3,
                                          &mk, NULL), CKR_OK);
    chsm_secbuf_free(&mk);
    chsm_store_close(st);
    t_rmrf(dir);
}
