/* Protobuf <-> PKCS#11 conversion: see convert.h. */
#include "convert.h"

#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"

static const CK_ATTRIBUTE_TYPE bool_attrs[] = {
    CKA_TOKEN,       CKA_PRIVATE,          CKA_MODIFIABLE,     CKA_COPYABLE,        CKA_DESTROYABLE,
    CKA_SENSITIVE,   CKA_EXTRACTABLE,      CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_LOCAL,
    CKA_ENCRYPT,     CKA_DECRYPT,          CKA_SIGN,           CKA_VERIFY,          CKA_WRAP,
    CKA_UNWRAP,      CKA_DERIVE,           CKA_SIGN_RECOVER,   CKA_VERIFY_RECOVER,  CKA_TRUSTED,
    CKA_WRAP_WITH_TRUSTED, CKA_ALWAYS_AUTHENTICATE,
};
static const CK_ATTRIBUTE_TYPE ulong_attrs[] = {
    CKA_CLASS,          CKA_KEY_TYPE,        CKA_VALUE_LEN,          CKA_MODULUS_BITS,   CKA_CERTIFICATE_TYPE,
    CKA_KEY_GEN_MECHANISM, CKA_CERTIFICATE_CATEGORY, CKA_JAVA_MIDP_SECURITY_DOMAIN, CKA_NAME_HASH_ALGORITHM,
    CKA_PRIME_BITS,     CKA_SUB_PRIME_BITS,
};
static const CK_ATTRIBUTE_TYPE string_attrs[] = {CKA_LABEL, CKA_UNIQUE_ID, CKA_URL};

static bool in(const CK_ATTRIBUTE_TYPE *set, size_t n, CK_ATTRIBUTE_TYPE t)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == t)
            return true;
    return false;
}

enum chsm_dattr_kind chsm_dattr_kind(CK_ATTRIBUTE_TYPE type)
{
    if (in(bool_attrs, CHSM_ARRAY_LEN(bool_attrs), type))
        return CHSM_DATTR_BOOL;
    if (in(ulong_attrs, CHSM_ARRAY_LEN(ulong_attrs), type))
        return CHSM_DATTR_ULONG;
    if (in(string_attrs, CHSM_ARRAY_LEN(string_attrs), type))
        return CHSM_DATTR_STRING;
    return CHSM_DATTR_BYTES;
}

CK_RV chsm_dtmpl_from_proto(CratonHsm__V1__Attribute *const *inp, size_t n, struct chsm_dtmpl *out)
{
    CK_RV rv = CKR_OK;

    memset(out, 0, sizeof *out);
    CHSM_ENSURE(n <= CHSM_DAEMON_MAX_TEMPLATE,
                CHSM_ERR(CKR_ARGUMENTS_BAD, "daemon", "template has %zu attributes (limit %u)", n,
                         CHSM_DAEMON_MAX_TEMPLATE));
    if (n == 0)
        goto out;
    out->attrs = calloc(n, sizeof *out->attrs);
    out->scalars = calloc(n, sizeof *out->scalars);
    CHSM_ENSURE(out->attrs != NULL && out->scalars != NULL, CKR_HOST_MEMORY);
    for (size_t i = 0; i < n; i++) {
        const CratonHsm__V1__Attribute *a = inp[i];
        CK_ATTRIBUTE *o = &out->attrs[i];
        o->type = (CK_ATTRIBUTE_TYPE)a->type;
        switch (a->value_case) {
        case CRATON_HSM__V1__ATTRIBUTE__VALUE_BOOL_VALUE:
            out->scalars[i].b = a->bool_value ? CK_TRUE : CK_FALSE;
            o->pValue = &out->scalars[i].b;
            o->ulValueLen = sizeof(CK_BBOOL);
            break;
        case CRATON_HSM__V1__ATTRIBUTE__VALUE_ULONG_VALUE:
            out->scalars[i].ul = (CK_ULONG)a->ulong_value;
            o->pValue = &out->scalars[i].ul;
            o->ulValueLen = sizeof(CK_ULONG);
            break;
        case CRATON_HSM__V1__ATTRIBUTE__VALUE_BYTES_VALUE:
            o->pValue = a->bytes_value.len ? a->bytes_value.data : NULL;
            o->ulValueLen = (CK_ULONG)a->bytes_value.len;
            break;
        case CRATON_HSM__V1__ATTRIBUTE__VALUE_STRING_VALUE:
            o->pValue = a->string_value;
            o->ulValueLen = (CK_ULONG)strlen(a->string_value);
            if (o->ulValueLen == 0)
                o->pValue = NULL;
            break;
        default:
            /* No value: an empty attribute (matches "present, empty" in a find template). */
            o->pValue = NULL;
            o->ulValueLen = 0;
            break;
        }
    }
    out->count = (CK_ULONG)n;
out:
    if (rv != CKR_OK)
        chsm_dtmpl_free(out);
    return rv;
}

