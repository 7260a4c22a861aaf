/*
 * Store unit tests: persistence, file modes, key hierarchy and lockout,
 * objects and the change feed, two handles on one store (as two processes
 * would be). Tamper, snapshot/import, plaintext scan and fixtures are in
 * test_store_integrity.c; record-version-2 authentication (review C2/H1) in
 * test_store_auth.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "crypto/crypto.h"
#include "store_test.h"

void test_tamper(void **state);
void test_newer_version_refused(void **state);
void test_snapshot_while_writing(void **state);
void test_export_import(void **state);
void test_import_refusals(void **state);
void test_token_blob_negative(void **state);
void test_no_plaintext_on_disk(void **state);
void test_fixture_v1_opens(void **state);
void test_crash_kill(void **state);
void test_forged_public_part_of_secret_key(void **state);
void test_public_object_mac(void **state);
void test_rev_bound_and_row_replay(void **state);
void test_v1_records_upgrade(void **state);
void test_fixture_records_v2_opens(void **state);

static void test_open_reopen_persists(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_token_state ts;
    struct stat sb;
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_false(chsm_store_is_volatile(st));
    assert_int_equal(chsm_store_format_version(st), CHSM_STORE_FORMAT_VERSION);
    assert_int_equal(chsm_store_token_get(st, T_SLOT, &ts), CKR_OK);
    assert_false(ts.initialized);
    t_init_token(st, T_SLOT, &mk);
    chsm_store_close(st);

    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, CHSM_STORE_DB_NAME);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(chsm_store_token_get(st, T_SLOT, &ts), CKR_OK);
    assert_true(ts.initialized);
    assert_true(ts.user_pin_initialized);
    assert_memory_equal(ts.label, T_LABEL, 32);
    assert_memory_equal(ts.serial, T_SERIAL, 16);
    assert_int_equal(ts.generation, 1);
    assert_int_equal(chsm_store_token_get(st, 7, &ts), CKR_OK);
    assert_false(ts.initialized);
    bool ok = false;
    assert_int_equal(chsm_store_integrity_check(st, &ok), CKR_OK);
    assert_true(ok);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

static void test_mode_refusal(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    char path[600];
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    chsm_store_close(st);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chsm_store_open(dir, &st), CKR_DEVICE_ERROR);
    assert_null(st);
    assert_non_null(strstr(chsm_err_last()->msg, "chmod 700"));
    assert_non_null(strstr(chsm_err_last()->msg, dir));
    assert_int_equal(chmod(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/%s", dir, CHSM_STORE_DB_NAME);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(chsm_store_open(dir, &st), CKR_DEVICE_ERROR);
    assert_non_null(strstr(chsm_err_last()->msg, "chmod 600"));
    assert_non_null(strstr(chsm_err_last()->msg, path));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    chsm_store_close(st);
    t_rmrf(dir);
}

static void test_pins_and_lockout(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0}, got = {0};
    struct chsm_token_state ts;
    uint32_t failed = 99;
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, 3, &got, &failed),
                     CKR_TOKEN_NOT_RECOGNIZED);
    assert_int_equal(chsm_store_token_init(st, T_SLOT, T_SO_PIN, T_SO_PIN_LEN, T_LABEL, T_SERIAL, T_ITER, &mk),
                     CKR_OK);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_USER, T_USER_PIN, T_USER_PIN_LEN, 3, &got, NULL),
                     CKR_USER_PIN_NOT_INITIALIZED);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_SO, (const uint8_t *)"wrong", 5, 3, &got, &failed),
                     CKR_PIN_INCORRECT);
    assert_int_equal(failed, 1);
    assert_null(got.data);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, 3, &got, &failed), CKR_OK);
    assert_int_equal(failed, 0);
    assert_memory_equal(got.data, mk.data, CHSM_MASTER_KEY_LEN);
    chsm_secbuf_free(&got);

    assert_int_equal(chsm_store_pin_set(st, T_SLOT, CHSM_PIN_USER, &mk, T_USER_PIN, T_USER_PIN_LEN, T_ITER), CKR_OK);
    for (uint32_t i = 1; i <= 3; i++) {
        assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_USER, (const uint8_t *)"nope", 4, 3, &got, &failed),
                         CKR_PIN_INCORRECT);
        assert_int_equal(failed, i);
    }
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_USER, T_USER_PIN, T_USER_PIN_LEN, 3, &got, &failed),
                     CKR_PIN_LOCKED);
    assert_null(got.data);
    chsm_store_close(st);

    /* The counter is on disk: a new handle (a restarted process) is still locked. */
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(chsm_store_token_get(st, T_SLOT, &ts), CKR_OK);
    assert_int_equal(ts.user_failed, 3);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_USER, T_USER_PIN, T_USER_PIN_LEN, 3, &got, NULL),
                     CKR_PIN_LOCKED);
    /* The SO resets the user PIN (C_InitPIN): unlocked, same MK. */
    assert_int_equal(chsm_store_pin_set(st, T_SLOT, CHSM_PIN_USER, &mk, (const uint8_t *)"fresh", 5, T_ITER), CKR_OK);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_USER, (const uint8_t *)"fresh", 5, 3, &got, &failed),
                     CKR_OK);
    assert_memory_equal(got.data, mk.data, CHSM_MASTER_KEY_LEN);
    chsm_secbuf_free(&got);
    /* A wrong-length or stale MK cannot set a PIN. */
    struct chsm_secbuf other = {0};
    assert_int_equal(chsm_secbuf_alloc(&other, CHSM_MASTER_KEY_LEN), CKR_OK);
    assert_int_equal(chsm_store_pin_set(st, T_SLOT, CHSM_PIN_USER, &other, T_USER_PIN, T_USER_PIN_LEN, T_ITER),
                     CKR_USER_NOT_LOGGED_IN);
    chsm_secbuf_free(&other);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

