/*
 * Multi-part messages of the message-based GCM API (base spec 3.0,
 * C_EncryptMessageBegin/Next 5.19, C_DecryptMessageBegin/Next 5.20).
 * Begin fixes the IV (a generated one is written back to pIv there) and the
 * associated data; Next streams parts; the part flagged CKF_END_OF_MESSAGE
 * carries the parameter again, whose pTag receives (encrypt) or supplies
 * (decrypt) the tag, with the same ulTagBits as at Begin. Decryption
 * buffers every part (earlier parts return 0 bytes) and releases the whole
 * plaintext with the last part, only after the tag verified. Any error other
 * than a size report ends the message, never the context.
 */
#include <string.h>

#include "core/internal.h"
#include "core/msgcrypt.h"
#include "crypto/cipher.h"

static CK_RV begin_locked(struct chsm_msg_state *st, bool encrypt, CK_VOID_PTR param, CK_ULONG param_len,
                          const CK_BYTE *aad, CK_ULONG aad_n)
{
    CK_RV rv = CKR_OK;
    struct chsm_gcm_msg m;
    uint8_t iv[CHSM_MSG_IV_MAX];
    bool generated = false;
    CHSM_ENSURE(aad != NULL || aad_n == 0, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(st->part == NULL, CHSM_ERR(CKR_OPERATION_ACTIVE, "core", "a multi-part message is in progress"));
    CHSM_GUARD(chsm_msg_param_parse(param, param_len, encrypt, &m));
    CHSM_GUARD(chsm_msg_iv_make(&m, &st->counter, iv, &generated));
    CHSM_GUARD(chsm_msg_gcm_new(st, &m, iv, aad, aad_n, encrypt, &st->part));
    st->part_tag_bits = m.p.ulTagBits;
    st->part_in = 0;
    if (generated)
        memcpy(m.p.pIv, iv, m.p.ulIvLen);
out:
    return rv;
}

static CK_RV part_begin(struct chsm_app *app, CK_SESSION_HANDLE h, bool encrypt, CK_VOID_PTR param,
                        CK_ULONG param_len, const CK_BYTE *aad, CK_ULONG aad_n)
{
    struct chsm_msg_call c = {0};
    CK_RV rv = chsm_msg_enter(app, h, encrypt ? CHSM_OP_MSG_ENCRYPT : CHSM_OP_MSG_DECRYPT, &c);
    if (rv != CKR_OK)
        return rv;
    rv = begin_locked(c.st, encrypt, param, param_len, aad, aad_n);
    if (rv != CKR_OK && rv != CKR_OPERATION_ACTIVE && rv != CKR_ARGUMENTS_BAD)
        chsm_op_account(c.s, c.op, rv);
    chsm_msg_leave(&c);
    return rv;
}

/* The tag of the last part: the parameter again, same tag length as at Begin. */
static CK_RV end_param(const struct chsm_msg_state *st, bool encrypt, CK_VOID_PTR param, CK_ULONG param_len,
                       struct chsm_gcm_msg *m)
{
    CK_RV rv = chsm_msg_param_parse(param, param_len, encrypt, m);
    if (rv == CKR_OK && m->p.ulTagBits != st->part_tag_bits)
        rv = CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, "core", "ulTagBits differs from the one given at Begin");
    return rv;
}

/* Encrypt one part (out has room for n bytes); the last one also writes the tag. */
static CK_RV encrypt_part(struct chsm_msg_state *st, const struct chsm_gcm_msg *m, bool last, const CK_BYTE *in,
                          CK_ULONG n, CK_BYTE *out, CK_ULONG *out_len)
{
    CK_RV rv = CKR_OK;
    uint8_t tag[CHSM_MSG_TAG_MAX];
    size_t ol = *out_len, tl = sizeof(tag);
    CHSM_GUARD(chsm_cipher_update(st->part, in, n, out, &ol));
    st->part_in += n;
    if (last) {
        CHSM_GUARD(chsm_cipher_final(st->part, tag, &tl));
        CHSM_ENSURE(tl == m->tag_bytes, CHSM_ERR(CKR_GENERAL_ERROR, "core", "GCM tag size"));
        memcpy(m->p.pTag, tag, tl);
    }
    *out_len = (CK_ULONG)ol;
out:
    return rv;
}

