/* Single-part cryptography: Sign, Verify, Encrypt, Decrypt, Digest, WrapKey,
 * GenerateRandom. Each is Init + the one-shot call into a buffer that fits
 * the usual output (see two_step), so CKR_BUFFER_TOO_SMALL never reaches a client. */
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "handlers.h"

struct oneshot {
    struct chsm_app *app;
    CK_SESSION_HANDLE s;
    CK_BYTE_PTR in;
    CK_ULONG in_len;
    CK_OBJECT_HANDLE a, b; /* WrapKey: wrapping key, key */
    CK_MECHANISM_PTR mech;
};

typedef CK_RV (*oneshot_fn)(const struct oneshot *o, CK_BYTE_PTR out, CK_ULONG_PTR out_len);

static CK_RV do_sign(const struct oneshot *o, CK_BYTE_PTR out, CK_ULONG_PTR len)
{
    return chsm_core_Sign(o->app, o->s, o->in, o->in_len, out, len);
}
static CK_RV do_encrypt(const struct oneshot *o, CK_BYTE_PTR out, CK_ULONG_PTR len)
{
    return chsm_core_Encrypt(o->app, o->s, o->in, o->in_len, out, len);
}
static CK_RV do_decrypt(const struct oneshot *o, CK_BYTE_PTR out, CK_ULONG_PTR len)
{
    return chsm_core_Decrypt(o->app, o->s, o->in, o->in_len, out, len);
}
static CK_RV do_digest(const struct oneshot *o, CK_BYTE_PTR out, CK_ULONG_PTR len)
{
    return chsm_core_Digest(o->app, o->s, o->in, o->in_len, out, len);
}
static CK_RV do_wrap(const struct oneshot *o, CK_BYTE_PTR out, CK_ULONG_PTR len)
{
    return chsm_core_WrapKey(o->app, o->s, o->mech, o->a, o->b, out, len);
}

/*
 * Produce into a buffer (*buf, caller frees with wipe) of *len bytes with one
 * core call in the usual case: the first attempt goes straight into a
 * FIRST_TRY-byte buffer (every signature, digest and small ciphertext fits),
 * which saves the PKCS#11 size query. A CKR_BUFFER_TOO_SMALL leaves the
 * operation active and reports the size needed (PKCS#11 5.2); the call is
 * retried once with that size, so it never reaches the client.
 */
#define FIRST_TRY 1024u

static CK_RV alloc_out(struct chsm_hctx *h, CK_ULONG cap, unsigned char **buf)
{
    if (cap > h->settings->max_send_message_bytes)
        return CHSM_ERR(CKR_DATA_LEN_RANGE, "daemon", "output of %lu bytes exceeds max_send_message_bytes", cap);
    *buf = malloc(cap ? cap : 1);
    return *buf == NULL ? CKR_HOST_MEMORY : CKR_OK;
}

static bool cancel_oneshot(const struct oneshot *o)
{
    return chsm_core_SessionCancel(o->app, o->s, CKF_SIGN | CKF_ENCRYPT | CKF_DECRYPT | CKF_DIGEST) == CKR_OK;
}

static CK_RV two_step(struct chsm_hctx *h, oneshot_fn fn, const struct oneshot *o, unsigned char **buf,
                      CK_ULONG *len, CK_ULONG *cap_out)
{
    CK_ULONG cap = FIRST_TRY;
    CK_RV rv;

    *len = cap;
    rv = alloc_out(h, cap, buf);
    if (rv == CKR_OK)
        rv = fn(o, *buf, len);
    if (rv == CKR_BUFFER_TOO_SMALL) {
        chsm_wipe(*buf, cap);
        free(*buf);
        *buf = NULL;
        /* too small must report a larger size; otherwise the invariant is broken */
        rv = *len > cap ? alloc_out(h, *len, buf) : CKR_GENERAL_ERROR;
        cap = *len;
        if (rv == CKR_OK)
            rv = fn(o, *buf, len);
        else if (o->mech == NULL)
            /* the operation is still active: end it so the session stays usable */
            (void)cancel_oneshot(o);
    }
    if (rv != CKR_OK && *buf != NULL) {
        chsm_wipe(*buf, cap);
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    *cap_out = *buf != NULL ? cap : 0;
    return rv;
}

/* cap: the size of buf, all of which is wiped (a mechanism may have used more than it returned). */
static void reply_bytes(struct chsm_hctx *h, CK_RV rv, const char *what, unsigned char *buf, CK_ULONG len,
                        CK_ULONG cap)
{
    /* Sign/Encrypt/Decrypt/Digest/WrapKey/GenerateRandom responses are all one bytes field 1. */
    CratonHsm__V1__SignResponse r = CRATON_HSM__V1__SIGN_RESPONSE__INIT;
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, what);
    } else {
        r.signature.data = buf;
        r.signature.len = len;
        chsm_h_ok(h, &r.base);
    }
    if (buf != NULL) {
        chsm_wipe(buf, cap);
        free(buf);
    }
}

typedef CK_RV (*init_fn)(struct chsm_app *, CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE);

