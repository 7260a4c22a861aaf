/*
 * Restore's write path: a token blob and its rows, still encrypted, into a
 * slot that holds no token, all in ONE transaction (import_begin ..
 * import_commit), so a failed restore leaves the slot empty, never half
 * filled. Restore itself builds the new store beside the final path and
 * renames it into place; this is the "fill the new store" step.
 *
 * The import transaction occupies the handle's connection: other calls on
 * the same handle fail until commit/abort. Use a dedicated handle.
 */
#include <string.h>

#include "store/store_int.h"

static CK_RV importing_or_fail(const struct chsm_store *st)
{
    return st->importing ? CKR_OK
                         : CHSM_ERR(CKR_OPERATION_NOT_INITIALIZED, "store", "import without chsm_store_import_begin");
}

CK_RV chsm_store_import_begin(struct chsm_store *st)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(st != NULL, CKR_ARGUMENTS_BAD);
    chsm_db_lock(st);
    if (st->importing) {
        rv = CHSM_ERR(CKR_OPERATION_ACTIVE, "store", "import already in progress");
    } else {
        rv = chsm_db_begin_write_durable(st);
        st->importing = rv == CKR_OK;
    }
    chsm_db_unlock(st);
out:
    return rv;
}

CK_RV chsm_store_import_commit(struct chsm_store *st)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(st != NULL, CKR_ARGUMENTS_BAD);
    chsm_db_lock(st);
    rv = importing_or_fail(st);
    if (rv == CKR_OK)
        rv = chsm_db_commit(st);
    st->importing = false;
    chsm_db_unlock(st);
out:
    return rv;
}

void chsm_store_import_abort(struct chsm_store *st)
{
    if (st == NULL)
        return;
    chsm_db_lock(st);
    if (st->importing)
        chsm_db_rollback(st);
    st->importing = false;
    chsm_db_unlock(st);
}

static CK_RV import_token_locked(struct chsm_store *st, uint32_t slot, const uint8_t *blob, size_t len)
{
    struct chsm_token_row row, existing;
    bool found = false;
    CK_RV rv = CKR_OK;
    memset(&existing, 0, sizeof(existing));
    CHSM_GUARD(importing_or_fail(st));
    CHSM_GUARD(chsm_token_blob_decode(blob, len, &row));
    CHSM_GUARD(chsm_token_row_read(st, slot, &existing, &found));
    CHSM_ENSURE(!found, CHSM_ERR(CKR_FUNCTION_FAILED, "store",
                                 "slot %u of %s already holds a token; import needs an empty store", slot,
                                 st->db_path[0] ? st->db_path : "volatile store"));
    row.slot = slot;
    row.rev = 0; /* raised as rows are imported (v2 rows keep their sealed revision, v1 rows get the next one) */
    CHSM_GUARD(chsm_token_row_insert(st, &row));
out:
    chsm_token_row_wipe(&row);
    chsm_token_row_wipe(&existing);
    return rv;
}

CK_RV chsm_store_import_token(struct chsm_store *st, uint32_t slot, const uint8_t *token_blob, size_t len)
{
    if (st == NULL || token_blob == NULL)
        return CKR_ARGUMENTS_BAD;
    chsm_db_lock(st);
    CK_RV rv = import_token_locked(st, slot, token_blob, len);
    chsm_db_unlock(st);
    return rv;
}

/*
 * A v2 record seals its revision, so the row keeps it (and the slot's
 * counter is raised past it); a v1 record has none and gets the next one.
 */
static CK_RV import_rev(struct chsm_store *st, uint32_t slot, const struct chsm_sealed_view *v, uint64_t *rev)
{
    uint16_t version = 0;
    uint64_t sealed_rev = 0;
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(chsm_record_peek(v->pub.data, v->pub.len, &version, &sealed_rev),
                CHSM_ERR(CKR_DATA_INVALID, "store", "imported row holds no record of a known version"));
    if (version == CHSM_RECORD_VERSION_V1) {
        CHSM_GUARD(chsm_objects_bump_rev(st, slot, rev));
        goto out;
    }
    CHSM_ENSURE(sealed_rev >= 1 && sealed_rev <= INT64_MAX,
                CHSM_ERR(CKR_DATA_INVALID, "store", "imported row has an invalid revision"));
    int rc = sqlite3_prepare_v2(st->db, "UPDATE tokens SET rev = max(rev, ?2) WHERE slot = ?1", -1, &s, NULL);
    CHSM_ENSURE(rc == SQLITE_OK, chsm_db_rv(st, rc, "import revision"));
    sqlite3_bind_int64(s, 1, slot);
    sqlite3_bind_int64(s, 2, (int64_t)sealed_rev);
    CHSM_GUARD(chsm_db_step_done(st, s, "import revision"));
    CHSM_ENSURE(sqlite3_changes(st->db) == 1, CKR_TOKEN_NOT_RECOGNIZED);
    *rev = sealed_rev;
out:
    sqlite3_finalize(s);
    return rv;
}

static CK_RV import_row_locked(struct chsm_store *st, uint32_t slot, const struct chsm_snapshot_row *row)
{
    struct chsm_sealed_view v;
    uint64_t rev = 0;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(importing_or_fail(st));
    CHSM_GUARD(chsm_row_blob_decode(row->blob, row->blob_len, &v));
    CHSM_ENSURE(v.class_ == row->class_ && v.key_type == row->key_type,
                CHSM_ERR(CKR_DATA_INVALID, "store", "imported row columns do not match its blob"));
    CHSM_GUARD(import_rev(st, slot, &v, &rev));
    CHSM_GUARD(chsm_objects_write_row(st, slot, row->id, rev, &v));
out:
    return rv;
}

CK_RV chsm_store_import_row(struct chsm_store *st, uint32_t slot, const struct chsm_snapshot_row *row)
{
    if (st == NULL || row == NULL)
        return CKR_ARGUMENTS_BAD;
    chsm_db_lock(st);
    CK_RV rv = import_row_locked(st, slot, row);
    chsm_db_unlock(st);
    return rv;
}
