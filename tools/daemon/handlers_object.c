/* Objects and keys: CreateObject, DestroyObject, FindObjects,
 * Get/SetAttributeValue, GenerateKey(Pair), UnwrapKey, DeriveKey. */
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "handlers.h"

#define FIND_LIMIT 1024u
#define GETATTR_LIMIT 64u

/* Shared shape of "template (+ mechanism) in, one handle out". */
static void reply_handle(struct chsm_hctx *h, CK_RV rv, const char *what, CK_OBJECT_HANDLE obj)
{
    /* All these responses are a single uint64 handle at field 1. */
    CratonHsm__V1__CreateObjectResponse r = CRATON_HSM__V1__CREATE_OBJECT_RESPONSE__INIT;
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, what);
        return;
    }
    r.handle = obj;
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(CreateObject)
{
    CratonHsm__V1__CreateObjectRequest *q = (CratonHsm__V1__CreateObjectRequest *)req;
    struct chsm_dtmpl t;
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    CK_RV rv = chsm_dtmpl_from_proto(q->template_, q->n_template_, &t);

    if (rv == CKR_OK)
        rv = chsm_core_CreateObject(h->client->app, (CK_SESSION_HANDLE)q->session, t.attrs, t.count, &obj);
    chsm_dtmpl_free(&t);
    reply_handle(h, rv, "CreateObject", obj);
}

CHSM_HANDLER(DestroyObject)
{
    CratonHsm__V1__DestroyObjectRequest *q = (CratonHsm__V1__DestroyObjectRequest *)req;
    CratonHsm__V1__DestroyObjectResponse r = CRATON_HSM__V1__DESTROY_OBJECT_RESPONSE__INIT;
    CK_RV rv = chsm_core_DestroyObject(h->client->app, (CK_SESSION_HANDLE)q->session, (CK_OBJECT_HANDLE)q->handle);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "DestroyObject");
        return;
    }
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(FindObjects)
{
    CratonHsm__V1__FindObjectsRequest *q = (CratonHsm__V1__FindObjectsRequest *)req;
    CratonHsm__V1__FindObjectsResponse r = CRATON_HSM__V1__FIND_OBJECTS_RESPONSE__INIT;
    CK_SESSION_HANDLE s = (CK_SESSION_HANDLE)q->session;
    CK_ULONG max = q->max_objects == 0 || q->max_objects > FIND_LIMIT ? FIND_LIMIT : q->max_objects;
    CK_OBJECT_HANDLE *objs = calloc(max, sizeof *objs);
    uint64_t *out = calloc(max, sizeof *out);
    struct chsm_dtmpl t = {0};
    CK_ULONG n = 0;
    CK_RV rv = objs && out ? chsm_dtmpl_from_proto(q->template_, q->n_template_, &t) : CKR_HOST_MEMORY;

    if (rv == CKR_OK)
        rv = chsm_core_FindObjectsInit(h->client->app, s, t.attrs, t.count);
    if (rv == CKR_OK) {
        CK_RV frv;
        rv = chsm_core_FindObjects(h->client->app, s, objs, max, &n);
        frv = chsm_core_FindObjectsFinal(h->client->app, s);
        if (rv == CKR_OK)
            rv = frv;
    }
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "FindObjects");
    } else {
        for (CK_ULONG i = 0; i < n; i++)
            out[i] = objs[i];
        r.n_handles = n;
        r.handles = out;
        chsm_h_ok(h, &r.base);
    }
    chsm_dtmpl_free(&t);
    free(objs);
    free(out);
}