static void test_pin_change_keeps_objects(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0}, got = {0};
    struct chsm_attrlist a;
    struct t_seen seen = {0};
    uint8_t id[CHSM_OBJECT_ID_LEN], key[32];
    memset(key, 0xA5, sizeof(key));
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_secret_key(&a, key, sizeof(key), "aes");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &a, NULL), CKR_OK);
    chsm_attrlist_free(&a);
    assert_int_equal(chsm_store_pin_set(st, T_SLOT, CHSM_PIN_USER, &mk, (const uint8_t *)"u2", 2, T_ITER), CKR_OK);
    assert_int_equal(chsm_store_pin_set(st, T_SLOT, CHSM_PIN_SO, &mk, (const uint8_t *)"s2", 2, T_ITER), CKR_OK);
    chsm_secbuf_free(&mk);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_SO, T_SO_PIN, T_SO_PIN_LEN, 5, &got, NULL),
                     CKR_PIN_INCORRECT);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_USER, (const uint8_t *)"u2", 2, 5, &got, NULL), CKR_OK);
    assert_int_equal(t_changes(st, T_SLOT, 0, &got, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 1);
    assert_true(seen.objs[0].secrets_loaded);
    const struct chsm_attr *v = chsm_attrlist_get(&seen.objs[0].attrs, CKA_VALUE);
    assert_non_null(v);
    assert_int_equal(v->len, sizeof(key));
    assert_memory_equal(v->value, key, sizeof(key));
    t_seen_reset(&seen);
    chsm_secbuf_free(&got);
    assert_int_equal(chsm_store_pin_check(st, T_SLOT, CHSM_PIN_SO, (const uint8_t *)"s2", 2, 5, &got, NULL), CKR_OK);
    chsm_secbuf_free(&got);
    chsm_store_close(st);
    t_rmrf(dir);
}

