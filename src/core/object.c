/*
 * Object management (base spec 5.7): create, copy, destroy, get/set
 * attributes, with the policy of policy.c, CKA_PRIVATE visibility by login
 * state and CKA_TOKEN persistence through the store.
 *
 * Object writes hold the module lock in write mode across the store write,
 * so the cache and the store cannot disagree about an object another thread
 * is changing (a trade-off: crypto ops only take the lock briefly at init).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

bool chsm_obj_visible(const struct chsm_session *s, const struct chsm_object *o)
{
    if (atomic_load_explicit(&o->pending, memory_order_acquire))
        return false;
    if (o->slot != s->slot)
        return false;
    if (!o->token && o->app != s->app)
        return false;
    /* Private objects exist only for a normal user's login (spec 4.4: SO sees public objects). */
    if (o->is_private && s->app->login[s->slot] != CKU_USER)
        return false;
    return true;
}

void chsm_obj_audit_tag(const struct chsm_object *o, uint64_t tag[2])
{
    _Static_assert(CHSM_OBJECT_ID_LEN == 2 * sizeof(uint64_t), "the tag holds the whole unique id");
    memcpy(tag, o->uid, CHSM_OBJECT_ID_LEN);
}

void chsm_obj_label(const struct chsm_object *o, char *out, size_t n)
{
    const struct chsm_attr *l = chsm_attrlist_get(&o->attrs, CKA_LABEL);
    size_t len = l == NULL ? 0 : (l->len < n - 1 ? l->len : n - 1);
    if (len > 0)
        memcpy(out, l->value, len);
    out[len] = '\0';
}

/* A token key's secrets come with the slot's master key, there while ANY application of the process is
 * logged in (the daemon serves every client from one slot): using or reading them also needs the caller's
 * own login. Session objects are their application's own. */
bool chsm_obj_complete(const struct chsm_session *s, const struct chsm_object *o)
{
    if (!chsm_policy_secret_bearing(&o->attrs))
        return true;
    return o->secrets_loaded && (!o->token || s->app->login[s->slot] != CHSM_NOT_LOGGED_IN);
}

CK_RV chsm_obj_find_visible(const struct chsm_session *s, CK_OBJECT_HANDLE h, struct chsm_object **out)
{
    struct chsm_object *o = chsm_hmap_get(&chsm_g.objects, h);
    if (o == NULL || !chsm_obj_visible(s, o))
        return CHSM_ERR(CKR_OBJECT_HANDLE_INVALID, "core", "object %lu", (unsigned long)h);
    if (o->bad)
        return CHSM_ERR(CKR_DEVICE_ERROR, "core", "object %s failed authentication in the store", o->uid_hex);
    *out = o;
    return CKR_OK;
}

static void drop_matching(bool (*match)(const struct chsm_object *, const void *), const void *ctx)
{
    for (uint32_t i = 0; i < chsm_g.nslots; i++) {
        struct chsm_slot *sl = &chsm_g.slots[i];
        for (struct chsm_object *o = sl->objs, *nx; o != NULL; o = nx) {
            nx = o->next;
            if (!o->token && match(o, ctx)) {
                chsm_obj_unlink(sl, o);
                chsm_obj_free(o);
            }
        }
    }
}
static bool by_session(const struct chsm_object *o, const void *ctx)
{
    return o->session == *(const CK_SESSION_HANDLE *)ctx;
}
static bool by_app(const struct chsm_object *o, const void *ctx)
{
    return o->app == ctx;
}
void chsm_objects_drop_session(CK_SESSION_HANDLE h)
{
    drop_matching(by_session, &h);
}
void chsm_objects_drop_app(const struct chsm_app *app)
{
    drop_matching(by_app, app);
}

CK_RV chsm_obj_write_checks(const struct chsm_session *s, const struct chsm_attrlist *attrs)
{
    CK_USER_TYPE who = s->app->login[s->slot];
    bool token = chsm_attrlist_get_bool(attrs, CKA_TOKEN, false);
    if (token && !chsm_session_rw(s))
        return CKR_SESSION_READ_ONLY;
    if (chsm_attrlist_get_bool(attrs, CKA_PRIVATE, false) && who != CKU_USER)
        return CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "core", "private objects need a user login");
    /* Secret-bearing token objects are sealed under the master key: someone must be logged in. */
    if (token && chsm_policy_secret_bearing(attrs) && who == CHSM_NOT_LOGGED_IN)
        return CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "core", "keys on the token need a login");
    /* v2.40 4.4: only the SO sets CKA_TRUSTED true. Every creation path (create, copy, generate, pair,
     * unwrap, derive) passes here; C_SetAttributeValue cannot touch it (not modifiable, policy.c). */
    if (chsm_attrlist_get_bool(attrs, CKA_TRUSTED, false) && who != CKU_SO)
        return CHSM_ERR(CKR_ATTRIBUTE_READ_ONLY, "core", "only the SO may set CKA_TRUSTED");
    return CKR_OK;
}

