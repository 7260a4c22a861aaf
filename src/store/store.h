/*
 * The persistent store: one SQLite database (WAL) under [token].storage_path
 * holding every slot's token state, PIN verifiers, wrapped master keys,
 * failed-login counters and AEAD-encrypted object records. The database is
 * the single source of truth; several processes may open it at once.
 *
 * Layers (each its own file): db.c (rows, transactions, data_version),
 * record.c (attribute encoding + AES-256-GCM bound to token/object/version),
 * keyhier.c (PIN-derived KEKs, master key wrap/unwrap, verifiers, lockout
 * counting), lock.c (advisory lock), snapshot.c (consistent read-only view
 * for backup), migrate.c (format versions).
 *
 * Key hierarchy (brief): a random 256-bit master key (MK) per token from the
 * DRBG, created at token init. For each PIN: pin_key = PBKDF2-HMAC-SHA256
 * (PIN, per-PIN random salt, pbkdf2_iterations); KEK = HKDF(pin_key,
 * "kek"), verifier = HKDF(pin_key, "verifier"); MK stored only wrapped
 * (AES-KW) under each KEK. Records are AES-256-GCM under HKDF(MK, "record")
 * with AAD = "CHSM" || record version || serial || object id || part kind ||
 * revision (|| SHA-256 of the public part, in the secret part); the public
 * part of a public object is sealed under the token's public-object key
 * HKDF(MK, "public object key"), kept in clear in the token row so public
 * objects are readable while logged out, and carries an HMAC under
 * HKDF(MK, "record mac v2") when written with the MK. Details and the exact
 * encodings: docs/store-format.md.
 *
 * Threading: a struct chsm_store may be used from several threads; calls
 * are serialised internally. Ownership: callers own every out-parameter.
 */
#ifndef CHSM_STORE_STORE_H
#define CHSM_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/attrlist.h"
#include "common/result.h"
#include "common/secbuf.h"

#define CHSM_STORE_FORMAT_VERSION 1u
#define CHSM_STORE_DB_NAME "craton_hsm.db"
#define CHSM_STORE_LOCK_NAME "craton_hsm.lock"
#define CHSM_OBJECT_ID_LEN 16
#define CHSM_MASTER_KEY_LEN 32

struct chsm_store;

/*
 * Open (creating if needed) the store in directory `dir`. dir NULL, "" or
 * ":memory:" gives a volatile in-memory store. A directory that is missing
 * is created with mode 0700; an existing one (or any file in it) readable
 * or writable by group/others is refused with CKR_DEVICE_ERROR and an error
 * record naming the path and the fix (chmod 700 / 600). A newer format
 * version is refused naming both versions; an older one is migrated in one
 * transaction after copying the database beside it.
 */
CHSM_MUST_CHECK CK_RV chsm_store_open(const char *dir, struct chsm_store **out);
void chsm_store_close(struct chsm_store *st);
bool chsm_store_is_volatile(const struct chsm_store *st);
uint32_t chsm_store_format_version(const struct chsm_store *st);

/*
 * Durability of object writes (docs/store-format.md, "Durability"). Every
 * CKR_OK write survives the process being killed at any moment. By default
 * (CHSM_STORE_DURABLE_CRASH) object puts/deletes are not fsync'd one by one
 * (a power loss may roll back the newest ones; the store stays consistent);
 * token init, PIN changes, failed-login counters and imports are always
 * fsync'd. CHSM_STORE_DURABLE_POWER_LOSS fsyncs every write (~3x slower).
 */
enum chsm_store_durability { CHSM_STORE_DURABLE_CRASH = 0, CHSM_STORE_DURABLE_POWER_LOSS = 1 };
void chsm_store_set_durability(struct chsm_store *st, enum chsm_store_durability d);

