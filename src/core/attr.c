/*
 * Attribute encoding at the ABI: CK_ATTRIBUTE values <-> the stored form in
 * struct chsm_attrlist, which is independent of endianness and word size:
 *   CK_BBOOL           1 byte (0 or 1)
 *   CK_ULONG           8 bytes little-endian
 *   mechanism arrays   n x 8 bytes little-endian (CKA_ALLOWED_MECHANISMS)
 *   attribute arrays   u32 count, then per entry: u64 type, u32-length value (stored form)
 *   CK_DATE            0 or 8 bytes as given; byte strings as given.
 * Unknown types are CKR_ATTRIBUTE_TYPE_INVALID; a wrong length for a
 * fixed-size type is CKR_ATTRIBUTE_VALUE_INVALID (base spec 5.7).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

struct attr_def {
    CK_ATTRIBUTE_TYPE type;
    enum chsm_attr_kind kind;
};

static const struct attr_def defs[] = {
    {CKA_CLASS, CHSM_AK_ULONG},
    {CKA_TOKEN, CHSM_AK_BOOL},
    {CKA_PRIVATE, CHSM_AK_BOOL},
    {CKA_LABEL, CHSM_AK_BYTES},
    {CKA_APPLICATION, CHSM_AK_BYTES},
    {CKA_VALUE, CHSM_AK_BYTES},
    {CKA_OBJECT_ID, CHSM_AK_BYTES},
    {CKA_CERTIFICATE_TYPE, CHSM_AK_ULONG},
    {CKA_ISSUER, CHSM_AK_BYTES},
    {CKA_SERIAL_NUMBER, CHSM_AK_BYTES},
    {CKA_AC_ISSUER, CHSM_AK_BYTES},
    {CKA_OWNER, CHSM_AK_BYTES},
    {CKA_ATTR_TYPES, CHSM_AK_BYTES},
    {CKA_TRUSTED, CHSM_AK_BOOL},
    {CKA_CERTIFICATE_CATEGORY, CHSM_AK_ULONG},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, CHSM_AK_ULONG},
    {CKA_URL, CHSM_AK_BYTES},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, CHSM_AK_BYTES},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, CHSM_AK_BYTES},
    {CKA_NAME_HASH_ALGORITHM, CHSM_AK_ULONG},
    {CKA_CHECK_VALUE, CHSM_AK_BYTES},
    {CKA_KEY_TYPE, CHSM_AK_ULONG},
    {CKA_SUBJECT, CHSM_AK_BYTES},
    {CKA_ID, CHSM_AK_BYTES},
    {CKA_SENSITIVE, CHSM_AK_BOOL},
    {CKA_ENCRYPT, CHSM_AK_BOOL},
    {CKA_DECRYPT, CHSM_AK_BOOL},
    {CKA_WRAP, CHSM_AK_BOOL},
    {CKA_UNWRAP, CHSM_AK_BOOL},
    {CKA_SIGN, CHSM_AK_BOOL},
    {CKA_SIGN_RECOVER, CHSM_AK_BOOL},
    {CKA_VERIFY, CHSM_AK_BOOL},
    {CKA_VERIFY_RECOVER, CHSM_AK_BOOL},
    {CKA_DERIVE, CHSM_AK_BOOL},
    {CKA_START_DATE, CHSM_AK_DATE},
    {CKA_END_DATE, CHSM_AK_DATE},
    {CKA_MODULUS, CHSM_AK_BYTES},
    {CKA_MODULUS_BITS, CHSM_AK_ULONG},
    {CKA_PUBLIC_EXPONENT, CHSM_AK_BYTES},
    {CKA_PRIVATE_EXPONENT, CHSM_AK_BYTES},
    {CKA_PRIME_1, CHSM_AK_BYTES},
    {CKA_PRIME_2, CHSM_AK_BYTES},
    {CKA_EXPONENT_1, CHSM_AK_BYTES},
    {CKA_EXPONENT_2, CHSM_AK_BYTES},
    {CKA_COEFFICIENT, CHSM_AK_BYTES},
    {CKA_PUBLIC_KEY_INFO, CHSM_AK_BYTES},
    {CKA_VALUE_BITS, CHSM_AK_ULONG},
    {CKA_VALUE_LEN, CHSM_AK_ULONG},
    {CKA_EXTRACTABLE, CHSM_AK_BOOL},
    {CKA_LOCAL, CHSM_AK_BOOL},
    {CKA_NEVER_EXTRACTABLE, CHSM_AK_BOOL},
    {CKA_ALWAYS_SENSITIVE, CHSM_AK_BOOL},
    {CKA_KEY_GEN_MECHANISM, CHSM_AK_ULONG},
    {CKA_MODIFIABLE, CHSM_AK_BOOL},
    {CKA_COPYABLE, CHSM_AK_BOOL},
    {CKA_DESTROYABLE, CHSM_AK_BOOL},
    {CKA_EC_PARAMS, CHSM_AK_BYTES},
    {CKA_EC_POINT, CHSM_AK_BYTES},
    {CKA_ALWAYS_AUTHENTICATE, CHSM_AK_BOOL},
    {CKA_WRAP_WITH_TRUSTED, CHSM_AK_BOOL},
    {CKA_WRAP_TEMPLATE, CHSM_AK_TEMPLATE},
    {CKA_UNWRAP_TEMPLATE, CHSM_AK_TEMPLATE},
    {CKA_DERIVE_TEMPLATE, CHSM_AK_TEMPLATE},
    {CKA_ALLOWED_MECHANISMS, CHSM_AK_MECHS},
    {CKA_UNIQUE_ID, CHSM_AK_BYTES},
};

/* defs[] by type for a binary search (every template attribute is looked up), built once. */
static const struct attr_def *defs_by_type[CHSM_ARRAY_LEN(defs)];
static pthread_once_t defs_once = PTHREAD_ONCE_INIT;

