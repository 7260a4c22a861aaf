/*
 * The key hierarchy and token state (brief, "Key hierarchy"):
 *   pin_key  = PBKDF2-HMAC-SHA256(PIN, 16-byte random salt, iterations)
 *   KEK      = HKDF-SHA256(pin_key, info "craton-hsm kek v1")
 *   verifier = HKDF-SHA256(pin_key, info "craton-hsm verifier v1")
 *   wrapped  = AES-256-KW(KEK, MK)                          (RFC 3394)
 * The iteration count is stored per PIN, so changing pbkdf2_iterations in
 * the config never breaks an existing PIN (it applies at the next PIN set).
 * pub_key = HKDF(MK, "craton-hsm public object key v1") is kept in clear
 * in the token row: it encrypts public objects (readable while logged out)
 * and doubles as the check value that tells a stale MK (token re-initialised
 * by another process) from the current one.
 *
 * Failed-login counting: the counter is incremented and committed (fsync'd)
 * BEFORE the PBKDF2 runs, inside BEGIN IMMEDIATE, so concurrent processes
 * count exactly and killing a process mid-check never grants a free attempt.
 */
#include <stdio.h>
#include <string.h>

#include "common/timeutil.h"
#include "crypto/crypto.h"
#include "store/store_int.h"

static const char k_info_kek[] = "craton-hsm kek v1";
static const char k_info_verifier[] = "craton-hsm verifier v1";
static const char k_info_pub[] = "craton-hsm public object key v1";
static const char k_info_record[] = "craton-hsm record key v1";
static const char k_info_mac[] = "craton-hsm record mac v2";

static CK_RV hkdf_info(const uint8_t *ikm, size_t ikm_len, const char *info, uint8_t out[32])
{
    return chsm_hkdf_sha256(ikm, ikm_len, NULL, 0, (const uint8_t *)info, strlen(info), out, 32);
}

CK_RV chsm_kh_pub_key(const struct chsm_secbuf *mk, uint8_t out[CHSM_PUB_KEY_LEN])
{
    return hkdf_info(mk->data, mk->len, k_info_pub, out);
}

CK_RV chsm_kh_record_key(const struct chsm_secbuf *mk, uint8_t out[32])
{
    return hkdf_info(mk->data, mk->len, k_info_record, out);
}

void chsm_rkeys_wipe(struct chsm_rkeys *k)
{
    chsm_wipe(k, sizeof(*k));
}

CK_RV chsm_kh_rkeys(const struct chsm_secbuf *mk, const uint8_t pub_key[CHSM_PUB_KEY_LEN], struct chsm_rkeys *out)
{
    CK_RV rv = CKR_OK;
    memset(out, 0, sizeof(*out));
    memcpy(out->pub, pub_key, CHSM_PUB_KEY_LEN);
    if (mk == NULL)
        goto out;
    CHSM_GUARD(chsm_kh_mk_matches(mk, pub_key));
    CHSM_GUARD(chsm_kh_record_key(mk, out->record));
    CHSM_GUARD(hkdf_info(mk->data, mk->len, k_info_mac, out->mac));
    out->have_mk = true;
out:
    if (rv != CKR_OK)
        chsm_rkeys_wipe(out);
    return rv;
}

CK_RV chsm_kh_mk_matches(const struct chsm_secbuf *mk, const uint8_t pub_key[CHSM_PUB_KEY_LEN])
{
    uint8_t check[CHSM_PUB_KEY_LEN];
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(mk != NULL && mk->len == CHSM_MASTER_KEY_LEN,
                CHSM_ERR(CKR_ARGUMENTS_BAD, "store", "master key of wrong length"));
    CHSM_GUARD(chsm_kh_pub_key(mk, check));
    CHSM_ENSURE(chsm_ct_equal(check, pub_key, sizeof(check)),
                CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "store",
                         "master key is not the token's current one (token re-initialised?); log in again"));
out:
    return rv;
}

static CK_RV derive_pin(const uint8_t *pin, size_t pin_len, const uint8_t salt[CHSM_PIN_SALT_LEN], uint32_t iter,
                        uint8_t kek[32], uint8_t verifier[CHSM_VERIFIER_LEN])
{
    uint8_t pin_key[32];
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_pbkdf2_sha256(pin, pin_len, salt, CHSM_PIN_SALT_LEN, iter, pin_key, sizeof(pin_key)));
    CHSM_GUARD(hkdf_info(pin_key, sizeof(pin_key), k_info_kek, kek));
    CHSM_GUARD(hkdf_info(pin_key, sizeof(pin_key), k_info_verifier, verifier));
