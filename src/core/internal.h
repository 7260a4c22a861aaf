/*
 * Core internals shared by the files of src/core. Not for front ends.
 *
 * Ownership: the module global (chsm_g) owns slots, apps, sessions and
 * objects. Sessions are reference counted so a thread running an operation
 * keeps its session alive while another thread closes it. Lock order is
 * documented at the top of module.c.
 */
#ifndef CHSM_CORE_INTERNAL_H
#define CHSM_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "audit/audit.h"
#include "common/attrlist.h"
#include "common/bytes.h"
#include "common/log.h"
#include "common/secbuf.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/pkey.h"
#include "store/store.h"

/* ---- hmap.c: chained hash of uint64 key -> pointer; several values per key allowed ---- */
struct chsm_hnode {
    uint64_t key;
    void *val;
    struct chsm_hnode *next;
};
struct chsm_hmap {
    struct chsm_hnode **b;
    size_t nb; /* power of two or 0 */
    size_t count;
};
void chsm_hmap_init(struct chsm_hmap *m);
void chsm_hmap_free(struct chsm_hmap *m);
CHSM_MUST_CHECK CK_RV chsm_hmap_add(struct chsm_hmap *m, uint64_t key, void *val);
/* Remove the node holding (key, val); no-op when absent. */
void chsm_hmap_del(struct chsm_hmap *m, uint64_t key, const void *val);
/* First node of key's chain; walk with ->next and compare ->key. */
struct chsm_hnode *chsm_hmap_chain(const struct chsm_hmap *m, uint64_t key);
void *chsm_hmap_get(const struct chsm_hmap *m, uint64_t key);
uint64_t chsm_hash_bytes(const void *p, size_t n);

/* ---- objects ---- */
#define CHSM_MAC_POOL 4
struct chsm_key_pool;
struct chsm_object {
    CK_OBJECT_HANDLE h;
    uint32_t slot;
    bool token;
    bool is_private;
    bool secrets_loaded; /* token objects: secret attributes present */
    bool bad;            /* record failed authentication: every use is CKR_DEVICE_ERROR */
    bool authenticated;  /* whole record verified under the MK (store.h); session objects: true */
    uint8_t uid[CHSM_OBJECT_ID_LEN];
    char uid_hex[2 * CHSM_OBJECT_ID_LEN + 1];
    struct chsm_attrlist attrs;
    struct chsm_app *app;         /* session objects: owning application */
    CK_SESSION_HANDLE session;    /* session objects: creating session */
    bool has_label, has_ckaid;    /* indexed under these hashes */
    uint64_t label_key, ckaid_key;
    struct chsm_object *prev, *next; /* slot list */
    /* Parsed asymmetric key (keycache.c): built once, shared by readers, dropped when attrs change. */
    _Atomic(struct chsm_pkey *) pkey;
    /* Keyed HMAC and AES contexts parked by finished operations (keycache.c), one cache line per
     * thread group; allocated on the first park, freed with the parsed key. */
    _Atomic(struct chsm_key_pool *) pool;
    /* In the tables but not yet audited (chsm_obj_add_session): invisible to every session. */
    atomic_bool pending;
};

/* ---- slots ---- */
struct chsm_slot {
    uint32_t id;
    pthread_mutex_t auth_lock; /* login/logout/PIN/token init of this slot (PBKDF2 runs under it) */
    char serial[16];           /* blank padded */
    struct chsm_secbuf mk;     /* unwrapped master key while any app is logged in */
    unsigned login_refs;       /* (app, slot) pairs logged in */
    unsigned sessions, rw_sessions;
    /* Token object cache (module lock). */
    struct chsm_object *objs;
    size_t nobjs;
    struct chsm_hmap by_label, by_ckaid, by_uid; /* hash -> object */
    struct chsm_hmap uid_handle;                 /* uid hash -> handle (kept across reloads) */
    uint64_t last_rev;
    bool dirty;
    bool cache_has_mk; /* cache was loaded with the MK */
};