static int def_cmp(const void *a, const void *b)
{
    CK_ATTRIBUTE_TYPE x = (*(const struct attr_def *const *)a)->type, y = (*(const struct attr_def *const *)b)->type;
    return x < y ? -1 : x > y;
}

static void defs_sort(void)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(defs); i++)
        defs_by_type[i] = &defs[i];
    qsort(defs_by_type, CHSM_ARRAY_LEN(defs_by_type), sizeof(defs_by_type[0]), def_cmp);
}

bool chsm_attr_kind(CK_ATTRIBUTE_TYPE t, enum chsm_attr_kind *kind)
{
    (void)pthread_once(&defs_once, defs_sort);
    size_t lo = 0, hi = CHSM_ARRAY_LEN(defs_by_type);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (defs_by_type[mid]->type < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == CHSM_ARRAY_LEN(defs_by_type) || defs_by_type[lo]->type != t)
        return false;
    *kind = defs_by_type[lo]->kind;
    return true;
}

static CK_RV encode_template(const CK_ATTRIBUTE *nested, size_t n, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    struct chsm_attrlist tmp;
    chsm_attrlist_init(&tmp);
    CHSM_ENSURE(n <= UINT32_MAX, CKR_ATTRIBUTE_VALUE_INVALID);
    for (size_t i = 0; i < n; i++) {
        enum chsm_attr_kind k;
        CHSM_ENSURE(chsm_attr_kind(nested[i].type, &k), CKR_ATTRIBUTE_TYPE_INVALID);
        /* One level only: a template inside a template is refused. */
        CHSM_ENSURE(k != CHSM_AK_TEMPLATE, CKR_ATTRIBUTE_VALUE_INVALID);
        CHSM_GUARD(chsm_attr_from_ck(&nested[i], &tmp));
    }
    CHSM_GUARD(chsm_buf_put_u32(out, (uint32_t)tmp.count));
    for (size_t i = 0; i < tmp.count; i++) {
        CHSM_GUARD(chsm_buf_put_u64(out, tmp.items[i].type));
        CHSM_GUARD(chsm_buf_put_lv(out, tmp.items[i].value, tmp.items[i].len));
    }
out:
    chsm_attrlist_free(&tmp);
    return rv;
}

