/*
 * An attribute list: the in-memory form of a PKCS#11 object's attributes,
 * independent of CK_ATTRIBUTE arrays (which only src/pkcs11 and the core's
 * attribute tables touch). Values live in secure memory because a list may
 * hold CKA_VALUE or private-key components; freeing wipes them.
 *
 * Ownership: the list owns every value. chsm_attrlist_get BORROWS.
 */
#ifndef CHSM_COMMON_ATTRLIST_H
#define CHSM_COMMON_ATTRLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

struct chsm_attr {
    CK_ATTRIBUTE_TYPE type;
    uint8_t *value; /* secure memory, or a shared constant byte for 0x00/0x01 (attrlist.c); never written
                     * through; NULL when len == 0 */
    size_t len;
};

struct chsm_attrlist {
    struct chsm_attr *items; /* kept sorted by type: lookups are binary searches */
    size_t count;
    size_t cap;
};

void chsm_attrlist_init(struct chsm_attrlist *l);
void chsm_attrlist_free(struct chsm_attrlist *l);
/* Insert or replace. CKR_HOST_MEMORY on failure (the list is unchanged). */
CHSM_MUST_CHECK CK_RV chsm_attrlist_set(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, const void *value,
                                        size_t len);
/* Make room for n entries in all (building a list of known size costs one allocation). */
CHSM_MUST_CHECK CK_RV chsm_attrlist_reserve(struct chsm_attrlist *l, size_t n);
/*
 * Insert or replace type with a fresh zeroed secure value of len (> 0) bytes
 * and hand back a pointer to fill it in place (e.g. a generated key, which
 * then never exists outside the list). Valid until the list next changes.
 */
CHSM_MUST_CHECK CK_RV chsm_attrlist_set_uninit(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, size_t len,
                                               uint8_t **out);
CHSM_MUST_CHECK CK_RV chsm_attrlist_set_bool(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, bool v);
/* CK_ULONG values are stored as 8-byte little-endian, never as host CK_ULONG bytes. */
CHSM_MUST_CHECK CK_RV chsm_attrlist_set_ulong(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, uint64_t v);
void chsm_attrlist_remove(struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type);
const struct chsm_attr *chsm_attrlist_get(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type);
bool chsm_attrlist_has(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type);
/* Default when absent or malformed. */
bool chsm_attrlist_get_bool(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, bool dflt);
uint64_t chsm_attrlist_get_ulong(const struct chsm_attrlist *l, CK_ATTRIBUTE_TYPE type, uint64_t dflt);
/* Deep copy (dst is initialised by the call). */
CHSM_MUST_CHECK CK_RV chsm_attrlist_clone(struct chsm_attrlist *dst, const struct chsm_attrlist *src);

#endif