/*
 * Advisory lock (flock on <dir>/craton_hsm.lock) for exclusive maintenance:
 * the daemon holds it while serving, restore takes it before touching the
 * store. CKR_FUNCTION_FAILED with an error record when another process holds
 * it. Released by chsm_store_unlock or chsm_store_close.
 */
CHSM_MUST_CHECK CK_RV chsm_store_lock_exclusive(struct chsm_store *st);
void chsm_store_unlock(struct chsm_store *st);
/* Without opening: 1 = held by another process, 0 = free or no store, -1 = error. */
int chsm_store_lock_probe(const char *dir);

/* ---- token state ---- */

enum chsm_pin_kind { CHSM_PIN_SO = 0, CHSM_PIN_USER = 1 };

struct chsm_token_state {
    bool initialized;
    char label[32];  /* blank padded, as CK_TOKEN_INFO */
    char serial[16]; /* blank padded */
    bool user_pin_initialized;
    uint32_t so_failed;   /* consecutive failed SO logins */
    uint32_t user_failed; /* consecutive failed user logins */
    uint64_t generation;  /* increments at every token init */
    uint64_t object_count;
};

/* Fresh read from the database (not cached). An uninitialised slot reads initialized=false. */
CHSM_MUST_CHECK CK_RV chsm_store_token_get(struct chsm_store *st, uint32_t slot, struct chsm_token_state *out);

/*
 * Initialise (or re-initialise) a slot's token in one transaction: destroys
 * every object of that slot, draws a new master key, wraps it under the SO
 * PIN, clears the user PIN and counters. The caller (core) has already
 * verified the current SO PIN when the token was initialised. The new MK is
 * returned in mk_out when it is non-NULL.
 */
CHSM_MUST_CHECK CK_RV chsm_store_token_init(struct chsm_store *st, uint32_t slot, const uint8_t *so_pin,
                                            size_t so_pin_len, const char label[32], const char serial[16],
                                            uint32_t pbkdf2_iterations, struct chsm_secbuf *mk_out);

/*
 * Verify a PIN and, on success, unwrap the master key into mk_out. The
 * failed-login counter is incremented durably BEFORE the PBKDF2 runs (so a
 * process killed mid-check has still spent the attempt) and reset on
 * success. Returns CKR_OK, CKR_PIN_INCORRECT, CKR_PIN_LOCKED (counter at
 * max_failed), CKR_USER_PIN_NOT_INITIALIZED, CKR_TOKEN_NOT_RECOGNIZED (slot
 * not initialised). failed_after (may be NULL) receives the counter value
 * after the attempt.
 */
CHSM_MUST_CHECK CK_RV chsm_store_pin_check(struct chsm_store *st, uint32_t slot, enum chsm_pin_kind kind,
                                           const uint8_t *pin, size_t pin_len, uint32_t max_failed,
                                           struct chsm_secbuf *mk_out, uint32_t *failed_after);

/*
 * Set a PIN: new salt, verifier and MK wrap for `kind`, counter reset, in one
 * transaction. The caller holds the unwrapped MK (from pin_check or init).
 * Used by C_SetPIN (after verifying the old PIN) and C_InitPIN (SO logged
 * in; also resets a locked user PIN without losing any object).
 */
CHSM_MUST_CHECK CK_RV chsm_store_pin_set(struct chsm_store *st, uint32_t slot, enum chsm_pin_kind kind,
                                         const struct chsm_secbuf *mk, const uint8_t *pin, size_t pin_len,
                                         uint32_t pbkdf2_iterations);

/* ---- objects ---- */

