/*
 * The PKCS#11 3.0 message-based encryption API for CKM_AES_GCM (base spec
 * 3.0, 5.19 encryption, 5.20 decryption). C_MessageEncryptInit and
 * C_MessageDecryptInit go through the op framework (op.c: key handle, key
 * type, CKA_ENCRYPT/CKA_DECRYPT, CKA_ALLOWED_MECHANISMS, dates, login), as
 * kinds CHSM_OP_MSG_ENCRYPT/DECRYPT; the context keeps a secure copy of the
 * key and the IV counter. Each message then carries its own
 * CK_GCM_MESSAGE_PARAMS (msgcrypt.h) and gets its own GCM context from the
 * crypto adapter.
 *
 * Conventions (session lock held throughout):
 *  - pCiphertext/pPlaintext NULL: the exact size, CKR_OK, nothing consumed
 *    (no IV, no counter value); too small: CKR_BUFFER_TOO_SMALL, same.
 *  - A failed message ends that message only; the context stays until
 *    C_Message*Final, C_SessionCancel(CKF_MESSAGE_*) or C_CloseSession.
 *  - Encryption writes a generated IV back to pIv (at C_EncryptMessage, or at
 *    C_EncryptMessageBegin) and the tag to pTag (at C_EncryptMessage, or at
 *    the C_EncryptMessageNext that carries CKF_END_OF_MESSAGE).
 *  - Decryption releases plaintext only after the tag verified: multi-part
 *    parts are buffered and the whole plaintext comes back with the part
 *    flagged CKF_END_OF_MESSAGE (earlier parts return 0 bytes).
 *  - Every finished message is accounted in the audit log like C_Encrypt.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/msgcrypt.h"
#include "crypto/cipher.h"

/* Build a GCM context for one message (iv: the final IV). */
CK_RV chsm_msg_gcm_new(const struct chsm_msg_state *st, const struct chsm_gcm_msg *m, uint8_t *iv, const CK_BYTE *aad,
                       CK_ULONG aad_n, bool encrypt, struct chsm_cipher **out)
{
    CK_GCM_PARAMS gp;
    memset(&gp, 0, sizeof(gp));
    gp.pIv = iv;
    gp.ulIvLen = m->p.ulIvLen;
    gp.ulIvBits = m->p.ulIvLen * 8;
    gp.pAAD = (CK_BYTE_PTR)(uintptr_t)aad;
    gp.ulAADLen = aad_n;
    gp.ulTagBits = m->p.ulTagBits;
    return chsm_cipher_new(CKM_AES_GCM, &gp, sizeof(gp), st->key.data, st->key.len, encrypt, out);
}

static CK_RV msg_init(struct chsm_op *op, const CK_MECHANISM *m, const struct chsm_key_view *key)
{
    CK_RV rv = CKR_OK;
    struct chsm_msg_state *st = NULL;
    struct chsm_cipher *probe = NULL;
    uint8_t iv[12] = {0};
    struct chsm_gcm_msg dummy;
    const struct chsm_attr *v = chsm_attrlist_get(key->attrs, CKA_VALUE);
    CHSM_ENSURE(m->pParameter == NULL && m->ulParameterLen == 0,
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, "core", "message-based GCM takes its parameters per message"));
    CHSM_ENSURE(v != NULL, CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, "core", "secret key without a value"));
    st = calloc(1, sizeof(*st));
    CHSM_ENSURE(st != NULL, CKR_HOST_MEMORY);
    op->state = st;
    CHSM_GUARD(chsm_secbuf_copy(&st->key, v->value, v->len));
    CHSM_GUARD(chsm_rand_bytes(&st->counter.start, sizeof(st->counter.start)));
    /* A throwaway context makes the adapter judge the key now (CKR_KEY_SIZE_RANGE), as C_EncryptInit does. */
    memset(&dummy, 0, sizeof(dummy));
    dummy.p.ulIvLen = sizeof(iv);
    dummy.p.ulTagBits = 128;
    CHSM_GUARD(chsm_msg_gcm_new(st, &dummy, iv, NULL, 0, op->kind == CHSM_OP_MSG_ENCRYPT, &probe));
