/*
 * Encryption handlers of the mechanism table: AES modes (streaming, exact
 * size model of crypto/cipher.h) and RSA encryption (one shot, key from the
 * object's parsed-key cache). Both answer a too-small buffer themselves
 * with the exact size and their state intact (handles_short).
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/cipher.h"

static CK_RV aes_init(struct chsm_op *op, const CK_MECHANISM *m, const struct chsm_key_view *key)
{
    const struct chsm_attr *v = chsm_attrlist_get(key->attrs, CKA_VALUE);
    if (v == NULL)
        return CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, "core", "secret key without a value");
    bool enc = op->kind == CHSM_OP_ENCRYPT;
    /* The thread's parked context of this key and direction, re-armed (keycache.c); else a fresh one. */
    struct chsm_cipher *parked = key->obj != NULL ? chsm_obj_cipher_take(key->obj, enc) : NULL;
    if (parked != NULL && chsm_cipher_rearm(parked, m->mechanism, m->pParameter, m->ulParameterLen, enc)) {
        op->state = parked;
        return CKR_OK;
    }
    chsm_cipher_free(parked);
    return chsm_cipher_new(m->mechanism, m->pParameter, m->ulParameterLen, v->value, v->len, enc,
                           (struct chsm_cipher **)&op->state);
}

static CK_RV aes_update(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    return chsm_cipher_update(op->state, in, in_len, out, out_len);
}

static CK_RV aes_final(struct chsm_op *op, uint8_t *out, size_t *out_len)
{
    return chsm_cipher_final(op->state, out, out_len);
}

static CK_RV aes_oneshot(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    return chsm_cipher_oneshot(op->state, in, in_len, out, out_len);
}

static size_t aes_size(const struct chsm_op *op, enum chsm_op_step step, size_t in_len)
{
    switch (step) {
    case CHSM_STEP_UPDATE:
        return chsm_cipher_update_len(op->state, in_len);
    case CHSM_STEP_FINAL:
        return chsm_cipher_final_len(op->state);
    default: /* GCM decrypt and CBC-PAD decrypt produce their output in the final half */
        return chsm_cipher_oneshot_len(op->state, in_len);
    }
}

static void aes_free(struct chsm_op *op)
{
    chsm_cipher_free(op->state);
    op->state = NULL;
}

/* A finished AES context goes back to its key object for the next operation on that key (keycache.c). */
static void aes_ended(struct chsm_op *op, struct chsm_object *key)
{
    if (!chsm_cipher_park_ready(op->state))
        return;
    chsm_obj_cipher_park(key, op->state);
    op->state = NULL;
}

const struct chsm_op_vtable chsm_aes_crypt_vt = {aes_init, aes_update, aes_final, aes_oneshot, aes_size,
                                                 NULL,     aes_free,   true,      aes_ended};

/* ---- RSA: one shot; the parameter is copied because the caller's may not outlive Init ---- */
struct rsa_state {
    struct chsm_pkey *pk;
    CK_MECHANISM_TYPE mech;
    CK_RSA_PKCS_OAEP_PARAMS oaep;
    uint8_t *label;
    bool has_param;
};

static CK_RV rsa_init(struct chsm_op *op, const CK_MECHANISM *m, const struct chsm_key_view *key)
{
    CK_RV rv = CKR_OK;
    struct rsa_state *st = calloc(1, sizeof(*st));
    CHSM_ENSURE(st != NULL, CKR_HOST_MEMORY);
    op->state = st;
    st->mech = m->mechanism;
    if (m->mechanism == CKM_RSA_PKCS_OAEP) {
        CHSM_ENSURE(m->ulParameterLen == sizeof(CK_RSA_PKCS_OAEP_PARAMS),
                    CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, "core", "CK_RSA_PKCS_OAEP_PARAMS size"));
        memcpy(&st->oaep, m->pParameter, sizeof(st->oaep));
        CHSM_ENSURE(st->oaep.pSourceData != NULL || st->oaep.ulSourceDataLen == 0, CKR_MECHANISM_PARAM_INVALID);
        if (st->oaep.ulSourceDataLen > 0) {
            CHSM_ENSURE(st->oaep.ulSourceDataLen <= 4096, CKR_MECHANISM_PARAM_INVALID);
            st->label = malloc(st->oaep.ulSourceDataLen);
            CHSM_ENSURE(st->label != NULL, CKR_HOST_MEMORY);
            memcpy(st->label, st->oaep.pSourceData, st->oaep.ulSourceDataLen);
            st->oaep.pSourceData = st->label;
        }
        st->has_param = true;
    } else {
        CHSM_ENSURE(m->ulParameterLen == 0, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, "core", "no parameter expected"));
    }
    CHSM_GUARD(chsm_obj_pkey(key->obj, &st->pk));
    if (chsm_pkey_bits(st->pk) < chsm_mech_rsa_min_bits())
        CHSM_BAIL(CHSM_ERR(CKR_KEY_SIZE_RANGE, "core", "RSA key below the configured minimum"));
    /* A dry size query validates the parameter now (hash/MGF choice), not at the first call. */
    size_t n = 0;
    CHSM_GUARD(chsm_rsa_crypt(st->mech, st->has_param ? &st->oaep : NULL, st->has_param ? sizeof(st->oaep) : 0,
                              st->pk, true, NULL, 0, NULL, &n));
out:
    return rv;
}

static CK_RV rsa_update(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    CHSM_UNUSED(op);
    CHSM_UNUSED(in);
    CHSM_UNUSED(in_len);
    CHSM_UNUSED(out);
    CHSM_UNUSED(out_len);
    return CHSM_ERR(CKR_FUNCTION_NOT_SUPPORTED, "core", "RSA encryption is single-part");
}

static CK_RV rsa_final(struct chsm_op *op, uint8_t *out, size_t *out_len)
{
    return rsa_update(op, NULL, 0, out, out_len);
}

static CK_RV rsa_oneshot(struct chsm_op *op, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    struct rsa_state *st = op->state;
    return chsm_rsa_crypt(st->mech, st->has_param ? &st->oaep : NULL, st->has_param ? sizeof(st->oaep) : 0, st->pk,
                          op->kind == CHSM_OP_ENCRYPT, in, in_len, out, out_len);
}

static size_t rsa_size(const struct chsm_op *op, enum chsm_op_step step, size_t in_len)
{
    const struct rsa_state *st = op->state;
    CHSM_UNUSED(in_len);
    return step == CHSM_STEP_ONESHOT ? chsm_pkey_sig_len(st->pk) : 0;
}

static void rsa_free(struct chsm_op *op)
{
    struct rsa_state *st = op->state;
    if (st == NULL)
        return;
    chsm_pkey_free(st->pk);
    free(st->label);
    free(st);
    op->state = NULL;
}

const struct chsm_op_vtable chsm_rsa_crypt_vt = {rsa_init, rsa_update, rsa_final, rsa_oneshot, rsa_size, NULL,
                                                 rsa_free, true};
