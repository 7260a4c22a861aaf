/* Message digests (CKF_DIGEST rows of the mechanism table) and C_DigestKey. */
#include <string.h>

#include "core/internal.h"

static CK_RV d_init(struct chsm_op *op, const CK_MECHANISM *m, const struct chsm_key_view *key)
{
    CHSM_UNUSED(key);
    if (m->ulParameterLen != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    return chsm_digest_new(op->mech, (struct chsm_digest **)&op->state);
}

static CK_RV d_update(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    CHSM_UNUSED(out);
    CHSM_UNUSED(out_len);
    return chsm_digest_update(op->state, in, in_len);
}

static CK_RV d_final(struct chsm_op *op, uint8_t *out, size_t *out_len)
{
    return chsm_digest_final(op->state, out, out_len);
}

static CK_RV d_oneshot(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    CK_RV rv = chsm_digest_update(op->state, in, in_len);
    return rv == CKR_OK ? chsm_digest_final(op->state, out, out_len) : rv;
}

static size_t d_size(const struct chsm_op *op, enum chsm_op_step step, size_t in_len)
{
    CHSM_UNUSED(in_len);
    return step == CHSM_STEP_UPDATE ? 0 : chsm_digest_size(op->mech);
}

static CK_RV d_update_key(struct chsm_op *op, const uint8_t *val, size_t len)
{
    return chsm_digest_update(op->state, val, len);
}

static void d_free(struct chsm_op *op)
{
    chsm_digest_free(op->state);
    op->state = NULL;
}

const struct chsm_op_vtable chsm_digest_vt = {d_init, d_update, d_final, d_oneshot, d_size, d_update_key, d_free};

CK_RV chsm_core_DigestInit(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    return chsm_op_init(app, hSession, CHSM_OP_DIGEST, pMechanism, 0, false);
}

CK_RV chsm_core_Digest(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                       CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    if (pulDigestLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_DIGEST, CHSM_STEP_ONESHOT, pData, ulDataLen, pDigest, pulDigestLen);
}

CK_RV chsm_core_DigestUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return chsm_op_step(app, hSession, CHSM_OP_DIGEST, CHSM_STEP_UPDATE, pPart, ulPartLen, NULL, NULL);
}

CK_RV chsm_core_DigestFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest,
                            CK_ULONG_PTR pulDigestLen)
{
    if (pulDigestLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_DIGEST, CHSM_STEP_FINAL, NULL, 0, pDigest, pulDigestLen);
}

/* Spec 5.10: only secret keys are digestible here; the value never leaves the module. */
static CK_RV digest_key_locked(struct chsm_session *s, struct chsm_op *op, CK_OBJECT_HANDLE hKey)
{
    CK_RV rv = CKR_OK;
    struct chsm_object *o = NULL;
    rv = chsm_obj_find_visible(s, hKey, &o);
    if (rv == CKR_OBJECT_HANDLE_INVALID)
        rv = CKR_KEY_HANDLE_INVALID;
    CHSM_GUARD(rv);
    CHSM_ENSURE(chsm_attrlist_get_ulong(&o->attrs, CKA_CLASS, CKO_DATA) == CKO_SECRET_KEY, CKR_KEY_INDIGESTIBLE);
    CHSM_ENSURE(chsm_obj_complete(s, o), CKR_USER_NOT_LOGGED_IN);
    const struct chsm_attr *v = chsm_attrlist_get(&o->attrs, CKA_VALUE);
    CHSM_ENSURE(v != NULL, CKR_KEY_INDIGESTIBLE);
    CHSM_GUARD(op->vt->update_key(op, v->value, v->len));
    op->multipart = true;
    if (chsm_audit_counts_key_use(chsm_g.audit)) {
        char label[65];
        chsm_obj_label(o, label, sizeof(label));
        struct chsm_audit_use u = {.session = s->h, .result = CKR_OK, .mech_tag = op->mech,
                                   .op = CHSM_AUDIT_OP_DIGEST_KEY, .slot = s->slot,
                                   .user = chsm_audit_user_of(s->app->login[s->slot]), .object_id = o->uid_hex,
                                   .object_label = label[0] ? label : NULL, .mechanism = chsm_mech_name(op->mech)};
        chsm_obj_audit_tag(o, u.key_tag);
        chsm_audit_key_used(chsm_g.audit, &u);
    }
out:
    return rv;
}

CK_RV chsm_core_DigestKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    (void)pthread_mutex_lock(&s->lock);
    struct chsm_op *op = s->ops[CHSM_OP_DIGEST];
    if (op == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        rv = chsm_cache_sync(&chsm_g.slots[s->slot]);
        if (rv == CKR_OK) {
            chsm_rdlock();
            rv = digest_key_locked(s, op, hKey);
            chsm_unlock();
        }
        if (rv != CKR_OK) {
            chsm_op_free(op);
            s->ops[CHSM_OP_DIGEST] = NULL;
        }
    }
    (void)pthread_mutex_unlock(&s->lock);
out:
    chsm_session_put(s);
    return rv;
}
