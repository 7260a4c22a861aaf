/*
 * Consistent read-only snapshots for backup, and offline checks of what a
 * snapshot (or an archive) holds.
 *
 * A snapshot uses its OWN SQLite connection and one read transaction
 * (BEGIN; selects...; COMMIT at end). In WAL mode a reader sees the state
 * as of its first read while other processes keep committing, so the token
 * row, the count and every object row belong to the same moment, and the
 * store handle itself stays free for writes. Nothing is unwrapped.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "store/store_int.h"

struct chsm_store_snapshot {
    struct chsm_store *conn; /* a private handle: own connection and statement cache, never shared */
    sqlite3_stmt *rows;
    uint32_t slot;
    uint64_t count;
    struct chsm_buf token_blob;
    struct chsm_buf row_blob;
};

static CK_RV snapshot_conn(const struct chsm_store *st, struct chsm_store **out)
{
    struct chsm_store *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CHSM_ERR(CKR_HOST_MEMORY, "store", "snapshot handle");
    c->lock_fd = -1;
    pthread_mutex_init(&c->own_mu, NULL);
    c->mu = &c->own_mu;
    c->is_volatile = st->is_volatile;
    c->format_version = st->format_version;
    memcpy(c->dir, st->dir, sizeof(c->dir));
    memcpy(c->db_path, st->db_path, sizeof(c->db_path));
    CK_RV rv = chsm_db_open_conn(st, false, &c->db);
    if (rv != CKR_OK) {
        chsm_store_close(c);
        return rv;
    }
    *out = c;
    return CKR_OK;
}

static CK_RV snapshot_read_head(struct chsm_store_snapshot *sn)
{
    struct chsm_token_row row;
    bool found = false;
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_begin_read(sn->conn));
    CHSM_GUARD(chsm_token_row_read(sn->conn, sn->slot, &row, &found));
    CHSM_ENSURE(found, CHSM_ERR(CKR_TOKEN_NOT_RECOGNIZED, "store", "slot %u holds no initialised token", sn->slot));
    CHSM_GUARD(chsm_token_blob_encode(&row, &sn->token_blob));
    CHSM_GUARD(chsm_db_stmt(sn->conn, STMT_TOKEN_COUNT_OBJECTS, &s));
    sqlite3_bind_int64(s, 1, sn->slot);
    int rc = sqlite3_step(s);
    CHSM_ENSURE(rc == SQLITE_ROW, chsm_db_rv(sn->conn, rc, "snapshot count"));
    sn->count = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    rc = sqlite3_prepare_v2(sn->conn->db,
                            "SELECT id, class, key_type, is_private, pub_blob, sec_blob FROM objects "
                            "WHERE slot = ?1 ORDER BY id",
                            -1, &sn->rows, NULL);
    CHSM_ENSURE(rc == SQLITE_OK, chsm_db_rv(sn->conn, rc, "snapshot rows"));
    sqlite3_bind_int64(sn->rows, 1, sn->slot);
out:
    chsm_token_row_wipe(&row);
    return rv;
}

