/*
 * C_FindObjects* (base spec 5.7): template matching over the objects the
 * session can see. A template naming CKA_LABEL or CKA_ID walks only that
 * hash chain, so a find by label among 10,000 objects is O(matches). The
 * matching handles are snapshotted at FindObjectsInit.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

static bool matches(const struct chsm_object *o, const struct chsm_attrlist *t)
{
    for (size_t i = 0; i < t->count; i++) {
        const struct chsm_attr *want = &t->items[i];
        /* Hidden values never match: a find must not become an oracle for a sensitive key. */
        if (chsm_policy_hidden(&o->attrs, want->type))
            return false;
        const struct chsm_attr *have = chsm_attrlist_get(&o->attrs, want->type);
        if (have == NULL || have->len != want->len)
            return false;
        if (want->len > 0 && memcmp(have->value, want->value, want->len) != 0)
            return false;
    }
    return true;
}

static CK_RV collect(struct chsm_session *s, const struct chsm_attrlist *t, bool none)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    size_t cap = 16, n = 0;
    CK_OBJECT_HANDLE *out = malloc(cap * sizeof(*out));
    CHSM_ENSURE(out != NULL, CKR_HOST_MEMORY);
    if (none)
        goto done;
    const struct chsm_attr *key = chsm_attrlist_get(t, CKA_LABEL);
    const struct chsm_hmap *idx = &sl->by_label;
    if (key == NULL) {
        key = chsm_attrlist_get(t, CKA_ID);
        idx = &sl->by_ckaid;
    }
    struct chsm_hnode *node = NULL;
    uint64_t k = 0;
    struct chsm_object *o = sl->objs;
    if (key != NULL) {
        k = chsm_hash_bytes(key->value, key->len);
        node = chsm_hmap_chain(idx, k);
        o = NULL;
    }
    for (;;) {
        if (key != NULL) {
            while (node != NULL && node->key != k)
                node = node->next;
            if (node == NULL)
                break;
            o = node->val;
            node = node->next;
        } else if (o == NULL) {
            break;
        }
        struct chsm_object *cur = o;
        if (key == NULL)
            o = o->next;
        if (cur->bad || !chsm_obj_visible(s, cur) || !matches(cur, t))
            continue;
        if (n == cap) {
            CK_OBJECT_HANDLE *g = realloc(out, 2 * cap * sizeof(*out));
            CHSM_ENSURE(g != NULL, CKR_HOST_MEMORY);
            out = g;
            cap *= 2;
        }
        out[n++] = cur->h;
    }
done:
    free(s->found);
    s->found = out;
    out = NULL;
    s->nfound = n;
    s->found_pos = 0;
    s->find_active = true;
out:
    free(out);
    return rv;
}

CK_RV chsm_core_FindObjectsInit(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
                                CK_ULONG ulCount)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_attrlist t;
    bool none = false, slocked = false;
    chsm_attrlist_init(&t);
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pTemplate != NULL || ulCount == 0, CKR_ARGUMENTS_BAD);
    (void)pthread_mutex_lock(&s->lock);
    slocked = true;
    CHSM_ENSURE(!s->find_active, CKR_OPERATION_ACTIVE);
    for (CK_ULONG i = 0; i < ulCount && !none; i++) {
        const struct chsm_attr *prev = chsm_attrlist_get(&t, pTemplate[i].type);
        struct chsm_attrlist one;
        chsm_attrlist_init(&one);
        CK_RV r = chsm_attr_from_ck(&pTemplate[i], &one);
        if (r == CKR_ATTRIBUTE_TYPE_INVALID) {
            none = true; /* no object has an unknown attribute */
        } else if (r != CKR_OK) {
            chsm_attrlist_free(&one);
            CHSM_BAIL(r);
        } else if (prev != NULL) {
            none = prev->len != one.items[0].len ||
                   (prev->len > 0 && memcmp(prev->value, one.items[0].value, prev->len) != 0);
        } else {
            r = chsm_attrlist_set(&t, one.items[0].type, one.items[0].value, one.items[0].len);
        }
        chsm_attrlist_free(&one);
        CHSM_GUARD(r == CKR_ATTRIBUTE_TYPE_INVALID ? CKR_OK : r);
    }
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_rdlock();
    rv = collect(s, &t, none);
    chsm_unlock();
out:
    if (slocked)
        (void)pthread_mutex_unlock(&s->lock);
    chsm_attrlist_free(&t);
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_FindObjects(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                            CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pulObjectCount != NULL && (phObject != NULL || ulMaxObjectCount == 0), CKR_ARGUMENTS_BAD);
    (void)pthread_mutex_lock(&s->lock);
    if (!s->find_active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        size_t left = s->nfound - s->found_pos;
        size_t n = left < ulMaxObjectCount ? left : ulMaxObjectCount;
        if (n > 0)
            memcpy(phObject, s->found + s->found_pos, n * sizeof(*phObject));
        s->found_pos += n;
        *pulObjectCount = (CK_ULONG)n;
    }
    (void)pthread_mutex_unlock(&s->lock);
out:
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_FindObjectsFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    (void)pthread_mutex_lock(&s->lock);
    if (!s->find_active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        free(s->found);
        s->found = NULL;
        s->nfound = s->found_pos = 0;
        s->find_active = false;
    }
    (void)pthread_mutex_unlock(&s->lock);
out:
    chsm_session_put(s);
    return rv;
}