/*
 * A decrypted object. attrs always holds the non-secret attributes; the
 * secret ones (CKA_VALUE of secret/private keys, private-key components) are
 * present only when the master key was supplied. rev is the store revision
 * of the last write of this object (authenticated in record version 2).
 *
 * authenticated: the WHOLE record (every attribute, the id, the token and
 * the revision) was verified under a key derived from the master key —
 * a private object, a public object whose secret part (bound to its public
 * part) opened, or a public object whose MAC verified. false when loaded
 * without the MK, for a public object written without the MK (created or
 * modified while logged out) and for a public object in record version 1.
 * The public part of a public object is sealed under a key kept in clear,
 * so anyone who can write the store file can forge the attributes of an
 * unauthenticated object (security review C2).
 *
 * WHAT THE CORE MUST DO (src/core, not done by the store): copy this flag
 * into its cached object in the change feed's upsert (objects the core
 * writes itself with chsm_store_object_put are authenticated iff it passed
 * the MK; session objects always are), and for a token object that is not
 * authenticated treat CKA_TRUSTED as FALSE and refuse it as a wrapping or
 * unwrapping key (CKA_WRAP / CKA_UNWRAP as FALSE, so neither it nor its
 * CKA_WRAP_TEMPLATE/CKA_UNWRAP_TEMPLATE can vouch for anything). Objects
 * loaded while logged out become authenticated at the login reload.
 */
struct chsm_store_object {
    uint8_t id[CHSM_OBJECT_ID_LEN];
    uint64_t rev;
    bool is_private;     /* CKA_PRIVATE */
    bool secrets_loaded; /* secret attributes decrypted */
    bool authenticated;  /* whole record verified under the MK; see above */
    struct chsm_attrlist attrs;
};
void chsm_store_object_free(struct chsm_store_object *o);

/* Random object id (also CKA_UNIQUE_ID, as 32 lower-case hex chars). */
CHSM_MUST_CHECK CK_RV chsm_store_new_object_id(uint8_t id[CHSM_OBJECT_ID_LEN]);

/*
 * Insert or replace an object, durably (one BEGIN IMMEDIATE transaction;
 * CKR_OK means committed). mk may be NULL only when the object holds no
 * secret attribute and is not private (CKR_USER_NOT_LOGGED_IN otherwise).
 * new_rev (may be NULL) receives the revision written.
 */
CHSM_MUST_CHECK CK_RV chsm_store_object_put(struct chsm_store *st, uint32_t slot, const struct chsm_secbuf *mk,
                                            const uint8_t id[CHSM_OBJECT_ID_LEN], const struct chsm_attrlist *attrs,
                                            uint64_t *new_rev);
/* CKR_OBJECT_HANDLE_INVALID when no such object. */
CHSM_MUST_CHECK CK_RV chsm_store_object_delete(struct chsm_store *st, uint32_t slot,
                                               const uint8_t id[CHSM_OBJECT_ID_LEN]);

/*
 * Change feed. Calls upsert() for every object of `slot` written after
 * revision `since` (0 = all), decrypted with mk (NULL: public objects
 * only, secrets not loaded, private objects skipped), and removed() for
 * every object deleted after `since`. *now_rev receives the revision the
 * caller is now current with. An object whose record fails authentication
 * is reported through bad() (never silently skipped, never crashes) with
 * CKR_DEVICE_ERROR-class detail in the error record. upsert takes
 * ownership of obj's contents (keep them by copying *obj by value, or call
 * chsm_store_object_free(obj)); the struct itself is the store's. Callbacks
 * run inside the store's lock and read transaction: they must not call back
 * into the same store handle. A non-OK return from upsert/removed stops the
 * feed and is returned. With mk non-NULL, an MK that is not the token's
 * current one (re-initialised by another process) gives
 * CKR_USER_NOT_LOGGED_IN. A token re-init reports every destroyed object
 * through removed().
 */
struct chsm_store_feed {
    void *ctx;
    CK_RV (*upsert)(void *ctx, struct chsm_store_object *obj);
    CK_RV (*removed)(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN]);
    void (*bad)(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN], CK_RV why);
};
CHSM_MUST_CHECK CK_RV chsm_store_changes(struct chsm_store *st, uint32_t slot, uint64_t since,
                                         const struct chsm_secbuf *mk, const struct chsm_store_feed *feed,
                                         uint64_t *now_rev);

