/*
 * Signature handlers of the mechanism table: asymmetric sign/verify and
 * sign/verify-recover through crypto/sign.h (the key comes from the
 * object's parsed-key cache), and MACs (HMAC, CMAC) through crypto/mac.h.
 * Verify kinds receive the signature as out/out_len (internal.h).
 */
#include <string.h>

#include "core/internal.h"
#include "crypto/mac.h"
#include "crypto/sign.h"

static bool verifying(const struct chsm_op *op)
{
    return op->kind == CHSM_OP_VERIFY || op->kind == CHSM_OP_VERIFY_RECOVER;
}

static CK_RV as_init(struct chsm_op *op, const CK_MECHANISM *m, const struct chsm_key_view *key)
{
    CK_RV rv = CKR_OK;
    struct chsm_pkey *pk = NULL;
    CHSM_GUARD(chsm_obj_pkey(key->obj, &pk));
    if (chsm_pkey_kind(pk) == CHSM_PKEY_RSA && chsm_pkey_bits(pk) < chsm_mech_rsa_min_bits())
        CHSM_BAIL(CHSM_ERR(CKR_KEY_SIZE_RANGE, "core", "RSA key of %zu bits below the configured minimum",
                           chsm_pkey_bits(pk)));
    CHSM_GUARD(chsm_sign_new(m->mechanism, m->pParameter, m->ulParameterLen, pk, verifying(op),
                             (struct chsm_sign **)&op->state));
out:
    chsm_pkey_free(pk);
    return rv;
}

static CK_RV as_update(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    CHSM_UNUSED(out);
    CHSM_UNUSED(out_len);
    return chsm_sign_update(op->state, in, in_len);
}

static CK_RV as_final(struct chsm_op *op, uint8_t *out, size_t *out_len)
{
    if (verifying(op))
        return chsm_verify_final(op->state, out, *out_len);
    return chsm_sign_final(op->state, out, out_len);
}

static CK_RV as_oneshot(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    switch (op->kind) {
    case CHSM_OP_VERIFY:
        return chsm_verify_oneshot(op->state, in, in_len, out, *out_len);
    case CHSM_OP_VERIFY_RECOVER:
        return chsm_verify_recover(op->state, in, in_len, out, out_len);
    default:
        return chsm_sign_oneshot(op->state, in, in_len, out, out_len);
    }
}

static size_t as_size(const struct chsm_op *op, enum chsm_op_step step, size_t in_len)
{
    CHSM_UNUSED(in_len);
    return step == CHSM_STEP_UPDATE ? 0 : chsm_sign_len(op->state);
}

static void as_free(struct chsm_op *op)
{
    chsm_sign_free(op->state);
    op->state = NULL;
}

const struct chsm_op_vtable chsm_asym_sign_vt = {as_init, as_update, as_final, as_oneshot, as_size, NULL, as_free,
                                                 false};

/* ---- MACs ---- */

static CK_RV mac_init(struct chsm_op *op, const CK_MECHANISM *m, const struct chsm_key_view *key)
{
    const struct chsm_attr *v = chsm_attrlist_get(key->attrs, CKA_VALUE);
    if (v == NULL || v->len == 0)
        return CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, "core", "secret key without a value");
    /* The thread's parked context of this key, re-armed (keycache.c); else a fresh one. */
    struct chsm_mac *parked = key->obj != NULL ? chsm_obj_mac_take(key->obj) : NULL;
    if (parked != NULL && chsm_mac_rearm(parked, m->mechanism, m->pParameter, m->ulParameterLen)) {
        op->state = parked;
        return CKR_OK;
    }
    chsm_mac_free(parked);
    return chsm_mac_new(m->mechanism, m->pParameter, m->ulParameterLen, v->value, v->len,
                        (struct chsm_mac **)&op->state);
}

static CK_RV mac_update(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    CHSM_UNUSED(out);
    CHSM_UNUSED(out_len);
    return chsm_mac_update(op->state, in, in_len);
}

static CK_RV mac_final(struct chsm_op *op, uint8_t *out, size_t *out_len)
{
    if (op->kind == CHSM_OP_VERIFY)
        return chsm_mac_verify_final(op->state, out, *out_len);
    return chsm_mac_sign_final(op->state, out, out_len);
}

static CK_RV mac_oneshot(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    CK_RV rv = chsm_mac_update(op->state, in, in_len);
    return rv == CKR_OK ? mac_final(op, out, out_len) : rv;
}

static size_t mac_size(const struct chsm_op *op, enum chsm_op_step step, size_t in_len)
{
    CHSM_UNUSED(in_len);
    return step == CHSM_STEP_UPDATE ? 0 : chsm_mac_len(op->state);
}

static void mac_free(struct chsm_op *op)
{
    chsm_mac_free(op->state);
    op->state = NULL;
}

/* An HMAC context goes back to its key object for the next operation on that key (keycache.c). */
static void mac_ended(struct chsm_op *op, struct chsm_object *key)
{
    if (!chsm_mac_parkable(op->state))
        return;
    chsm_obj_mac_park(key, op->state);
    op->state = NULL;
}

const struct chsm_op_vtable chsm_mac_vt = {mac_init, mac_update, mac_final, mac_oneshot, mac_size,
                                           NULL,     mac_free,   false,     mac_ended};
