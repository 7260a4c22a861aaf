/*
 * Record version 2 against an attacker who can write the database but knows
 * no PIN (security review C2, H1): a re-sealed public part (its key is in
 * clear in tokens.pub_key) breaks the secret part; a public object's MAC
 * catches re-sealed attributes; the revision is bound into every part;
 * whole-row replay of an older authentic version behaves as documented in
 * docs/store-format.md; v1 records still load and become v2 when rewritten.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "fixture_v1.h"
#include "fixture_v2.h"
#include "store_test.h"

void test_forged_public_part_of_secret_key(void **state);
void test_public_object_mac(void **state);
void test_rev_bound_and_row_replay(void **state);
void test_v1_records_upgrade(void **state);
void test_fixture_records_v2_opens(void **state);

static char g_log[2048];
static void capture_log(enum chsm_log_level level, const char *line)
{
    (void)level;
    strncat(g_log, line, sizeof(g_log) - strlen(g_log) - 2);
    strcat(g_log, "\n");
}

static void token_pub_key(const char *dir, uint32_t slot, uint8_t out[32])
{
    sqlite3 *db = t_raw_open(dir);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT pub_key FROM tokens WHERE slot = ?1", -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, slot);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(s, 0), 32);
    memcpy(out, sqlite3_column_blob(s, 0), 32);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* Set a one-byte (CK_BBOOL) attribute inside a decrypted part; the type must be present. */
static void set_bool_in_pt(uint8_t *pt, size_t len, CK_ATTRIBUTE_TYPE type, uint8_t v)
{
    size_t off = 6;
    uint32_t n = chsm_load_le32(pt + 2);
    for (uint32_t i = 0; i < n; i++) {
        assert_true(off + 12 <= len);
        uint64_t t = chsm_load_le64(pt + off);
        uint32_t l = chsm_load_le32(pt + off + 8);
        off += 12;
        if (t == type) {
            assert_int_equal(l, 1);
            pt[off] = v;
            return;
        }
        off += l;
    }
    fail_msg("attribute 0x%lx not in the part", (unsigned long)type);
}

/*
 * What tamper.py does, for record version 2: decrypt the public part with
 * the clear pub_key, flip CK_BBOOL attributes, re-seal under a fresh IV.
 * keep_mac: leave the (now stale) MAC in place; else drop it (mac_len 0).
 */
struct flip {
    CK_ATTRIBUTE_TYPE type;
    uint8_t v;
};
static void forge_public_part(const char *dir, uint32_t slot, const char serial[16], const uint8_t id[16],
                              const struct flip *flips, size_t nflips, bool keep_mac)
{
    uint8_t blob[1024], out[1024], key[32], aad[49], pt[1024], *iv;
    size_t n = t_raw_get(dir, slot, id, "pub_blob", blob, sizeof(blob));
    token_pub_key(dir, slot, key);
    assert_int_equal(chsm_load_le16(blob), 2);
    size_t mac_len = blob[10], hdr = 11 + mac_len;
    size_t ct_len = n - hdr - CHSM_GCM_IV_LEN - CHSM_GCM_TAG_LEN;
    memcpy(aad, "CHSM", 4);
    chsm_store_le32(aad + 4, 2);
    memcpy(aad + 8, serial, 16);
    memcpy(aad + 24, id, 16);
    aad[40] = 1;
    memcpy(aad + 41, blob + 2, 8); /* the revision, as stored */
    iv = blob + hdr;
    assert_int_equal(chsm_aes256_gcm_open(key, iv, aad, sizeof(aad), iv + CHSM_GCM_IV_LEN, ct_len,
                                          iv + CHSM_GCM_IV_LEN + ct_len, pt), CKR_OK);
    for (size_t i = 0; i < nflips; i++)
        set_bool_in_pt(pt, ct_len, flips[i].type, flips[i].v);
    size_t oh = keep_mac ? hdr : 11;
    memcpy(out, blob, oh);
    if (!keep_mac)
        out[10] = 0;
    assert_int_equal(chsm_rand_bytes(out + oh, CHSM_GCM_IV_LEN), CKR_OK);
    assert_int_equal(chsm_aes256_gcm_seal(key, out + oh, aad, sizeof(aad), pt, ct_len, out + oh + CHSM_GCM_IV_LEN,
                                          out + oh + CHSM_GCM_IV_LEN + ct_len), CKR_OK);
    t_raw_set(dir, slot, id, "pub_blob", out, oh + CHSM_GCM_IV_LEN + ct_len + CHSM_GCM_TAG_LEN);
}

