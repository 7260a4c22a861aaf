/*
 * The attribute policy (base spec 4.x tables, 3.0): which attributes each
 * class and key type accepts, which are required at import, their
 * defaults, which are token-set (read-only), modifiable, changeable only in
 * a copy, and which are secret components hidden by CKA_SENSITIVE /
 * CKA_EXTRACTABLE. Token-specific defaults chosen here (documented):
 * CKA_PRIVATE and CKA_SENSITIVE default to true and CKA_EXTRACTABLE to false
 * for private and secret keys, so nothing secret is exposed by omission.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define CD (1u << 0) /* data */
#define CC (1u << 1) /* certificate */
#define CU (1u << 2) /* public key */
#define CR (1u << 3) /* private key */
#define CS (1u << 4) /* secret key */
#define CK_ (CU | CR | CS)
#define CALL (CD | CC | CK_)

#define P_RO (1u << 0)    /* set by the token only */
#define P_MOD (1u << 1)   /* C_SetAttributeValue may change it */
#define P_COPY (1u << 2)  /* a C_CopyObject template may change it */
#define P_SENS (1u << 3)  /* secret component */
#define P_GEN (1u << 4)   /* allowed in a generate template only */
#define P_RSA (1u << 5)   /* RSA keys only */
#define P_EC (1u << 6)    /* EC / EdDSA keys only */
#define P_TRUE1 (1u << 7) /* may only go false -> true */
#define P_FALSE1 (1u << 8) /* may only go true -> false */

struct rule {
    CK_ATTRIBUTE_TYPE type;
    unsigned classes;
    unsigned flags;
};

static const struct rule rules[] = {
    {CKA_CLASS, CALL, 0},
    {CKA_TOKEN, CALL, P_COPY},
    {CKA_PRIVATE, CALL, P_COPY},
    {CKA_MODIFIABLE, CALL, P_COPY | P_FALSE1},
    {CKA_COPYABLE, CALL, P_COPY | P_FALSE1},
    {CKA_DESTROYABLE, CALL, P_COPY | P_FALSE1},
    {CKA_LABEL, CALL, P_MOD},
    {CKA_UNIQUE_ID, CALL, P_RO},
    {CKA_APPLICATION, CD, P_MOD},
    {CKA_OBJECT_ID, CD, P_MOD},
    {CKA_CERTIFICATE_TYPE, CC, 0},
    {CKA_TRUSTED, CC | CU | CS, 0},
    {CKA_CERTIFICATE_CATEGORY, CC, 0},
    {CKA_CHECK_VALUE, CC | CS, 0},
    {CKA_START_DATE, CC | CK_, P_MOD},
    {CKA_END_DATE, CC | CK_, P_MOD},
    {CKA_PUBLIC_KEY_INFO, CC | CU | CR, 0},
    {CKA_SUBJECT, CC | CU | CR, P_MOD},
    {CKA_ID, CC | CK_, P_MOD},
    {CKA_ISSUER, CC, P_MOD},
    {CKA_SERIAL_NUMBER, CC, P_MOD},
    {CKA_URL, CC, 0},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, CC, 0},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, CC, 0},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, CC, 0},
    {CKA_NAME_HASH_ALGORITHM, CC, 0},
    {CKA_KEY_TYPE, CK_, 0},
    {CKA_DERIVE, CK_, P_MOD},
    {CKA_LOCAL, CK_, P_RO},
    {CKA_KEY_GEN_MECHANISM, CK_, P_RO},
    {CKA_ALLOWED_MECHANISMS, CK_, 0},
    {CKA_ENCRYPT, CU | CS, P_MOD},
    {CKA_VERIFY, CU | CS, P_MOD},
    {CKA_VERIFY_RECOVER, CU, P_MOD},
    {CKA_WRAP, CU | CS, P_MOD},
    {CKA_DECRYPT, CR | CS, P_MOD},
    {CKA_SIGN, CR | CS, P_MOD},
    {CKA_SIGN_RECOVER, CR, P_MOD},
    {CKA_UNWRAP, CR | CS, P_MOD},
    {CKA_WRAP_TEMPLATE, CU | CS, 0},
    {CKA_UNWRAP_TEMPLATE, CR | CS, 0},
    {CKA_DERIVE_TEMPLATE, CK_, 0},
    {CKA_SENSITIVE, CR | CS, P_MOD | P_TRUE1},
    {CKA_EXTRACTABLE, CR | CS, P_MOD | P_FALSE1},
    {CKA_ALWAYS_SENSITIVE, CR | CS, P_RO},
    {CKA_NEVER_EXTRACTABLE, CR | CS, P_RO},
    {CKA_WRAP_WITH_TRUSTED, CR | CS, P_MOD | P_TRUE1},
    {CKA_ALWAYS_AUTHENTICATE, CR, 0},
    {CKA_MODULUS, CU | CR, P_RSA},
    {CKA_PUBLIC_EXPONENT, CU | CR, P_RSA},
    {CKA_MODULUS_BITS, CU, P_RSA | P_GEN},
    {CKA_PRIVATE_EXPONENT, CR, P_RSA | P_SENS},
    {CKA_PRIME_1, CR, P_RSA | P_SENS},
    {CKA_PRIME_2, CR, P_RSA | P_SENS},
    {CKA_EXPONENT_1, CR, P_RSA | P_SENS},
    {CKA_EXPONENT_2, CR, P_RSA | P_SENS},
    {CKA_COEFFICIENT, CR, P_RSA | P_SENS},
    {CKA_EC_PARAMS, CU | CR, P_EC},
    {CKA_EC_POINT, CU, P_EC},
    {CKA_VALUE_LEN, CS, 0},
};

