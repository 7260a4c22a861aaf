/*
 * Format versions. meta.format_version says which schema and record
 * encoding a database holds. Opening:
 *   - a fresh (empty) database creates the current schema in one transaction
 *     (two processes starting at once: BEGIN IMMEDIATE makes one of them do it);
 *   - a newer version is refused, naming both versions (never guess at a
 *     format we do not know);
 *   - an older version is copied beside the database (craton_hsm.db.v<N>.bak,
 *     a consistent copy made with VACUUM INTO, mode 0600) and then migrated
 *     step by step in ONE transaction, so a crash leaves either the old or
 *     the new format, never a mixture.
 * Only released formats get migration steps and fixtures (tests/fixtures/store/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "store/store_int.h"

static const char k_schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE tokens("
    " slot INTEGER PRIMARY KEY, label BLOB NOT NULL, serial BLOB NOT NULL,"
    " generation INTEGER NOT NULL, rev INTEGER NOT NULL, pub_key BLOB NOT NULL,"
    " so_iter INTEGER NOT NULL, so_salt BLOB NOT NULL, so_verifier BLOB NOT NULL,"
    " so_wrapped_mk BLOB NOT NULL, so_failed INTEGER NOT NULL DEFAULT 0,"
    " user_iter INTEGER, user_salt BLOB, user_verifier BLOB, user_wrapped_mk BLOB,"
    " user_failed INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);"
    "CREATE TABLE objects("
    " slot INTEGER NOT NULL, id BLOB NOT NULL, rev INTEGER NOT NULL,"
    " class INTEGER NOT NULL, key_type INTEGER NOT NULL, is_private INTEGER NOT NULL,"
    " pub_blob BLOB NOT NULL, sec_blob BLOB, PRIMARY KEY(slot, id));"
    "CREATE INDEX objects_rev ON objects(slot, rev);"
    "CREATE TABLE tombstones(slot INTEGER NOT NULL, id BLOB NOT NULL, rev INTEGER NOT NULL,"
    " PRIMARY KEY(slot, id));"
    "CREATE INDEX tombstones_rev ON tombstones(slot, rev);";

/* Migration steps: step i turns format `from` into `from + 1`. None yet: v1 is the first released format. */
struct migrate_step {
    uint32_t from;
    CK_RV (*run)(struct chsm_store *st);
};
static const struct migrate_step k_steps[] = {{0, NULL}};

static CK_RV read_version(struct chsm_store *st, bool *have_meta, uint32_t *version)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    *have_meta = false;
    *version = 0;
    int rc = sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                                -1, &s, NULL);
    CHSM_ENSURE(rc == SQLITE_OK, chsm_db_rv(st, rc, "read schema"));
    CHSM_ENSURE((rc = sqlite3_step(s)) == SQLITE_ROW, chsm_db_rv(st, rc, "read schema"));
    *have_meta = sqlite3_column_int(s, 0) == 1;
    sqlite3_finalize(s);
    s = NULL;
    if (!*have_meta)
        goto out;
    rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key='format_version'", -1, &s, NULL);
    CHSM_ENSURE(rc == SQLITE_OK, chsm_db_rv(st, rc, "read format version"));
    rc = sqlite3_step(s);
    CHSM_ENSURE(rc == SQLITE_ROW || rc == SQLITE_DONE, chsm_db_rv(st, rc, "read format version"));
    long long v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    CHSM_ENSURE(v >= 1 && v <= UINT32_MAX,
                CHSM_ERR(CKR_DEVICE_ERROR, "store", "%s has no valid format version: not a Craton HSM store",
                         st->db_path[0] ? st->db_path : "volatile store"));
    *version = (uint32_t)v;
out:
    sqlite3_finalize(s);
    return rv;
}

static CK_RV create_schema(struct chsm_store *st)
{
    CK_RV rv = CKR_OK;
    sqlite3_stmt *s = NULL;
    char created[CHSM_RFC3339_LEN];
    chsm_time_rfc3339(created);
    CHSM_GUARD(chsm_db_exec(st, k_schema_v1));
    int rc = sqlite3_prepare_v2(st->db, "INSERT INTO meta(key, value) VALUES ('format_version', ?1), "
                                        "('created', ?2), ('software_version', ?3)", -1, &s, NULL);
    CHSM_ENSURE(rc == SQLITE_OK, chsm_db_rv(st, rc, "create meta"));
    sqlite3_bind_int64(s, 1, CHSM_STORE_FORMAT_VERSION);
    sqlite3_bind_text(s, 2, created, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, CHSM_VERSION_STRING, -1, SQLITE_STATIC);
    CHSM_GUARD(chsm_db_step_done(st, s, "create meta"));
out:
    sqlite3_finalize(s);
    return rv;
}