/* The one object of the slot, loaded with mk (NULL: logged out); exactly one upsert and no bad. */
static void load_one(struct chsm_store *st, const struct chsm_secbuf *mk, struct t_seen *seen)
{
    t_seen_reset(seen);
    assert_int_equal(t_changes(st, T_SLOT, 0, mk, seen, NULL), CKR_OK);
    assert_int_equal(seen->n_bad, 0);
    assert_int_equal(seen->n_upsert, 1);
}

static void expect_only_bad(struct chsm_store *st, const struct chsm_secbuf *mk, const uint8_t id[16])
{
    struct t_seen seen = {0};
    char want[96];
    g_log[0] = '\0';
    assert_int_equal(t_changes(st, T_SLOT, 0, mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 0);
    assert_int_equal(seen.n_bad, 1);
    assert_memory_equal(seen.bad[0], id, 16);
    snprintf(want, sizeof(want), "store: object ");
    for (size_t i = 0; i < 16; i++)
        snprintf(want + 14 + 2 * i, 3, "%02x", id[i]);
    strcat(want, " failed authentication");
    assert_non_null(strstr(g_log, want));
    t_seen_reset(&seen);
}

/* C2 exploit: a PRIVATE=FALSE AES key whose SENSITIVE/EXTRACTABLE are flipped in its public part. */
void test_forged_public_part_of_secret_key(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist l;
    struct t_seen seen = {0};
    uint8_t id[16], key[32];
    memset(key, 0x5A, sizeof(key));
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_secret_key(&l, key, sizeof(key), "pubsecret");
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_PRIVATE, false), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_SENSITIVE, true), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_EXTRACTABLE, false), CKR_OK);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    chsm_attrlist_free(&l);

    /* Genuine: authenticated with the MK, not without. */
    load_one(st, &mk, &seen);
    assert_true(seen.objs[0].authenticated);
    assert_true(seen.objs[0].secrets_loaded);
    load_one(st, NULL, &seen);
    assert_false(seen.objs[0].authenticated);
    assert_null(chsm_attrlist_get(&seen.objs[0].attrs, CKA_VALUE));

    const struct flip fl[] = {{CKA_SENSITIVE, 0}, {CKA_EXTRACTABLE, 1}};
    forge_public_part(dir, T_SLOT, T_SERIAL, id, fl, 2, true);
    chsm_log_set_sink(capture_log);
    /* With the MK (the user's next login) the secret part no longer authenticates: no key value, ever. */
    expect_only_bad(st, &mk, id);
    chsm_log_set_sink(NULL);
    /* Logged out the forgery is readable (its key is in clear) but never authenticated and has no secret. */
    load_one(st, NULL, &seen);
    assert_false(seen.objs[0].authenticated);
    assert_false(chsm_attrlist_get_bool(&seen.objs[0].attrs, CKA_SENSITIVE, true));
    assert_null(chsm_attrlist_get(&seen.objs[0].attrs, CKA_VALUE));
    t_seen_reset(&seen);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

