/*
 * Object rows and the change feed. Every write bumps the slot's revision
 * counter (tokens.rev) in the same BEGIN IMMEDIATE transaction and stamps
 * the row (or, for a delete, a tombstone) with it, so "what changed since
 * revision N" is an indexed range query on (slot, rev), not a re-read of
 * the whole store. Other processes learn that something changed from
 * PRAGMA data_version (chsm_store_poll) and then ask for the range.
 */
#include <string.h>

#include "common/log.h"
#include "crypto/crypto.h"
#include "store/store_int.h"

CK_RV chsm_store_new_object_id(uint8_t id[CHSM_OBJECT_ID_LEN])
{
    return chsm_rand_bytes(id, CHSM_OBJECT_ID_LEN);
}

/* Next revision of the slot; CKR_TOKEN_NOT_RECOGNIZED when the slot has no token. */
CK_RV chsm_objects_bump_rev(struct chsm_store *st, uint32_t slot, uint64_t *rev)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_stmt(st, STMT_TOKEN_BUMP_REV, &s));
    sqlite3_bind_int64(s, 1, slot);
    int rc = sqlite3_step(s);
    CHSM_ENSURE(rc == SQLITE_ROW || rc == SQLITE_DONE, chsm_db_rv(st, rc, "bump revision"));
    CHSM_ENSURE(rc == SQLITE_ROW, CKR_TOKEN_NOT_RECOGNIZED);
    *rev = (uint64_t)sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s);
    CHSM_ENSURE(rc == SQLITE_DONE, chsm_db_rv(st, rc, "bump revision"));
out:
    if (s != NULL)
        sqlite3_reset(s);
    return rv;
}

static CK_RV id_stmt(struct chsm_store *st, enum chsm_stmt_id which, uint32_t slot,
                     const uint8_t id[CHSM_OBJECT_ID_LEN], int64_t rev, const char *what)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = chsm_db_stmt(st, which, &s);
    if (rv != CKR_OK)
        return rv;
    sqlite3_bind_int64(s, 1, slot);
    sqlite3_bind_blob(s, 2, id, CHSM_OBJECT_ID_LEN, SQLITE_STATIC);
    if (which == STMT_TOMB_INSERT)
        sqlite3_bind_int64(s, 3, rev);
    return chsm_db_step_done(st, s, what);
}

CK_RV chsm_objects_write_row(struct chsm_store *st, uint32_t slot, const uint8_t id[CHSM_OBJECT_ID_LEN],
                             uint64_t rev, const struct chsm_sealed_view *v)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(v->pub.len > 0 && v->pub.len <= INT32_MAX && v->sec.len <= INT32_MAX, CKR_DATA_LEN_RANGE);
    CHSM_GUARD(chsm_db_stmt(st, STMT_OBJ_UPSERT, &s));
    sqlite3_bind_int64(s, 1, slot);
    sqlite3_bind_blob(s, 2, id, CHSM_OBJECT_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)rev);
    sqlite3_bind_int64(s, 4, (int64_t)v->class_); /* two's complement for values above INT64_MAX */
    sqlite3_bind_int64(s, 5, (int64_t)v->key_type);
    sqlite3_bind_int(s, 6, v->is_private ? 1 : 0);
    sqlite3_bind_blob(s, 7, v->pub.data, (int)v->pub.len, SQLITE_STATIC);
    if (v->sec.len > 0)
        sqlite3_bind_blob(s, 8, v->sec.data, (int)v->sec.len, SQLITE_STATIC);
    CHSM_GUARD(chsm_db_step_done(st, s, "write object"));
    CHSM_GUARD(id_stmt(st, STMT_TOMB_DELETE_ONE, slot, id, 0, "write object"));
out:
    return rv;
}