static void test_reinit_destroys(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0}, mk2 = {0};
    struct chsm_attrlist a;
    struct t_seen seen = {0};
    struct chsm_token_state ts;
    uint8_t id[CHSM_OBJECT_ID_LEN], key[16] = {1, 2, 3};
    uint64_t rev = 0, now = 0;
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_secret_key(&a, key, sizeof(key), "k");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &a, &rev), CKR_OK);
    assert_int_equal(chsm_store_token_init(st, T_SLOT, T_SO_PIN, T_SO_PIN_LEN, T_LABEL, T_SERIAL, T_ITER, &mk2),
                     CKR_OK);
    assert_memory_not_equal(mk.data, mk2.data, CHSM_MASTER_KEY_LEN);
    assert_int_equal(chsm_store_token_get(st, T_SLOT, &ts), CKR_OK);
    assert_int_equal(ts.object_count, 0);
    assert_int_equal(ts.generation, 2);
    assert_false(ts.user_pin_initialized);
    /* The old MK is useless now: it can neither read nor write. */
    assert_int_equal(t_changes(st, T_SLOT, 0, &mk, &seen, NULL), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &a, NULL), CKR_USER_NOT_LOGGED_IN);
    /* A cache that was current at `rev` learns the object is gone. */
    assert_int_equal(t_changes(st, T_SLOT, rev, &mk2, &seen, &now), CKR_OK);
    assert_int_equal(seen.n_upsert, 0);
    assert_int_equal(seen.n_removed, 1);
    assert_memory_equal(seen.removed[0], id, CHSM_OBJECT_ID_LEN);
    assert_true(now > rev);
    chsm_attrlist_free(&a);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    chsm_secbuf_free(&mk2);
    t_rmrf(dir);
}

