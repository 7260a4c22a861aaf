/*
 * C_Login / C_Logout (base spec 5.6): login state per (application, slot),
 * the master key held in slot->mk while any application is logged in on
 * the slot, wiped on the last logout, finalize and token re-init. Failed
 * attempts are counted durably by the store before the PBKDF2 runs, so a
 * lockout counted by another process is enforced here too.
 */
#include <string.h>

#include "core/internal.h"

CK_USER_TYPE chsm_login_state(const struct chsm_app *app, uint32_t slot)
{
    return app->login[slot];
}

CK_RV chsm_pin_copy(const CK_UTF8CHAR *pin, CK_ULONG len, struct chsm_secbuf *out)
{
    const struct chsm_config *c = &chsm_g.cfg;
    if (pin == NULL)
        return CHSM_ERR(CKR_ARGUMENTS_BAD, "core", "no PIN (no protected authentication path)");
    if (len < c->security.pin_min_length || len > c->security.pin_max_length)
        return CHSM_ERR(CKR_PIN_LEN_RANGE, "core", "PIN length %lu outside %u..%u", (unsigned long)len,
                        c->security.pin_min_length, c->security.pin_max_length);
    return chsm_secbuf_copy(out, pin, len);
}

/* Drop app's login on sl (auth_lock held). Wipes the MK when the last login goes. */
void chsm_login_drop(struct chsm_app *app, struct chsm_slot *sl)
{
    chsm_wrlock();
    if (app->login[sl->id] != CHSM_NOT_LOGGED_IN) {
        app->login[sl->id] = CHSM_NOT_LOGGED_IN;
        if (sl->login_refs > 0)
            sl->login_refs--;
        if (sl->login_refs == 0) {
            chsm_secbuf_free(&sl->mk);
            /* Private objects and secrets leave the cache with the key (issue 3). */
            if (sl->cache_has_mk && chsm_cache_reload(sl) != CKR_OK)
                chsm_log_err(CHSM_LOG_ERROR, "reload public objects after logout");
        }
    }
    chsm_unlock();
}

/* Record a failed attempt; a counter at the limit is a lockout event. */
static void audit_failure(struct chsm_slot *sl, CK_SESSION_HANDLE h, CK_USER_TYPE who, CK_RV why, uint32_t failed)
{
    CK_RV arv = chsm_core_audit("login_failed", sl->id, h, who, NULL, NULL, why);
    if (why == CKR_PIN_INCORRECT && failed >= chsm_g.cfg.security.max_failed_logins)
        arv = chsm_core_audit("lockout", sl->id, h, who, NULL, NULL, CKR_PIN_LOCKED);
    CHSM_UNUSED(arv); /* the call fails anyway */
}

static CK_RV context_login(struct chsm_session *s, const struct chsm_secbuf *pin)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    struct chsm_secbuf mk = {0};
    uint32_t failed = 0;
    bool any = false;
    CHSM_ENSURE(s->app->login[s->slot] == CKU_USER, CKR_USER_NOT_LOGGED_IN);
    for (int k = 0; k < CHSM_OP_COUNT; k++)
        any = any || (s->ops[k] != NULL && s->ops[k]->needs_context_login);
    CHSM_ENSURE(any, CKR_OPERATION_NOT_INITIALIZED);
    rv = chsm_store_pin_check(chsm_g.store, sl->id, CHSM_PIN_USER, pin->data, pin->len,
                              chsm_g.cfg.security.max_failed_logins, &mk, &failed);
    if (rv != CKR_OK) {
        audit_failure(sl, s->h, CKU_CONTEXT_SPECIFIC, rv, failed);
        goto out;
    }
    for (int k = 0; k < CHSM_OP_COUNT; k++)
        if (s->ops[k] != NULL && s->ops[k]->needs_context_login)
            s->ops[k]->context_authed = true;
    CHSM_GUARD(chsm_core_audit("login", sl->id, s->h, CKU_CONTEXT_SPECIFIC, NULL, NULL, CKR_OK));
out:
    chsm_secbuf_free(&mk);
    return rv;
}