static unsigned class_bit(uint64_t cls)
{
    switch (cls) {
    case CKO_DATA:
        return CD;
    case CKO_CERTIFICATE:
        return CC;
    case CKO_PUBLIC_KEY:
        return CU;
    case CKO_PRIVATE_KEY:
        return CR;
    case CKO_SECRET_KEY:
        return CS;
    default:
        return 0;
    }
}

static bool is_ec(uint64_t kt)
{
    return kt == CKK_EC || kt == CKK_EC_EDWARDS;
}

static bool key_type_ok(unsigned cb, uint64_t kt)
{
    if (cb & (CU | CR))
        return kt == CKK_RSA || is_ec(kt);
    switch (kt) {
    case CKK_AES:
    case CKK_GENERIC_SECRET:
    case CKK_SHA_1_HMAC:
    case CKK_SHA224_HMAC:
    case CKK_SHA256_HMAC:
    case CKK_SHA384_HMAC:
    case CKK_SHA512_HMAC:
        return true;
    default:
        return false;
    }
}

/*
 * rules[] and defaults[] are written in spec order; lookups and the one-pass
 * default merge of chsm_policy_create want them by type. Sorted index
 * arrays are built once per process.
 */
static const struct rule *rules_by_type[CHSM_ARRAY_LEN(rules)];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static void tables_sort(void);

static int type_cmp(CK_ATTRIBUTE_TYPE a, CK_ATTRIBUTE_TYPE b)
{
    return a < b ? -1 : a > b;
}
static int rule_cmp(const void *a, const void *b)
{
    return type_cmp((*(const struct rule *const *)a)->type, (*(const struct rule *const *)b)->type);
}

static const struct rule *rule_of_type(CK_ATTRIBUTE_TYPE t)
{
    (void)pthread_once(&tables_once, tables_sort);
    size_t lo = 0, hi = CHSM_ARRAY_LEN(rules_by_type);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rules_by_type[mid]->type < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < CHSM_ARRAY_LEN(rules_by_type) && rules_by_type[lo]->type == t ? rules_by_type[lo] : NULL;
}

/* The rule for t on an object of class bit cb and key type kt, or NULL if not an attribute of it. */
static const struct rule *rule_for(CK_ATTRIBUTE_TYPE t, unsigned cb, uint64_t kt)
{
    if (t == CKA_VALUE) {
        /* CKA_VALUE: data/cert value, EC private scalar, secret key bytes. */
        static const struct rule data = {CKA_VALUE, CD, P_MOD}, cert = {CKA_VALUE, CC, 0},
                                 sec = {CKA_VALUE, CR | CS, P_SENS};
        if (cb == CD)
            return &data;
        if (cb == CC)
            return &cert;
        if (cb == CS || (cb == CR && is_ec(kt)))
            return &sec;
        return NULL;
    }
    const struct rule *r = rule_of_type(t);
    if (r == NULL || !(r->classes & cb))
        return NULL;
    if ((r->flags & P_RSA) && kt != CKK_RSA)
        return NULL;
    if ((r->flags & P_EC) && !is_ec(kt))
        return NULL;
    return r;
}