/* ---- applications ---- */
#define CHSM_NOT_LOGGED_IN ((CK_USER_TYPE)0xFFFFFFFFu)
struct chsm_app {
    struct chsm_app *next;
    char actor[128];
    CK_USER_TYPE login[CHSM_SLOT_COUNT_MAX];
    unsigned nsess[CHSM_SLOT_COUNT_MAX];    /* open sessions per slot (module lock) */
    unsigned nsess_ro[CHSM_SLOT_COUNT_MAX]; /* of which read-only */
};

/* ---- operations (op.c) ---- */
enum chsm_op_kind {
    CHSM_OP_DIGEST = 0,
    CHSM_OP_ENCRYPT,
    CHSM_OP_DECRYPT,
    CHSM_OP_SIGN,
    CHSM_OP_VERIFY,
    CHSM_OP_SIGN_RECOVER,
    CHSM_OP_VERIFY_RECOVER,
    CHSM_OP_MSG_ENCRYPT, /* 3.0 message-based encryption (msgcrypt.c); the op framework only inits them */
    CHSM_OP_MSG_DECRYPT,
    CHSM_OP_COUNT
};

/* What an op's init sees of its key; valid only during init (copy what you need). */
struct chsm_key_view {
    CK_OBJECT_HANDLE h;
    const struct chsm_attrlist *attrs;
    struct chsm_object *obj; /* for the parsed-key cache (chsm_obj_pkey) */
};

struct chsm_op;
/*
 * A mechanism's handler for one operation kind. The framework (op.c)
 * implements the PKCS#11 size-query convention once: it asks size() for an
 * upper bound of the output, answers NULL-buffer and too-small calls itself
 * (the op stays active), and only calls update/final/oneshot with a buffer
 * of at least that size. Any other error ends the op.
 * For verify kinds, final/oneshot receive the signature as `out`/`*out_len`
 * (input) and return CKR_SIGNATURE_INVALID / CKR_SIGNATURE_LEN_RANGE.
 */
enum chsm_op_step { CHSM_STEP_UPDATE, CHSM_STEP_FINAL, CHSM_STEP_ONESHOT };
struct chsm_op_vtable {
    CHSM_MUST_CHECK CK_RV (*init)(struct chsm_op *op, const CK_MECHANISM *mech, const struct chsm_key_view *key);
    CHSM_MUST_CHECK CK_RV (*update)(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
                                    size_t *out_len);
    CHSM_MUST_CHECK CK_RV (*final)(struct chsm_op *op, uint8_t *out, size_t *out_len);
    CHSM_MUST_CHECK CK_RV (*oneshot)(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
                                     size_t *out_len);
    /* Upper bound of the output of a step given in_len (0 for steps without output). */
    size_t (*size)(const struct chsm_op *op, enum chsm_op_step step, size_t in_len);
    /* Digest only: feed a secret key's value (C_DigestKey). */
    CHSM_MUST_CHECK CK_RV (*update_key)(struct chsm_op *op, const uint8_t *val, size_t len);
    void (*free)(struct chsm_op *op);
    /* The handler answers a too-small buffer itself (CKR_BUFFER_TOO_SMALL, exact size, state kept). */
    bool handles_short;
    /* Optional: the operation ended; it may hand state back to its key object (module read lock held),
     * e.g. a keyed HMAC context for the next operation (keycache.c). */
    void (*ended)(struct chsm_op *op, struct chsm_object *key);
};

