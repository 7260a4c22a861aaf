/*
 * Sessions (base spec 5.6): the five-state machine derived from the app's
 * login state on the slot and the RW flag; counts per token; reference
 * counted so an operation in flight survives a concurrent close.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

CK_STATE chsm_session_state(const struct chsm_session *s)
{
    bool rw = (s->flags & CKF_RW_SESSION) != 0;
    switch (s->app->login[s->slot]) {
    case CKU_SO:
        return CKS_RW_SO_FUNCTIONS;
    case CKU_USER:
        return rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    default:
        return rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    }
}

bool chsm_session_rw(const struct chsm_session *s)
{
    return (s->flags & CKF_RW_SESSION) != 0;
}

CK_RV chsm_session_get(struct chsm_app *app, CK_SESSION_HANDLE h, struct chsm_session **out)
{
    CK_RV rv = chsm_core_check_up();
    if (rv != CKR_OK)
        return rv;
    if (app == NULL)
        return CHSM_ERR(CKR_ARGUMENTS_BAD, "core", "no application");
    chsm_rdlock();
    struct chsm_session *s = chsm_hmap_get(&chsm_g.sessions, h);
    /* Another app's handle is as invalid as an unknown one (core.h). */
    if (s == NULL || s->app != app || s->closed) {
        rv = CHSM_ERR(CKR_SESSION_HANDLE_INVALID, "core", "session %lu", (unsigned long)h);
    } else {
        atomic_fetch_add(&s->refs, 1);
        *out = s;
    }
    chsm_unlock();
    if (rv == CKR_OK)
        chsm_audit_set_actor(app->actor);
    return rv;
}

static void session_free(struct chsm_session *s)
{
    for (int k = 0; k < CHSM_OP_COUNT; k++)
        chsm_op_free(s->ops[k]);
    free(s->found);
    (void)pthread_mutex_destroy(&s->lock);
    free(s);
}

void chsm_session_put(struct chsm_session *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        session_free(s);
}

bool chsm_sessions_exist(const struct chsm_app *app, uint32_t slot, bool ro_only)
{
    if (app != NULL)
        return (ro_only ? app->nsess_ro[slot] : app->nsess[slot]) > 0;
    return chsm_g.slots[slot].sessions > 0;
}

static CK_RV open_checks(struct chsm_app *app, struct chsm_slot *sl, CK_FLAGS flags)
{
    const struct chsm_config *c = &chsm_g.cfg;
    if (!(flags & CKF_SERIAL_SESSION))
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    if (!(flags & CKF_RW_SESSION) && app->login[sl->id] == CKU_SO)
        return CKR_SESSION_READ_WRITE_SO_EXISTS;
    if (sl->sessions >= c->token.max_sessions)
        return CHSM_ERR(CKR_SESSION_COUNT, "core", "max_sessions %u reached", c->token.max_sessions);
    if ((flags & CKF_RW_SESSION) && sl->rw_sessions >= c->token.max_rw_sessions)
        return CHSM_ERR(CKR_SESSION_COUNT, "core", "max_rw_sessions %u reached", c->token.max_rw_sessions);
    return CKR_OK;
}

CK_RV chsm_core_OpenSession(struct chsm_app *app, CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
                            CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    struct chsm_session *s = NULL;
    bool locked = false;
    CHSM_UNUSED(pApplication);
    CHSM_UNUSED(Notify); /* callbacks are optional (spec 5.16); none are issued */
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && phSession != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    s = calloc(1, sizeof(*s));
    CHSM_ENSURE(s != NULL, CKR_HOST_MEMORY);
    (void)pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->refs, 1);
    s->app = app;
    s->slot = sl->id;
    s->flags = flags & (CKF_RW_SESSION | CKF_SERIAL_SESSION);
    chsm_wrlock();
    locked = true;
    CHSM_ENSURE(chsm_app_valid(app), CKR_ARGUMENTS_BAD);
    CHSM_GUARD(open_checks(app, sl, flags));
    s->h = chsm_new_handle();
    CHSM_GUARD(chsm_hmap_add(&chsm_g.sessions, s->h, s));
    sl->sessions++;
    app->nsess[sl->id]++;
    if (flags & CKF_RW_SESSION)
        sl->rw_sessions++;
    else
        app->nsess_ro[sl->id]++;
    *phSession = s->h;
    chsm_unlock();
    locked = false;
    chsm_audit_set_actor(app->actor);
    CK_RV arv = chsm_core_audit("session_open", sl->id, s->h, app->login[sl->id], NULL, NULL, CKR_OK);
    s = NULL;
    if (arv != CKR_OK) {
        CK_RV crv = chsm_core_CloseSession(app, *phSession);
        CHSM_UNUSED(crv);
        rv = arv;
    }