static CK_RV login_state_checks(const struct chsm_session *s, CK_USER_TYPE type)
{
    CK_USER_TYPE cur = s->app->login[s->slot];
    if (cur == type)
        return CKR_USER_ALREADY_LOGGED_IN;
    if (cur != CHSM_NOT_LOGGED_IN)
        return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    if (type == CKU_SO && chsm_sessions_exist(s->app, s->slot, true))
        return CKR_SESSION_READ_ONLY_EXISTS;
    return CKR_OK;
}

static CK_RV full_login(struct chsm_session *s, CK_USER_TYPE type, const struct chsm_secbuf *pin)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    struct chsm_secbuf mk = {0};
    uint32_t failed = 0;
    chsm_rdlock();
    rv = login_state_checks(s, type);
    chsm_unlock();
    CHSM_GUARD(rv);
    rv = chsm_store_pin_check(chsm_g.store, sl->id, type == CKU_SO ? CHSM_PIN_SO : CHSM_PIN_USER, pin->data,
                              pin->len, chsm_g.cfg.security.max_failed_logins, &mk, &failed);
    if (rv == CKR_TOKEN_NOT_RECOGNIZED && type == CKU_USER)
        rv = CKR_USER_PIN_NOT_INITIALIZED;
    if (rv != CKR_OK) {
        audit_failure(sl, s->h, type, rv, failed);
        goto out;
    }
    chsm_wrlock();
    if (sl->mk.data == NULL)
        chsm_secbuf_move(&sl->mk, &mk);
    sl->login_refs++;
    s->app->login[sl->id] = type;
    if (!sl->cache_has_mk) {
        rv = chsm_cache_reload(sl);
        if (rv != CKR_OK)
            chsm_log_err(CHSM_LOG_ERROR, "load private objects at login");
    }
    chsm_unlock();
    if (rv == CKR_OK)
        rv = chsm_core_audit("login", sl->id, s->h, type, NULL, NULL, CKR_OK);
    if (rv != CKR_OK)
        chsm_login_drop(s->app, sl);
out:
    chsm_secbuf_free(&mk);
    return rv;
}

CK_RV chsm_core_Login(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                      CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_secbuf pin = {0};
    struct chsm_slot *sl = NULL;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(userType == CKU_SO || userType == CKU_USER || userType == CKU_CONTEXT_SPECIFIC,
                CKR_USER_TYPE_INVALID);
    CHSM_GUARD(chsm_pin_copy(pPin, ulPinLen, &pin));
    sl = &chsm_g.slots[s->slot];
    (void)pthread_mutex_lock(&sl->auth_lock);
    if (userType == CKU_CONTEXT_SPECIFIC) {
        (void)pthread_mutex_lock(&s->lock);
        rv = context_login(s, &pin);
        (void)pthread_mutex_unlock(&s->lock);
    } else {
        rv = full_login(s, userType, &pin);
    }
    (void)pthread_mutex_unlock(&sl->auth_lock);
out:
    chsm_secbuf_free(&pin);
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_LoginUser(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                          CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername,
                          CK_ULONG ulUsernameLen)
{
    /* One user per token (3.0 5.6: the username is ignored by tokens without named users). */
    CHSM_UNUSED(pUsername);
    CHSM_UNUSED(ulUsernameLen);
    return chsm_core_Login(app, hSession, userType, pPin, ulPinLen);
}

CK_RV chsm_core_Logout(struct chsm_app *app, CK_SESSION_HANDLE hSession)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    (void)pthread_mutex_lock(&sl->auth_lock);
    CK_USER_TYPE who = app->login[sl->id];
    if (who == CHSM_NOT_LOGGED_IN) {
        rv = CKR_USER_NOT_LOGGED_IN;
    } else {
        chsm_login_drop(app, sl);
        rv = chsm_core_audit("logout", sl->id, s->h, who, NULL, NULL, CKR_OK);
    }
    (void)pthread_mutex_unlock(&sl->auth_lock);
out:
    chsm_session_put(s);
    return rv;
}