/* One attribute at a time, so the per-attribute outcome is exact. */
static CK_RV get_one(struct chsm_hctx *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
                     CratonHsm__V1__AttributeValue *av, CratonHsm__V1__Attribute *a, unsigned char **buf)
{
    CK_ATTRIBUTE at = {type, NULL, 0};
    CK_RV rv = chsm_core_GetAttributeValue(h->client->app, s, o, &at, 1);

    craton_hsm__v1__attribute_value__init(av);
    craton_hsm__v1__attribute__init(a);
    a->type = type;
    av->attribute = a;
    if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID) {
        av->status = rv == CKR_ATTRIBUTE_SENSITIVE ? CRATON_HSM__V1__ATTRIBUTE_STATUS__ATTRIBUTE_STATUS_SENSITIVE
                                                   : CRATON_HSM__V1__ATTRIBUTE_STATUS__ATTRIBUTE_STATUS_TYPE_INVALID;
        return CKR_OK;
    }
    if (rv != CKR_OK)
        return rv;
    if (at.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
        av->status = CRATON_HSM__V1__ATTRIBUTE_STATUS__ATTRIBUTE_STATUS_UNAVAILABLE;
        return CKR_OK;
    }
    if (at.ulValueLen > h->settings->max_send_message_bytes)
        return CHSM_ERR(CKR_DEVICE_MEMORY, "daemon", "attribute too large to send");
    *buf = malloc(at.ulValueLen + 1);
    if (*buf == NULL)
        return CKR_HOST_MEMORY;
    at.pValue = *buf;
    rv = chsm_core_GetAttributeValue(h->client->app, s, o, &at, 1);
    if (rv != CKR_OK)
        return rv;
    (*buf)[at.ulValueLen] = 0;
    return chsm_dattr_to_proto(type, *buf, at.ulValueLen, a);
}

CHSM_HANDLER(GetAttributeValue)
{
    CratonHsm__V1__GetAttributeValueRequest *q = (CratonHsm__V1__GetAttributeValueRequest *)req;
    CratonHsm__V1__GetAttributeValueResponse r = CRATON_HSM__V1__GET_ATTRIBUTE_VALUE_RESPONSE__INIT;
    size_t n = q->n_types;
    CratonHsm__V1__AttributeValue *avs = NULL, **ptrs = NULL;
    CratonHsm__V1__Attribute *as = NULL;
    unsigned char **bufs = NULL;
    size_t *lens = NULL;
    CK_RV rv = CKR_OK;

    if (n > GETATTR_LIMIT) {
        chsm_h_fail(h, CHSM_DS_INVALID_ARGUMENT, "CKR_ARGUMENTS_BAD: at most %u attribute types per call",
                    GETATTR_LIMIT);
        return;
    }
    if (n > 0) {
        avs = calloc(n, sizeof *avs);
        ptrs = calloc(n, sizeof *ptrs);
        as = calloc(n, sizeof *as);
        bufs = calloc(n, sizeof *bufs);
        lens = calloc(n, sizeof *lens);
        if (!avs || !ptrs || !as || !bufs || !lens)
            rv = CKR_HOST_MEMORY;
    }
    for (size_t i = 0; rv == CKR_OK && i < n; i++) {
        rv = get_one(h, (CK_SESSION_HANDLE)q->session, (CK_OBJECT_HANDLE)q->handle, (CK_ATTRIBUTE_TYPE)q->types[i],
                     &avs[i], &as[i], &bufs[i]);
        if (bufs[i] != NULL)
            lens[i] = as[i].value_case == CRATON_HSM__V1__ATTRIBUTE__VALUE_BYTES_VALUE ? as[i].bytes_value.len
                                                                                         : strlen((char *)bufs[i]);
        ptrs[i] = &avs[i];
    }
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "GetAttributeValue");
    } else {
        r.n_values = n;
        r.values = ptrs;
        chsm_h_ok(h, &r.base);
    }
    for (size_t i = 0; bufs != NULL && i < n; i++)
        if (bufs[i] != NULL) {
            chsm_wipe(bufs[i], lens[i]);
            free(bufs[i]);
        }
    free(avs);
    free(ptrs);
    free(as);
    free(bufs);
    free(lens);
}