/*
 * CKA_UNIQUE_ID of session objects: a random 8-byte prefix drawn at every
 * C_Initialize (so a forked child, which must initialise again, never
 * continues its parent's sequence) followed by a 64-bit counter. Unique
 * within the process by construction and across processes sharing a token
 * unless two 64-bit prefixes collide; it saves a DRBG call per session
 * object, which was a third of a session key generation. Token objects keep
 * 16 random bytes: they are the store's row keys, shared by every process.
 */
static uint8_t g_sid_prefix[CHSM_OBJECT_ID_LEN / 2];
static atomic_uint_fast64_t g_sid_next;

CK_RV chsm_obj_session_ids_init(void)
{
    atomic_store(&g_sid_next, 0);
    return chsm_rand_bytes(g_sid_prefix, sizeof(g_sid_prefix));
}

static void session_object_id(uint8_t id[CHSM_OBJECT_ID_LEN])
{
    uint64_t n = atomic_fetch_add(&g_sid_next, 1);
    memcpy(id, g_sid_prefix, sizeof(g_sid_prefix));
    for (size_t i = CHSM_OBJECT_ID_LEN; i-- > sizeof(g_sid_prefix); n >>= 8)
        id[i] = (uint8_t)(n & 0xFFu);
}

static const struct chsm_secbuf *slot_mk(const struct chsm_slot *sl)
{
    return sl->mk.data != NULL ? &sl->mk : NULL;
}

/* A new object from attrs (taken), in no table yet: id, CKA_UNIQUE_ID, handle (session objects). */
static CK_RV obj_new(struct chsm_session *s, struct chsm_attrlist *attrs, struct chsm_object **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    struct chsm_object *o = calloc(1, sizeof(*o));
    CHSM_ENSURE(o != NULL, CKR_HOST_MEMORY);
    o->attrs = *attrs;
    chsm_attrlist_init(attrs);
    o->token = chsm_attrlist_get_bool(&o->attrs, CKA_TOKEN, false);
    if (o->token)
        CHSM_GUARD(chsm_store_new_object_id(o->uid));
    else
        session_object_id(o->uid);
    chsm_hex_encode(o->uid, CHSM_OBJECT_ID_LEN, o->uid_hex);
    CHSM_GUARD(chsm_attrlist_set(&o->attrs, CKA_UNIQUE_ID, o->uid_hex, 2 * CHSM_OBJECT_ID_LEN));
    o->is_private = chsm_attrlist_get_bool(&o->attrs, CKA_PRIVATE, false);
    o->secrets_loaded = true;
    /* The store MACs/seals a record under the MK only when given it (store.h, authenticated). */
    o->authenticated = !o->token || slot_mk(sl) != NULL;
    if (!o->token) {
        o->h = chsm_new_handle();
        o->app = s->app;
        o->session = s->h;
    }
    *out = o;
    o = NULL;
out:
    chsm_obj_free(o);
    return rv;
}

CK_RV chsm_obj_add(struct chsm_session *s, struct chsm_attrlist *attrs, const char *event, const char *mech,
                   CK_OBJECT_HANDLE *ph)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    struct chsm_object *o = NULL;
    bool stored = false;
    CHSM_GUARD(obj_new(s, attrs, &o));
    if (o->token) {
        bool fresh = false;
        CHSM_GUARD(chsm_store_object_put(chsm_g.store, sl->id, slot_mk(sl), o->uid, &o->attrs, NULL));
        stored = true;
        o->h = chsm_uid_handle(sl, o->uid, &fresh);
    }
    CHSM_GUARD(chsm_obj_insert(sl, o));
    rv = chsm_core_audit(event, sl->id, s->h, s->app->login[sl->id], o, mech, CKR_OK);
    if (rv != CKR_OK) {
        chsm_obj_unlink(sl, o);
        goto out;
    }
    *ph = o->h;
    o = NULL;
