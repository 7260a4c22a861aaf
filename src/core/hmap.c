/*
 * A small chained hash (uint64 key -> pointer) for handle tables and the
 * CKA_LABEL / CKA_ID find indexes: lookups are O(chain), so a find by label
 * among 10,000 objects touches only the matches (store speed goal).
 */
#include <stdlib.h>

#include "core/internal.h"

void chsm_hmap_init(struct chsm_hmap *m)
{
    m->b = NULL;
    m->nb = 0;
    m->count = 0;
}

void chsm_hmap_free(struct chsm_hmap *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        struct chsm_hnode *n = m->b[i];
        while (n != NULL) {
            struct chsm_hnode *nx = n->next;
            free(n);
            n = nx;
        }
    }
    free(m->b);
    chsm_hmap_init(m);
}

static size_t slot_of(const struct chsm_hmap *m, uint64_t key)
{
    /* Fibonacci mixing so sequential handles spread. */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (m->nb - 1);
}

static CK_RV grow(struct chsm_hmap *m)
{
    size_t nnb = m->nb ? m->nb * 2 : 64;
    struct chsm_hnode **nb = calloc(nnb, sizeof(*nb));
    if (nb == NULL)
        return CHSM_ERR(CKR_HOST_MEMORY, "core", "hash table growth");
    struct chsm_hmap tmp = {nb, nnb, m->count};
    for (size_t i = 0; i < m->nb; i++) {
        struct chsm_hnode *n = m->b[i];
        while (n != NULL) {
            struct chsm_hnode *nx = n->next;
            size_t s = slot_of(&tmp, n->key);
            n->next = nb[s];
            nb[s] = n;
            n = nx;
        }
    }
    free(m->b);
    *m = tmp;
    return CKR_OK;
}

CK_RV chsm_hmap_add(struct chsm_hmap *m, uint64_t key, void *val)
{
    CK_RV rv = CKR_OK;
    if (m->count + 1 > m->nb)
        CHSM_GUARD(grow(m));
    struct chsm_hnode *n = malloc(sizeof(*n));
    CHSM_ENSURE(n != NULL, CKR_HOST_MEMORY);
    size_t s = slot_of(m, key);
    n->key = key;
    n->val = val;
    n->next = m->b[s];
    m->b[s] = n;
    m->count++;
out:
    return rv;
}

void chsm_hmap_del(struct chsm_hmap *m, uint64_t key, const void *val)
{
    if (m->nb == 0)
        return;
    struct chsm_hnode **pp = &m->b[slot_of(m, key)];
    while (*pp != NULL) {
        if ((*pp)->key == key && (*pp)->val == val) {
            struct chsm_hnode *n = *pp;
            *pp = n->next;
            free(n);
            m->count--;
            return;
        }
        pp = &(*pp)->next;
    }
}

struct chsm_hnode *chsm_hmap_chain(const struct chsm_hmap *m, uint64_t key)
{
    if (m->nb == 0)
        return NULL;
    return m->b[slot_of(m, key)];
}

void *chsm_hmap_get(const struct chsm_hmap *m, uint64_t key)
{
    for (struct chsm_hnode *n = chsm_hmap_chain(m, key); n != NULL; n = n->next)
        if (n->key == key)
            return n->val;
    return NULL;
}

uint64_t chsm_hash_bytes(const void *p, size_t n)
{
    /* FNV-1a 64: not adversarial-resistant, but chains only cost time to the caller that fills them. */
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