/* Buffer one part; the last one adds the tag and releases the plaintext if it verifies. */
static CK_RV decrypt_part(struct chsm_msg_state *st, const struct chsm_gcm_msg *m, bool last, const CK_BYTE *in,
                          CK_ULONG n, CK_BYTE *out, CK_ULONG *out_len)
{
    CK_RV rv = CKR_OK;
    uint8_t none[1];
    uint8_t *sink = out != NULL ? out : none; /* the adapter treats a NULL output as a size query */
    size_t ol = *out_len;
    CHSM_GUARD(chsm_cipher_update(st->part, in, n, sink, &ol));
    st->part_in += n;
    if (last) {
        ol = *out_len;
        CHSM_GUARD(chsm_cipher_update(st->part, m->p.pTag, m->tag_bytes, sink, &ol));
        ol = *out_len;
        CHSM_GUARD(chsm_cipher_final(st->part, sink, &ol));
    }
    *out_len = last ? (CK_ULONG)ol : 0;
out:
    return rv;
}

struct part_args {
    bool encrypt, last;
    CK_VOID_PTR param;
    CK_ULONG param_len;
    const CK_BYTE *in;
    CK_ULONG n;
    CK_BYTE *out;
    CK_ULONG *out_len;
};

/* Returns true when the message is finished (successfully or not). */
static bool next_locked(struct chsm_msg_state *st, const struct part_args *a, CK_RV *prv)
{
    CK_RV rv = CKR_OK;
    struct chsm_gcm_msg m;
    size_t need;
    memset(&m, 0, sizeof(m));
    CHSM_ENSURE(a->out_len != NULL && (a->in != NULL || a->n == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(a->n <= CHSM_MSG_MAX_BYTES - st->part_in,
                a->encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE);
    if (a->last)
        CHSM_GUARD(end_param(st, a->encrypt, a->param, a->param_len, &m));
    /* Encrypted parts come back at once; decrypted ones only, all together, with the last part. */
    need = a->encrypt ? a->n : a->last ? st->part_in + a->n : 0;
    if (chsm_msg_size_only(a->out, a->out_len, need, prv))
        return false;
    rv = a->encrypt ? encrypt_part(st, &m, a->last, a->in, a->n, a->out, a->out_len)
                    : decrypt_part(st, &m, a->last, a->in, a->n, a->out, a->out_len);
out:
    *prv = rv;
    return rv != CKR_OK || a->last;
}

static CK_RV part_next(struct chsm_app *app, CK_SESSION_HANDLE h, const struct part_args *a)
{
    struct chsm_msg_call c = {0};
    CK_RV rv = chsm_msg_enter(app, h, a->encrypt ? CHSM_OP_MSG_ENCRYPT : CHSM_OP_MSG_DECRYPT, &c);
    if (rv != CKR_OK)
        return rv;
    if (c.st->part == NULL) {
        rv = CHSM_ERR(CKR_OPERATION_NOT_INITIALIZED, "core", "no message begun (C_*MessageBegin)");
    } else if (next_locked(c.st, a, &rv)) {
        chsm_op_account(c.s, c.op, rv);
        chsm_msg_end_part(c.st);
    }
    chsm_msg_leave(&c);
    return rv;
}

CK_RV chsm_core_EncryptMessageBegin(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                    CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                    CK_ULONG ulAssociatedDataLen)
{
    return part_begin(app, hSession, true, pParameter, ulParameterLen, pAssociatedData, ulAssociatedDataLen);
}

CK_RV chsm_core_DecryptMessageBegin(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                    CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                    CK_ULONG ulAssociatedDataLen)
{
    return part_begin(app, hSession, false, pParameter, ulParameterLen, pAssociatedData, ulAssociatedDataLen);
}

CK_RV chsm_core_EncryptMessageNext(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                   CK_ULONG ulParameterLen, CK_BYTE_PTR pPlaintextPart, CK_ULONG ulPlaintextPartLen,
                                   CK_BYTE_PTR pCiphertextPart, CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags)
{
    struct part_args a = {true, (flags & CKF_END_OF_MESSAGE) != 0, pParameter, ulParameterLen,
                          pPlaintextPart, ulPlaintextPartLen, pCiphertextPart, pulCiphertextPartLen};
    return part_next(app, hSession, &a);
}

CK_RV chsm_core_DecryptMessageNext(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                   CK_ULONG ulParameterLen, CK_BYTE_PTR pCiphertextPart, CK_ULONG ulCiphertextPartLen,
                                   CK_BYTE_PTR pPlaintextPart, CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags)
{
    struct part_args a = {false, (flags & CKF_END_OF_MESSAGE) != 0, pParameter, ulParameterLen,
                          pCiphertextPart, ulCiphertextPartLen, pPlaintextPart, pulPlaintextPartLen};
    return part_next(app, hSession, &a);
}