static void keyed_oneshot(struct chsm_hctx *h, const char *what, init_fn init, oneshot_fn fn, uint64_t session,
                          const CratonHsm__V1__Mechanism *pm, uint64_t key, ProtobufCBinaryData data)
{
    struct chsm_dmech m;
    struct oneshot o = {h->client->app, (CK_SESSION_HANDLE)session, data.data, (CK_ULONG)data.len, 0, 0, NULL};
    unsigned char *buf = NULL;
    CK_ULONG len = 0, cap = 0;
    CK_RV rv = chsm_dmech_from_proto(pm, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = init(o.app, o.s, &m.m, (CK_OBJECT_HANDLE)key);
    if (rv == CKR_OK)
        rv = two_step(h, fn, &o, &buf, &len, &cap);
    reply_bytes(h, rv, what, buf, len, cap);
}

CHSM_HANDLER(Sign)
{
    CratonHsm__V1__SignRequest *q = (CratonHsm__V1__SignRequest *)req;
    keyed_oneshot(h, "Sign", chsm_core_SignInit, do_sign, q->session, q->mechanism, q->key, q->data);
}

CHSM_HANDLER(Encrypt)
{
    CratonHsm__V1__EncryptRequest *q = (CratonHsm__V1__EncryptRequest *)req;
    keyed_oneshot(h, "Encrypt", chsm_core_EncryptInit, do_encrypt, q->session, q->mechanism, q->key, q->data);
}

CHSM_HANDLER(Decrypt)
{
    CratonHsm__V1__DecryptRequest *q = (CratonHsm__V1__DecryptRequest *)req;
    keyed_oneshot(h, "Decrypt", chsm_core_DecryptInit, do_decrypt, q->session, q->mechanism, q->key, q->data);
}

CHSM_HANDLER(Verify)
{
    CratonHsm__V1__VerifyRequest *q = (CratonHsm__V1__VerifyRequest *)req;
    CratonHsm__V1__VerifyResponse r = CRATON_HSM__V1__VERIFY_RESPONSE__INIT;
    struct chsm_dmech m;
    CK_SESSION_HANDLE s = (CK_SESSION_HANDLE)q->session;
    CK_RV rv = chsm_dmech_from_proto(q->mechanism, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = chsm_core_VerifyInit(h->client->app, s, &m.m, (CK_OBJECT_HANDLE)q->key);
    if (rv == CKR_OK)
        rv = chsm_core_Verify(h->client->app, s, q->data.data, (CK_ULONG)q->data.len, q->signature.data,
                              (CK_ULONG)q->signature.len);
    if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE) {
        r.valid = false;
        chsm_h_ok(h, &r.base);
        return;
    }
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "Verify");
        return;
    }
    r.valid = true;
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(Digest)
{
    CratonHsm__V1__DigestRequest *q = (CratonHsm__V1__DigestRequest *)req;
    struct chsm_dmech m;
    struct oneshot o = {h->client->app, (CK_SESSION_HANDLE)q->session, q->data.data, (CK_ULONG)q->data.len,
                        0, 0, NULL};
    unsigned char *buf = NULL;
    CK_ULONG len = 0, cap = 0;
    CK_RV rv = chsm_dmech_from_proto(q->mechanism, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = chsm_core_DigestInit(o.app, o.s, &m.m);
    if (rv == CKR_OK)
        rv = two_step(h, do_digest, &o, &buf, &len, &cap);
    reply_bytes(h, rv, "Digest", buf, len, cap);
}

CHSM_HANDLER(WrapKey)
{
    CratonHsm__V1__WrapKeyRequest *q = (CratonHsm__V1__WrapKeyRequest *)req;
    struct chsm_dmech m;
    struct oneshot o = {h->client->app, (CK_SESSION_HANDLE)q->session, NULL, 0, (CK_OBJECT_HANDLE)q->wrapping_key,
                        (CK_OBJECT_HANDLE)q->key, &m.m};
    unsigned char *buf = NULL;
    CK_ULONG len = 0, cap = 0;
    CK_RV rv = chsm_dmech_from_proto(q->mechanism, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = two_step(h, do_wrap, &o, &buf, &len, &cap);
    reply_bytes(h, rv, "WrapKey", buf, len, cap);
}

CHSM_HANDLER(GenerateRandom)
{
    CratonHsm__V1__GenerateRandomRequest *q = (CratonHsm__V1__GenerateRandomRequest *)req;
    unsigned char *buf;
    CK_RV rv;

    if (q->length > h->settings->max_random_bytes) {
        chsm_h_fail(h, CHSM_DS_INVALID_ARGUMENT, "CKR_ARGUMENTS_BAD: length %u exceeds max_random_bytes %u",
                    q->length, h->settings->max_random_bytes);
        return;
    }
    buf = malloc(q->length ? q->length : 1);
    if (buf == NULL) {
        chsm_h_fail_rv(h, CKR_HOST_MEMORY, "GenerateRandom");
        return;
    }
    rv = chsm_core_GenerateRandom(h->client->app, (CK_SESSION_HANDLE)q->session, buf, q->length);
    reply_bytes(h, rv, "GenerateRandom", buf, q->length, q->length);
}