out:
    chsm_wipe(pin_key, sizeof(pin_key));
    return rv;
}

/* A fresh salt, verifier and MK wrap for one PIN. */
static CK_RV make_pin_row(const struct chsm_secbuf *mk, const uint8_t *pin, size_t pin_len, uint32_t iter,
                          struct chsm_pin_row *p)
{
    uint8_t kek[32];
    size_t wlen = sizeof(p->wrapped_mk);
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(iter >= 1, CHSM_ERR(CKR_ARGUMENTS_BAD, "store", "pbkdf2_iterations must be positive"));
    CHSM_ENSURE(pin != NULL || pin_len == 0, CKR_ARGUMENTS_BAD);
    memset(p, 0, sizeof(*p));
    p->present = true;
    p->iterations = iter;
    CHSM_GUARD(chsm_rand_bytes(p->salt, sizeof(p->salt)));
    CHSM_GUARD(derive_pin(pin, pin_len, p->salt, iter, kek, p->verifier));
    CHSM_GUARD(chsm_aes256_kw_wrap(kek, mk->data, mk->len, p->wrapped_mk, &wlen));
    CHSM_ENSURE(wlen == sizeof(p->wrapped_mk), CKR_GENERAL_ERROR);
out:
    chsm_wipe(kek, sizeof(kek));
    return rv;
}

CK_RV chsm_kh_unwrap(const struct chsm_pin_row *p, const uint8_t pub_key[CHSM_PUB_KEY_LEN], const uint8_t *pin,
                     size_t pin_len, struct chsm_secbuf *mk_out)
{
    uint8_t kek[32], verifier[CHSM_VERIFIER_LEN];
    struct chsm_secbuf mk = {0};
    size_t mk_len = CHSM_MASTER_KEY_LEN;
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(pin != NULL || pin_len == 0, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(derive_pin(pin, pin_len, p->salt, p->iterations, kek, verifier));
    CHSM_ENSURE(chsm_ct_equal(verifier, p->verifier, sizeof(verifier)), CKR_PIN_INCORRECT);
    CHSM_GUARD(chsm_secbuf_alloc(&mk, CHSM_MASTER_KEY_LEN));
    rv = chsm_aes256_kw_unwrap(kek, p->wrapped_mk, sizeof(p->wrapped_mk), mk.data, &mk_len);
    /* The verifier matched, so a failing unwrap means the stored wrap was altered. */
    CHSM_ENSURE(rv == CKR_OK && mk_len == CHSM_MASTER_KEY_LEN,
                CHSM_ERR(CKR_DEVICE_ERROR, "store", "wrapped master key failed authentication"));
    CHSM_ENSURE(chsm_kh_mk_matches(&mk, pub_key) == CKR_OK,
                CHSM_ERR(CKR_DEVICE_ERROR, "store", "master key does not match the token's public-object key"));
    if (mk_out != NULL)
        chsm_secbuf_move(mk_out, &mk);
out:
    chsm_wipe(kek, sizeof(kek));
    chsm_wipe(verifier, sizeof(verifier));
    chsm_secbuf_free(&mk);
    return rv;
}

void chsm_token_row_wipe(struct chsm_token_row *row)
{
    chsm_wipe(row, sizeof(*row));
}

/* Columns base..base+4 of STMT_TOKEN_SELECT: iter, salt, verifier, wrapped_mk, failed. */
static bool read_pin_cols(sqlite3_stmt *s, int base, struct chsm_pin_row *p)
{
    p->failed = (uint32_t)sqlite3_column_int64(s, base + 4);
    p->present = sqlite3_column_type(s, base + 3) != SQLITE_NULL;
    if (!p->present)
        return true;
    int64_t iter = sqlite3_column_int64(s, base);
    p->iterations = (uint32_t)iter;
    return iter >= 1 && iter <= UINT32_MAX && chsm_db_col_fixed(s, base + 1, p->salt, sizeof(p->salt)) &&
           chsm_db_col_fixed(s, base + 2, p->verifier, sizeof(p->verifier)) &&
           chsm_db_col_fixed(s, base + 3, p->wrapped_mk, sizeof(p->wrapped_mk));
}

CK_RV chsm_token_row_read(struct chsm_store *st, uint32_t slot, struct chsm_token_row *row, bool *found)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    memset(row, 0, sizeof(*row));
    *found = false;
    CHSM_GUARD(chsm_db_stmt(st, STMT_TOKEN_SELECT, &s));
    sqlite3_bind_int64(s, 1, slot);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        goto out;
    CHSM_ENSURE(rc == SQLITE_ROW, chsm_db_rv(st, rc, "read token"));
    row->slot = slot;
    row->generation = (uint64_t)sqlite3_column_int64(s, 2);
    row->rev = (uint64_t)sqlite3_column_int64(s, 3);
    const unsigned char *created = sqlite3_column_text(s, 15);
    if (created != NULL)
        snprintf(row->created, sizeof(row->created), "%s", (const char *)created);
    bool ok = chsm_db_col_fixed(s, 0, row->label, sizeof(row->label)) &&
              chsm_db_col_fixed(s, 1, row->serial, sizeof(row->serial)) &&
              chsm_db_col_fixed(s, 4, row->pub_key, sizeof(row->pub_key)) && read_pin_cols(s, 5, &row->pin[0]) &&
              row->pin[0].present && read_pin_cols(s, 10, &row->pin[1]);
    CHSM_ENSURE(ok, CHSM_ERR(CKR_DEVICE_ERROR, "store", "token row of slot %u is malformed", slot));
    *found = true;
out:
    if (s != NULL)
        sqlite3_reset(s);
    return rv;
}