bool chsm_policy_secret_bearing(const struct chsm_attrlist *attrs)
{
    uint64_t cls = chsm_attrlist_get_ulong(attrs, CKA_CLASS, CKO_DATA);
    return cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
}

bool chsm_policy_hidden(const struct chsm_attrlist *attrs, CK_ATTRIBUTE_TYPE t)
{
    unsigned cb = class_bit(chsm_attrlist_get_ulong(attrs, CKA_CLASS, CKO_DATA));
    const struct rule *r = rule_for(t, cb, chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION));
    if (r == NULL || !(r->flags & P_SENS))
        return false;
    return chsm_attrlist_get_bool(attrs, CKA_SENSITIVE, true) || !chsm_attrlist_get_bool(attrs, CKA_EXTRACTABLE, false);
}

enum dflt_kind {
    DK_BOOL,        /* val */
    DK_EMPTY,       /* empty byte string */
    DK_PRIVATE,     /* true for private and secret keys (nothing secret is exposed by omission) */
    DK_ULONG_ZERO,  /* CK_ULONG 0 */
};
struct dflt {
    CK_ATTRIBUTE_TYPE type;
    unsigned classes;
    enum dflt_kind kind;
    bool val;
};
static const struct dflt defaults[] = {
    {CKA_TOKEN, CALL, DK_BOOL, false},
    {CKA_PRIVATE, CALL, DK_PRIVATE, false},
    {CKA_MODIFIABLE, CALL, DK_BOOL, true},
    {CKA_COPYABLE, CALL, DK_BOOL, true},
    {CKA_DESTROYABLE, CALL, DK_BOOL, true},
    {CKA_LABEL, CALL, DK_EMPTY, false},
    {CKA_APPLICATION, CD, DK_EMPTY, false},
    {CKA_OBJECT_ID, CD, DK_EMPTY, false},
    {CKA_VALUE, CD, DK_EMPTY, false},
    {CKA_TRUSTED, CC | CU | CS, DK_BOOL, false},
    {CKA_CERTIFICATE_CATEGORY, CC, DK_ULONG_ZERO, false},
    {CKA_ID, CC | CK_, DK_EMPTY, false},
    {CKA_ISSUER, CC, DK_EMPTY, false},
    {CKA_SERIAL_NUMBER, CC, DK_EMPTY, false},
    {CKA_START_DATE, CC | CK_, DK_EMPTY, false},
    {CKA_END_DATE, CC | CK_, DK_EMPTY, false},
    {CKA_DERIVE, CK_, DK_BOOL, false},
    {CKA_SUBJECT, CU | CR, DK_EMPTY, false},
    {CKA_ENCRYPT, CU | CS, DK_BOOL, true},
    {CKA_VERIFY, CU | CS, DK_BOOL, true},
    {CKA_VERIFY_RECOVER, CU, DK_BOOL, false},
    {CKA_WRAP, CU | CS, DK_BOOL, false},
    {CKA_DECRYPT, CR | CS, DK_BOOL, true},
    {CKA_SIGN, CR | CS, DK_BOOL, true},
    {CKA_SIGN_RECOVER, CR, DK_BOOL, false},
    {CKA_UNWRAP, CR | CS, DK_BOOL, false},
    {CKA_SENSITIVE, CR | CS, DK_BOOL, true},
    {CKA_EXTRACTABLE, CR | CS, DK_BOOL, false},
    {CKA_WRAP_WITH_TRUSTED, CR | CS, DK_BOOL, false},
    {CKA_ALWAYS_AUTHENTICATE, CR, DK_BOOL, false},
    {CKA_ALLOWED_MECHANISMS, CK_, DK_EMPTY, false},
};
static const struct dflt *defaults_by_type[CHSM_ARRAY_LEN(defaults)];