/* C2(b): public objects without a secret part carry a MAC when written with the MK. */
void test_public_object_mac(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist l;
    struct t_seen seen = {0};
    uint8_t id[16], blob[512];
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_public_data(&l, "pubdata", "v");
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_MODIFIABLE, false), CKR_OK);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    t_raw_get(dir, T_SLOT, id, "pub_blob", blob, sizeof(blob));
    assert_int_equal(blob[10], 32); /* MAC present */
    load_one(st, &mk, &seen);
    assert_true(seen.objs[0].authenticated);
    load_one(st, NULL, &seen);
    assert_false(seen.objs[0].authenticated); /* no MK: the MAC cannot be checked */

    /* Attributes re-sealed, stale MAC kept: bad with the MK, still readable logged out. */
    const struct flip fl[] = {{CKA_MODIFIABLE, 1}};
    forge_public_part(dir, T_SLOT, T_SERIAL, id, fl, 1, true);
    chsm_log_set_sink(capture_log);
    expect_only_bad(st, &mk, id);
    chsm_log_set_sink(NULL);
    /* A flipped MAC byte on the genuine part: bad too. */
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    size_t n = t_raw_get(dir, T_SLOT, id, "pub_blob", blob, sizeof(blob));
    blob[11] ^= 0x01;
    t_raw_set(dir, T_SLOT, id, "pub_blob", blob, n);
    chsm_log_set_sink(capture_log);
    expect_only_bad(st, &mk, id);
    chsm_log_set_sink(NULL);
    /* MAC stripped with the forgery (documented limit): loads, but never as authenticated. */
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    forge_public_part(dir, T_SLOT, T_SERIAL, id, fl, 1, false);
    load_one(st, &mk, &seen);
    assert_false(seen.objs[0].authenticated);
    assert_true(chsm_attrlist_get_bool(&seen.objs[0].attrs, CKA_MODIFIABLE, false));

    /* Written while logged out: no MAC, not authenticated even when read with the MK. */
    assert_int_equal(chsm_store_object_put(st, T_SLOT, NULL, id, &l, NULL), CKR_OK);
    t_raw_get(dir, T_SLOT, id, "pub_blob", blob, sizeof(blob));
    assert_int_equal(blob[10], 0);
    load_one(st, &mk, &seen);
    assert_false(seen.objs[0].authenticated);
    /* ...and authenticated again once rewritten with the MK. */
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, NULL), CKR_OK);
    load_one(st, &mk, &seen);
    assert_true(seen.objs[0].authenticated);
    t_seen_reset(&seen);
    chsm_attrlist_free(&l);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

