/*
 * The per-slot object cache: token objects mirrored from the store, plus the
 * session objects of every app, with hash indexes on CKA_LABEL, CKA_ID and
 * the store id. Kept in sync through the store's change feed: a cheap
 * chsm_store_poll (PRAGMA data_version) before reads and, only if another
 * connection wrote, chsm_store_changes since the last revision seen — never
 * a full re-read. A full reload happens only when the master key arrives
 * (login: private objects and secrets) or leaves (last logout).
 *
 * Our own writes do not advance last_rev: a later feed re-delivers them and
 * the upsert is idempotent, so no other process's write in between is lost.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

struct uid_handle {
    uint8_t uid[CHSM_OBJECT_ID_LEN];
    CK_OBJECT_HANDLE h;
};

static uint64_t uid_key(const uint8_t uid[CHSM_OBJECT_ID_LEN])
{
    return chsm_hash_bytes(uid, CHSM_OBJECT_ID_LEN);
}

/* Stable handle per store id: the same object keeps its handle across reloads. */
CK_OBJECT_HANDLE chsm_uid_handle(struct chsm_slot *sl, const uint8_t uid[CHSM_OBJECT_ID_LEN], bool *fresh)
{
    uint64_t k = uid_key(uid);
    *fresh = false;
    for (struct chsm_hnode *n = chsm_hmap_chain(&sl->uid_handle, k); n != NULL; n = n->next) {
        struct uid_handle *u = n->val;
        if (n->key == k && memcmp(u->uid, uid, CHSM_OBJECT_ID_LEN) == 0)
            return u->h;
    }
    CK_OBJECT_HANDLE h = chsm_new_handle();
    struct uid_handle *u = malloc(sizeof(*u));
    if (u != NULL) {
        memcpy(u->uid, uid, CHSM_OBJECT_ID_LEN);
        u->h = h;
        if (chsm_hmap_add(&sl->uid_handle, k, u) != CKR_OK)
            free(u);
    }
    *fresh = true;
    return h;
}

static struct chsm_object *by_uid(struct chsm_slot *sl, const uint8_t uid[CHSM_OBJECT_ID_LEN])
{
    uint64_t k = uid_key(uid);
    for (struct chsm_hnode *n = chsm_hmap_chain(&sl->by_uid, k); n != NULL; n = n->next) {
        struct chsm_object *o = n->val;
        if (n->key == k && memcmp(o->uid, uid, CHSM_OBJECT_ID_LEN) == 0)
            return o;
    }
    return NULL;
}

static void unindex(struct chsm_slot *sl, struct chsm_object *o)
{
    if (o->has_label)
        chsm_hmap_del(&sl->by_label, o->label_key, o);
    if (o->has_ckaid)
        chsm_hmap_del(&sl->by_ckaid, o->ckaid_key, o);
    o->has_label = o->has_ckaid = false;
}

CK_RV chsm_obj_reindex(struct chsm_slot *sl, struct chsm_object *o)
{
    CK_RV rv = CKR_OK;
    unindex(sl, o);
    const struct chsm_attr *l = chsm_attrlist_get(&o->attrs, CKA_LABEL);
    const struct chsm_attr *i = chsm_attrlist_get(&o->attrs, CKA_ID);
    if (l != NULL) {
        o->label_key = chsm_hash_bytes(l->value, l->len);
        CHSM_GUARD(chsm_hmap_add(&sl->by_label, o->label_key, o));
        o->has_label = true;
    }
    if (i != NULL) {
        o->ckaid_key = chsm_hash_bytes(i->value, i->len);
        CHSM_GUARD(chsm_hmap_add(&sl->by_ckaid, o->ckaid_key, o));
        o->has_ckaid = true;
    }
out:
    return rv;
}

CK_RV chsm_obj_insert(struct chsm_slot *sl, struct chsm_object *o)
{
    CK_RV rv = CKR_OK;
    o->slot = sl->id;
    CHSM_GUARD(chsm_hmap_add(&chsm_g.objects, o->h, o));
    if (o->token) {
        rv = chsm_hmap_add(&sl->by_uid, uid_key(o->uid), o);
        if (rv != CKR_OK) {
            chsm_hmap_del(&chsm_g.objects, o->h, o);
            goto out;
        }
    }
    o->prev = NULL;
    o->next = sl->objs;
    if (sl->objs != NULL)
        sl->objs->prev = o;
    sl->objs = o;
    sl->nobjs++;
    if (chsm_obj_reindex(sl, o) != CKR_OK) {
        chsm_obj_unlink(sl, o);
        CHSM_BAIL(CKR_HOST_MEMORY);
    }
out:
    return rv;
}

void chsm_obj_unlink(struct chsm_slot *sl, struct chsm_object *o)
{
    unindex(sl, o);
    chsm_hmap_del(&chsm_g.objects, o->h, o);
    if (o->token)
        chsm_hmap_del(&sl->by_uid, uid_key(o->uid), o);
    if (o->prev != NULL)
        o->prev->next = o->next;
    else if (sl->objs == o)
        sl->objs = o->next;
    if (o->next != NULL)
        o->next->prev = o->prev;
    o->prev = o->next = NULL;
    sl->nobjs--;
}

void chsm_obj_free(struct chsm_object *o)
{
    if (o == NULL)
        return;
    chsm_obj_pkey_drop(o);
    chsm_attrlist_free(&o->attrs);
    free(o);
}

