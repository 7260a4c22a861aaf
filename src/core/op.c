/*
 * The operation framework: one active operation per kind per session, a
 * handler vtable per mechanism row, and the PKCS#11 conventions implemented
 * once (base spec 5.2 and 5.8-5.13):
 *  - a second *Init while active: CKR_OPERATION_ACTIVE; calls without one:
 *    CKR_OPERATION_NOT_INITIALIZED;
 *  - output NULL: the size is returned with CKR_OK and the op stays active;
 *    a buffer too small: CKR_BUFFER_TOO_SMALL, size returned, op stays;
 *  - any other error, and every successful final/one-shot, ends the op;
 *  - keys with CKA_ALWAYS_AUTHENTICATE need C_Login(CKU_CONTEXT_SPECIFIC)
 *    after the Init, else CKR_USER_NOT_LOGGED_IN.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

void chsm_op_free(struct chsm_op *op)
{
    if (op == NULL)
        return;
    if (op->vt != NULL && op->vt->free != NULL)
        op->vt->free(op);
    chsm_wipe(op, sizeof(*op));
    free(op);
}

static const char *op_name(enum chsm_op_kind k)
{
    static const char *const n[CHSM_OP_COUNT] = {"digest", "encrypt", "decrypt", "sign",
                                                 "verify", "sign",    "verify",  "encrypt", "decrypt"};
    return n[k];
}

static CK_ATTRIBUTE_TYPE usage_attr(enum chsm_op_kind k)
{
    static const CK_ATTRIBUTE_TYPE u[CHSM_OP_COUNT] = {0,        CKA_ENCRYPT, CKA_DECRYPT,     CKA_SIGN,
                                                       CKA_VERIFY, CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER,
                                                       CKA_ENCRYPT, CKA_DECRYPT};
    return u[k];
}

/* Key checks and handler init (module lock held). */
static CK_RV init_with_key(struct chsm_session *s, struct chsm_op *op, const struct chsm_mech_entry *e,
                           const CK_MECHANISM *m, CK_OBJECT_HANDLE hKey)
{
    CK_RV rv = CKR_OK;
    struct chsm_object *o = NULL;
    rv = chsm_obj_find_visible(s, hKey, &o);
    if (rv == CKR_OBJECT_HANDLE_INVALID)
        rv = CKR_KEY_HANDLE_INVALID;
    CHSM_GUARD(rv);
    uint64_t cls = chsm_attrlist_get_ulong(&o->attrs, CKA_CLASS, CKO_DATA);
    CHSM_ENSURE(cls == CKO_SECRET_KEY || cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY, CKR_KEY_TYPE_INCONSISTENT);
    CHSM_GUARD(chsm_key_type_ok(e, &o->attrs));
    CHSM_ENSURE(chsm_attrlist_get_bool(&o->attrs, usage_attr(op->kind), false),
                CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, "core", "key lacks the usage attribute for %s",
                         op_name(op->kind)));
    CHSM_ENSURE(chsm_key_mech_allowed(&o->attrs, m->mechanism),
                CHSM_ERR(CKR_MECHANISM_INVALID, "core", "mechanism not in the key's CKA_ALLOWED_MECHANISMS"));
    /* After the end date a key may still process existing data (verify, decrypt). */
    bool late_ok = op->kind == CHSM_OP_VERIFY || op->kind == CHSM_OP_DECRYPT || op->kind == CHSM_OP_VERIFY_RECOVER ||
                   op->kind == CHSM_OP_MSG_DECRYPT;
    CHSM_GUARD(chsm_key_dates_ok(&o->attrs, late_ok));
    CHSM_ENSURE(chsm_obj_complete(s, o), CKR_USER_NOT_LOGGED_IN);
    op->key = o->h;
    op->key_drops = atomic_load(&chsm_g.key_drops);
    memcpy(op->key_uid, o->uid_hex, sizeof(op->key_uid));
    chsm_obj_audit_tag(o, op->key_tag);
    chsm_obj_label(o, op->key_label, sizeof(op->key_label));
    op->needs_context_login = cls == CKO_PRIVATE_KEY &&
                              chsm_attrlist_get_bool(&o->attrs, CKA_ALWAYS_AUTHENTICATE, false);
    struct chsm_key_view kv = {o->h, &o->attrs, o};
    CHSM_GUARD(op->vt->init(op, m, &kv));
out:
    return rv;
}

