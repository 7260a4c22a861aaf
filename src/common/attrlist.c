#include "common/attrlist.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/secbuf.h"

void chsm_attrlist_init(struct chsm_attrlist *l)
{
    l->items = NULL;
    l->count = 0;
    l->cap = 0;
}

/*
 * One-byte values 0x00 and 0x01 -- every CK_BBOOL an object carries, a dozen
 * or more per key -- share these two constant bytes instead of a secure
 * allocation each (values are never written through, only replaced). Even
 * a one-byte secret that happens to be 0 or 1 is not copied anywhere by this.
 */
static const uint8_t k_bool[2] = {CK_FALSE, CK_TRUE};

/*
 * The same for 8-byte little-endian values below 256 -- CKA_CLASS,
 * CKA_KEY_TYPE, CKA_VALUE_LEN and most other CK_ULONGs -- which otherwise
 * cost a secure allocation (a pool lock and a wipe) each.
 */
#define SMALL_N 256u
static const uint8_t k_small[SMALL_N][8] = {
#define R1(n) {(uint8_t)(n)}
#define R4(n) R1(n), R1((n) + 1), R1((n) + 2), R1((n) + 3)
#define R16(n) R4(n), R4((n) + 4), R4((n) + 8), R4((n) + 12)
#define R64(n) R16(n), R16((n) + 16), R16((n) + 32), R16((n) + 48)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R16
#undef R4
#undef R1
};

static bool is_shared(const uint8_t *p)
{
    uintptr_t a = (uintptr_t)p, s = (uintptr_t)&k_small[0][0];
    return p == &k_bool[0] || p == &k_bool[1] || (a >= s && a < s + sizeof(k_small));
}

/* A shared constant holding value[0..len), or NULL. */
static uint8_t *shared_const(const uint8_t *v, size_t len)
{
    if (len == 1 && (v[0] == CK_FALSE || v[0] == CK_TRUE))
        return (uint8_t *)(uintptr_t)&k_bool[v[0]];
    if (len == 8 && (v[1] | v[2] | v[3] | v[4] | v[5] | v[6] | v[7]) == 0)
        return (uint8_t *)(uintptr_t)k_small[v[0]];
    return NULL;
}

static void attr_free_value(struct chsm_attr *a)
{
    if (a->value != NULL && !is_shared(a->value))
        chsm_secure_free(a->value, a->len);
    a->value = NULL;
    a->len = 0;
}

void chsm_attrlist_free(struct chsm_attrlist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++)
        attr_free_value(&l->items[i]);
    free(l->items);
    chsm_attrlist_init(l);
}

/* Index of the first item with type >= t. */
static size_t lower_bound(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE t)
{
    size_t lo = 0, hi = l->count;
    /* Lists are mostly built in type order: appending needs no search. */
    if (hi == 0 || l->items[hi - 1].type < t)
        return hi;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->items[mid].type < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

CK_RV chsm_attrlist_reserve(struct chsm_attrlist *l, size_t n)
{
    if (n <= l->cap)
        return CKR_OK;
    struct chsm_attr *items = realloc(l->items, n * sizeof(*items));
    if (items == NULL)
        return CHSM_ERR(CKR_HOST_MEMORY, "common", "attribute list of %zu entries", n);
    l->items = items;
    l->cap = n;
    return CKR_OK;
}

/* Put (type, copy, len) in place; copy is owned by the list afterwards, or freed on failure. */
static CK_RV put(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, uint8_t *copy, size_t len)
{
    size_t i = lower_bound(l, type);
    if (i < l->count && l->items[i].type == type) {
        attr_free_value(&l->items[i]);
        l->items[i].value = copy;
        l->items[i].len = len;
        return CKR_OK;
    }
    if (l->count == l->cap && chsm_attrlist_reserve(l, l->cap ? l->cap * 2 : 16) != CKR_OK) {
        struct chsm_attr tmp = {type, copy, len};
        attr_free_value(&tmp);
        return CHSM_ERR(CKR_HOST_MEMORY, "common", "attribute list growth");
    }
    if (i < l->count)
        memmove(&l->items[i + 1], &l->items[i], (l->count - i) * sizeof(l->items[0]));
    l->items[i].type = type;
    l->items[i].value = copy;
    l->items[i].len = len;
    l->count++;
    return CKR_OK;
}

CK_RV chsm_attrlist_set(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
{
    uint8_t *copy = len > 0 ? shared_const(value, len) : NULL;
    if (copy == NULL && len > 0) {
        copy = chsm_secure_malloc(len);
        if (copy == NULL)
            return CHSM_ERR(CKR_HOST_MEMORY, "common", "attribute value of %zu bytes", len);
        memcpy(copy, value, len);
    }
    return put(l, type, copy, len);
}

CK_RV chsm_attrlist_set_uninit(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, size_t len, uint8_t **out)
{
    CK_RV rv = CKR_OK;
    *out = NULL;
    CHSM_ENSURE(len > 0, CKR_ARGUMENTS_BAD);
    uint8_t *p = chsm_secure_malloc(len);
    /* chsm_secure_malloc hands out zeroed blocks. */
    CHSM_ENSURE(p != NULL, CHSM_ERR(CKR_HOST_MEMORY, "common", "attribute value of %zu bytes", len));
    CHSM_GUARD(put(l, type, p, len));
    *out = p;
out:
    return rv;
}

CK_RV chsm_attrlist_set_bool(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, bool v)
{
    return put(l, type, (uint8_t *)(uintptr_t)&k_bool[v ? 1 : 0], 1);
}

CK_RV chsm_attrlist_set_ulong(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, uint64_t v)
{
    uint8_t t[8];
    chsm_store_le64(t, v);
    return chsm_attrlist_set(l, type, t, sizeof(t));
}

void chsm_attrlist_remove(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type)
{
    size_t i = lower_bound(l, type);
    if (i < l->count && l->items[i].type == type) {
        attr_free_value(&l->items[i]);
        memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(l->items[0]));
        l->count--;
    }
}

const struct chsm_attr *chsm_attrlist_get(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type)
{
    size_t i = lower_bound(l, type);
    if (i < l->count && l->items[i].type == type)
        return &l->items[i];
    return NULL;
}

bool chsm_attrlist_has(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type)
{
    return chsm_attrlist_get(l, type) != NULL;
}

bool chsm_attrlist_get_bool(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, bool dflt)
{
    const struct chsm_attr *a = chsm_attrlist_get(l, type);
    if (a == NULL || a->len != 1)
        return dflt;
    return a->value[0] != CK_FALSE;
}

uint64_t chsm_attrlist_get_ulong(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, uint64_t dflt)
{
    const struct chsm_attr *a = chsm_attrlist_get(l, type);
    if (a == NULL || a->len != 8)
        return dflt;
    return chsm_load_le64(a->value);
}

CK_RV chsm_attrlist_clone(struct chsm_attrlist *dst, const struct chsm_attrlist *src)
{
    chsm_attrlist_init(dst);
    if (src->count > 0 && chsm_attrlist_reserve(dst, src->count) != CKR_OK)
        return CKR_HOST_MEMORY;
    for (size_t i = 0; i < src->count; i++) {
        CK_RV rv = chsm_attrlist_set(dst, src->items[i].type, src->items[i].value, src->items[i].len);
        if (rv != CKR_OK) {
            chsm_attrlist_free(dst);
            return rv;
        }
    }
    return CKR_OK;
}