static int dflt_cmp(const void *a, const void *b)
{
    return type_cmp((*(const struct dflt *const *)a)->type, (*(const struct dflt *const *)b)->type);
}

static void tables_sort(void)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(rules); i++)
        rules_by_type[i] = &rules[i];
    qsort(rules_by_type, CHSM_ARRAY_LEN(rules_by_type), sizeof(rules_by_type[0]), rule_cmp);
    for (size_t i = 0; i < CHSM_ARRAY_LEN(defaults); i++)
        defaults_by_type[i] = &defaults[i];
    qsort(defaults_by_type, CHSM_ARRAY_LEN(defaults_by_type), sizeof(defaults_by_type[0]), dflt_cmp);
}

static CK_RV set_default(struct chsm_attrlist *out, const struct dflt *d, unsigned cb)
{
    switch (d->kind) {
    case DK_BOOL:
        return chsm_attrlist_set_bool(out, d->type, d->val);
    case DK_PRIVATE:
        return chsm_attrlist_set_bool(out, d->type, (cb & (CR | CS)) != 0);
    case DK_ULONG_ZERO:
        return chsm_attrlist_set_ulong(out, d->type, 0);
    default:
        return chsm_attrlist_set(out, d->type, NULL, 0);
    }
}

/*
 * out = the template plus every default of this class the template lacks,
 * in one merge pass over both (sorted by type): each entry is appended, no
 * lookups, no moves.
 */
static CK_RV merge_defaults(const struct chsm_attrlist *tmpl, struct chsm_attrlist *out, unsigned cb)
{
    CK_RV rv = CKR_OK;
    size_t ti = 0;
    (void)pthread_once(&tables_once, tables_sort);
    /* + the token-set attributes chsm_policy_create and the callers add (LOCAL, UNIQUE_ID ...). */
    CHSM_GUARD(chsm_attrlist_reserve(out, tmpl->count + CHSM_ARRAY_LEN(defaults) + 8));
    for (size_t di = 0; di < CHSM_ARRAY_LEN(defaults_by_type); di++) {
        const struct dflt *d = defaults_by_type[di];
        if (!(d->classes & cb))
            continue;
        for (; ti < tmpl->count && tmpl->items[ti].type < d->type; ti++)
            CHSM_GUARD(chsm_attrlist_set(out, tmpl->items[ti].type, tmpl->items[ti].value, tmpl->items[ti].len));
        if (ti < tmpl->count && tmpl->items[ti].type == d->type)
            continue; /* the template's value wins; copied by the loop above on the next default */
        CHSM_GUARD(set_default(out, d, cb));
    }
    for (; ti < tmpl->count; ti++)
        CHSM_GUARD(chsm_attrlist_set(out, tmpl->items[ti].type, tmpl->items[ti].value, tmpl->items[ti].len));
out:
    return rv;
}

static CK_RV require(const struct chsm_attrlist *l, const CK_ATTRIBUTE_TYPE *types, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!chsm_attrlist_has(l, types[i]))
            return CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, "core", "attribute 0x%lx is required",
                            (unsigned long)types[i]);
    return CKR_OK;
}