static void test_objects_and_feed(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist a;
    struct t_seen seen = {0};
    uint8_t sk[CHSM_OBJECT_ID_LEN], pd[CHSM_OBJECT_ID_LEN], x[CHSM_OBJECT_ID_LEN];
    uint8_t key[32] = {9, 9, 9};
    uint64_t r1 = 0, r2 = 0, now = 0;
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(chsm_store_new_object_id(sk), CKR_OK);
    t_public_data(&a, "pub", "hello");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, NULL, sk, &a, NULL), CKR_TOKEN_NOT_RECOGNIZED);
    chsm_attrlist_free(&a);
    t_init_token(st, T_SLOT, &mk);
    t_secret_key(&a, key, sizeof(key), "secret");
    /* A secret object needs the MK. */
    assert_int_equal(chsm_store_object_put(st, T_SLOT, NULL, sk, &a, NULL), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, sk, &a, &r1), CKR_OK);
    chsm_attrlist_free(&a);
    assert_int_equal(chsm_store_new_object_id(pd), CKR_OK);
    t_public_data(&a, "pub", "hello");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, NULL, pd, &a, &r2), CKR_OK);
    chsm_attrlist_free(&a);
    assert_true(r2 > r1);

    assert_int_equal(t_changes(st, T_SLOT, 0, &mk, &seen, &now), CKR_OK);
    assert_int_equal(now, r2);
    assert_int_equal(seen.n_upsert, 2);
    assert_int_equal(seen.n_bad, 0);
    const struct chsm_store_object *o = t_find(&seen, sk);
    assert_non_null(o);
    assert_true(o->is_private);
    assert_int_equal(o->rev, r1);
    assert_int_equal(chsm_attrlist_get_ulong(&o->attrs, CKA_CLASS, 0), CKO_SECRET_KEY);
    assert_memory_equal(chsm_attrlist_get(&o->attrs, CKA_VALUE)->value, key, sizeof(key));

    /* Logged out: only the public object, and it is complete (a data object's value is not secret). */
    assert_int_equal(t_changes(st, T_SLOT, 0, NULL, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 1);
    assert_memory_equal(seen.objs[0].id, pd, CHSM_OBJECT_ID_LEN);
    assert_false(seen.objs[0].secrets_loaded);
    assert_memory_equal(chsm_attrlist_get(&seen.objs[0].attrs, CKA_VALUE)->value, "hello", 5);

    /* Nothing new since r2; then a delete shows up as removed. */
    assert_int_equal(t_changes(st, T_SLOT, r2, &mk, &seen, &now), CKR_OK);
    assert_int_equal(seen.n_upsert + seen.n_removed, 0);
    assert_int_equal(chsm_store_object_delete(st, T_SLOT, sk), CKR_OK);
    assert_int_equal(chsm_store_object_delete(st, T_SLOT, sk), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(chsm_store_new_object_id(x), CKR_OK);
    assert_int_equal(chsm_store_object_delete(st, T_SLOT, x), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(t_changes(st, T_SLOT, r2, &mk, &seen, &now), CKR_OK);
    assert_int_equal(seen.n_upsert, 0);
    assert_int_equal(seen.n_removed, 1);
    assert_memory_equal(seen.removed[0], sk, CHSM_OBJECT_ID_LEN);
    /* Rewriting an object replaces it under a new revision. */
    t_public_data(&a, "pub", "changed");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, pd, &a, &r1), CKR_OK);
    chsm_attrlist_free(&a);
    assert_int_equal(t_changes(st, T_SLOT, now, &mk, &seen, &now), CKR_OK);
    assert_int_equal(seen.n_upsert, 1);
    assert_int_equal(seen.objs[0].rev, r1);
    assert_memory_equal(chsm_attrlist_get(&seen.objs[0].attrs, CKA_VALUE)->value, "changed", 7);
    t_seen_reset(&seen);
    struct chsm_token_state ts;
    assert_int_equal(chsm_store_token_get(st, T_SLOT, &ts), CKR_OK);
    assert_int_equal(ts.object_count, 1);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

static void test_two_handles(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *a = NULL, *b = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist l;
    struct t_seen seen = {0};
    uint8_t id[CHSM_OBJECT_ID_LEN];
    uint64_t now = 0;
    bool changed = true;
    assert_int_equal(chsm_store_open(dir, &a), CKR_OK);
    assert_int_equal(chsm_store_open(dir, &b), CKR_OK);
    t_init_token(a, T_SLOT, &mk);
    assert_int_equal(chsm_store_poll(b, &changed), CKR_OK);
    assert_true(changed);
    assert_int_equal(t_changes(b, T_SLOT, 0, &mk, &seen, &now), CKR_OK);
    assert_int_equal(seen.n_upsert, 0);
    assert_int_equal(chsm_store_poll(b, &changed), CKR_OK);
    assert_false(changed);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_public_data(&l, "shared", "v");
    assert_int_equal(chsm_store_object_put(a, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    chsm_attrlist_free(&l);
    assert_int_equal(chsm_store_poll(b, &changed), CKR_OK);
    assert_true(changed);
    assert_int_equal(t_changes(b, T_SLOT, now, &mk, &seen, &now), CKR_OK);
    assert_int_equal(seen.n_upsert, 1);
    assert_memory_equal(seen.objs[0].id, id, CHSM_OBJECT_ID_LEN);
    t_seen_reset(&seen);
    /* Failed logins counted through one handle are enforced through the other. */
    uint32_t failed = 0;
    assert_int_equal(chsm_store_pin_check(a, T_SLOT, CHSM_PIN_USER, (const uint8_t *)"x", 1, 2, NULL, &failed),
                     CKR_PIN_INCORRECT);
    assert_int_equal(chsm_store_pin_check(b, T_SLOT, CHSM_PIN_USER, (const uint8_t *)"x", 1, 2, NULL, &failed),
                     CKR_PIN_INCORRECT);
    assert_int_equal(failed, 2);
    assert_int_equal(chsm_store_pin_check(a, T_SLOT, CHSM_PIN_USER, T_USER_PIN, T_USER_PIN_LEN, 2, NULL, NULL),
                     CKR_PIN_LOCKED);
    chsm_store_close(a);
    chsm_store_close(b);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

static void test_lock(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *a = NULL, *b = NULL;
    assert_int_equal(chsm_store_lock_probe(dir), 0); /* no store yet */
    assert_int_equal(chsm_store_open(dir, &a), CKR_OK);
    assert_int_equal(chsm_store_open(dir, &b), CKR_OK);
    assert_int_equal(chsm_store_lock_probe(dir), 0);
    assert_int_equal(chsm_store_lock_exclusive(a), CKR_OK);
    assert_int_equal(chsm_store_lock_probe(dir), 1);
    assert_int_equal(chsm_store_lock_exclusive(b), CKR_FUNCTION_FAILED);
    assert_non_null(strstr(chsm_err_last()->msg, "locked by another process"));
    chsm_store_unlock(a);
    assert_int_equal(chsm_store_lock_probe(dir), 0);
    assert_int_equal(chsm_store_lock_exclusive(b), CKR_OK);
    chsm_store_close(b); /* close releases */
    assert_int_equal(chsm_store_lock_probe(dir), 0);
    chsm_store_close(a);
    char path[600];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s", dir, CHSM_STORE_LOCK_NAME);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    t_rmrf(dir);
}

static void test_volatile(void **state)
{
    (void)state;
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist a;
    struct t_seen seen = {0};
    uint8_t id[CHSM_OBJECT_ID_LEN], key[32] = {7};
    assert_int_equal(chsm_store_open(":memory:", &st), CKR_OK);
    assert_true(chsm_store_is_volatile(st));
    t_init_token(st, 3, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_secret_key(&a, key, sizeof(key), "v");
    assert_int_equal(chsm_store_object_put(st, 3, &mk, id, &a, NULL), CKR_OK);
    chsm_attrlist_free(&a);
    assert_int_equal(t_changes(st, 3, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 1);
    t_seen_reset(&seen);
    assert_int_equal(chsm_store_lock_exclusive(st), CKR_OK);
    assert_int_equal(chsm_store_lock_probe(NULL), 0);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
}

static void test_durability_power_loss(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist l;
    struct t_seen seen = {0};
    uint8_t id[CHSM_OBJECT_ID_LEN];
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    chsm_store_set_durability(st, CHSM_STORE_DURABLE_POWER_LOSS);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_public_data(&l, "d", "v");
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    chsm_attrlist_free(&l);
    chsm_store_set_durability(st, CHSM_STORE_DURABLE_CRASH);
    assert_int_equal(chsm_store_object_delete(st, T_SLOT, id), CKR_OK);
    assert_int_equal(t_changes(st, T_SLOT, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 0);
    assert_int_equal(seen.n_removed, 1);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

static int setup(void **state)
{
    (void)state;
    chsm_log_set_level(CHSM_LOG_ERROR);
    return chsm_crypto_init() == CKR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    chsm_crypto_fini();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_reopen_persists),
        cmocka_unit_test(test_mode_refusal),
        cmocka_unit_test(test_pins_and_lockout),
        cmocka_unit_test(test_pin_change_keeps_objects),
        cmocka_unit_test(test_reinit_destroys),
        cmocka_unit_test(test_objects_and_feed),
        cmocka_unit_test(test_two_handles),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_volatile),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_newer_version_refused),
        cmocka_unit_test(test_snapshot_while_writing),
        cmocka_unit_test(test_export_import),
        cmocka_unit_test(test_import_refusals),
        cmocka_unit_test(test_token_blob_negative),
        cmocka_unit_test(test_no_plaintext_on_disk),
        cmocka_unit_test(test_fixture_v1_opens),
        cmocka_unit_test(test_forged_public_part_of_secret_key),
        cmocka_unit_test(test_public_object_mac),
        cmocka_unit_test(test_rev_bound_and_row_replay),
        cmocka_unit_test(test_v1_records_upgrade),
        cmocka_unit_test(test_fixture_records_v2_opens),
        cmocka_unit_test(test_crash_kill),
        cmocka_unit_test(test_durability_power_loss),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
