/*
 * Internal to src/store: the handle, the SQL statement cache, transaction
 * helpers and the record/key-hierarchy primitives the public functions are
 * built from. Nothing outside src/store includes this (it pulls sqlite3.h).
 *
 * Locking: every public entry point takes st->mu (volatile stores share one
 * process-wide mutex because they share one in-memory database) and holds
 * it until it returns; internal helpers assume it is held.
 */
#ifndef CHSM_STORE_STORE_INT_H
#define CHSM_STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "common/bytes.h"
#include "store/store.h"

#define CHSM_STORE_PATH_MAX 4096
#define CHSM_PIN_SALT_LEN 16
#define CHSM_VERIFIER_LEN 32
#define CHSM_WRAPPED_MK_LEN (CHSM_MASTER_KEY_LEN + 8) /* RFC 3394 adds one 64-bit block */
#define CHSM_PUB_KEY_LEN 32
/*
 * Record version written by this binary (docs/store-format.md, "Records").
 * v2 binds the revision into every part, the public part into the secret
 * part, and MACs public objects written with the master key. v1 parts are
 * still read (with v1 guarantees) and become v2 when the object is rewritten.
 */
#define CHSM_RECORD_VERSION 2u
#define CHSM_RECORD_VERSION_V1 1u
#define CHSM_RECORD_MAC_LEN 32
#define CHSM_BUSY_TIMEOUT_MS 10000

enum chsm_stmt_id {
    STMT_DATA_VERSION,
    STMT_TOKEN_SELECT,
    STMT_TOKEN_COUNT_OBJECTS,
    STMT_TOKEN_BUMP_REV,
    STMT_TOKEN_INSERT,
    STMT_TOKEN_DELETE,
    STMT_PIN_SELECT,
    STMT_FAILED_SET_SO,
    STMT_FAILED_SET_USER,
    STMT_PIN_UPDATE_SO,
    STMT_PIN_UPDATE_USER,
    STMT_OBJ_UPSERT,
    STMT_OBJ_DELETE,
    STMT_OBJ_SINCE,
    STMT_OBJ_DELETE_SLOT,
    STMT_TOMB_INSERT,
    STMT_TOMB_DELETE_ONE,
    STMT_TOMB_SINCE,
    STMT_TOMB_DELETE_SLOT,
    STMT_TOMB_FROM_OBJECTS,
    STMT_COUNT
};

struct chsm_store {
    sqlite3 *db;
    pthread_mutex_t own_mu;
    pthread_mutex_t *mu; /* &own_mu, or the process-wide mutex of the volatile store */
    bool is_volatile;
    bool importing;
    char dir[CHSM_STORE_PATH_MAX];
    char db_path[CHSM_STORE_PATH_MAX];
    int lock_fd; /* -1 unless chsm_store_lock_exclusive succeeded */
    uint32_t format_version;
    int64_t last_data_version;
    bool sync_full_default; /* chsm_store_set_durability: FULL for every write */
    bool sync_full_now;     /* what the connection is set to */
    sqlite3_stmt *stmts[STMT_COUNT];
};

/* The clear token row, as read from or written to `tokens`. */
struct chsm_pin_row {
    bool present;
    uint32_t iterations;
    uint8_t salt[CHSM_PIN_SALT_LEN];
    uint8_t verifier[CHSM_VERIFIER_LEN];
    uint8_t wrapped_mk[CHSM_WRAPPED_MK_LEN];
    uint32_t failed;
};
struct chsm_token_row {
    uint32_t slot;
    char label[32];
    char serial[16];
    uint64_t generation;
    uint64_t rev;
    uint8_t pub_key[CHSM_PUB_KEY_LEN];
    struct chsm_pin_row pin[2]; /* indexed by enum chsm_pin_kind */
    char created[40]; /* RFC 3339, informational */
};