out:
    if (o != NULL) {
        if (stored && chsm_store_object_delete(chsm_g.store, sl->id, o->uid) != CKR_OK)
            chsm_log_err(CHSM_LOG_ERROR, "roll back object write");
        chsm_obj_free(o);
    }
    return rv;
}

/* Unlink and free the objects of these handles that are still there (module write lock held by the caller). */
static void remove_handles(struct chsm_slot *sl, const CK_OBJECT_HANDLE *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct chsm_object *o = h[i] != 0 ? chsm_hmap_get(&chsm_g.objects, h[i]) : NULL;
        if (o != NULL) {
            chsm_obj_unlink(sl, o);
            chsm_obj_free(o);
        }
    }
}

/* Insert made objects under the write lock; on failure none stays in the tables (and all are freed). */
static CK_RV insert_locked(struct chsm_session *s, struct chsm_object **o, size_t n, CK_USER_TYPE *user)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    size_t done = 0;
    chsm_wrlock();
    *user = s->app->login[s->slot];
    for (size_t i = 0; i < n; i++)
        CHSM_GUARD(chsm_obj_write_checks(s, &o[i]->attrs));
    for (; done < n; done++)
        CHSM_GUARD(chsm_obj_insert(sl, o[done]));
out:
    if (rv != CKR_OK) {
        for (size_t i = 0; i < done; i++)
            chsm_obj_unlink(sl, o[i]);
    }
    chsm_unlock();
    return rv;
}

CK_RV chsm_obj_add_session(struct chsm_session *s, struct chsm_attrlist *const *attrs, size_t n, const char *event,
                           const char *mech, struct chsm_pkey *pk, CK_OBJECT_HANDLE *ph)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    struct chsm_object *o[2] = {NULL, NULL};
    struct chsm_obj_note note[2];
    CK_OBJECT_HANDLE h[2] = {0, 0};
    CK_USER_TYPE user = CHSM_NOT_LOGGED_IN;
    bool inserted = false;
    CHSM_ENSURE(n >= 1 && n <= 2, CKR_GENERAL_ERROR);
    for (size_t i = 0; i < n; i++) {
        CHSM_ENSURE(!chsm_attrlist_get_bool(attrs[i], CKA_TOKEN, false), CKR_GENERAL_ERROR);
        CHSM_GUARD(obj_new(s, attrs[i], &o[i]));
        atomic_init(&o[i]->pending, true);
        if (pk != NULL)
            chsm_obj_pkey_set(o[i], pk);
        chsm_obj_note_of(o[i], &note[i]);
        h[i] = o[i]->h;
    }
    CHSM_GUARD(insert_locked(s, o, n, &user));
    inserted = true; /* the tables own the objects now: only handles from here on */
    for (size_t i = 0; i < n; i++)
        CHSM_GUARD(chsm_core_audit_note(event, sl->id, s->h, user, &note[i], mech, CKR_OK));
    chsm_rdlock();
    for (size_t i = 0; i < n; i++) {
        struct chsm_object *p = chsm_hmap_get(&chsm_g.objects, h[i]);
        if (p != NULL)
            atomic_store_explicit(&p->pending, false, memory_order_release);
        ph[i] = h[i];
    }
    chsm_unlock();
out:
    if (rv != CKR_OK && inserted) {
        /* Never visible: rolling back is invisible too (a session close may have freed them already). */
        chsm_wrlock();
        remove_handles(sl, h, n);
        chsm_unlock();
    } else if (rv != CKR_OK) {
        for (size_t i = 0; i < n; i++)
            chsm_obj_free(o[i]);
    }
    return rv;
}

void chsm_obj_remove(struct chsm_session *s, CK_OBJECT_HANDLE h)
{
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    struct chsm_object *o = chsm_hmap_get(&chsm_g.objects, h);
    if (o == NULL)
        return;
    if (o->token && chsm_store_object_delete(chsm_g.store, sl->id, o->uid) != CKR_OK)
        chsm_log_err(CHSM_LOG_ERROR, "roll back object write");
    chsm_obj_unlink(sl, o);
    chsm_obj_free(o);
}

