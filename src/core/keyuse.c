/*
 * Key-usage policy shared by the operation Inits, wrap, unwrap and derive:
 * key type per mechanism row, CKA_ALLOWED_MECHANISMS, CKA_START_DATE /
 * CKA_END_DATE, and the stored attribute templates (CKA_WRAP_TEMPLATE,
 * CKA_UNWRAP_TEMPLATE, CKA_DERIVE_TEMPLATE).
 */
#include <string.h>
#include <time.h>

#include "core/internal.h"

unsigned chsm_kt_bit(uint64_t kt)
{
    switch (kt) {
    case CKK_RSA:
        return CHSM_KT_RSA;
    case CKK_EC:
        return CHSM_KT_EC;
    case CKK_EC_EDWARDS:
        return CHSM_KT_ED;
    case CKK_AES:
        return CHSM_KT_AES;
    case CKK_GENERIC_SECRET:
    case CKK_SHA_1_HMAC:
    case CKK_SHA224_HMAC:
    case CKK_SHA256_HMAC:
    case CKK_SHA384_HMAC:
    case CKK_SHA512_HMAC:
        return CHSM_KT_GEN;
    default:
        return 0;
    }
}

CK_RV chsm_key_type_ok(const struct chsm_mech_entry *e, const struct chsm_attrlist *attrs)
{
    uint64_t kt = chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
    if ((chsm_kt_bit(kt) & e->key_types) == 0)
        return CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, "core", "key type 0x%lx does not fit %s", (unsigned long)kt,
                        chsm_mech_name(e->type));
    return CKR_OK;
}

bool chsm_key_mech_allowed(const struct chsm_attrlist *attrs, CK_MECHANISM_TYPE m)
{
    const struct chsm_attr *a = chsm_attrlist_get(attrs, CKA_ALLOWED_MECHANISMS);
    if (a == NULL || a->len == 0)
        return true; /* absent or empty: no restriction */
    for (size_t i = 0; i + 8 <= a->len; i += 8)
        if (chsm_load_le64(a->value + i) == m)
            return true;
    return false;
}

/* A CK_DATE as YYYYMMDD digits, or false when absent/empty/malformed (no restriction). */
static bool date_of(const struct chsm_attrlist *attrs, CK_ATTRIBUTE_TYPE t, char out[9])
{
    const struct chsm_attr *a = chsm_attrlist_get(attrs, t);
    if (a == NULL || a->len != 8)
        return false;
    for (size_t i = 0; i < 8; i++)
        if (a->value[i] < '0' || a->value[i] > '9')
            return false;
    memcpy(out, a->value, 8);
    out[8] = '\0';
    return true;
}

/* Base spec 4.7: a key may not be used before CKA_START_DATE; after CKA_END_DATE
 * only to process existing data (verify, decrypt, unwrap) — our documented choice. */
CK_RV chsm_key_dates_ok(const struct chsm_attrlist *attrs, bool only_after_end_ok)
{
    char start[9], end[9], today[9];
    bool hs = date_of(attrs, CKA_START_DATE, start), he = date_of(attrs, CKA_END_DATE, end);
    if (!hs && !he)
        return CKR_OK;
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(today, sizeof(today), "%Y%m%d", &tm) != 8)
        return CHSM_ERR(CKR_GENERAL_ERROR, "core", "clock");
    if (hs && strcmp(today, start) < 0)
        return CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, "core", "key not valid before %s", start);
    if (he && strcmp(today, end) > 0 && !only_after_end_ok)
        return CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, "core", "key expired on %s", end);
    return CKR_OK;
}

/* Walk a stored template (u32 count, then u64 type + lv value each; attr.c). */
typedef bool (*tmpl_fn)(void *ctx, CK_ATTRIBUTE_TYPE t, const uint8_t *v, size_t len);
static bool tmpl_walk(const struct chsm_attr *ta, tmpl_fn fn, void *ctx)
{
    struct chsm_cursor c;
    uint32_t n = 0;
    chsm_cursor_init(&c, ta->value, ta->len);
    if (ta->len == 0)
        return true;
    if (!chsm_cursor_u32(&c, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = 0;
        const uint8_t *v = NULL;
        size_t len = 0;
        if (!chsm_cursor_u64(&c, &t) || !chsm_cursor_lv(&c, &v, &len) || !fn(ctx, (CK_ATTRIBUTE_TYPE)t, v, len))
            return false;
    }
    return true;
}

static bool match_one(void *ctx, CK_ATTRIBUTE_TYPE t, const uint8_t *v, size_t len)
{
    const struct chsm_attr *a = chsm_attrlist_get(ctx, t);
    return a != NULL && a->len == len && (len == 0 || memcmp(a->value, v, len) == 0);
}

bool chsm_attrs_match_template(const struct chsm_attrlist *attrs, const struct chsm_attr *ta)
{
    return ta == NULL || tmpl_walk(ta, match_one, (void *)(uintptr_t)attrs);
}

struct merge_ctx {
    struct chsm_attrlist *l;
    CK_RV rv;
};
static bool merge_one(void *ctx, CK_ATTRIBUTE_TYPE t, const uint8_t *v, size_t len)
{
    struct merge_ctx *m = ctx;
    const struct chsm_attr *a = chsm_attrlist_get(m->l, t);
    if (a != NULL) {
        if (a->len != len || (len != 0 && memcmp(a->value, v, len) != 0)) {
            m->rv = CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, "core", "attribute 0x%lx conflicts with the key's template",
                             (unsigned long)t);
            return false;
        }
        return true;
    }
    m->rv = chsm_attrlist_set(m->l, t, v, len);
    return m->rv == CKR_OK;
}

CK_RV chsm_template_merge(struct chsm_attrlist *list, const struct chsm_attr *ta)
{
    struct merge_ctx m = {list, CKR_OK};
    if (ta == NULL)
        return CKR_OK;
    if (!tmpl_walk(ta, merge_one, &m) && m.rv == CKR_OK)
        m.rv = CHSM_ERR(CKR_GENERAL_ERROR, "core", "stored template malformed");
    return m.rv;
}