/* A consistent copy (includes what is still in the WAL), created 0600 first so VACUUM INTO does not make it 0644. */
static CK_RV backup_copy(struct chsm_store *st, uint32_t old)
{
    CK_RV rv = CKR_OK;
    sqlite3_stmt *s = NULL;
    char path[CHSM_STORE_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s.v%u.bak", st->db_path, old);
    CHSM_GUARD(chsm_files_create_private(path, true));
    int rc = sqlite3_prepare_v2(st->db, "VACUUM INTO ?1", -1, &s, NULL);
    CHSM_ENSURE(rc == SQLITE_OK, chsm_db_rv(st, rc, "backup before migration"));
    sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
    CHSM_GUARD(chsm_db_step_done(st, s, "backup before migration"));
    chsm_log(CHSM_LOG_WARN, "store: format v%u copied to %s before migration to v%u", old, path,
             CHSM_STORE_FORMAT_VERSION);
out:
    sqlite3_finalize(s);
    return rv;
}

static CK_RV run_steps(struct chsm_store *st, uint32_t from)
{
    CK_RV rv = CKR_OK;
    sqlite3_stmt *s = NULL;
    for (uint32_t v = from; v < CHSM_STORE_FORMAT_VERSION; v++) {
        const struct migrate_step *step = NULL;
        for (size_t i = 0; i < CHSM_ARRAY_LEN(k_steps); i++)
            if (k_steps[i].run != NULL && k_steps[i].from == v)
                step = &k_steps[i];
        CHSM_ENSURE(step != NULL, CHSM_ERR(CKR_DEVICE_ERROR, "store",
                                           "no migration from store format version %u (this binary writes %u)", v,
                                           CHSM_STORE_FORMAT_VERSION));
        CHSM_GUARD(step->run(st));
    }
    int rc = sqlite3_prepare_v2(st->db, "UPDATE meta SET value = ?1 WHERE key = 'format_version'", -1, &s, NULL);
    CHSM_ENSURE(rc == SQLITE_OK, chsm_db_rv(st, rc, "migrate"));
    sqlite3_bind_int64(s, 1, CHSM_STORE_FORMAT_VERSION);
    CHSM_GUARD(chsm_db_step_done(st, s, "migrate"));
out:
    sqlite3_finalize(s);
    return rv;
}

static CK_RV refuse_newer(const struct chsm_store *st, uint32_t v)
{
    return CHSM_ERR(CKR_DEVICE_ERROR, "store",
                    "store format version %u is newer than this binary supports (%u): %s; use a newer Craton HSM",
                    v, CHSM_STORE_FORMAT_VERSION, st->db_path[0] ? st->db_path : "volatile store");
}

static CK_RV migrate(struct chsm_store *st, uint32_t old)
{
    CK_RV rv = CKR_OK;
    bool have_meta = false;
    uint32_t v = 0;
    if (!st->is_volatile)
        CHSM_GUARD(backup_copy(st, old));
    CHSM_GUARD(chsm_db_begin_write(st));
    CHSM_GUARD(read_version(st, &have_meta, &v)); /* another process may have migrated meanwhile */
    if (v < CHSM_STORE_FORMAT_VERSION)
        CHSM_GUARD(run_steps(st, v));
    CHSM_GUARD(chsm_db_commit(st));
out:
    chsm_db_rollback(st);
    return rv;
}

CK_RV chsm_migrate_open(struct chsm_store *st)
{
    CK_RV rv = CKR_OK;
    bool have_meta = false;
    uint32_t v = 0;
    CHSM_GUARD(chsm_db_begin_write(st));
    CHSM_GUARD(read_version(st, &have_meta, &v));
    if (!have_meta) {
        CHSM_GUARD(create_schema(st));
        v = CHSM_STORE_FORMAT_VERSION;
    }
    CHSM_GUARD(chsm_db_commit(st));
    CHSM_ENSURE(v <= CHSM_STORE_FORMAT_VERSION, refuse_newer(st, v));
    if (v < CHSM_STORE_FORMAT_VERSION)
        CHSM_GUARD(migrate(st, v));
    st->format_version = CHSM_STORE_FORMAT_VERSION;
out:
    chsm_db_rollback(st);
    return rv;
}