/* Everything of an Init that reads objects and config, under one module read lock. */
static CK_RV init_locked(struct chsm_session *s, enum chsm_op_kind kind, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hKey,
                         bool with_key, struct chsm_op **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_op *op = NULL;
    /* An invalid key handle is reported before the mechanism (what callers test first). */
    CHSM_ENSURE(!with_key || chsm_hmap_get(&chsm_g.objects, hKey) != NULL, CKR_KEY_HANDLE_INVALID);
    const struct chsm_mech_entry *e = chsm_mech_lookup(m->mechanism);
    CHSM_ENSURE(e != NULL && e->ops[kind] != NULL, CKR_MECHANISM_INVALID);
    CHSM_ENSURE(!(e->is_sha1 && kind == CHSM_OP_SIGN && !chsm_g.cfg.algorithms.allow_sha1_signing),
                CHSM_ERR(CKR_MECHANISM_INVALID, "core", "SHA-1 signing is off (allow_sha1_signing)"));
    op = calloc(1, sizeof(*op));
    CHSM_ENSURE(op != NULL, CKR_HOST_MEMORY);
    op->vt = e->ops[kind];
    op->entry = e;
    op->kind = kind;
    op->mech = m->mechanism;
    if (with_key)
        CHSM_GUARD(init_with_key(s, op, e, m, hKey));
    else
        CHSM_GUARD(op->vt->init(op, m, NULL));
    *out = op;
    op = NULL;
out:
    chsm_op_free(op);
    return rv;
}

CK_RV chsm_op_init(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind, CK_MECHANISM_PTR m,
                   CK_OBJECT_HANDLE hKey, bool with_key)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_op *op = NULL;
    bool slocked = false;
    CHSM_GUARD(chsm_session_get(app, h, &s));
    CHSM_ENSURE(m != NULL && (m->pParameter != NULL || m->ulParameterLen == 0), CKR_ARGUMENTS_BAD);
    (void)pthread_mutex_lock(&s->lock);
    slocked = true;
    CHSM_ENSURE(s->ops[kind] == NULL, CKR_OPERATION_ACTIVE);
    /* Session objects live only here: no store poll on the hot path. Token objects
     * may have changed in another process, so the cache catches up first. */
    if (with_key)
        CHSM_GUARD(chsm_cache_sync_for(&chsm_g.slots[s->slot], hKey));
    chsm_rdlock();
    rv = init_locked(s, kind, m, hKey, with_key, &op);
    chsm_unlock();
    CHSM_GUARD(rv);
    s->ops[kind] = op;
    op = NULL;
out:
    if (slocked)
        (void)pthread_mutex_unlock(&s->lock);
    chsm_op_free(op);
    chsm_session_put(s);
    return rv;
}

/*
 * An ended operation may hand state back to its key object (chsm_op_vtable.ended) - unless a
 * key's cached state was dropped since the operation began (object destroyed or replaced,
 * attributes changed, the cache reloaded at logout without secrets): the handle may then name
 * an object that must not hold keyed state, so the operation's state is freed instead.
 */
static void hand_back(struct chsm_op *op)
{
    if (op == NULL || op->vt->ended == NULL || op->key == 0)
        return;
    chsm_rdlock();
    struct chsm_object *o = chsm_hmap_get(&chsm_g.objects, op->key);
    if (o != NULL && atomic_load(&chsm_g.key_drops) == op->key_drops)
        op->vt->ended(op, o);
    chsm_unlock();
}

/* Session lock held, module lock not. */
static void end_op(struct chsm_session *s, enum chsm_op_kind kind)
{
    hand_back(s->ops[kind]);
    chsm_op_free(s->ops[kind]);
    s->ops[kind] = NULL;
}

/* The audit operation of an op kind (-1: none, a digest). */
static int audit_op_of(enum chsm_op_kind k)
{
    static const signed char n[CHSM_OP_COUNT] = {
        -1, CHSM_AUDIT_OP_ENCRYPT, CHSM_AUDIT_OP_DECRYPT, CHSM_AUDIT_OP_SIGN, CHSM_AUDIT_OP_VERIFY,
        CHSM_AUDIT_OP_SIGN, CHSM_AUDIT_OP_VERIFY, CHSM_AUDIT_OP_ENCRYPT, CHSM_AUDIT_OP_DECRYPT};
    return n[k];
}

