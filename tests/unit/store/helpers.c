#define _XOPEN_SOURCE 700 /* nftw */
#include "store_test.h"

#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"

const char T_LABEL[32] = "test token                      ";
const char T_SERIAL[16] = "0000000000000001";
const uint8_t T_SO_PIN[] = "so-pin-7f3a9c";
const size_t T_SO_PIN_LEN = sizeof(T_SO_PIN) - 1;
const uint8_t T_USER_PIN[] = "user-pin-5d21e8";
const size_t T_USER_PIN_LEN = sizeof(T_USER_PIN) - 1;

const char *t_tmpdir(void)
{
    static char buf[512];
    const char *base = getenv("TMPDIR");
    snprintf(buf, sizeof(buf), "%s/chsm-store-XXXXXX", base != NULL ? base : "/tmp");
    assert_non_null(mkdtemp(buf));
    strcat(buf, "/store");
    return buf;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

void t_rmrf(const char *path)
{
    char parent[512];
    snprintf(parent, sizeof(parent), "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash != NULL && strncmp(parent, "/tmp/chsm-store-", 16) == 0)
        *slash = '\0';
    nftw(parent, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void t_init_token(struct chsm_store *st, uint32_t slot, struct chsm_secbuf *mk)
{
    assert_int_equal(chsm_store_token_init(st, slot, T_SO_PIN, T_SO_PIN_LEN, T_LABEL, T_SERIAL, T_ITER, mk), CKR_OK);
    assert_int_equal(mk->len, CHSM_MASTER_KEY_LEN);
    assert_int_equal(chsm_store_pin_set(st, slot, CHSM_PIN_USER, mk, T_USER_PIN, T_USER_PIN_LEN, T_ITER), CKR_OK);
}

void t_secret_key(struct chsm_attrlist *l, const uint8_t *value, size_t len, const char *label)
{
    chsm_attrlist_init(l);
    assert_int_equal(chsm_attrlist_set_ulong(l, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_int_equal(chsm_attrlist_set_ulong(l, CKA_KEY_TYPE, CKK_AES), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(l, CKA_PRIVATE, true), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(l, CKA_TOKEN, true), CKR_OK);
    assert_int_equal(chsm_attrlist_set(l, CKA_LABEL, label, strlen(label)), CKR_OK);
    assert_int_equal(chsm_attrlist_set(l, CKA_VALUE, value, len), CKR_OK);
}

void t_public_data(struct chsm_attrlist *l, const char *label, const char *value)
{
    chsm_attrlist_init(l);
    assert_int_equal(chsm_attrlist_set_ulong(l, CKA_CLASS, CKO_DATA), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(l, CKA_PRIVATE, false), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(l, CKA_TOKEN, true), CKR_OK);
    assert_int_equal(chsm_attrlist_set(l, CKA_LABEL, label, strlen(label)), CKR_OK);
    assert_int_equal(chsm_attrlist_set(l, CKA_VALUE, value, strlen(value)), CKR_OK);
}

void t_seen_reset(struct t_seen *s)
{
    for (size_t i = 0; i < s->n_upsert; i++)
        chsm_store_object_free(&s->objs[i]);
    memset(s, 0, sizeof(*s));
}

static CK_RV on_upsert(void *ctx, struct chsm_store_object *obj)
{
    struct t_seen *s = ctx;
    if (s->n_upsert >= MAX_SEEN) {
        chsm_store_object_free(obj);
        return CKR_HOST_MEMORY;
    }
    s->objs[s->n_upsert++] = *obj; /* take ownership by value */
    return CKR_OK;
}

static CK_RV on_removed(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN])
{
    struct t_seen *s = ctx;
    if (s->n_removed < MAX_SEEN)
        memcpy(s->removed[s->n_removed++], id, CHSM_OBJECT_ID_LEN);
    return CKR_OK;
}

static void on_bad(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN], CK_RV why)
{
    struct t_seen *s = ctx;
    assert_int_equal(why, CKR_DEVICE_ERROR);
    if (s->n_bad < MAX_SEEN)
        memcpy(s->bad[s->n_bad++], id, CHSM_OBJECT_ID_LEN);
}

CK_RV t_changes(struct chsm_store *st, uint32_t slot, uint64_t since, const struct chsm_secbuf *mk, struct t_seen *s,
                uint64_t *now)
{
    struct chsm_store_feed feed = {s, on_upsert, on_removed, on_bad};
    t_seen_reset(s);
    return chsm_store_changes(st, slot, since, mk, &feed, now);
}

const struct chsm_store_object *t_find(const struct t_seen *s, const uint8_t id[CHSM_OBJECT_ID_LEN])
{
    for (size_t i = 0; i < s->n_upsert; i++)
        if (memcmp(s->objs[i].id, id, CHSM_OBJECT_ID_LEN) == 0)
            return &s->objs[i];
    return NULL;
}

int t_has_id(const uint8_t (*ids)[CHSM_OBJECT_ID_LEN], size_t n, const uint8_t id[CHSM_OBJECT_ID_LEN])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(ids[i], id, CHSM_OBJECT_ID_LEN) == 0)
            return 1;
    return 0;
}

void t_sql(const char *dir, const char *sql)
{
    char path[600];
    sqlite3 *db = NULL;
    char *err = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, CHSM_STORE_DB_NAME);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("sql %s: %s", sql, err != NULL ? err : "?");
    sqlite3_free(err);
    sqlite3_close(db);
}

/* ---- raw row access, as an attacker with write access to the files would do ---- */

sqlite3 *t_raw_open(const char *dir)
{
    char path[600];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, CHSM_STORE_DB_NAME);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

size_t t_raw_get(const char *dir, uint32_t slot, const uint8_t *id, const char *col, uint8_t *out, size_t cap)
{
    char sql[128];
    sqlite3 *db = t_raw_open(dir);
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof(sql), "SELECT %s FROM objects WHERE slot = ?1 AND id = ?2", col);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, slot);
    sqlite3_bind_blob(s, 2, id, CHSM_OBJECT_ID_LEN, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_bytes(s, 0);
    assert_true(n <= cap);
    memcpy(out, sqlite3_column_blob(s, 0), n);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

void t_raw_set(const char *dir, uint32_t slot, const uint8_t *id, const char *col, const uint8_t *v, size_t n)
{
    char sql[128];
    sqlite3 *db = t_raw_open(dir);
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof(sql), "UPDATE objects SET %s = ?3 WHERE slot = ?1 AND id = ?2", col);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, slot);
    sqlite3_bind_blob(s, 2, id, CHSM_OBJECT_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, v, (int)n, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

void t_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        fail_msg("fixture missing: %s", from);
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(write(fd, buf, n), (ssize_t)n);
    fclose(in);
    close(fd);
}