/* Cheap check whether ANOTHER connection (process or handle) wrote since the last call (PRAGMA data_version). */
CHSM_MUST_CHECK CK_RV chsm_store_poll(struct chsm_store *st, bool *changed);

/* PRAGMA integrity_check == "ok". */
CHSM_MUST_CHECK CK_RV chsm_store_integrity_check(struct chsm_store *st, bool *ok);

/* ---- snapshot (for backup) ---- */

/*
 * A consistent read-only view of one slot (a read transaction): the token
 * row and every object row, still encrypted, while other processes keep
 * writing. Nothing is unwrapped. Blobs are opaque, versioned byte strings
 * that chsm_store_snapshot_restore() accepts.
 */
struct chsm_store_snapshot;
struct chsm_snapshot_row {
    uint8_t id[CHSM_OBJECT_ID_LEN];
    uint64_t class_; /* CKA_CLASS in clear (see docs/store-format.md) */
    uint64_t key_type;
    const uint8_t *blob; /* borrowed until the next call or end */
    size_t blob_len;
};
CHSM_MUST_CHECK CK_RV chsm_store_snapshot_begin(struct chsm_store *st, uint32_t slot,
                                                struct chsm_store_snapshot **out);
/* Serialised token row (wrapped MKs, salts, verifiers, counters, label, serial, generation). Borrowed. */
CHSM_MUST_CHECK CK_RV chsm_store_snapshot_token(struct chsm_store_snapshot *sn, const uint8_t **blob,
                                                size_t *len);
uint64_t chsm_store_snapshot_count(const struct chsm_store_snapshot *sn);
/* *done = true after the last row. */
CHSM_MUST_CHECK CK_RV chsm_store_snapshot_next(struct chsm_store_snapshot *sn, struct chsm_snapshot_row *row,
                                               bool *done);
void chsm_store_snapshot_end(struct chsm_store_snapshot *sn);

/*
 * Verify a snapshot row authenticates under the master key unwrapped by
 * `so_pin` from the snapshot's token blob (backup's consistency check and
 * `backup verify`). Decrypts into memory only, wipes immediately.
 */
CHSM_MUST_CHECK CK_RV chsm_store_unwrap_mk_from_token_blob(const uint8_t *token_blob, size_t len,
                                                           enum chsm_pin_kind kind, const uint8_t *pin,
                                                           size_t pin_len, struct chsm_secbuf *mk_out);
CHSM_MUST_CHECK CK_RV chsm_store_open_row(const struct chsm_secbuf *mk, const char serial[16],
                                          const struct chsm_snapshot_row *row, struct chsm_store_object *out);

/*
 * Write a token blob and rows into an EMPTY store's slot in ONE transaction
 * (restore builds a new store beside the final path with this):
 *   chsm_store_import_begin(st);
 *   chsm_store_import_token(st, slot, blob, len);   -- refused if the slot holds a token
 *   chsm_store_import_row(st, slot, &row) ...;
 *   chsm_store_import_commit(st);   (or chsm_store_import_abort(st) on any failure)
 * import_token/import_row outside begin..commit return CKR_OPERATION_NOT_INITIALIZED.
 * While an import is open the handle's connection is busy with it: use a
 * dedicated handle for the restore.
 */
CHSM_MUST_CHECK CK_RV chsm_store_import_begin(struct chsm_store *st);
CHSM_MUST_CHECK CK_RV chsm_store_import_commit(struct chsm_store *st);
void chsm_store_import_abort(struct chsm_store *st);
CHSM_MUST_CHECK CK_RV chsm_store_import_token(struct chsm_store *st, uint32_t slot, const uint8_t *token_blob,
                                              size_t len);
CHSM_MUST_CHECK CK_RV chsm_store_import_row(struct chsm_store *st, uint32_t slot,
                                            const struct chsm_snapshot_row *row);

#endif