out:
    chsm_cipher_free(probe);
    return rv;
}

static void msg_free(struct chsm_op *op)
{
    struct chsm_msg_state *st = op->state;
    if (st == NULL)
        return;
    chsm_cipher_free(st->part);
    chsm_secbuf_free(&st->key);
    chsm_wipe(st, sizeof(*st));
    free(st);
    op->state = NULL;
}

/* The framework only initialises and frees these kinds; the message calls below drive them. */
const struct chsm_op_vtable chsm_gcm_msg_vt = {msg_init, NULL, NULL, NULL, NULL, NULL, msg_free, true};

void chsm_msg_end_part(struct chsm_msg_state *st)
{
    chsm_cipher_free(st->part);
    st->part = NULL;
    st->part_in = 0;
}

/* ---- session plumbing ---- */
/* Look up the session and its active message op of kind; on CKR_OK the session lock is held. */
CK_RV chsm_msg_enter(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind, struct chsm_msg_call *c)
{
    CK_RV rv = chsm_session_get(app, h, &c->s);
    if (rv != CKR_OK)
        return rv;
    (void)pthread_mutex_lock(&c->s->lock);
    c->op = c->s->ops[kind];
    if (c->op == NULL) {
        (void)pthread_mutex_unlock(&c->s->lock);
        chsm_session_put(c->s);
        return CKR_OPERATION_NOT_INITIALIZED;
    }
    c->st = c->op->state;
    return CKR_OK;
}

void chsm_msg_leave(struct chsm_msg_call *c)
{
    (void)pthread_mutex_unlock(&c->s->lock);
    chsm_session_put(c->s);
}

/* The PKCS#11 5.2 output convention: true when the call only reports `need` (or is too small). */
bool chsm_msg_size_only(CK_BYTE *out, CK_ULONG *out_len, size_t need, CK_RV *rv)
{
    if (out != NULL && *out_len >= need)
        return false;
    *rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
    *out_len = (CK_ULONG)need;
    return true;
}

/* ---- one-shot messages ---- */
static CK_RV encrypt_one(struct chsm_msg_state *st, const struct chsm_gcm_msg *m, const CK_BYTE *aad, CK_ULONG aad_n,
                         const CK_BYTE *in, CK_ULONG n, CK_BYTE *out, CK_ULONG *out_len)
{
    CK_RV rv = CKR_OK;
    struct chsm_cipher *c = NULL;
    uint8_t iv[CHSM_MSG_IV_MAX], tag[CHSM_MSG_TAG_MAX];
    size_t ol = *out_len, tl = sizeof(tag);
    bool generated = false;
    CHSM_GUARD(chsm_msg_iv_make(m, &st->counter, iv, &generated));
    CHSM_GUARD(chsm_msg_gcm_new(st, m, iv, aad, aad_n, true, &c));
    CHSM_GUARD(chsm_cipher_update(c, in, n, out, &ol));
    CHSM_GUARD(chsm_cipher_final(c, tag, &tl));
    CHSM_ENSURE(ol == n && tl == m->tag_bytes, CHSM_ERR(CKR_GENERAL_ERROR, "core", "GCM output size"));
    if (generated)
        memcpy(m->p.pIv, iv, m->p.ulIvLen);
    memcpy(m->p.pTag, tag, tl);
    *out_len = n;
out:
    chsm_cipher_free(c);
    return rv;
}

static CK_RV decrypt_one(struct chsm_msg_state *st, const struct chsm_gcm_msg *m, const CK_BYTE *aad, CK_ULONG aad_n,
                         const CK_BYTE *in, CK_ULONG n, CK_BYTE *out, CK_ULONG *out_len)
{
    CK_RV rv = CKR_OK;
    struct chsm_cipher *c = NULL;
    uint8_t iv[CHSM_MSG_IV_MAX];
    size_t ol = *out_len;
    memcpy(iv, m->p.pIv, m->p.ulIvLen);
    CHSM_GUARD(chsm_msg_gcm_new(st, m, iv, aad, aad_n, false, &c));
    /* The adapter buffers ciphertext||tag and releases plaintext at final, only if the tag verifies. */
    CHSM_GUARD(chsm_cipher_update(c, in, n, out, &ol));
    ol = *out_len;
    CHSM_GUARD(chsm_cipher_update(c, m->p.pTag, m->tag_bytes, out, &ol));
    ol = *out_len;
    CHSM_GUARD(chsm_cipher_final(c, out, &ol));
    *out_len = (CK_ULONG)ol;
out:
    chsm_cipher_free(c);
    return rv;
}