/* ---- db.c ---- */
CHSM_MUST_CHECK CK_RV chsm_db_rv(struct chsm_store *st, int rc, const char *what);
CHSM_MUST_CHECK CK_RV chsm_db_stmt(struct chsm_store *st, enum chsm_stmt_id id, sqlite3_stmt **out);
CHSM_MUST_CHECK CK_RV chsm_db_exec(struct chsm_store *st, const char *sql);
CHSM_MUST_CHECK CK_RV chsm_db_begin_write(struct chsm_store *st);
/* A write whose commit must survive power loss (auth state): synchronous=FULL for this transaction. */
CHSM_MUST_CHECK CK_RV chsm_db_begin_write_durable(struct chsm_store *st);
CHSM_MUST_CHECK CK_RV chsm_db_begin_read(struct chsm_store *st);
CHSM_MUST_CHECK CK_RV chsm_db_commit(struct chsm_store *st);
void chsm_db_rollback(struct chsm_store *st);
/* Step a statement expected to finish (SQLITE_DONE); resets it. */
CHSM_MUST_CHECK CK_RV chsm_db_step_done(struct chsm_store *st, sqlite3_stmt *s, const char *what);
void chsm_db_lock(struct chsm_store *st);
void chsm_db_unlock(struct chsm_store *st);
/* Open a second connection to the same database (snapshots). */
CHSM_MUST_CHECK CK_RV chsm_db_open_conn(const struct chsm_store *st, bool readonly, sqlite3 **out);
/* Read a blob column of exactly n bytes; false on NULL or wrong size. */
CHSM_MUST_CHECK bool chsm_db_col_fixed(sqlite3_stmt *s, int col, void *out, size_t n);

/* ---- files.c ---- */
CHSM_MUST_CHECK CK_RV chsm_files_prepare(const char *dir, char *db_path, size_t db_path_len);
CHSM_MUST_CHECK CK_RV chsm_files_create_private(const char *path, bool must_not_exist);

/* ---- migrate.c ---- */
CHSM_MUST_CHECK CK_RV chsm_migrate_open(struct chsm_store *st);

/* ---- keyhier.c ---- */
/* pub_key = HKDF(MK, "craton-hsm public object key v1"); doubles as the MK check value. */
CHSM_MUST_CHECK CK_RV chsm_kh_pub_key(const struct chsm_secbuf *mk, uint8_t out[CHSM_PUB_KEY_LEN]);
CHSM_MUST_CHECK CK_RV chsm_kh_record_key(const struct chsm_secbuf *mk, uint8_t out[32]);
/*
 * The keys a record is sealed/opened with. have_mk false: only pub is set
 * (logged out: public objects, no secrets, no MAC).
 */
struct chsm_rkeys {
    bool have_mk;
    uint8_t record[32]; /* HKDF(MK, "craton-hsm record key v1") */
    uint8_t mac[32];    /* HKDF(MK, "craton-hsm record mac v2") */
    uint8_t pub[CHSM_PUB_KEY_LEN];
};
/* mk NULL: logged out. mk must match pub_key (CKR_USER_NOT_LOGGED_IN otherwise). */
CHSM_MUST_CHECK CK_RV chsm_kh_rkeys(const struct chsm_secbuf *mk, const uint8_t pub_key[CHSM_PUB_KEY_LEN],
                                    struct chsm_rkeys *out);
void chsm_rkeys_wipe(struct chsm_rkeys *k);
/* Unwrap the MK of pin row `p` with `pin`: CKR_PIN_INCORRECT when the verifier differs. */
CHSM_MUST_CHECK CK_RV chsm_kh_unwrap(const struct chsm_pin_row *p, const uint8_t pub_key[CHSM_PUB_KEY_LEN],
                                     const uint8_t *pin, size_t pin_len, struct chsm_secbuf *mk_out);