CK_RV chsm_store_snapshot_begin(struct chsm_store *st, uint32_t slot, struct chsm_store_snapshot **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_store_snapshot *sn = NULL;
    CHSM_ENSURE(st != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    *out = NULL;
    sn = calloc(1, sizeof(*sn));
    CHSM_ENSURE(sn != NULL, CHSM_ERR(CKR_HOST_MEMORY, "store", "snapshot"));
    sn->slot = slot;
    chsm_buf_init(&sn->token_blob, 0);
    chsm_buf_init(&sn->row_blob, 0);
    CHSM_GUARD(snapshot_conn(st, &sn->conn));
    CHSM_GUARD(snapshot_read_head(sn));
    *out = sn;
    sn = NULL;
out:
    chsm_store_snapshot_end(sn);
    return rv;
}

CK_RV chsm_store_snapshot_token(struct chsm_store_snapshot *sn, const uint8_t **blob, size_t *len)
{
    if (sn == NULL || blob == NULL || len == NULL)
        return CKR_ARGUMENTS_BAD;
    *blob = sn->token_blob.data;
    *len = sn->token_blob.len;
    return CKR_OK;
}

uint64_t chsm_store_snapshot_count(const struct chsm_store_snapshot *sn)
{
    return sn->count;
}

CK_RV chsm_store_snapshot_next(struct chsm_store_snapshot *sn, struct chsm_snapshot_row *row, bool *done)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(sn != NULL && row != NULL && done != NULL && sn->rows != NULL, CKR_ARGUMENTS_BAD);
    memset(row, 0, sizeof(*row));
    *done = false;
    int rc = sqlite3_step(sn->rows);
    if (rc == SQLITE_DONE) {
        *done = true;
        goto out;
    }
    CHSM_ENSURE(rc == SQLITE_ROW, chsm_db_rv(sn->conn, rc, "snapshot row"));
    sqlite3_stmt *s = sn->rows;
    CHSM_ENSURE(chsm_db_col_fixed(s, 0, row->id, sizeof(row->id)),
                CHSM_ERR(CKR_DEVICE_ERROR, "store", "object row with a malformed id"));
    struct chsm_sealed_view v = {
        .class_ = (uint64_t)sqlite3_column_int64(s, 1),
        .key_type = (uint64_t)sqlite3_column_int64(s, 2),
        .is_private = sqlite3_column_int(s, 3) != 0,
        .pub = {sqlite3_column_blob(s, 4), (size_t)sqlite3_column_bytes(s, 4)},
        .sec = {sqlite3_column_blob(s, 5), (size_t)sqlite3_column_bytes(s, 5)},
    };
    CHSM_GUARD(chsm_row_blob_encode(&v, &sn->row_blob));
    row->class_ = v.class_;
    row->key_type = v.key_type;
    row->blob = sn->row_blob.data;
    row->blob_len = sn->row_blob.len;
out:
    return rv;
}

void chsm_store_snapshot_end(struct chsm_store_snapshot *sn)
{
    if (sn == NULL)
        return;
    sqlite3_finalize(sn->rows);
    if (sn->conn != NULL) {
        chsm_db_rollback(sn->conn); /* a read transaction: nothing to commit, just release the snapshot */
        chsm_store_close(sn->conn);
    }
    chsm_buf_free(&sn->token_blob);
    chsm_buf_free(&sn->row_blob);
    free(sn);
}

CK_RV chsm_store_unwrap_mk_from_token_blob(const uint8_t *token_blob, size_t len, enum chsm_pin_kind kind,
                                           const uint8_t *pin, size_t pin_len, struct chsm_secbuf *mk_out)
{
    struct chsm_token_row row;
    CK_RV rv = CKR_OK;
    memset(&row, 0, sizeof(row));
    CHSM_ENSURE(kind == CHSM_PIN_SO || kind == CHSM_PIN_USER, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_token_blob_decode(token_blob, len, &row));
    CHSM_ENSURE(row.pin[kind].present, CKR_USER_PIN_NOT_INITIALIZED);
    CHSM_GUARD(chsm_kh_unwrap(&row.pin[kind], row.pub_key, pin, pin_len, mk_out));
out:
    chsm_token_row_wipe(&row);
    return rv;
}

CK_RV chsm_store_open_row(const struct chsm_secbuf *mk, const char serial[16], const struct chsm_snapshot_row *row,
                          struct chsm_store_object *out)
{
    struct chsm_sealed_view v;
    struct chsm_rkeys k;
    uint8_t pub_key[CHSM_PUB_KEY_LEN];
    CK_RV rv = CKR_OK;
    memset(&k, 0, sizeof(k));
    CHSM_ENSURE(mk != NULL && mk->len == CHSM_MASTER_KEY_LEN && serial != NULL && row != NULL && out != NULL,
                CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_row_blob_decode(row->blob, row->blob_len, &v));
    CHSM_ENSURE(v.class_ == row->class_ && v.key_type == row->key_type,
                CHSM_ERR(CKR_DEVICE_ERROR, "store", "snapshot row columns do not match its blob"));
    /* The public-object key is derived from the MK, so one MK opens every row. */
    CHSM_GUARD(chsm_kh_pub_key(mk, pub_key));
    CHSM_GUARD(chsm_kh_rkeys(mk, pub_key, &k));
    /* A row blob carries no rev column: the record's own (authenticated) revision is reported. */
    CHSM_GUARD(chsm_record_open(&v, NULL, serial, row->id, &k, out));
out:
    chsm_rkeys_wipe(&k);
    return rv;
}