CK_RV chsm_attr_from_ck(const CK_ATTRIBUTE *a, struct chsm_attrlist *l)
{
    CK_RV rv = CKR_OK;
    enum chsm_attr_kind kind;
    struct chsm_buf buf;
    chsm_buf_init(&buf, 1);
    if (!chsm_attr_kind(a->type, &kind))
        return CHSM_ERR(CKR_ATTRIBUTE_TYPE_INVALID, "core", "attribute 0x%lx", (unsigned long)a->type);
    CHSM_ENSURE(a->pValue != NULL || a->ulValueLen == 0, CKR_ATTRIBUTE_VALUE_INVALID);
    switch (kind) {
    case CHSM_AK_BOOL:
        CHSM_ENSURE(a->ulValueLen == sizeof(CK_BBOOL), CKR_ATTRIBUTE_VALUE_INVALID);
        CHSM_GUARD(chsm_attrlist_set_bool(l, a->type, *(const CK_BBOOL *)a->pValue != CK_FALSE));
        break;
    case CHSM_AK_ULONG: {
        CHSM_ENSURE(a->ulValueLen == sizeof(CK_ULONG), CKR_ATTRIBUTE_VALUE_INVALID);
        CK_ULONG v;
        memcpy(&v, a->pValue, sizeof(v));
        CHSM_GUARD(chsm_attrlist_set_ulong(l, a->type, v));
        break;
    }
    case CHSM_AK_MECHS: {
        CHSM_ENSURE(a->ulValueLen % sizeof(CK_ULONG) == 0, CKR_ATTRIBUTE_VALUE_INVALID);
        size_t n = a->ulValueLen / sizeof(CK_ULONG);
        for (size_t i = 0; i < n; i++) {
            CK_ULONG v;
            memcpy(&v, (const uint8_t *)a->pValue + i * sizeof(CK_ULONG), sizeof(v));
            CHSM_GUARD(chsm_buf_put_u64(&buf, v));
        }
        CHSM_GUARD(chsm_attrlist_set(l, a->type, buf.data, buf.len));
        break;
    }
    case CHSM_AK_TEMPLATE:
        CHSM_ENSURE(a->ulValueLen % sizeof(CK_ATTRIBUTE) == 0, CKR_ATTRIBUTE_VALUE_INVALID);
        CHSM_GUARD(encode_template(a->pValue, a->ulValueLen / sizeof(CK_ATTRIBUTE), &buf));
        CHSM_GUARD(chsm_attrlist_set(l, a->type, buf.data, buf.len));
        break;
    case CHSM_AK_DATE:
        CHSM_ENSURE(a->ulValueLen == 0 || a->ulValueLen == sizeof(CK_DATE), CKR_ATTRIBUTE_VALUE_INVALID);
        CHSM_GUARD(chsm_attrlist_set(l, a->type, a->pValue, a->ulValueLen));
        break;
    case CHSM_AK_BYTES:
        CHSM_GUARD(chsm_attrlist_set(l, a->type, a->pValue, a->ulValueLen));
        break;
    }
out:
    chsm_buf_free(&buf);
    return rv;
}

CK_RV chsm_template_to_list(const CK_ATTRIBUTE *t, CK_ULONG n, struct chsm_attrlist *out)
{
    CK_RV rv = CKR_OK;
    chsm_attrlist_init(out);
    CHSM_ENSURE(t != NULL || n == 0, CKR_ARGUMENTS_BAD);
    /* + CKA_CLASS / CKA_KEY_TYPE / CKA_VALUE that the generate paths add. */
    if (n > 0 && n < 4096)
        CHSM_GUARD(chsm_attrlist_reserve(out, (size_t)n + 4));
    for (CK_ULONG i = 0; i < n; i++) {
        /* A template naming one attribute twice with different values is inconsistent. */
        const struct chsm_attr *prev = chsm_attrlist_get(out, t[i].type);
        if (prev != NULL) {
            struct chsm_attrlist one;
            chsm_attrlist_init(&one);
            rv = chsm_attr_from_ck(&t[i], &one);
            bool same = rv == CKR_OK && one.items[0].len == prev->len &&
                        (prev->len == 0 || memcmp(one.items[0].value, prev->value, prev->len) == 0);
            chsm_attrlist_free(&one);
            CHSM_GUARD(rv);
            CHSM_ENSURE(same, CKR_TEMPLATE_INCONSISTENT);
            continue;
        }
        CHSM_GUARD(chsm_attr_from_ck(&t[i], out));
    }
out:
    if (rv != CKR_OK)
        chsm_attrlist_free(out);
    return rv;
}