CHSM_MUST_CHECK CK_RV chsm_kh_mk_matches(const struct chsm_secbuf *mk, const uint8_t pub_key[CHSM_PUB_KEY_LEN]);
CHSM_MUST_CHECK CK_RV chsm_token_row_read(struct chsm_store *st, uint32_t slot, struct chsm_token_row *row,
                                          bool *found);
CHSM_MUST_CHECK CK_RV chsm_token_row_insert(struct chsm_store *st, const struct chsm_token_row *row);
void chsm_token_row_wipe(struct chsm_token_row *row);

/* ---- record.c ---- */
enum chsm_blob_kind { CHSM_BLOB_PUB = 1, CHSM_BLOB_SEC = 2 };
/* The stored, still-encrypted form of one object. */
struct chsm_sealed_object {
    uint64_t class_;
    uint64_t key_type;
    bool is_private;
    struct chsm_buf pub; /* iv || ct || tag */
    struct chsm_buf sec; /* empty when the object has no secret attribute */
};
void chsm_sealed_free(struct chsm_sealed_object *so);
bool chsm_record_attr_is_secret(uint64_t class_, CK_ATTRIBUTE_TYPE type);
bool chsm_record_has_secret(const struct chsm_attrlist *attrs);
/*
 * Seal an object written at revision `rev` (bound into every part).
 * Without the MK (k->have_mk false) only a public object without secrets.
 */
CHSM_MUST_CHECK CK_RV chsm_record_seal(const struct chsm_attrlist *attrs, const char serial[16],
                                       const uint8_t id[CHSM_OBJECT_ID_LEN], uint64_t rev,
                                       const struct chsm_rkeys *k, struct chsm_sealed_object *out);

/* A borrowed view of the stored columns of one object. */
struct chsm_sealed_view {
    uint64_t class_;
    uint64_t key_type;
    bool is_private;
    struct chsm_bytes pub;
    struct chsm_bytes sec; /* len 0: no secret part */
};

/* Version and revision from a part's clear header; false when too short or of an unknown version (v1: rev 0). */
CHSM_MUST_CHECK bool chsm_record_peek(const uint8_t *part, size_t len, uint16_t *version, uint64_t *rev);

/*
 * Authenticate and decode a sealed object. row_rev: the row's revision
 * column, which a v2 record must carry (NULL: a snapshot row, no column;
 * out->rev is then the record's own). Without the MK: public objects only,
 * secrets not loaded. CKR_DEVICE_ERROR (error record + log line) when any
 * part fails authentication or does not match the clear columns.
 */
CHSM_MUST_CHECK CK_RV chsm_record_open(const struct chsm_sealed_view *v, const uint64_t *row_rev,
                                       const char serial[16], const uint8_t id[CHSM_OBJECT_ID_LEN],
                                       const struct chsm_rkeys *k, struct chsm_store_object *out);

/* ---- objects.c (caller holds a write transaction) ---- */
CHSM_MUST_CHECK CK_RV chsm_objects_bump_rev(struct chsm_store *st, uint32_t slot, uint64_t *rev);
CHSM_MUST_CHECK CK_RV chsm_objects_write_row(struct chsm_store *st, uint32_t slot,
                                             const uint8_t id[CHSM_OBJECT_ID_LEN], uint64_t rev,
                                             const struct chsm_sealed_view *v);

/* ---- tokenblob.c ---- */
CHSM_MUST_CHECK CK_RV chsm_token_blob_encode(const struct chsm_token_row *row, struct chsm_buf *out);
CHSM_MUST_CHECK CK_RV chsm_token_blob_decode(const uint8_t *blob, size_t len, struct chsm_token_row *row);
CHSM_MUST_CHECK CK_RV chsm_row_blob_encode(const struct chsm_sealed_view *v, struct chsm_buf *out);
/* v's pub/sec borrow from blob. */
CHSM_MUST_CHECK CK_RV chsm_row_blob_decode(const uint8_t *blob, size_t len, struct chsm_sealed_view *v);

#endif