/* Imported keys must parse: a malformed key is refused now, not at first use. */
static CK_RV validate_import(const struct chsm_attrlist *attrs, struct chsm_pkey **pk)
{
    uint64_t cls = chsm_attrlist_get_ulong(attrs, CKA_CLASS, CKO_DATA);
    *pk = NULL;
    if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY)
        return CKR_OK;
    CK_RV rv = chsm_attrs_pkey(attrs, pk);
    if (rv == CKR_CURVE_NOT_SUPPORTED || rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_TEMPLATE_INCOMPLETE)
        return rv;
    if (rv != CKR_OK && rv != CKR_HOST_MEMORY)
        return CHSM_ERR(CKR_ATTRIBUTE_VALUE_INVALID, "core", "key components do not form a valid key (%s)",
                        chsm_rv_name(rv));
    return rv;
}

CK_RV chsm_core_CreateObject(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
                             CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_pkey *pk = NULL;
    struct chsm_attrlist tmpl, attrs;
    chsm_attrlist_init(&tmpl);
    chsm_attrlist_init(&attrs);
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(phObject != NULL && (pTemplate != NULL || ulCount == 0), CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_template_to_list(pTemplate, ulCount, &tmpl));
    CHSM_GUARD(chsm_policy_create(&tmpl, CHSM_CREATE_IMPORT, &attrs));
    CHSM_GUARD(validate_import(&attrs, &pk));
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_wrlock();
    locked = true;
    CHSM_GUARD(chsm_obj_write_checks(s, &attrs));
    CHSM_GUARD(chsm_obj_add(s, &attrs, "object_create", NULL, phObject));
    if (pk != NULL) {
        struct chsm_object *no = chsm_hmap_get(&chsm_g.objects, *phObject);
        if (no != NULL)
            chsm_obj_pkey_set(no, pk);
    }
out:
    chsm_pkey_free(pk);
    if (locked)
        chsm_unlock();
    chsm_attrlist_free(&tmpl);
    chsm_attrlist_free(&attrs);
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_CopyObject(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                           CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_object *src = NULL;
    struct chsm_attrlist tmpl, attrs;
    chsm_attrlist_init(&tmpl);
    chsm_attrlist_init(&attrs);
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(phNewObject != NULL && (pTemplate != NULL || ulCount == 0), CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_template_to_list(pTemplate, ulCount, &tmpl));
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_wrlock();
    locked = true;
    CHSM_GUARD(chsm_obj_find_visible(s, hObject, &src));
    CHSM_ENSURE(chsm_attrlist_get_bool(&src->attrs, CKA_COPYABLE, true), CKR_ACTION_PROHIBITED);
    CHSM_ENSURE(chsm_obj_complete(s, src), CKR_USER_NOT_LOGGED_IN);
    CHSM_GUARD(chsm_attrlist_clone(&attrs, &src->attrs));
    chsm_attrlist_remove(&attrs, CKA_UNIQUE_ID);
    CHSM_GUARD(chsm_policy_modify(&attrs, &tmpl, true));
    CHSM_GUARD(chsm_obj_write_checks(s, &attrs));
    CHSM_GUARD(chsm_obj_add(s, &attrs, "object_copy", NULL, phNewObject));
out:
    if (locked)
        chsm_unlock();
    chsm_attrlist_free(&tmpl);
    chsm_attrlist_free(&attrs);
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_DestroyObject(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_object *o = NULL;
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    CHSM_GUARD(chsm_cache_sync_for(sl, hObject));
    chsm_wrlock();
    locked = true;
    o = chsm_hmap_get(&chsm_g.objects, hObject);
    /* A tampered record can still be destroyed: that is how an operator clears it. */
    CHSM_ENSURE(o != NULL && chsm_obj_visible(s, o), CKR_OBJECT_HANDLE_INVALID);
    CHSM_ENSURE(chsm_attrlist_get_bool(&o->attrs, CKA_DESTROYABLE, true), CKR_ACTION_PROHIBITED);
    CHSM_ENSURE(!o->token || chsm_session_rw(s), CKR_SESSION_READ_ONLY);
    if (!o->token) {
        /* Session object: out of the tables now; formatting and queueing its entry need no lock. */
        struct chsm_obj_note note;
        CK_USER_TYPE user = app->login[sl->id];
        chsm_obj_unlink(sl, o);
        chsm_unlock();
        locked = false;
        chsm_obj_note_of(o, &note);
        chsm_obj_free(o);
        rv = chsm_core_audit_note("object_destroy", sl->id, s->h, user, &note, NULL, CKR_OK);
        goto out;
    }
    CHSM_GUARD(chsm_store_object_delete(chsm_g.store, sl->id, o->uid));
    rv = chsm_core_audit("object_destroy", sl->id, s->h, app->login[sl->id], o, NULL, CKR_OK);
    chsm_obj_unlink(sl, o);
    chsm_obj_free(o);
out:
    if (locked)
        chsm_unlock();
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_GetObjectSize(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                              CK_ULONG_PTR pulSize)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_object *o = NULL;
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pulSize != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_rdlock();
    locked = true;
    CHSM_GUARD(chsm_obj_find_visible(s, hObject, &o));
    size_t total = 0;
    for (size_t i = 0; i < o->attrs.count; i++)
        total += o->attrs.items[i].len;
    *pulSize = (CK_ULONG)total;
out:
    if (locked)
        chsm_unlock();
    chsm_session_put(s);
    return rv;
}

/* Spec 5.7 C_GetAttributeValue: every attribute is processed; the worst per-attribute result is returned. */
static CK_RV get_one(const struct chsm_session *s, const struct chsm_object *o, CK_ATTRIBUTE *a)
{
    const struct chsm_attr *v = chsm_attrlist_get(&o->attrs, a->type);
    if (chsm_policy_hidden(&o->attrs, a->type) ||
        (chsm_policy_is_secret(&o->attrs, a->type) && !chsm_obj_complete(s, o))) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_ATTRIBUTE_SENSITIVE;
    }
    if (v == NULL) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    return chsm_attr_to_ck(v, a);
}

static int rv_rank(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
        return 0;
    case CKR_BUFFER_TOO_SMALL:
        return 1;
    case CKR_ATTRIBUTE_TYPE_INVALID:
        return 2;
    case CKR_ATTRIBUTE_SENSITIVE:
        return 3;
    default:
        return 4;
    }
}

