/*
 * Parsed asymmetric keys, cached per object so a sign or verify does not
 * re-parse the key's attributes (issue 4). The cache is one atomic pointer
 * on the object: readers holding the module read lock may race to fill it
 * (the loser frees its copy); writers that replace the attributes hold the
 * write lock and drop it. Every user takes its own reference, so a key
 * dropped from the cache lives until the last operation using it ends; the
 * crypto layer keeps private material in cleansed memory and wipes it on
 * the last free.
 *
 * HMAC contexts are parked the same way: an operation that ends hands its
 * keyed context back to the key object, and the next operation of that
 * thread on that key re-arms it (crypto/mac.h, chsm_mac_rearm) instead of
 * duplicating a template and keying it. Every duplicate and free takes and
 * drops references on the one SHA-2 EVP_MD object all threads share — about
 * ten atomic operations on one cache line per MAC — so two threads MACing at
 * once fought over that line. The slots are per thread group, so two threads
 * on one key do not take each other's context; they are freed (cleansed by
 * OpenSSL) with the object, like the parsed key.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/cipher.h"
#include "crypto/mac.h"

/* Threads take pool slots round robin, so up to CHSM_MAC_POOL threads never share one. */
static unsigned pool_slot(void)
{
    static atomic_uint next;
    static _Thread_local int slot = -1;
    if (slot < 0)
        slot = (int)(atomic_fetch_add(&next, 1) % CHSM_MAC_POOL);
    return (unsigned)slot;
}

/*
 * One cache line per slot: two threads working with one key exchange pointers on every
 * operation, and on a shared line each exchange would pull the line from the other core.
 */
struct chsm_key_pool {
    struct {
        _Alignas(64) _Atomic(struct chsm_mac *) mac;
        _Atomic(struct chsm_cipher *) cipher[2]; /* [0] decrypt, [1] encrypt */
    } slot[CHSM_MAC_POOL];
};

/* o's pool; created on demand when create is set (NULL only without memory). Module lock held:
 * the pool is freed only under the write lock (chsm_obj_pkey_drop), never while it is in use. */
static struct chsm_key_pool *pool_of(struct chsm_object *o, bool create)
{
    struct chsm_key_pool *p = atomic_load_explicit(&o->pool, memory_order_acquire);
    if (p != NULL || !create)
        return p;
    struct chsm_key_pool *fresh = aligned_alloc(64, sizeof(*fresh));
    if (fresh == NULL)
        return NULL;
    for (size_t i = 0; i < CHSM_MAC_POOL; i++) {
        atomic_init(&fresh->slot[i].mac, NULL);
        atomic_init(&fresh->slot[i].cipher[0], NULL);
        atomic_init(&fresh->slot[i].cipher[1], NULL);
    }
    if (!atomic_compare_exchange_strong(&o->pool, &p, fresh)) {
        free(fresh); /* another thread installed one first: use that */
        return p;
    }
    return fresh;
}

struct chsm_mac *chsm_obj_mac_take(struct chsm_object *o)
{
    struct chsm_key_pool *p = pool_of(o, false);
    return p != NULL ? atomic_exchange(&p->slot[pool_slot()].mac, NULL) : NULL;
}

void chsm_obj_mac_park(struct chsm_object *o, struct chsm_mac *m)
{
    struct chsm_key_pool *p = pool_of(o, true);
    chsm_mac_free(p != NULL ? atomic_exchange(&p->slot[pool_slot()].mac, m) : m);
}

struct chsm_cipher *chsm_obj_cipher_take(struct chsm_object *o, bool encrypt)
{
    struct chsm_key_pool *p = pool_of(o, false);
    return p != NULL ? atomic_exchange(&p->slot[pool_slot()].cipher[encrypt], NULL) : NULL;
}

void chsm_obj_cipher_park(struct chsm_object *o, struct chsm_cipher *c)
{
    struct chsm_key_pool *p = pool_of(o, true);
    chsm_cipher_free(p != NULL ? atomic_exchange(&p->slot[pool_slot()].cipher[chsm_cipher_encrypts(c)], c) : c);
}

static struct chsm_bytes view(const struct chsm_attrlist *a, CK_ATTRIBUTE_TYPE t)
{
    const struct chsm_attr *v = chsm_attrlist_get(a, t);
    struct chsm_bytes b = {v ? v->value : NULL, v ? v->len : 0};
    return b;
}

CK_RV chsm_attrs_pkey(const struct chsm_attrlist *attrs, struct chsm_pkey **out)
{
    uint64_t cls = chsm_attrlist_get_ulong(attrs, CKA_CLASS, CKO_DATA);
    if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
        return CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, "core", "not an asymmetric key");
    struct chsm_pkey_parts p = {0};
    p.key_type = (CK_KEY_TYPE)chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
    p.is_private = cls == CKO_PRIVATE_KEY;
    p.n = view(attrs, CKA_MODULUS);
    p.e = view(attrs, CKA_PUBLIC_EXPONENT);
    p.d = view(attrs, CKA_PRIVATE_EXPONENT);
    p.p = view(attrs, CKA_PRIME_1);
    p.q = view(attrs, CKA_PRIME_2);
    p.dp = view(attrs, CKA_EXPONENT_1);
    p.dq = view(attrs, CKA_EXPONENT_2);
    p.qinv = view(attrs, CKA_COEFFICIENT);
    p.ec_params = view(attrs, CKA_EC_PARAMS);
    p.ec_point = view(attrs, CKA_EC_POINT);
    p.value = view(attrs, CKA_VALUE);
    return chsm_pkey_from_parts(&p, out);
}