struct chsm_op {
    const struct chsm_op_vtable *vt;
    const struct chsm_mech_entry *entry; /* the mechanism's row */
    enum chsm_op_kind kind;
    CK_MECHANISM_TYPE mech;
    void *state;              /* handler-owned */
    bool multipart;           /* an update happened: one-shot no longer allowed */
    bool needs_context_login; /* key has CKA_ALWAYS_AUTHENTICATE */
    bool context_authed;
    CK_OBJECT_HANDLE key;
    unsigned long key_drops; /* chsm_g.key_drops when the key was taken (init) */
    char key_uid[2 * CHSM_OBJECT_ID_LEN + 1];
    uint64_t key_tag[2]; /* the key's binary unique id: its identity in the audit summaries */
    char key_label[65]; /* for the audit log (truncated) */
};
/* Copy an object's CKA_LABEL as a C string for the audit log (truncated to n-1 bytes). */
void chsm_obj_label(const struct chsm_object *o, char *out, size_t n);
/* The object's identity in the audit log's key-use summaries: its binary unique id. */
void chsm_obj_audit_tag(const struct chsm_object *o, uint64_t tag[2]);
void chsm_op_free(struct chsm_op *op);
struct chsm_session;
/* Key-use accounting of one finished operation with a key (a no-op when the audit log does not
 * count key use, for a digest, or without a key). */
void chsm_op_account(const struct chsm_session *s, const struct chsm_op *op, CK_RV rv);
CHSM_MUST_CHECK CK_RV chsm_op_init(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind,
                                   CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hKey, bool with_key);
/* Data in, data out (out_len NULL: a step without output, e.g. DigestUpdate). */
CHSM_MUST_CHECK CK_RV chsm_op_step(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind,
                                   enum chsm_op_step step, const CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                                   CK_ULONG *out_len);
CHSM_MUST_CHECK CK_RV chsm_op_verify(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind, bool oneshot,
                                     const CK_BYTE *data, CK_ULONG data_len, const CK_BYTE *sig, CK_ULONG sig_len);

/* ---- mechanism table (mech.c) ---- */
/* Key types a row accepts (bit set). */
#define CHSM_KT_RSA (1u << 0)
#define CHSM_KT_EC (1u << 1)
#define CHSM_KT_ED (1u << 2)
#define CHSM_KT_AES (1u << 3)
#define CHSM_KT_GEN (1u << 4) /* generic secret and CKK_SHA*_HMAC */
struct chsm_mech_entry {
    CK_MECHANISM_TYPE type;
    CK_ULONG min_key, max_key;
    CK_FLAGS flags;
    bool fips_approved;
    bool is_sha1; /* SHA-1 signing: signing needs allow_sha1_signing (verify stays) */
    unsigned key_types;
    const struct chsm_op_vtable *ops[CHSM_OP_COUNT];
};
/* The row for mech if offered under the loaded config, else NULL. */
const struct chsm_mech_entry *chsm_mech_lookup(CK_MECHANISM_TYPE mech);
/* The row's CKM_ name (chsm_mech_name of its type, looked up once for all rows). */
const char *chsm_mech_entry_name(const struct chsm_mech_entry *e);
/* The CKF_ flags the row has under the loaded config (SHA-1 signing may be off). */
CK_FLAGS chsm_mech_flags(const struct chsm_mech_entry *e);
/* Minimum RSA modulus bits under the loaded config. */
CK_ULONG chsm_mech_rsa_min_bits(void);
/* CHSM_KT_ bit of a key type (0 if none). */
unsigned chsm_kt_bit(uint64_t key_type);

/* ---- keycache.c: parsed keys per object ---- */
/* A referenced parsed key for o (built from its attributes on first use; caller frees). */
CHSM_MUST_CHECK CK_RV chsm_obj_pkey(struct chsm_object *o, struct chsm_pkey **out);
/* Put a freshly made key into o's cache (takes a reference). */
void chsm_obj_pkey_set(struct chsm_object *o, struct chsm_pkey *pk);
/* Forget o's parsed key (attributes changed, object freed). */
void chsm_obj_pkey_drop(struct chsm_object *o); /* also drops the parked HMAC and AES contexts */
/* This thread's parked HMAC context of o (NULL: none); the caller owns it. Module lock held (any mode). */
struct chsm_mac *chsm_obj_mac_take(struct chsm_object *o);
/* Park a finished HMAC context of o's key for the next operation (frees what it replaces). Module lock held. */
void chsm_obj_mac_park(struct chsm_object *o, struct chsm_mac *m);
/* The same for AES contexts, one pool per direction (encrypt true/false). */
struct chsm_cipher *chsm_obj_cipher_take(struct chsm_object *o, bool encrypt);
void chsm_obj_cipher_park(struct chsm_object *o, struct chsm_cipher *c);
/* Build a key from an attribute list (import validation). */
CHSM_MUST_CHECK CK_RV chsm_attrs_pkey(const struct chsm_attrlist *attrs, struct chsm_pkey **out);
/* Add a key's components (public, or all for is_private) to attrs (keyattrs). */
CHSM_MUST_CHECK CK_RV chsm_pkey_to_attrs(const struct chsm_pkey *pk, bool is_private, struct chsm_attrlist *attrs);