void chsm_dtmpl_free(struct chsm_dtmpl *t)
{
    if (t->scalars != NULL)
        chsm_wipe(t->scalars, t->count * sizeof *t->scalars);
    free(t->scalars);
    free(t->attrs);
    memset(t, 0, sizeof *t);
}

static CK_RV mech_params(const CratonHsm__V1__Mechanism *in, struct chsm_dmech *out)
{
    switch (in->params_case) {
    case CRATON_HSM__V1__MECHANISM__PARAMS__NOT_SET:
        return CKR_OK;
    case CRATON_HSM__V1__MECHANISM__PARAMS_IV:
        out->m.pParameter = in->iv.len ? in->iv.data : NULL;
        out->m.ulParameterLen = (CK_ULONG)in->iv.len;
        return CKR_OK;
    case CRATON_HSM__V1__MECHANISM__PARAMS_GCM:
        if (in->gcm == NULL)
            return CKR_MECHANISM_PARAM_INVALID;
        out->p.gcm.pIv = in->gcm->iv.data;
        out->p.gcm.ulIvLen = (CK_ULONG)in->gcm->iv.len;
        out->p.gcm.ulIvBits = (CK_ULONG)in->gcm->iv.len * 8u;
        out->p.gcm.pAAD = in->gcm->aad.data;
        out->p.gcm.ulAADLen = (CK_ULONG)in->gcm->aad.len;
        out->p.gcm.ulTagBits = in->gcm->tag_bits ? in->gcm->tag_bits : 128u;
        out->m.pParameter = &out->p.gcm;
        out->m.ulParameterLen = sizeof out->p.gcm;
        return CKR_OK;
    case CRATON_HSM__V1__MECHANISM__PARAMS_PSS:
        if (in->pss == NULL)
            return CKR_MECHANISM_PARAM_INVALID;
        out->p.pss.hashAlg = (CK_MECHANISM_TYPE)in->pss->hash_alg;
        out->p.pss.mgf = (CK_RSA_PKCS_MGF_TYPE)in->pss->mgf;
        out->p.pss.sLen = (CK_ULONG)in->pss->salt_len;
        out->m.pParameter = &out->p.pss;
        out->m.ulParameterLen = sizeof out->p.pss;
        return CKR_OK;
    case CRATON_HSM__V1__MECHANISM__PARAMS_OAEP:
        if (in->oaep == NULL)
            return CKR_MECHANISM_PARAM_INVALID;
        out->p.oaep.hashAlg = (CK_MECHANISM_TYPE)in->oaep->hash_alg;
        out->p.oaep.mgf = (CK_RSA_PKCS_MGF_TYPE)in->oaep->mgf;
        out->p.oaep.source = in->oaep->source_data.len ? CKZ_DATA_SPECIFIED : 0;
        out->p.oaep.pSourceData = in->oaep->source_data.len ? in->oaep->source_data.data : NULL;
        out->p.oaep.ulSourceDataLen = (CK_ULONG)in->oaep->source_data.len;
        out->m.pParameter = &out->p.oaep;
        out->m.ulParameterLen = sizeof out->p.oaep;
        return CKR_OK;
    case CRATON_HSM__V1__MECHANISM__PARAMS_ECDH:
        if (in->ecdh == NULL)
            return CKR_MECHANISM_PARAM_INVALID;
        out->p.ecdh.kdf = (ck_ec_kdf_t)in->ecdh->kdf;
        out->p.ecdh.pSharedData = in->ecdh->shared_data.len ? in->ecdh->shared_data.data : NULL;
        out->p.ecdh.ulSharedDataLen = (CK_ULONG)in->ecdh->shared_data.len;
        out->p.ecdh.pPublicData = in->ecdh->public_data.data;
        out->p.ecdh.ulPublicDataLen = (CK_ULONG)in->ecdh->public_data.len;
        out->m.pParameter = &out->p.ecdh;
        out->m.ulParameterLen = sizeof out->p.ecdh;
        return CKR_OK;
    case CRATON_HSM__V1__MECHANISM__PARAMS_CTR:
        if (in->ctr == NULL || in->ctr->cb.len != sizeof out->p.ctr.cb)
            return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, "daemon", "ctr.cb must be 16 bytes");
        out->p.ctr.ulCounterBits = in->ctr->counter_bits;
        memcpy(out->p.ctr.cb, in->ctr->cb.data, sizeof out->p.ctr.cb);
        out->m.pParameter = &out->p.ctr;
        out->m.ulParameterLen = sizeof out->p.ctr;
        return CKR_OK;
    default:
        return CKR_MECHANISM_PARAM_INVALID;
    }
}