void chsm_cache_clear(struct chsm_slot *sl, bool forget_handles)
{
    struct chsm_object *o = sl->objs;
    while (o != NULL) {
        struct chsm_object *nx = o->next;
        if (o->token || forget_handles) {
            chsm_obj_unlink(sl, o);
            chsm_obj_free(o);
        }
        o = nx;
    }
    if (forget_handles) {
        for (size_t i = 0; i < sl->uid_handle.nb; i++)
            for (struct chsm_hnode *n = sl->uid_handle.b[i]; n != NULL; n = n->next)
                free(n->val);
        chsm_hmap_free(&sl->uid_handle);
    }
    sl->last_rev = 0;
    sl->cache_has_mk = false;
    sl->dirty = true;
}

/* ---- change feed ---- */

static CK_RV feed_upsert(void *ctx, struct chsm_store_object *so)
{
    struct chsm_slot *sl = ctx;
    CK_RV rv = CKR_OK;
    struct chsm_object *o = by_uid(sl, so->id);
    if (o != NULL) {
        chsm_obj_pkey_drop(o);
        chsm_attrlist_free(&o->attrs);
        o->attrs = so->attrs;
        chsm_attrlist_init(&so->attrs);
        o->is_private = so->is_private;
        o->secrets_loaded = so->secrets_loaded;
        o->authenticated = so->authenticated;
        o->bad = false;
        rv = chsm_obj_reindex(sl, o);
        goto out;
    }
    o = calloc(1, sizeof(*o));
    CHSM_ENSURE(o != NULL, CKR_HOST_MEMORY);
    bool fresh = false;
    o->h = chsm_uid_handle(sl, so->id, &fresh);
    o->token = true;
    o->is_private = so->is_private;
    o->secrets_loaded = so->secrets_loaded;
    o->authenticated = so->authenticated;
    memcpy(o->uid, so->id, CHSM_OBJECT_ID_LEN);
    chsm_hex_encode(o->uid, CHSM_OBJECT_ID_LEN, o->uid_hex);
    o->attrs = so->attrs;
    chsm_attrlist_init(&so->attrs);
    rv = chsm_obj_insert(sl, o);
    if (rv != CKR_OK)
        chsm_obj_free(o);
out:
    chsm_store_object_free(so);
    return rv;
}

static CK_RV feed_removed(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN])
{
    struct chsm_slot *sl = ctx;
    struct chsm_object *o = by_uid(sl, id);
    if (o != NULL) {
        chsm_obj_unlink(sl, o);
        chsm_obj_free(o);
    }
    return CKR_OK;
}

static void feed_bad(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN], CK_RV why)
{
    struct chsm_slot *sl = ctx;
    char hex[2 * CHSM_OBJECT_ID_LEN + 1];
    chsm_hex_encode(id, CHSM_OBJECT_ID_LEN, hex);
    chsm_log(CHSM_LOG_ERROR, "slot %u: object %s failed authentication (%s); it is unusable", sl->id, hex,
             chsm_rv_name(why));
    /* Keep a placeholder so the object's handle answers CKR_DEVICE_ERROR rather than vanishing silently. */
    struct chsm_object *o = by_uid(sl, id);
    if (o == NULL) {
        o = calloc(1, sizeof(*o));
        if (o == NULL)
            return;
        bool fresh = false;
        o->h = chsm_uid_handle(sl, id, &fresh);
        o->token = true;
        memcpy(o->uid, id, CHSM_OBJECT_ID_LEN);
        memcpy(o->uid_hex, hex, sizeof(hex));
        if (chsm_obj_insert(sl, o) != CKR_OK) {
            chsm_obj_free(o);
            return;
        }
    }
    chsm_obj_pkey_drop(o);
    chsm_attrlist_free(&o->attrs);
    o->bad = true;
    if (chsm_obj_reindex(sl, o) != CKR_OK)
        chsm_log(CHSM_LOG_ERROR, "slot %u: index update failed", sl->id);
}

static CK_RV apply_changes(struct chsm_slot *sl)
{
    struct chsm_store_feed feed = {sl, feed_upsert, feed_removed, feed_bad};
    uint64_t now = sl->last_rev;
    const struct chsm_secbuf *mk = sl->mk.data != NULL ? &sl->mk : NULL;
    CK_RV rv = chsm_store_changes(chsm_g.store, sl->id, sl->last_rev, mk, &feed, &now);
    if (rv != CKR_OK)
        return rv;
    sl->last_rev = now;
    sl->cache_has_mk = mk != NULL;
    sl->dirty = false;
    return CKR_OK;
}

CK_RV chsm_cache_reload(struct chsm_slot *sl)
{
    chsm_cache_clear(sl, false);
    return apply_changes(sl);
}

CK_RV chsm_cache_sync(struct chsm_slot *sl)
{
    bool changed = false;
    CK_RV rv = chsm_store_poll(chsm_g.store, &changed);
    if (rv != CKR_OK)
        return rv;
    if (!changed) {
        chsm_rdlock();
        bool dirty = sl->dirty;
        chsm_unlock();
        if (!dirty)
            return CKR_OK;
    }
    chsm_wrlock();
    if (changed)
        for (uint32_t i = 0; i < chsm_g.nslots; i++)
            chsm_g.slots[i].dirty = true;
    if (sl->dirty)
        rv = apply_changes(sl);
    chsm_unlock();
    return rv;
}

CK_RV chsm_cache_sync_for(struct chsm_slot *sl, CK_OBJECT_HANDLE h)
{
    /* Session objects live only in this process: no store poll on their paths. */
    chsm_rdlock();
    const struct chsm_object *o = chsm_hmap_get(&chsm_g.objects, h);
    bool session_obj = o != NULL && !o->token;
    chsm_unlock();
    return session_obj ? CKR_OK : chsm_cache_sync(sl);
}