/* ---- keyuse.c: policy checks shared by Init, wrap, unwrap, derive ---- */
/* Start/end dates (CK_DATE) for this operation kind; usage_attr 0 skips the flag check. */
CHSM_MUST_CHECK CK_RV chsm_key_dates_ok(const struct chsm_attrlist *attrs, bool only_after_end_ok);
bool chsm_key_mech_allowed(const struct chsm_attrlist *attrs, CK_MECHANISM_TYPE m);
/* Check a key against a row's key types: CKR_KEY_TYPE_INCONSISTENT otherwise. */
CHSM_MUST_CHECK CK_RV chsm_key_type_ok(const struct chsm_mech_entry *e, const struct chsm_attrlist *attrs);
/* Does attrs match every attribute of a template attribute (CKA_WRAP_TEMPLATE etc.)? */
bool chsm_attrs_match_template(const struct chsm_attrlist *attrs, const struct chsm_attr *tmpl_attr);
/* Merge a stored template attribute into list (conflict: CKR_TEMPLATE_INCONSISTENT). */
CHSM_MUST_CHECK CK_RV chsm_template_merge(struct chsm_attrlist *list, const struct chsm_attr *tmpl_attr);

/* ---- sessions ---- */
struct chsm_session {
    CK_SESSION_HANDLE h;
    struct chsm_app *app;
    uint32_t slot;
    CK_FLAGS flags;
    atomic_uint refs;
    bool closed;
    pthread_mutex_t lock; /* op state below */
    struct chsm_op *ops[CHSM_OP_COUNT];
    bool find_active;
    CK_OBJECT_HANDLE *found;
    size_t nfound, found_pos;
};

/* ---- the module ---- */
struct chsm_module {
    pthread_rwlock_t lock; /* apps, sessions, objects, slot caches */
    bool up;
    bool failed; /* self-test failure: every call CKR_DEVICE_ERROR until finalize/retry */
    struct chsm_config cfg;
    struct chsm_store *store;
    struct chsm_audit *audit;
    struct chsm_slot *slots;
    uint32_t nslots;
    struct chsm_app *apps;
    struct chsm_app *default_app;
    struct chsm_hmap sessions; /* handle -> session */
    struct chsm_hmap objects;  /* handle -> object */
    atomic_ulong next_handle;
    /* Bumped by every chsm_obj_pkey_drop: an operation parks keyed state with its key object only
     * if none happened since its init (op.c hand_back), so nothing keyed outlives a drop. */
    atomic_ulong key_drops;
    uint32_t selftests_run;
    bool selftests_passed;
    bool lock_held;
};
extern struct chsm_module chsm_g;

/* module.c */
CHSM_MUST_CHECK CK_RV chsm_core_check_up(void);
CK_ULONG chsm_new_handle(void);
void chsm_rdlock(void);
void chsm_wrlock(void);
void chsm_unlock(void);
CHSM_MUST_CHECK CK_RV chsm_slot_get(CK_SLOT_ID id, struct chsm_slot **out);
/* Audit one event; CKR_DEVICE_ERROR when the log refused a state change. */
CHSM_MUST_CHECK CK_RV chsm_core_audit(const char *event, int64_t slot, uint64_t session, CK_USER_TYPE user,
                                      const struct chsm_object *obj, const char *mech, CK_RV result);