CHSM_HANDLER(SetAttributeValue)
{
    CratonHsm__V1__SetAttributeValueRequest *q = (CratonHsm__V1__SetAttributeValueRequest *)req;
    CratonHsm__V1__SetAttributeValueResponse r = CRATON_HSM__V1__SET_ATTRIBUTE_VALUE_RESPONSE__INIT;
    struct chsm_dtmpl t;
    CK_RV rv = chsm_dtmpl_from_proto(q->template_, q->n_template_, &t);

    if (rv == CKR_OK)
        rv = chsm_core_SetAttributeValue(h->client->app, (CK_SESSION_HANDLE)q->session,
                                         (CK_OBJECT_HANDLE)q->handle, t.attrs, t.count);
    chsm_dtmpl_free(&t);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "SetAttributeValue");
        return;
    }
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(GenerateKey)
{
    CratonHsm__V1__GenerateKeyRequest *q = (CratonHsm__V1__GenerateKeyRequest *)req;
    struct chsm_dmech m;
    struct chsm_dtmpl t = {0};
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    CK_RV rv = chsm_dmech_from_proto(q->mechanism, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = chsm_dtmpl_from_proto(q->template_, q->n_template_, &t);
    if (rv == CKR_OK)
        rv = chsm_core_GenerateKey(h->client->app, (CK_SESSION_HANDLE)q->session, &m.m, t.attrs, t.count, &obj);
    chsm_dtmpl_free(&t);
    reply_handle(h, rv, "GenerateKey", obj);
}

CHSM_HANDLER(GenerateKeyPair)
{
    CratonHsm__V1__GenerateKeyPairRequest *q = (CratonHsm__V1__GenerateKeyPairRequest *)req;
    CratonHsm__V1__GenerateKeyPairResponse r = CRATON_HSM__V1__GENERATE_KEY_PAIR_RESPONSE__INIT;
    struct chsm_dmech m;
    struct chsm_dtmpl pub = {0}, priv = {0};
    CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
    CK_RV rv = chsm_dmech_from_proto(q->mechanism, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = chsm_dtmpl_from_proto(q->public_template, q->n_public_template, &pub);
    if (rv == CKR_OK)
        rv = chsm_dtmpl_from_proto(q->private_template, q->n_private_template, &priv);
    if (rv == CKR_OK)
        rv = chsm_core_GenerateKeyPair(h->client->app, (CK_SESSION_HANDLE)q->session, &m.m, pub.attrs, pub.count,
                                       priv.attrs, priv.count, &hpub, &hpriv);
    chsm_dtmpl_free(&pub);
    chsm_dtmpl_free(&priv);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "GenerateKeyPair");
        return;
    }
    r.public_handle = hpub;
    r.private_handle = hpriv;
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(UnwrapKey)
{
    CratonHsm__V1__UnwrapKeyRequest *q = (CratonHsm__V1__UnwrapKeyRequest *)req;
    struct chsm_dmech m;
    struct chsm_dtmpl t = {0};
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    CK_RV rv = chsm_dmech_from_proto(q->mechanism, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = chsm_dtmpl_from_proto(q->template_, q->n_template_, &t);
    if (rv == CKR_OK)
        rv = chsm_core_UnwrapKey(h->client->app, (CK_SESSION_HANDLE)q->session, &m.m,
                                 (CK_OBJECT_HANDLE)q->unwrapping_key, q->wrapped_key.data,
                                 (CK_ULONG)q->wrapped_key.len, t.attrs, t.count, &obj);
    chsm_dtmpl_free(&t);
    reply_handle(h, rv, "UnwrapKey", obj);
}

CHSM_HANDLER(DeriveKey)
{
    CratonHsm__V1__DeriveKeyRequest *q = (CratonHsm__V1__DeriveKeyRequest *)req;
    struct chsm_dmech m;
    struct chsm_dtmpl t = {0};
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    CK_RV rv = chsm_dmech_from_proto(q->mechanism, chsm_h_mech_resolve, &m);

    if (rv == CKR_OK)
        rv = chsm_dtmpl_from_proto(q->template_, q->n_template_, &t);
    if (rv == CKR_OK)
        rv = chsm_core_DeriveKey(h->client->app, (CK_SESSION_HANDLE)q->session, &m.m, (CK_OBJECT_HANDLE)q->base_key,
                                 t.attrs, t.count, &obj);
    chsm_dtmpl_free(&t);
    reply_handle(h, rv, "DeriveKey", obj);
}