static void bind_pin_cols(sqlite3_stmt *s, int base, const struct chsm_pin_row *p)
{
    if (p->present) {
        sqlite3_bind_int64(s, base, p->iterations);
        sqlite3_bind_blob(s, base + 1, p->salt, sizeof(p->salt), SQLITE_STATIC);
        sqlite3_bind_blob(s, base + 2, p->verifier, sizeof(p->verifier), SQLITE_STATIC);
        sqlite3_bind_blob(s, base + 3, p->wrapped_mk, sizeof(p->wrapped_mk), SQLITE_STATIC);
    }
    sqlite3_bind_int64(s, base + 4, p->failed);
}

CK_RV chsm_token_row_insert(struct chsm_store *st, const struct chsm_token_row *row)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_stmt(st, STMT_TOKEN_INSERT, &s));
    sqlite3_bind_int64(s, 1, row->slot);
    sqlite3_bind_blob(s, 2, row->label, sizeof(row->label), SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, row->serial, sizeof(row->serial), SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (int64_t)row->generation);
    sqlite3_bind_int64(s, 5, (int64_t)row->rev);
    sqlite3_bind_blob(s, 6, row->pub_key, sizeof(row->pub_key), SQLITE_STATIC);
    bind_pin_cols(s, 7, &row->pin[CHSM_PIN_SO]);
    bind_pin_cols(s, 12, &row->pin[CHSM_PIN_USER]);
    sqlite3_bind_text(s, 17, row->created, -1, SQLITE_STATIC);
    CHSM_GUARD(chsm_db_step_done(st, s, "write token"));
out:
    return rv;
}

static CK_RV count_objects(struct chsm_store *st, uint32_t slot, uint64_t *n)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_stmt(st, STMT_TOKEN_COUNT_OBJECTS, &s));
    sqlite3_bind_int64(s, 1, slot);
    int rc = sqlite3_step(s);
    CHSM_ENSURE(rc == SQLITE_ROW, chsm_db_rv(st, rc, "count objects"));
    *n = (uint64_t)sqlite3_column_int64(s, 0);
out:
    if (s != NULL)
        sqlite3_reset(s);
    return rv;
}

CK_RV chsm_store_token_get(struct chsm_store *st, uint32_t slot, struct chsm_token_state *out)
{
    struct chsm_token_row row;
    bool found = false;
    CK_RV rv = CKR_OK;
    memset(out, 0, sizeof(*out));
    chsm_db_lock(st);
    CHSM_GUARD(chsm_db_begin_read(st));
    CHSM_GUARD(chsm_token_row_read(st, slot, &row, &found));
    if (found) {
        out->initialized = true;
        memcpy(out->label, row.label, sizeof(out->label));
        memcpy(out->serial, row.serial, sizeof(out->serial));
        out->user_pin_initialized = row.pin[CHSM_PIN_USER].present;
        out->so_failed = row.pin[CHSM_PIN_SO].failed;
        out->user_failed = row.pin[CHSM_PIN_USER].failed;
        out->generation = row.generation;
        CHSM_GUARD(count_objects(st, slot, &out->object_count));
    }
    CHSM_GUARD(chsm_db_commit(st));
out:
    chsm_db_rollback(st);
    chsm_db_unlock(st);
    chsm_token_row_wipe(&row);
    return rv;
}