CK_RV chsm_dmech_from_proto(const CratonHsm__V1__Mechanism *inm, chsm_dmech_resolver resolve_name,
                            struct chsm_dmech *out)
{
    memset(out, 0, sizeof *out);
    if (inm == NULL)
        return CHSM_ERR(CKR_MECHANISM_INVALID, "daemon", "mechanism missing");
    out->m.mechanism = (CK_MECHANISM_TYPE)inm->type;
    if (inm->name != NULL && inm->name[0] != '\0') {
        if (resolve_name == NULL || !resolve_name(inm->name, &out->m.mechanism))
            return CHSM_ERR(CKR_MECHANISM_INVALID, "daemon", "unknown mechanism name");
    }
    return mech_params(inm, out);
}

CK_RV chsm_dattr_to_proto(CK_ATTRIBUTE_TYPE type, unsigned char *val, CK_ULONG len, CratonHsm__V1__Attribute *out)
{
    out->type = type;
    switch (chsm_dattr_kind(type)) {
    case CHSM_DATTR_BOOL:
        if (len == sizeof(CK_BBOOL)) {
            out->value_case = CRATON_HSM__V1__ATTRIBUTE__VALUE_BOOL_VALUE;
            out->bool_value = val[0] != CK_FALSE;
            return CKR_OK;
        }
        break;
    case CHSM_DATTR_ULONG:
        if (len == sizeof(CK_ULONG)) {
            CK_ULONG v;
            memcpy(&v, val, sizeof v);
            out->value_case = CRATON_HSM__V1__ATTRIBUTE__VALUE_ULONG_VALUE;
            out->ulong_value = v;
            return CKR_OK;
        }
        break;
    case CHSM_DATTR_STRING:
        /* protobuf strings must be UTF-8; the core stores labels as given, so
         * a label that is not valid text travels as bytes instead. */
        if (memchr(val, 0, len) == NULL) {
            out->value_case = CRATON_HSM__V1__ATTRIBUTE__VALUE_STRING_VALUE;
            out->string_value = (char *)val;
            return CKR_OK;
        }
        break;
    case CHSM_DATTR_BYTES:
        break;
    }
    out->value_case = CRATON_HSM__V1__ATTRIBUTE__VALUE_BYTES_VALUE;
    out->bytes_value.data = val;
    out->bytes_value.len = len;
    return CKR_OK;
}

void chsm_padded_to_str(const CK_UTF8CHAR *src, size_t srclen, char *dst, size_t dstlen)
{
    size_t n = srclen;
    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
        n--;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