CK_RV chsm_core_GetAttributeValue(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                                  CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_object *o = NULL;
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pTemplate != NULL || ulCount == 0, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_rdlock();
    locked = true;
    CHSM_GUARD(chsm_obj_find_visible(s, hObject, &o));
    for (CK_ULONG i = 0; i < ulCount; i++) {
        CK_RV one = get_one(s, o, &pTemplate[i]);
        if (rv_rank(one) > rv_rank(rv))
            rv = one;
    }
out:
    if (locked)
        chsm_unlock();
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_SetAttributeValue(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                                  CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_object *o = NULL;
    struct chsm_attrlist tmpl, attrs;
    chsm_attrlist_init(&tmpl);
    chsm_attrlist_init(&attrs);
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    CHSM_ENSURE(pTemplate != NULL || ulCount == 0, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_template_to_list(pTemplate, ulCount, &tmpl));
    CHSM_GUARD(chsm_cache_sync(sl));
    chsm_wrlock();
    locked = true;
    CHSM_GUARD(chsm_obj_find_visible(s, hObject, &o));
    CHSM_ENSURE(chsm_attrlist_get_bool(&o->attrs, CKA_MODIFIABLE, true), CKR_ACTION_PROHIBITED);
    CHSM_ENSURE(!o->token || chsm_session_rw(s), CKR_SESSION_READ_ONLY);
    CHSM_GUARD(chsm_attrlist_clone(&attrs, &o->attrs));
    CHSM_GUARD(chsm_policy_modify(&attrs, &tmpl, false));
    /* Rewriting a key's record needs its secrets, i.e. a login. */
    CHSM_ENSURE(chsm_obj_complete(s, o), CKR_USER_NOT_LOGGED_IN);
    if (o->token)
        CHSM_GUARD(chsm_store_object_put(chsm_g.store, sl->id, slot_mk(sl), o->uid, &attrs, NULL));
    chsm_attrlist_free(&o->attrs);
    o->attrs = attrs;
    chsm_attrlist_init(&attrs);
    o->authenticated = !o->token || slot_mk(sl) != NULL;
    chsm_obj_pkey_drop(o); /* attributes changed: the parsed key is rebuilt on next use */
    CHSM_GUARD(chsm_obj_reindex(sl, o));
    CHSM_GUARD(chsm_core_audit("attribute_change", sl->id, s->h, app->login[sl->id], o, NULL, CKR_OK));
out:
    if (locked)
        chsm_unlock();
    chsm_attrlist_free(&tmpl);
    chsm_attrlist_free(&attrs);
    chsm_session_put(s);
    return rv;
}