out:
    if (locked)
        chsm_unlock();
    if (s != NULL)
        session_free(s);
    return rv;
}

/* Close one session; the caller holds a reference on s. */
static CK_RV session_close(struct chsm_session *s)
{
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    struct chsm_app *app = s->app;
    bool last = false, did = false;
    (void)pthread_mutex_lock(&sl->auth_lock);
    chsm_wrlock();
    CK_USER_TYPE who = app->login[sl->id]; /* audited as the state the session closed in */
    if (!s->closed) {
        s->closed = true;
        did = true;
        chsm_hmap_del(&chsm_g.sessions, s->h, s);
        sl->sessions--;
        app->nsess[sl->id]--;
        if (chsm_session_rw(s))
            sl->rw_sessions--;
        else
            app->nsess_ro[sl->id]--;
        last = app->nsess[sl->id] == 0;
        chsm_objects_drop_session(s->h);
    }
    chsm_unlock();
    /* Spec 5.6: when the app's last session on a token closes, it is logged out. */
    if (last)
        chsm_login_drop(app, sl);
    (void)pthread_mutex_unlock(&sl->auth_lock);
    if (!did)
        return CKR_SESSION_HANDLE_INVALID;
    if (chsm_g.audit != NULL)
        chsm_audit_session_closed(chsm_g.audit, s->h);
    CK_RV arv = chsm_core_audit("session_close", sl->id, s->h, who, NULL, NULL, CKR_OK);
    CHSM_UNUSED(arv); /* the session is gone either way */
    chsm_session_put(s); /* the table's reference */
    return CKR_OK;
}

CK_RV chsm_core_CloseSession(struct chsm_app *app, CK_SESSION_HANDLE hSession)
{
    struct chsm_session *s = NULL;
    CK_RV rv = chsm_session_get(app, hSession, &s);
    if (rv != CKR_OK)
        return rv;
    rv = session_close(s);
    chsm_session_put(s);
    return rv;
}

void chsm_sessions_close_app(struct chsm_app *app, bool all_slots, uint32_t slot)
{
    for (;;) {
        struct chsm_session *s = NULL;
        chsm_rdlock();
        for (size_t i = 0; i < chsm_g.sessions.nb && s == NULL; i++)
            for (struct chsm_hnode *n = chsm_g.sessions.b[i]; n != NULL; n = n->next) {
                struct chsm_session *c = n->val;
                if (c->app == app && (all_slots || c->slot == slot) && !c->closed) {
                    s = c;
                    atomic_fetch_add(&s->refs, 1);
                    break;
                }
            }
        chsm_unlock();
        if (s == NULL)
            return;
        CK_RV rv = session_close(s);
        CHSM_UNUSED(rv);
        chsm_session_put(s);
    }
}

CK_RV chsm_core_CloseAllSessions(struct chsm_app *app, CK_SLOT_ID slotID)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    chsm_sessions_close_app(app, false, sl->id);
out:
    return rv;
}

CK_RV chsm_core_GetSessionInfo(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    struct chsm_session *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pInfo != NULL, CKR_ARGUMENTS_BAD);
    chsm_rdlock();
    pInfo->slotID = s->slot;
    pInfo->state = chsm_session_state(s);
    pInfo->flags = s->flags;
    pInfo->ulDeviceError = 0;
    chsm_unlock();
out:
    chsm_session_put(s);
    return rv;
}

/* PKCS#11 3.0 C_SessionCancel: end the active operations named by flags. */
CK_RV chsm_core_SessionCancel(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
    static const struct {
        CK_FLAGS f;
        enum chsm_op_kind k;
    } map[] = {{CKF_DIGEST, CHSM_OP_DIGEST}, {CKF_ENCRYPT, CHSM_OP_ENCRYPT}, {CKF_DECRYPT, CHSM_OP_DECRYPT},
               {CKF_SIGN, CHSM_OP_SIGN},     {CKF_VERIFY, CHSM_OP_VERIFY},   {CKF_SIGN_RECOVER, CHSM_OP_SIGN_RECOVER},
               {CKF_VERIFY_RECOVER, CHSM_OP_VERIFY_RECOVER},
               {CKF_MESSAGE_ENCRYPT, CHSM_OP_MSG_ENCRYPT}, {CKF_MESSAGE_DECRYPT, CHSM_OP_MSG_DECRYPT}};
    struct chsm_session *s = NULL;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    (void)pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < CHSM_ARRAY_LEN(map); i++) {
        if (flags & map[i].f) {
            chsm_op_free(s->ops[map[i].k]);
            s->ops[map[i].k] = NULL;
        }
    }
    (void)pthread_mutex_unlock(&s->lock);
out:
    chsm_session_put(s);
    return rv;
}
