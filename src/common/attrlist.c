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

static bool is_shared(const uint8_t *p)
{
    return p == &k_bool[0] || p == &k_bool[1];
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
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->items[mid].type < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

CK_RV chsm_attrlist_set(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
{
    uint8_t *copy = NULL;
    if (len == 1 && (*(const uint8_t *)value == CK_FALSE || *(const uint8_t *)value == CK_TRUE)) {
        copy = (uint8_t *)(uintptr_t)&k_bool[*(const uint8_t *)value]; /* see k_bool */
    } else if (len > 0) {
        copy = chsm_secure_malloc(len);
        if (copy == NULL)
            return CHSM_ERR(CKR_HOST_MEMORY, "common", "attribute value of %zu bytes", len);
        memcpy(copy, value, len);
    }
    size_t i = lower_bound(l, type);
    if (i < l->count && l->items[i].type == type) {
        attr_free_value(&l->items[i]);
        l->items[i].value = copy;
        l->items[i].len = len;
        return CKR_OK;
    }
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct chsm_attr *n = realloc(l->items, ncap * sizeof(*n));
        if (n == NULL) {
            chsm_secure_free(copy, len);
            return CHSM_ERR(CKR_HOST_MEMORY, "common", "attribute list growth");
        }
        l->items = n;
        l->cap = ncap;
    }
    memmove(&l->items[i + 1], &l->items[i], (l->count - i) * sizeof(l->items[0]));
    l->items[i].type = type;
    l->items[i].value = copy;
    l->items[i].len = len;
    l->count++;
    return CKR_OK;
}

CK_RV chsm_attrlist_set_bool(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, bool v)
{
    uint8_t b = v ? CK_TRUE : CK_FALSE;
    return chsm_attrlist_set(l, type, &b, 1);
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
    for (size_t i = 0; i < src->count; i++) {
        CK_RV rv = chsm_attrlist_set(dst, src->items[i].type, src->items[i].value, src->items[i].len);
        if (rv != CKR_OK) {
            chsm_attrlist_free(dst);
            return rv;
        }
    }
    return CKR_OK;
}