static CK_RV slot_stmt(struct chsm_store *st, enum chsm_stmt_id id, uint32_t slot, int64_t arg, const char *what)
{
    sqlite3_stmt *s = NULL;
    CK_RV rv = chsm_db_stmt(st, id, &s);
    if (rv != CKR_OK)
        return rv;
    sqlite3_bind_int64(s, 1, slot);
    sqlite3_bind_int64(s, 2, arg);
    return chsm_db_step_done(st, s, what);
}

/* Replace the slot's token row and drop its objects; the feed reports them removed at the new revision. */
static CK_RV write_new_token(struct chsm_store *st, struct chsm_token_row *row)
{
    struct chsm_token_row old;
    bool found = false;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_begin_write_durable(st));
    CHSM_GUARD(chsm_token_row_read(st, row->slot, &old, &found));
    row->generation = found ? old.generation + 1 : 1;
    row->rev = found ? old.rev + 1 : 1;
    CHSM_GUARD(slot_stmt(st, STMT_TOMB_DELETE_SLOT, row->slot, 0, "token init"));
    CHSM_GUARD(slot_stmt(st, STMT_TOMB_FROM_OBJECTS, row->slot, (int64_t)row->rev, "token init"));
    CHSM_GUARD(slot_stmt(st, STMT_OBJ_DELETE_SLOT, row->slot, 0, "token init"));
    CHSM_GUARD(chsm_token_row_insert(st, row));
    CHSM_GUARD(chsm_db_commit(st));
out:
    chsm_db_rollback(st);
    chsm_token_row_wipe(&old);
    return rv;
}

CK_RV chsm_store_token_init(struct chsm_store *st, uint32_t slot, const uint8_t *so_pin, size_t so_pin_len,
                            const char label[32], const char serial[16], uint32_t pbkdf2_iterations,
                            struct chsm_secbuf *mk_out)
{
    struct chsm_secbuf mk = {0};
    struct chsm_token_row row;
    CK_RV rv = CKR_OK;
    memset(&row, 0, sizeof(row));
    CHSM_ENSURE(label != NULL && serial != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_secbuf_alloc(&mk, CHSM_MASTER_KEY_LEN));
    CHSM_GUARD(chsm_rand_bytes(mk.data, mk.len));
    row.slot = slot;
    memcpy(row.label, label, sizeof(row.label));
    memcpy(row.serial, serial, sizeof(row.serial));
    chsm_time_rfc3339(row.created);
    CHSM_GUARD(chsm_kh_pub_key(&mk, row.pub_key));
    /* PBKDF2 before taking the write lock: other processes keep writing meanwhile. */
    CHSM_GUARD(make_pin_row(&mk, so_pin, so_pin_len, pbkdf2_iterations, &row.pin[CHSM_PIN_SO]));
    chsm_db_lock(st);
    rv = write_new_token(st, &row);
    chsm_db_unlock(st);
    CHSM_GUARD(rv);
    if (mk_out != NULL)
        chsm_secbuf_move(mk_out, &mk);
out:
    chsm_secbuf_free(&mk);
    chsm_token_row_wipe(&row);
    return rv;
}

/* Phase 1 of a PIN check: spend the attempt durably. Fills *row for the derivation. */
static CK_RV spend_attempt(struct chsm_store *st, uint32_t slot, enum chsm_pin_kind kind, uint32_t max_failed,
                           struct chsm_token_row *row, uint32_t *failed_after)
{
    bool found = false;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_begin_write_durable(st));
    CHSM_GUARD(chsm_token_row_read(st, slot, row, &found));
    CHSM_ENSURE(found, CKR_TOKEN_NOT_RECOGNIZED);
    struct chsm_pin_row *p = &row->pin[kind];
    *failed_after = p->failed;
    CHSM_ENSURE(p->present, CKR_USER_PIN_NOT_INITIALIZED);
    /* max_failed 0 disables lockout (config validation decides whether that is allowed). */
    CHSM_ENSURE(max_failed == 0 || p->failed < max_failed, CKR_PIN_LOCKED);
    CHSM_GUARD(slot_stmt(st, kind == CHSM_PIN_SO ? STMT_FAILED_SET_SO : STMT_FAILED_SET_USER, slot,
                         (int64_t)p->failed + 1, "count failed login"));
    CHSM_GUARD(chsm_db_commit(st));
    *failed_after = p->failed + 1;