void chsm_op_account(const struct chsm_session *s, const struct chsm_op *op, CK_RV rv)
{
    int what = audit_op_of(op->kind);
    if (op->key == 0 || what < 0)
        return;
    struct chsm_audit_use u = {.session = s->h,
                               .result = rv,
                               .key_tag = {op->key_tag[0], op->key_tag[1]},
                               .mech_tag = op->mech,
                               .op = (enum chsm_audit_key_op)what};
    /* A repeat of the session's last use is counted from the identity alone. Otherwise, with
     * key-use accounting off (audit disabled, or log_level without crypto) nothing more is
     * looked up: the mechanism name and user cost more than the check. */
    if (chsm_audit_key_repeat(chsm_g.audit, &u) || !chsm_audit_counts_key_use(chsm_g.audit))
        return;
    u.slot = s->slot;
    u.user = chsm_audit_user_of(s->app->login[s->slot]);
    u.object_id = op->key_uid;
    u.object_label = op->key_label[0] ? op->key_label : NULL;
    u.mechanism = op->entry != NULL ? chsm_mech_entry_name(op->entry) : chsm_mech_name(op->mech);
    chsm_audit_key_used(chsm_g.audit, &u);
}

/* Run one step with the size-query convention (session lock held). */
static CK_RV run_step(struct chsm_session *s, struct chsm_op *op, enum chsm_op_step step, const uint8_t *in,
                      size_t in_len, uint8_t *out, CK_ULONG *out_len, bool *keep)
{
    *keep = false;
    if (op->needs_context_login && !op->context_authed)
        return CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "core", "key needs C_Login(CKU_CONTEXT_SPECIFIC) first");
    if (step == CHSM_STEP_ONESHOT && op->multipart)
        return CKR_OPERATION_ACTIVE; /* a multi-part operation cannot be finished by the one-shot call */
    if (out_len == NULL) {
        /* steps without output (DigestUpdate, SignUpdate, VerifyUpdate) */
        CK_RV rv = op->vt->update(op, in, in_len, NULL, NULL);
        op->multipart = true;
        *keep = rv == CKR_OK;
        return rv;
    }
    size_t need = op->vt->size(op, step, in_len);
    if (out == NULL || (*out_len < need && !op->vt->handles_short)) {
        CK_RV rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
        *out_len = (CK_ULONG)need;
        *keep = true;
        return rv;
    }
    size_t ol = *out_len;
    CK_RV rv;
    if (step == CHSM_STEP_UPDATE)
        rv = op->vt->update(op, in, in_len, out, &ol);
    else if (step == CHSM_STEP_FINAL)
        rv = op->vt->final(op, out, &ol);
    else
        rv = op->vt->oneshot(op, in, in_len, out, &ol);
    if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
        *out_len = (CK_ULONG)ol;
    if (rv == CKR_BUFFER_TOO_SMALL) {
        *keep = true; /* the handler kept its state (spec 5.2) */
        return rv;
    }
    if (step == CHSM_STEP_UPDATE) {
        op->multipart = true;
        *keep = rv == CKR_OK;
    } else {
        chsm_op_account(s, op, rv);
    }
    return rv;
}

CK_RV chsm_op_step(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind, enum chsm_op_step step,
                   const CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    bool keep = true;
    CHSM_GUARD(chsm_session_get(app, h, &s));
    (void)pthread_mutex_lock(&s->lock);
    struct chsm_op *op = s->ops[kind];
    if (op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (in == NULL && in_len > 0) {
        rv = CKR_ARGUMENTS_BAD;
        keep = false;
    } else {
        rv = run_step(s, op, step, in, in_len, out, out_len, &keep);
    }
    if (op != NULL && !keep)
        end_op(s, kind);
    (void)pthread_mutex_unlock(&s->lock);
out:
    chsm_session_put(s);
    return rv;
}

/* Verify: the signature is input; the handler's final/oneshot get it as out/out_len (internal.h). */
CK_RV chsm_op_verify(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind, bool oneshot,
                     const CK_BYTE *data, CK_ULONG data_len, const CK_BYTE *sig, CK_ULONG sig_len)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, h, &s));
    (void)pthread_mutex_lock(&s->lock);
    struct chsm_op *op = s->ops[kind];
    if (op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        size_t sl = sig_len;
        if ((data == NULL && data_len > 0) || sig == NULL)
            rv = CKR_ARGUMENTS_BAD;
        else if (oneshot && op->multipart)
            rv = CKR_OPERATION_ACTIVE;
        else if (oneshot)
            rv = op->vt->oneshot(op, data, data_len, (uint8_t *)(uintptr_t)sig, &sl);
        else
            rv = op->vt->final(op, (uint8_t *)(uintptr_t)sig, &sl);
        chsm_op_account(s, op, rv);
        end_op(s, kind);
    }
    (void)pthread_mutex_unlock(&s->lock);
out:
    chsm_session_put(s);
    return rv;
}