CK_RV chsm_obj_pkey(struct chsm_object *o, struct chsm_pkey **out)
{
    struct chsm_pkey *pk = atomic_load_explicit(&o->pkey, memory_order_acquire);
    if (pk != NULL) {
        chsm_pkey_up_ref(pk);
        *out = pk;
        return CKR_OK;
    }
    CK_RV rv = chsm_attrs_pkey(&o->attrs, &pk);
    if (rv != CKR_OK)
        return rv;
    struct chsm_pkey *expected = NULL;
    chsm_pkey_up_ref(pk); /* the cache's reference */
    if (!atomic_compare_exchange_strong(&o->pkey, &expected, pk))
        chsm_pkey_free(pk); /* another thread cached one first; ours serves this caller only */
    *out = pk;
    return CKR_OK;
}

void chsm_obj_pkey_set(struct chsm_object *o, struct chsm_pkey *pk)
{
    chsm_pkey_up_ref(pk);
    struct chsm_pkey *old = atomic_exchange(&o->pkey, pk);
    chsm_pkey_free(old);
}

void chsm_obj_pkey_drop(struct chsm_object *o)
{
    struct chsm_pkey *old = atomic_exchange(&o->pkey, NULL);
    chsm_pkey_free(old);
    atomic_fetch_add(&chsm_g.key_drops, 1); /* operations begun before this park nothing (op.c) */
    struct chsm_key_pool *p = atomic_exchange(&o->pool, NULL);
    if (p == NULL)
        return;
    for (size_t i = 0; i < CHSM_MAC_POOL; i++) {
        chsm_mac_free(atomic_load(&p->slot[i].mac));
        chsm_cipher_free(atomic_load(&p->slot[i].cipher[0]));
        chsm_cipher_free(atomic_load(&p->slot[i].cipher[1]));
    }
    free(p);
}

static CK_RV put_component(const struct chsm_pkey *pk, CK_ATTRIBUTE_TYPE t, struct chsm_attrlist *attrs)
{
    struct chsm_buf b;
    chsm_buf_init(&b, 1);
    CK_RV rv = chsm_pkey_get_component(pk, t, &b);
    if (rv == CKR_OK)
        rv = chsm_attrlist_set(attrs, t, b.data, b.len);
    chsm_buf_free(&b);
    return rv;
}

CK_RV chsm_pkey_to_attrs(const struct chsm_pkey *pk, bool is_private, struct chsm_attrlist *attrs)
{
    static const CK_ATTRIBUTE_TYPE rsa_pub[] = {CKA_MODULUS, CKA_PUBLIC_EXPONENT};
    static const CK_ATTRIBUTE_TYPE rsa_priv[] = {CKA_PRIVATE_EXPONENT, CKA_PRIME_1,    CKA_PRIME_2,
                                                 CKA_EXPONENT_1,       CKA_EXPONENT_2, CKA_COEFFICIENT};
    CK_RV rv = CKR_OK;
    struct chsm_buf spki;
    chsm_buf_init(&spki, 0);
    if (chsm_pkey_kind(pk) == CHSM_PKEY_RSA) {
        for (size_t i = 0; i < CHSM_ARRAY_LEN(rsa_pub); i++)
            CHSM_GUARD(put_component(pk, rsa_pub[i], attrs));
        if (is_private)
            for (size_t i = 0; i < CHSM_ARRAY_LEN(rsa_priv); i++) {
                rv = put_component(pk, rsa_priv[i], attrs);
                CHSM_ENSURE(rv == CKR_OK || rv == CKR_KEY_UNEXTRACTABLE, rv); /* n,e,d-only keys lack CRT */
                rv = CKR_OK;
            }
        else
            CHSM_GUARD(chsm_attrlist_set_ulong(attrs, CKA_MODULUS_BITS, chsm_pkey_bits(pk)));
    } else {
        if (!chsm_attrlist_has(attrs, CKA_EC_PARAMS))
            CHSM_GUARD(put_component(pk, CKA_EC_PARAMS, attrs));
        CHSM_GUARD(put_component(pk, is_private ? CKA_VALUE : CKA_EC_POINT, attrs));
    }
    CHSM_GUARD(chsm_pkey_export_spki(pk, &spki));
    CHSM_GUARD(chsm_attrlist_set(attrs, CKA_PUBLIC_KEY_INFO, spki.data, spki.len));
out:
    chsm_buf_free(&spki);
    return rv;
}