/* Size at the ABI of a stored value. */
static CK_RV abi_size(enum chsm_attr_kind kind, const struct chsm_attr *v, CK_ULONG *size)
{
    switch (kind) {
    case CHSM_AK_ULONG:
        *size = sizeof(CK_ULONG);
        return CKR_OK;
    case CHSM_AK_MECHS:
        *size = (CK_ULONG)(v->len / 8 * sizeof(CK_ULONG));
        return CKR_OK;
    case CHSM_AK_TEMPLATE:
        *size = v->len >= 4 ? (CK_ULONG)chsm_load_le32(v->value) * sizeof(CK_ATTRIBUTE) : 0;
        return CKR_OK;
    default:
        *size = (CK_ULONG)v->len;
        return CKR_OK;
    }
}

/* Attribute-array values (3.0 4.1.3): fill the caller's nested CK_ATTRIBUTE array. */
static CK_RV decode_template(const struct chsm_attr *v, CK_ATTRIBUTE *dst, CK_ULONG ndst)
{
    struct chsm_cursor c;
    uint32_t n = 0;
    CK_RV result = CKR_OK;
    chsm_cursor_init(&c, v->value, v->len);
    if (!chsm_cursor_u32(&c, &n) || n > ndst)
        return CKR_GENERAL_ERROR;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t type = 0;
        struct chsm_attr inner;
        const uint8_t *p = NULL;
        if (!chsm_cursor_u64(&c, &type) || !chsm_cursor_lv(&c, &p, &inner.len))
            return CHSM_ERR(CKR_GENERAL_ERROR, "core", "corrupt attribute array");
        inner.type = (CK_ATTRIBUTE_TYPE)type;
        inner.value = (uint8_t *)(uintptr_t)p;
        dst[i].type = inner.type;
        CK_RV rv = chsm_attr_to_ck(&inner, &dst[i]);
        if (rv != CKR_OK)
            result = rv;
    }
    return result;
}

CK_RV chsm_attr_to_ck(const struct chsm_attr *v, CK_ATTRIBUTE *a)
{
    enum chsm_attr_kind kind = CHSM_AK_BYTES;
    CK_ULONG need = 0;
    (void)chsm_attr_kind(v->type, &kind);
    CK_RV rv = abi_size(kind, v, &need);
    if (rv != CKR_OK)
        return rv;
    if (a->pValue == NULL) {
        a->ulValueLen = need;
        return CKR_OK;
    }
    if (a->ulValueLen < need) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_BUFFER_TOO_SMALL;
    }
    uint8_t *out = a->pValue;
    switch (kind) {
    case CHSM_AK_ULONG: {
        CK_ULONG u = v->len == 8 ? (CK_ULONG)chsm_load_le64(v->value) : 0;
        memcpy(out, &u, sizeof(u));
        break;
    }
    case CHSM_AK_MECHS:
        for (size_t i = 0; i < v->len / 8; i++) {
            CK_ULONG u = (CK_ULONG)chsm_load_le64(v->value + 8 * i);
            memcpy(out + i * sizeof(CK_ULONG), &u, sizeof(u));
        }
        break;
    case CHSM_AK_TEMPLATE:
        rv = decode_template(v, a->pValue, a->ulValueLen / sizeof(CK_ATTRIBUTE));
        break;
    case CHSM_AK_BOOL:
        out[0] = (v->len == 1 && v->value[0]) ? CK_TRUE : CK_FALSE;
        break;
    default:
        if (v->len > 0)
            memcpy(out, v->value, v->len);
        break;
    }
    a->ulValueLen = need;
    return rv;
}