static CK_RV put_locked(struct chsm_store *st, uint32_t slot, const struct chsm_secbuf *mk,
                        const uint8_t id[CHSM_OBJECT_ID_LEN], const struct chsm_attrlist *attrs, uint64_t *rev)
{
    struct chsm_token_row row;
    struct chsm_sealed_object so;
    struct chsm_rkeys k;
    bool found = false;
    CK_RV rv = CKR_OK;
    memset(&so, 0, sizeof(so));
    memset(&k, 0, sizeof(k));
    memset(&row, 0, sizeof(row));
    CHSM_GUARD(chsm_db_begin_write(st));
    CHSM_GUARD(chsm_token_row_read(st, slot, &row, &found));
    CHSM_ENSURE(found, CKR_TOKEN_NOT_RECOGNIZED);
    CHSM_GUARD(chsm_kh_rkeys(mk, row.pub_key, &k));
    /* The revision is sealed into the record, so it is drawn first (the transaction makes it ours). */
    CHSM_GUARD(chsm_objects_bump_rev(st, slot, rev));
    CHSM_GUARD(chsm_record_seal(attrs, row.serial, id, *rev, &k, &so));
    struct chsm_sealed_view v = {so.class_, so.key_type, so.is_private, {so.pub.data, so.pub.len},
                                 {so.sec.data, so.sec.len}};
    CHSM_GUARD(chsm_objects_write_row(st, slot, id, *rev, &v));
    CHSM_GUARD(chsm_db_commit(st));
out:
    chsm_db_rollback(st);
    chsm_sealed_free(&so);
    chsm_rkeys_wipe(&k);
    chsm_token_row_wipe(&row);
    return rv;
}

CK_RV chsm_store_object_put(struct chsm_store *st, uint32_t slot, const struct chsm_secbuf *mk,
                            const uint8_t id[CHSM_OBJECT_ID_LEN], const struct chsm_attrlist *attrs,
                            uint64_t *new_rev)
{
    uint64_t rev = 0;
    if (st == NULL || id == NULL || attrs == NULL)
        return CKR_ARGUMENTS_BAD;
    chsm_db_lock(st);
    CK_RV rv = put_locked(st, slot, mk, id, attrs, &rev);
    chsm_db_unlock(st);
    if (rv == CKR_OK && new_rev != NULL)
        *new_rev = rev;
    return rv;
}

static CK_RV delete_locked(struct chsm_store *st, uint32_t slot, const uint8_t id[CHSM_OBJECT_ID_LEN])
{
    uint64_t rev = 0;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_begin_write(st));
    CHSM_GUARD(chsm_objects_bump_rev(st, slot, &rev));
    CHSM_GUARD(id_stmt(st, STMT_OBJ_DELETE, slot, id, 0, "delete object"));
    CHSM_ENSURE(sqlite3_changes(st->db) == 1, CKR_OBJECT_HANDLE_INVALID);
    CHSM_GUARD(id_stmt(st, STMT_TOMB_INSERT, slot, id, (int64_t)rev, "delete object"));
    CHSM_GUARD(chsm_db_commit(st));
out:
    chsm_db_rollback(st);
    return rv;
}

CK_RV chsm_store_object_delete(struct chsm_store *st, uint32_t slot, const uint8_t id[CHSM_OBJECT_ID_LEN])
{
    if (st == NULL || id == NULL)
        return CKR_ARGUMENTS_BAD;
    chsm_db_lock(st);
    CK_RV rv = delete_locked(st, slot, id);
    chsm_db_unlock(st);
    return rv;
}

static CK_RV feed_removed(struct chsm_store *st, uint32_t slot, uint64_t since, const struct chsm_store_feed *feed)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    int rc;
    CHSM_GUARD(chsm_db_stmt(st, STMT_TOMB_SINCE, &s));
    sqlite3_bind_int64(s, 1, slot);
    sqlite3_bind_int64(s, 2, (int64_t)since);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint8_t id[CHSM_OBJECT_ID_LEN];
        if (!chsm_db_col_fixed(s, 0, id, sizeof(id)))
            continue; /* a malformed tombstone names no object we could have */
        if (feed->removed != NULL)
            CHSM_GUARD(feed->removed(feed->ctx, id));
    }
    CHSM_ENSURE(rc == SQLITE_DONE, chsm_db_rv(st, rc, "read tombstones"));
out:
    if (s != NULL)
        sqlite3_reset(s);
    return rv;
}