/* Required attributes of an imported object and values derived from them. */
static CK_RV import_checks(struct chsm_attrlist *out, unsigned cb, uint64_t kt)
{
    static const CK_ATTRIBUTE_TYPE cert[] = {CKA_SUBJECT, CKA_VALUE};
    static const CK_ATTRIBUTE_TYPE rsa_pub[] = {CKA_MODULUS, CKA_PUBLIC_EXPONENT};
    static const CK_ATTRIBUTE_TYPE rsa_priv[] = {CKA_MODULUS, CKA_PRIVATE_EXPONENT};
    static const CK_ATTRIBUTE_TYPE ec_pub[] = {CKA_EC_PARAMS, CKA_EC_POINT};
    static const CK_ATTRIBUTE_TYPE ec_priv[] = {CKA_EC_PARAMS, CKA_VALUE};
    static const CK_ATTRIBUTE_TYPE sec[] = {CKA_VALUE};
    CK_RV rv = CKR_OK;
    if (cb == CC)
        CHSM_GUARD(require(out, cert, CHSM_ARRAY_LEN(cert)));
    if (cb == CU)
        CHSM_GUARD(kt == CKK_RSA ? require(out, rsa_pub, 2) : require(out, ec_pub, 2));
    if (cb == CR)
        CHSM_GUARD(kt == CKK_RSA ? require(out, rsa_priv, 2) : require(out, ec_priv, 2));
    if (cb == CS) {
        CHSM_GUARD(require(out, sec, 1));
        const struct chsm_attr *v = chsm_attrlist_get(out, CKA_VALUE);
        if (kt == CKK_AES)
            CHSM_ENSURE(v->len == 16 || v->len == 24 || v->len == 32, CKR_ATTRIBUTE_VALUE_INVALID);
        CHSM_ENSURE(v->len > 0, CKR_ATTRIBUTE_VALUE_INVALID);
        uint64_t vl = chsm_attrlist_get_ulong(out, CKA_VALUE_LEN, v->len);
        CHSM_ENSURE(vl == v->len, CKR_TEMPLATE_INCONSISTENT);
        CHSM_GUARD(chsm_attrlist_set_ulong(out, CKA_VALUE_LEN, v->len));
    }
    if (cb == CU && kt == CKK_RSA) {
        /* CKA_MODULUS_BITS of an imported key is computed from the modulus. */
        const struct chsm_attr *m = chsm_attrlist_get(out, CKA_MODULUS);
        size_t i = 0;
        while (i < m->len && m->value[i] == 0)
            i++;
        uint64_t bits = 0;
        if (i < m->len) {
            bits = (uint64_t)(m->len - i - 1) * 8;
            for (uint8_t b = m->value[i]; b != 0; b >>= 1)
                bits++;
        }
        CHSM_GUARD(chsm_attrlist_set_ulong(out, CKA_MODULUS_BITS, bits));
    }
out:
    return rv;
}

CK_RV chsm_policy_create(const struct chsm_attrlist *tmpl, enum chsm_create_how how, struct chsm_attrlist *out)
{
    CK_RV rv = CKR_OK;
    chsm_attrlist_init(out);
    const struct chsm_attr *ca = chsm_attrlist_get(tmpl, CKA_CLASS);
    CHSM_ENSURE(ca != NULL, CKR_TEMPLATE_INCOMPLETE);
    uint64_t cls = chsm_attrlist_get_ulong(tmpl, CKA_CLASS, 0);
    unsigned cb = class_bit(cls);
    CHSM_ENSURE(cb != 0, CKR_ATTRIBUTE_VALUE_INVALID);
    uint64_t kt = CK_UNAVAILABLE_INFORMATION;
    if (cb & CK_) {
        CHSM_ENSURE(chsm_attrlist_has(tmpl, CKA_KEY_TYPE), CKR_TEMPLATE_INCOMPLETE);
        kt = chsm_attrlist_get_ulong(tmpl, CKA_KEY_TYPE, 0);
        CHSM_ENSURE(key_type_ok(cb, kt), CKR_ATTRIBUTE_VALUE_INVALID);
    }
    if (cb == CC) {
        CHSM_ENSURE(chsm_attrlist_has(tmpl, CKA_CERTIFICATE_TYPE), CKR_TEMPLATE_INCOMPLETE);
        CHSM_ENSURE(chsm_attrlist_get_ulong(tmpl, CKA_CERTIFICATE_TYPE, 0) == CKC_X_509,
                    CKR_ATTRIBUTE_VALUE_INVALID);
    }
    for (size_t i = 0; i < tmpl->count; i++) {
        const struct chsm_attr *a = &tmpl->items[i];
        const struct rule *r = rule_for(a->type, cb, kt);
        if (r == NULL)
            CHSM_BAIL(CHSM_ERR(CKR_ATTRIBUTE_TYPE_INVALID, "core", "attribute 0x%lx not valid for class %lu",
                               (unsigned long)a->type, (unsigned long)cls));
        if ((r->flags & P_RO) || ((r->flags & P_GEN) && how != CHSM_CREATE_GENERATE))
            CHSM_BAIL(CHSM_ERR(CKR_ATTRIBUTE_READ_ONLY, "core", "attribute 0x%lx is set by the token",
                               (unsigned long)a->type));
    }
    CHSM_GUARD(merge_defaults(tmpl, out, cb));
    bool generated = how == CHSM_CREATE_GENERATE;
    if (!generated)
        CHSM_GUARD(import_checks(out, cb, kt));
    if (cb & CK_) {
        CHSM_GUARD(chsm_attrlist_set_bool(out, CKA_LOCAL, generated));
        if (!generated)
            CHSM_GUARD(chsm_attrlist_set_ulong(out, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION));
    }
    if (cb & (CR | CS)) {
        /* Imported keys were seen in clear by someone: never ALWAYS_SENSITIVE / NEVER_EXTRACTABLE. */
        bool sens = chsm_attrlist_get_bool(out, CKA_SENSITIVE, true);
        bool extr = chsm_attrlist_get_bool(out, CKA_EXTRACTABLE, false);
        CHSM_GUARD(chsm_attrlist_set_bool(out, CKA_ALWAYS_SENSITIVE, generated && sens));
        CHSM_GUARD(chsm_attrlist_set_bool(out, CKA_NEVER_EXTRACTABLE, generated && !extr));
    }
out:
    if (rv != CKR_OK)
        chsm_attrlist_free(out);
    return rv;
}