/* What the audit log says about an object, copied so it can be logged after the module lock is gone. */
struct chsm_obj_note {
    char uid_hex[2 * CHSM_OBJECT_ID_LEN + 1];
    char label[129];
    bool has_label;
    bool token;
};
void chsm_obj_note_of(const struct chsm_object *o, struct chsm_obj_note *n);
CHSM_MUST_CHECK CK_RV chsm_core_audit_note(const char *event, int64_t slot, uint64_t session, CK_USER_TYPE user,
                                           const struct chsm_obj_note *obj, const char *mech, CK_RV result);
enum chsm_audit_user chsm_audit_user_of(CK_USER_TYPE u);

/* app.c */
CHSM_MUST_CHECK CK_RV chsm_app_create(const char *actor, struct chsm_app **out);
bool chsm_app_valid(const struct chsm_app *app);

/* session.c */
/* Look up a session of app (refcount taken). CKR_SESSION_HANDLE_INVALID otherwise. */
CHSM_MUST_CHECK CK_RV chsm_session_get(struct chsm_app *app, CK_SESSION_HANDLE h, struct chsm_session **out);
void chsm_session_put(struct chsm_session *s);
/* PKCS#11 session state from app login + RW flag. */
CK_STATE chsm_session_state(const struct chsm_session *s);
bool chsm_session_rw(const struct chsm_session *s);
/* Close every session (finalize/app free): caller holds no locks. */
void chsm_sessions_close_app(struct chsm_app *app, bool all_slots, uint32_t slot);
/* Does app (or any app, app NULL) hold a session on slot, RO only? (module lock held) */
bool chsm_sessions_exist(const struct chsm_app *app, uint32_t slot, bool ro_only);

/* login.c */
/* Logout app from slot (auth_lock held by caller). */
void chsm_login_drop(struct chsm_app *app, struct chsm_slot *sl);
CK_USER_TYPE chsm_login_state(const struct chsm_app *app, uint32_t slot);
/* Copy a PIN into secret memory, checking the configured length policy. */
CHSM_MUST_CHECK CK_RV chsm_pin_copy(const CK_UTF8CHAR *pin, CK_ULONG len, struct chsm_secbuf *out);

/* cache.c (module write lock held unless noted) */
CHSM_MUST_CHECK CK_RV chsm_cache_sync(struct chsm_slot *sl); /* caller holds NO lock */
/* chsm_cache_sync unless h is a session object (caller holds NO lock). */
CHSM_MUST_CHECK CK_RV chsm_cache_sync_for(struct chsm_slot *sl, CK_OBJECT_HANDLE h);
CHSM_MUST_CHECK CK_RV chsm_cache_reload(struct chsm_slot *sl);
void chsm_cache_clear(struct chsm_slot *sl, bool forget_handles);
CHSM_MUST_CHECK CK_RV chsm_obj_insert(struct chsm_slot *sl, struct chsm_object *o);
void chsm_obj_unlink(struct chsm_slot *sl, struct chsm_object *o);
void chsm_obj_free(struct chsm_object *o);
CHSM_MUST_CHECK CK_RV chsm_obj_reindex(struct chsm_slot *sl, struct chsm_object *o);
CK_OBJECT_HANDLE chsm_uid_handle(struct chsm_slot *sl, const uint8_t uid[CHSM_OBJECT_ID_LEN], bool *fresh);

/* object.c */
/* Look up an object visible to the session (module lock held). */
CHSM_MUST_CHECK CK_RV chsm_obj_find_visible(const struct chsm_session *s, CK_OBJECT_HANDLE h,
                                            struct chsm_object **out);