/* One object row of STMT_OBJ_SINCE: authenticate, then hand it to the feed (or report it bad). */
static CK_RV feed_row(sqlite3_stmt *s, const struct chsm_token_row *row, const struct chsm_rkeys *k,
                      const struct chsm_store_feed *feed)
{
    uint8_t id[CHSM_OBJECT_ID_LEN] = {0};
    struct chsm_store_object obj;
    bool is_private = sqlite3_column_int(s, 4) != 0;
    if (is_private && !k->have_mk)
        return CKR_OK; /* not readable without a login; reported once the caller has the MK */
    bool id_ok = chsm_db_col_fixed(s, 0, id, sizeof(id));
    uint64_t row_rev = (uint64_t)sqlite3_column_int64(s, 1);
    struct chsm_sealed_view v = {
        .class_ = (uint64_t)sqlite3_column_int64(s, 2),
        .key_type = (uint64_t)sqlite3_column_int64(s, 3),
        .is_private = is_private,
        .pub = {sqlite3_column_blob(s, 5), (size_t)sqlite3_column_bytes(s, 5)},
        .sec = {sqlite3_column_blob(s, 6), (size_t)sqlite3_column_bytes(s, 6)},
    };
    CK_RV rv = CKR_DEVICE_ERROR;
    if (id_ok)
        rv = chsm_record_open(&v, &row_rev, row->serial, id, k, &obj);
    if (rv != CKR_OK) {
        if (!id_ok)
            chsm_log(CHSM_LOG_ERROR, "store: object row with a malformed id failed authentication");
        if (feed->bad != NULL)
            feed->bad(feed->ctx, id, CKR_DEVICE_ERROR);
        return CKR_OK;
    }
    if (feed->upsert == NULL) {
        chsm_store_object_free(&obj);
        return CKR_OK;
    }
    return feed->upsert(feed->ctx, &obj);
}

static CK_RV feed_upserts(struct chsm_store *st, const struct chsm_token_row *row, uint64_t since,
                          const struct chsm_rkeys *k, const struct chsm_store_feed *feed)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    int rc;
    CHSM_GUARD(chsm_db_stmt(st, STMT_OBJ_SINCE, &s));
    sqlite3_bind_int64(s, 1, row->slot);
    sqlite3_bind_int64(s, 2, (int64_t)since);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        CHSM_GUARD(feed_row(s, row, k, feed));
    CHSM_ENSURE(rc == SQLITE_DONE, chsm_db_rv(st, rc, "read objects"));
out:
    if (s != NULL)
        sqlite3_reset(s);
    return rv;
}

static CK_RV changes_locked(struct chsm_store *st, uint32_t slot, uint64_t since, const struct chsm_secbuf *mk,
                            const struct chsm_store_feed *feed, uint64_t *now_rev)
{
    struct chsm_token_row row;
    struct chsm_rkeys k;
    bool found = false;
    CK_RV rv = CKR_OK;
    memset(&k, 0, sizeof(k));
    memset(&row, 0, sizeof(row));
    /* One read transaction: the feed and now_rev describe the same state. */
    CHSM_GUARD(chsm_db_begin_read(st));
    CHSM_GUARD(chsm_token_row_read(st, slot, &row, &found));
    CHSM_ENSURE(found, CKR_TOKEN_NOT_RECOGNIZED);
    CHSM_GUARD(chsm_kh_rkeys(mk, row.pub_key, &k));
    CHSM_GUARD(feed_removed(st, slot, since, feed));
    CHSM_GUARD(feed_upserts(st, &row, since, &k, feed));
    CHSM_GUARD(chsm_db_commit(st));
    if (now_rev != NULL)
        *now_rev = row.rev;
out:
    chsm_db_rollback(st);
    chsm_rkeys_wipe(&k);
    chsm_token_row_wipe(&row);
    return rv;
}

CK_RV chsm_store_changes(struct chsm_store *st, uint32_t slot, uint64_t since, const struct chsm_secbuf *mk,
                         const struct chsm_store_feed *feed, uint64_t *now_rev)
{
    if (st == NULL || feed == NULL)
        return CKR_ARGUMENTS_BAD;
    chsm_db_lock(st);
    CK_RV rv = changes_locked(st, slot, since, mk, feed, now_rev);
    chsm_db_unlock(st);
    return rv;
}