/* A copy of one object's row, as an attacker keeps from an earlier copy of the database. */
struct saved_row {
    uint8_t pub[512], sec[512];
    size_t npub, nsec;
    int64_t rev;
};
static void save_row(const char *dir, const uint8_t id[16], struct saved_row *r)
{
    uint8_t rev[8];
    r->npub = t_raw_get(dir, T_SLOT, id, "pub_blob", r->pub, sizeof(r->pub));
    r->nsec = t_raw_get(dir, T_SLOT, id, "sec_blob", r->sec, sizeof(r->sec));
    /* rev is an INTEGER column: read it through its sealed copy, which must match it. */
    memcpy(rev, r->pub + 2, 8);
    r->rev = (int64_t)chsm_load_le64(rev);
}
static void set_rev(const char *dir, const uint8_t id[16], int64_t rev)
{
    char sql[128];
    char hex[33];
    for (size_t i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    snprintf(sql, sizeof(sql), "UPDATE objects SET rev = %lld WHERE slot = %u AND id = x'%s'", (long long)rev,
             T_SLOT, hex);
    t_sql(dir, sql);
}

/* H1: the revision is bound into both parts; what whole-row replay does is asserted as documented. */
void test_rev_bound_and_row_replay(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist l;
    struct t_seen seen = {0};
    struct saved_row old, cur;
    uint8_t id[16], key[32] = {0x42};
    uint64_t now = 0, r1 = 0, r2 = 0;
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    t_init_token(st, T_SLOT, &mk);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    t_secret_key(&l, key, sizeof(key), "k");
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_SENSITIVE, false), CKR_OK);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, &r1), CKR_OK);
    save_row(dir, id, &old);
    assert_int_equal((uint64_t)old.rev, r1);
    /* The one-way change the attacker wants to undo. */
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_SENSITIVE, true), CKR_OK);
    assert_int_equal(chsm_store_object_put(st, T_SLOT, &mk, id, &l, &r2), CKR_OK);
    chsm_attrlist_free(&l);
    save_row(dir, id, &cur);
    assert_true(r2 > r1);
    assert_int_equal(t_changes(st, T_SLOT, 0, &mk, &seen, &now), CKR_OK);
    assert_int_equal(now, r2);
    assert_int_equal(seen.objs[0].rev, r2);
    t_seen_reset(&seen);
    chsm_log_set_sink(capture_log);

    /* 1. old blobs under the current rev column: the sealed revision differs -> bad. */
    t_raw_set(dir, T_SLOT, id, "pub_blob", old.pub, old.npub);
    t_raw_set(dir, T_SLOT, id, "sec_blob", old.sec, old.nsec);
    expect_only_bad(st, &mk, id);
    /* 2. parts of two writes spliced (new public, old secret; and the reverse) -> bad. */
    t_raw_set(dir, T_SLOT, id, "pub_blob", cur.pub, cur.npub);
    expect_only_bad(st, &mk, id);
    t_raw_set(dir, T_SLOT, id, "pub_blob", old.pub, old.npub);
    t_raw_set(dir, T_SLOT, id, "sec_blob", cur.sec, cur.nsec);
    expect_only_bad(st, &mk, id);
    /* 3. the rev column alone raised (to push a row into running processes' feeds) -> bad. */
    t_raw_set(dir, T_SLOT, id, "pub_blob", cur.pub, cur.npub);
    set_rev(dir, id, (int64_t)r2 + 5);
    expect_only_bad(st, &mk, id);
    chsm_log_set_sink(NULL);

    /*
     * 4. The whole row of the earlier version put back (both parts and its rev):
     * a process already current (since >= r2) is never fed it; a process
     * loading from scratch gets the older authentic version. This is the
     * documented limit (docs/store-format.md, "Rollback").
     */
    t_raw_set(dir, T_SLOT, id, "pub_blob", old.pub, old.npub);
    t_raw_set(dir, T_SLOT, id, "sec_blob", old.sec, old.nsec);
    set_rev(dir, id, old.rev);
    assert_int_equal(t_changes(st, T_SLOT, r2, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert + seen.n_bad + seen.n_removed, 0);
    load_one(st, &mk, &seen);
    assert_int_equal(seen.objs[0].rev, r1);
    assert_true(seen.objs[0].authenticated);
    assert_false(chsm_attrlist_get_bool(&seen.objs[0].attrs, CKA_SENSITIVE, true));
    t_seen_reset(&seen);
    chsm_store_close(st);
    chsm_secbuf_free(&mk);
    t_rmrf(dir);
}

static const char *fixture_copy(const char *name, const char *dir)
{
    static char to[600];
    char from[600];
    const char *fixtures = getenv("CHSM_TEST_FIXTURES");
    assert_non_null(fixtures); /* a missing fixture dir is an error, not a skip */
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(from, sizeof(from), "%s/store/%s/%s", fixtures, name, CHSM_STORE_DB_NAME);
    snprintf(to, sizeof(to), "%s/%s", dir, CHSM_STORE_DB_NAME);
    t_copy_file(from, to);
    return to;
}

static const struct chsm_store_object *by_label(const struct t_seen *s, const char *label)
{
    for (size_t i = 0; i < s->n_upsert; i++) {
        const struct chsm_attr *a = chsm_attrlist_get(&s->objs[i].attrs, CKA_LABEL);
        if (a != NULL && a->len == strlen(label) && memcmp(a->value, label, a->len) == 0)
            return &s->objs[i];
    }
    fail_msg("no object labelled %s", label);
    return NULL;
}

static CK_RV login(struct chsm_store *st, struct chsm_secbuf *mk)
{
    return chsm_store_pin_check(st, FX_SLOT, CHSM_PIN_USER, (const uint8_t *)FX_USER_PIN, strlen(FX_USER_PIN), 3, mk,
                                NULL);
}