static CK_RV modify_one(struct chsm_attrlist *attrs, const struct chsm_attr *a, bool copy)
{
    unsigned cb = class_bit(chsm_attrlist_get_ulong(attrs, CKA_CLASS, CKO_DATA));
    const struct rule *r = rule_for(a->type, cb, chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION));
    if (r == NULL)
        return CHSM_ERR(CKR_ATTRIBUTE_TYPE_INVALID, "core", "attribute 0x%lx not valid for this object",
                        (unsigned long)a->type);
    bool allowed = (r->flags & P_MOD) || (copy && (r->flags & P_COPY));
    if (!allowed || (r->flags & P_RO))
        return CHSM_ERR(CKR_ATTRIBUTE_READ_ONLY, "core", "attribute 0x%lx cannot be changed", (unsigned long)a->type);
    if (a->len == 1 && (r->flags & (P_TRUE1 | P_FALSE1))) {
        bool cur = chsm_attrlist_get_bool(attrs, a->type, false), nv = a->value[0] != 0;
        if ((r->flags & P_TRUE1) && cur && !nv)
            return CHSM_ERR(CKR_ATTRIBUTE_READ_ONLY, "core", "attribute 0x%lx can only become true",
                            (unsigned long)a->type);
        if ((r->flags & P_FALSE1) && !cur && nv)
            return CHSM_ERR(CKR_ATTRIBUTE_READ_ONLY, "core", "attribute 0x%lx can only become false",
                            (unsigned long)a->type);
    }
    return chsm_attrlist_set(attrs, a->type, a->value, a->len);
}

CK_RV chsm_policy_modify(struct chsm_attrlist *attrs, const struct chsm_attrlist *tmpl, bool copy)
{
    CK_RV rv = CKR_OK;
    struct chsm_attrlist work;
    CHSM_GUARD(chsm_attrlist_clone(&work, attrs));
    for (size_t i = 0; i < tmpl->count; i++) {
        rv = modify_one(&work, &tmpl->items[i], copy);
        if (rv != CKR_OK) {
            chsm_attrlist_free(&work);
            goto out;
        }
    }
    chsm_attrlist_free(attrs);
    *attrs = work;
out:
    return rv;
}

bool chsm_policy_is_secret(const struct chsm_attrlist *attrs, CK_ATTRIBUTE_TYPE t)
{
    unsigned cb = class_bit(chsm_attrlist_get_ulong(attrs, CKA_CLASS, CKO_DATA));
    const struct rule *r = rule_for(t, cb, chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION));
    return r != NULL && (r->flags & P_SENS);
}

bool chsm_policy_valid_attr(const struct chsm_attrlist *attrs, CK_ATTRIBUTE_TYPE t)
{
    unsigned cb = class_bit(chsm_attrlist_get_ulong(attrs, CKA_CLASS, CKO_DATA));
    return rule_for(t, cb, chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION)) != NULL;
}