static CK_RV message_one(struct chsm_app *app, CK_SESSION_HANDLE h, bool encrypt, CK_VOID_PTR param,
                         CK_ULONG param_len, const CK_BYTE *aad, CK_ULONG aad_n, const CK_BYTE *in, CK_ULONG n,
                         CK_BYTE *out, CK_ULONG *out_len)
{
    CK_RV rv = CKR_OK;
    struct chsm_msg_call c = {0};
    struct chsm_gcm_msg m;
    CHSM_GUARD(chsm_msg_enter(app, h, encrypt ? CHSM_OP_MSG_ENCRYPT : CHSM_OP_MSG_DECRYPT, &c));
    if (out_len == NULL || (aad == NULL && aad_n > 0) || (in == NULL && n > 0))
        rv = CKR_ARGUMENTS_BAD;
    else if (c.st->part != NULL)
        rv = CHSM_ERR(CKR_OPERATION_ACTIVE, "core", "a multi-part message is in progress");
    else if (n > CHSM_MSG_MAX_BYTES)
        rv = encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
    else if ((rv = chsm_msg_param_parse(param, param_len, encrypt, &m)) != CKR_OK)
        chsm_op_account(c.s, c.op, rv);
    else if (!chsm_msg_size_only(out, out_len, n, &rv)) {
        rv = encrypt ? encrypt_one(c.st, &m, aad, aad_n, in, n, out, out_len)
                     : decrypt_one(c.st, &m, aad, aad_n, in, n, out, out_len);
        chsm_op_account(c.s, c.op, rv);
    }
    chsm_msg_leave(&c);
out:
    return rv;
}

CK_RV chsm_core_EncryptMessage(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                               CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                               CK_BYTE_PTR pPlaintext, CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext,
                               CK_ULONG_PTR pulCiphertextLen)
{
    return message_one(app, hSession, true, pParameter, ulParameterLen, pAssociatedData, ulAssociatedDataLen,
                       pPlaintext, ulPlaintextLen, pCiphertext, pulCiphertextLen);
}

CK_RV chsm_core_DecryptMessage(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                               CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                               CK_BYTE_PTR pCiphertext, CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext,
                               CK_ULONG_PTR pulPlaintextLen)
{
    return message_one(app, hSession, false, pParameter, ulParameterLen, pAssociatedData, ulAssociatedDataLen,
                       pCiphertext, ulCiphertextLen, pPlaintext, pulPlaintextLen);
}

/* ---- init and final ---- */
CK_RV chsm_core_MessageEncryptInit(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                   CK_OBJECT_HANDLE hKey)
{
    return chsm_op_init(app, hSession, CHSM_OP_MSG_ENCRYPT, pMechanism, hKey, true);
}

CK_RV chsm_core_MessageDecryptInit(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                   CK_OBJECT_HANDLE hKey)
{
    return chsm_op_init(app, hSession, CHSM_OP_MSG_DECRYPT, pMechanism, hKey, true);
}

static CK_RV message_final(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind)
{
    struct chsm_msg_call c = {0};
    CK_RV rv = chsm_msg_enter(app, h, kind, &c);
    if (rv != CKR_OK)
        return rv;
    /* A message still in progress is abandoned: nothing of it was released unauthenticated. */
    chsm_op_free(c.s->ops[kind]);
    c.s->ops[kind] = NULL;
    chsm_msg_leave(&c);
    return CKR_OK;
}

CK_RV chsm_core_MessageEncryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession)
{
    return message_final(app, hSession, CHSM_OP_MSG_ENCRYPT);
}

CK_RV chsm_core_MessageDecryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession)
{
    return message_final(app, hSession, CHSM_OP_MSG_DECRYPT);
}