/* v1 records load exactly as before (authenticated only when private) and become v2 when rewritten. */
void test_v1_records_upgrade(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct t_seen seen = {0};
    uint8_t blob[512];
    fixture_copy("v1", dir);
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(login(st, &mk), CKR_OK);
    assert_int_equal(t_changes(st, FX_SLOT, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 3);
    assert_int_equal(seen.n_bad, 0);
    const struct chsm_store_object *data = by_label(&seen, FX_DATA_LABEL);
    assert_false(data->authenticated); /* v1 public part: nothing binds it */
    assert_true(by_label(&seen, FX_AES_LABEL)->authenticated);
    assert_true(by_label(&seen, FX_SECRET_LABEL)->authenticated);
    t_raw_get(dir, FX_SLOT, data->id, "pub_blob", blob, sizeof(blob));
    assert_int_equal(chsm_load_le16(blob), 1);
    /* Rewritten with the MK: a v2 record with a MAC, authenticated. */
    uint8_t id[16];
    uint64_t rev = 0;
    memcpy(id, data->id, 16);
    assert_int_equal(chsm_store_object_put(st, FX_SLOT, &mk, id, &data->attrs, &rev), CKR_OK);
    t_raw_get(dir, FX_SLOT, id, "pub_blob", blob, sizeof(blob));
    assert_int_equal(chsm_load_le16(blob), 2);
    assert_int_equal(chsm_load_le64(blob + 2), rev);
    assert_int_equal(blob[10], 32);
    t_seen_reset(&seen);
    assert_int_equal(t_changes(st, FX_SLOT, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 3);
    assert_true(by_label(&seen, FX_DATA_LABEL)->authenticated);
    assert_int_equal(by_label(&seen, FX_DATA_LABEL)->rev, rev);
    t_seen_reset(&seen);
    chsm_secbuf_free(&mk);
    chsm_store_close(st);
    t_rmrf(dir);
}

/* The committed record-version-2 fixture (tests/fixtures/store/records-v2) opens with every guarantee. */
void test_fixture_records_v2_opens(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    struct chsm_store *st = NULL;
    struct chsm_secbuf mk = {0};
    struct t_seen seen = {0};
    fixture_copy("records-v2", dir);
    assert_int_equal(chsm_store_open(dir, &st), CKR_OK);
    assert_int_equal(chsm_store_format_version(st), 1);
    /* Logged out: the three public objects, none authenticated. */
    assert_int_equal(t_changes(st, FX_SLOT, 0, NULL, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 3);
    assert_int_equal(seen.n_bad, 0);
    for (size_t i = 0; i < seen.n_upsert; i++)
        assert_false(seen.objs[i].authenticated);
    t_seen_reset(&seen);
    assert_int_equal(login(st, &mk), CKR_OK);
    assert_int_equal(t_changes(st, FX_SLOT, 0, &mk, &seen, NULL), CKR_OK);
    assert_int_equal(seen.n_upsert, 5);
    assert_int_equal(seen.n_bad, 0);
    const struct chsm_store_object *pk = by_label(&seen, FX2_PUB_AES_LABEL);
    const struct chsm_attr *v = chsm_attrlist_get(&pk->attrs, CKA_VALUE);
    assert_non_null(v);
    assert_int_equal(v->len, 32);
    assert_int_equal(v->value[31], FX2_PUB_AES_BYTE);
    assert_true(chsm_attrlist_get_bool(&pk->attrs, CKA_SENSITIVE, false));
    assert_true(pk->authenticated);
    const struct chsm_store_object *md = by_label(&seen, FX2_MAC_DATA_LABEL);
    assert_memory_equal(chsm_attrlist_get(&md->attrs, CKA_VALUE)->value, FX2_MAC_DATA_VALUE,
                        strlen(FX2_MAC_DATA_VALUE));
    assert_true(md->authenticated);
    assert_false(by_label(&seen, FX_DATA_LABEL)->authenticated); /* written logged out */
    assert_true(by_label(&seen, FX_AES_LABEL)->authenticated);
    assert_true(by_label(&seen, FX_SECRET_LABEL)->authenticated);
    for (size_t i = 0; i < seen.n_upsert; i++) {
        uint8_t blob[512];
        t_raw_get(dir, FX_SLOT, seen.objs[i].id, "pub_blob", blob, sizeof(blob));
        assert_int_equal(chsm_load_le16(blob), 2);
        assert_int_equal(chsm_load_le64(blob + 2), seen.objs[i].rev);
    }
    t_seen_reset(&seen);
    chsm_secbuf_free(&mk);
    chsm_store_close(st);
    t_rmrf(dir);
}