out:
    chsm_db_rollback(st);
    return rv;
}

static CK_RV reset_attempts(struct chsm_store *st, uint32_t slot, enum chsm_pin_kind kind)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_begin_write_durable(st));
    CHSM_GUARD(slot_stmt(st, kind == CHSM_PIN_SO ? STMT_FAILED_SET_SO : STMT_FAILED_SET_USER, slot, 0,
                         "reset failed logins"));
    CHSM_GUARD(chsm_db_commit(st));
out:
    chsm_db_rollback(st);
    return rv;
}

CK_RV chsm_store_pin_check(struct chsm_store *st, uint32_t slot, enum chsm_pin_kind kind, const uint8_t *pin,
                           size_t pin_len, uint32_t max_failed, struct chsm_secbuf *mk_out, uint32_t *failed_after)
{
    struct chsm_token_row row;
    struct chsm_secbuf mk = {0};
    uint32_t failed = 0;
    CK_RV rv = CKR_OK;
    memset(&row, 0, sizeof(row));
    CHSM_ENSURE(kind == CHSM_PIN_SO || kind == CHSM_PIN_USER, CKR_ARGUMENTS_BAD);
    chsm_db_lock(st);
    rv = spend_attempt(st, slot, kind, max_failed, &row, &failed);
    chsm_db_unlock(st);
    CHSM_GUARD(rv);
    CHSM_GUARD(chsm_kh_unwrap(&row.pin[kind], row.pub_key, pin, pin_len, &mk));
    chsm_db_lock(st);
    rv = reset_attempts(st, slot, kind);
    chsm_db_unlock(st);
    CHSM_GUARD(rv);
    failed = 0;
    if (mk_out != NULL)
        chsm_secbuf_move(mk_out, &mk);
out:
    if (failed_after != NULL)
        *failed_after = failed;
    chsm_secbuf_free(&mk);
    chsm_token_row_wipe(&row);
    return rv;
}

static CK_RV update_pin(struct chsm_store *st, uint32_t slot, enum chsm_pin_kind kind,
                        const struct chsm_secbuf *mk, const struct chsm_pin_row *p)
{
    struct chsm_token_row row;
    bool found = false;
    sqlite3_stmt *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_db_begin_write_durable(st));
    CHSM_GUARD(chsm_token_row_read(st, slot, &row, &found));
    CHSM_ENSURE(found, CKR_TOKEN_NOT_RECOGNIZED);
    CHSM_GUARD(chsm_kh_mk_matches(mk, row.pub_key));
    CHSM_GUARD(chsm_db_stmt(st, kind == CHSM_PIN_SO ? STMT_PIN_UPDATE_SO : STMT_PIN_UPDATE_USER, &s));
    sqlite3_bind_int64(s, 1, slot);
    bind_pin_cols(s, 2, p); /* binds 2..5 and failed at 6, which the pub_key bind below overrides */
    sqlite3_bind_blob(s, 6, row.pub_key, sizeof(row.pub_key), SQLITE_STATIC);
    CHSM_GUARD(chsm_db_step_done(st, s, "set PIN"));
    CHSM_GUARD(chsm_db_commit(st));
out:
    chsm_db_rollback(st);
    chsm_token_row_wipe(&row);
    return rv;
}

CK_RV chsm_store_pin_set(struct chsm_store *st, uint32_t slot, enum chsm_pin_kind kind, const struct chsm_secbuf *mk,
                         const uint8_t *pin, size_t pin_len, uint32_t pbkdf2_iterations)
{
    struct chsm_pin_row p;
    CK_RV rv = CKR_OK;
    memset(&p, 0, sizeof(p));
    CHSM_ENSURE(kind == CHSM_PIN_SO || kind == CHSM_PIN_USER, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(mk != NULL && mk->len == CHSM_MASTER_KEY_LEN, CKR_USER_NOT_LOGGED_IN);
    CHSM_GUARD(make_pin_row(mk, pin, pin_len, pbkdf2_iterations, &p));
    chsm_db_lock(st);
    rv = update_pin(st, slot, kind, mk, &p);
    chsm_db_unlock(st);
out:
    chsm_wipe(&p, sizeof(p));
    return rv;
}