bool chsm_obj_visible(const struct chsm_session *s, const struct chsm_object *o);
/* Secrets present and available to this session (token keys: only while its own application is logged in). */
bool chsm_obj_complete(const struct chsm_session *s, const struct chsm_object *o);
/* Who may write this object from this session (module lock held). */
CHSM_MUST_CHECK CK_RV chsm_obj_write_checks(const struct chsm_session *s, const struct chsm_attrlist *attrs);
/* Make attrs (taken) a new object for session s (module write lock held); audits event with mech. */
/* Draw the session-object id prefix and restart the counter (module initialisation). */
CHSM_MUST_CHECK CK_RV chsm_obj_session_ids_init(void);
CHSM_MUST_CHECK CK_RV chsm_obj_add(struct chsm_session *s, struct chsm_attrlist *attrs, const char *event,
                                   const char *mech, CK_OBJECT_HANDLE *ph);
/*
 * Session objects of one generate call (n <= 2, attrs[i] taken; pk, if any, cached on each): the
 * module write lock covers only the table inserts; the objects stay invisible (pending) until their
 * audit entries are queued, so no entry about them can precede the creation entry. Caller holds no lock.
 */
CHSM_MUST_CHECK CK_RV chsm_obj_add_session(struct chsm_session *s, struct chsm_attrlist *const *attrs, size_t n,
                                           const char *event, const char *mech, struct chsm_pkey *pk,
                                           CK_OBJECT_HANDLE *ph);
/* Undo chsm_obj_add of a handle (rollback of the first half of a key pair; module write lock held). */
void chsm_obj_remove(struct chsm_session *s, CK_OBJECT_HANDLE h);
void chsm_objects_drop_session(CK_SESSION_HANDLE h);
void chsm_objects_drop_app(const struct chsm_app *app);

/* attr.c */
enum chsm_attr_kind { CHSM_AK_BYTES, CHSM_AK_BOOL, CHSM_AK_ULONG, CHSM_AK_MECHS, CHSM_AK_TEMPLATE, CHSM_AK_DATE };
/* Known attribute? kind out. */
bool chsm_attr_kind(CK_ATTRIBUTE_TYPE t, enum chsm_attr_kind *kind);
/* Convert one CK_ATTRIBUTE value into its stored form and add it to l. */
CHSM_MUST_CHECK CK_RV chsm_attr_from_ck(const CK_ATTRIBUTE *a, struct chsm_attrlist *l);
CHSM_MUST_CHECK CK_RV chsm_template_to_list(const CK_ATTRIBUTE *t, CK_ULONG n, struct chsm_attrlist *out);
/* Write a stored value into a CK_ATTRIBUTE (size query / CKR_BUFFER_TOO_SMALL semantics). */
CHSM_MUST_CHECK CK_RV chsm_attr_to_ck(const struct chsm_attr *v, CK_ATTRIBUTE *a);

/* policy.c */
enum chsm_create_how { CHSM_CREATE_IMPORT, CHSM_CREATE_GENERATE, CHSM_CREATE_COPY };
/* Build a complete object attribute list from a template (defaults, required, read-only). */
CHSM_MUST_CHECK CK_RV chsm_policy_create(const struct chsm_attrlist *tmpl, enum chsm_create_how how,
                                         struct chsm_attrlist *out);
/* Apply a template to an existing object's attributes (SetAttributeValue or the copy template). */
CHSM_MUST_CHECK CK_RV chsm_policy_modify(struct chsm_attrlist *attrs, const struct chsm_attrlist *tmpl, bool copy);
/* Is attribute t of this object hidden (sensitive or unextractable secret component)? */
bool chsm_policy_hidden(const struct chsm_attrlist *attrs, CK_ATTRIBUTE_TYPE t);
/* Does the object hold secret components (private/secret key)? */
bool chsm_policy_secret_bearing(const struct chsm_attrlist *attrs);
/* Is t a secret component (CKA_VALUE of keys, private-key parts)? Is t an attribute of this object? */
bool chsm_policy_is_secret(const struct chsm_attrlist *attrs, CK_ATTRIBUTE_TYPE t);
bool chsm_policy_valid_attr(const struct chsm_attrlist *attrs, CK_ATTRIBUTE_TYPE t);

#endif
