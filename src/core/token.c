/*
 * Token and PIN administration: C_InitToken, C_InitPIN, C_SetPIN (base spec
 * 5.6). The store does the key hierarchy; the core enforces who may call
 * what, the PIN length policy and the "no sessions open" rule, and audits.
 */
#include <string.h>

#include "core/internal.h"

static CK_RV audit_pin_failure(uint32_t slot, CK_SESSION_HANDLE h, CK_USER_TYPE who, CK_RV why, uint32_t failed)
{
    CK_RV arv = chsm_core_audit("login_failed", slot, h, who, NULL, NULL, why);
    if (why == CKR_PIN_INCORRECT && failed >= chsm_g.cfg.security.max_failed_logins)
        arv = chsm_core_audit("lockout", slot, h, who, NULL, NULL, CKR_PIN_LOCKED);
    CHSM_UNUSED(arv);
    return why;
}

/* Forget everything cached about the slot's previous token (auth_lock held). */
static void slot_reset(struct chsm_slot *sl)
{
    chsm_wrlock();
    chsm_secbuf_free(&sl->mk);
    sl->login_refs = 0;
    for (struct chsm_app *a = chsm_g.apps; a != NULL; a = a->next)
        a->login[sl->id] = CHSM_NOT_LOGGED_IN;
    chsm_cache_clear(sl, true);
    chsm_unlock();
}

static CK_RV init_token_locked(struct chsm_slot *sl, const struct chsm_secbuf *pin, const CK_UTF8CHAR *label)
{
    CK_RV rv = CKR_OK;
    struct chsm_token_state ts;
    struct chsm_secbuf mk = {0};
    uint32_t failed = 0;
    chsm_rdlock();
    bool busy = chsm_sessions_exist(NULL, sl->id, false);
    chsm_unlock();
    CHSM_ENSURE(!busy, CKR_SESSION_EXISTS);
    CHSM_GUARD(chsm_store_token_get(chsm_g.store, sl->id, &ts));
    if (ts.initialized) {
        /* Re-initialisation destroys every object: only the current SO may do it. */
        rv = chsm_store_pin_check(chsm_g.store, sl->id, CHSM_PIN_SO, pin->data, pin->len,
                                  chsm_g.cfg.security.max_failed_logins, &mk, &failed);
        chsm_secbuf_free(&mk);
        if (rv != CKR_OK) {
            rv = audit_pin_failure(sl->id, 0, CKU_SO, rv, failed);
            goto out;
        }
    }
    /*
     * pLabel is 32 blank-padded bytes (spec 5.6), but some callers (PyKCS11)
     * pass a NUL-terminated string: stop at a NUL (never valid in the label)
     * and blank-pad, so no byte past the terminator is read or stored.
     */
    char padded[32];
    size_t n = strnlen((const char *)label, sizeof(padded));
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, label, n);
    CHSM_GUARD(chsm_store_token_init(chsm_g.store, sl->id, pin->data, pin->len, padded, sl->serial,
                                     chsm_g.cfg.security.pbkdf2_iterations, NULL));
    slot_reset(sl);
    CHSM_GUARD(chsm_core_audit("token_init", sl->id, 0, CKU_SO, NULL, NULL, CKR_OK));
out:
    chsm_secbuf_free(&mk);
    return rv;
}

CK_RV chsm_core_InitToken(struct chsm_app *app, CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                          CK_UTF8CHAR_PTR pLabel)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    struct chsm_secbuf pin = {0};
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pLabel != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    CHSM_GUARD(chsm_pin_copy(pPin, ulPinLen, &pin));
    chsm_audit_set_actor(app->actor);
    (void)pthread_mutex_lock(&sl->auth_lock);
    rv = init_token_locked(sl, &pin, pLabel);
    (void)pthread_mutex_unlock(&sl->auth_lock);
out:
    chsm_secbuf_free(&pin);
    return rv;
}

CK_RV chsm_core_InitPIN(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_secbuf pin = {0};
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    (void)pthread_mutex_lock(&sl->auth_lock);
    /* Only in the R/W SO Functions state (SO sessions are always R/W). */
    if (app->login[sl->id] != CKU_SO) {
        rv = CKR_USER_NOT_LOGGED_IN;
    } else if ((rv = chsm_pin_copy(pPin, ulPinLen, &pin)) == CKR_OK) {
        /* The SO's unwrapped MK re-wraps for the new user PIN: a locked user PIN is reset, no object lost. */
        rv = chsm_store_pin_set(chsm_g.store, sl->id, CHSM_PIN_USER, &sl->mk, pin.data, pin.len,
                                chsm_g.cfg.security.pbkdf2_iterations);
        if (rv == CKR_OK)
            rv = chsm_core_audit("pin_init", sl->id, s->h, CKU_SO, NULL, NULL, CKR_OK);
    }
    (void)pthread_mutex_unlock(&sl->auth_lock);
out:
    chsm_secbuf_free(&pin);
    chsm_session_put(s);
    return rv;
}

static CK_RV set_pin_locked(struct chsm_session *s, const struct chsm_secbuf *oldp, const struct chsm_secbuf *newp)
{
    CK_RV rv = CKR_OK;
    struct chsm_secbuf mk = {0};
    uint32_t failed = 0;
    CK_USER_TYPE who = s->app->login[s->slot];
    enum chsm_pin_kind kind = who == CKU_SO ? CHSM_PIN_SO : CHSM_PIN_USER;
    rv = chsm_store_pin_check(chsm_g.store, s->slot, kind, oldp->data, oldp->len,
                              chsm_g.cfg.security.max_failed_logins, &mk, &failed);
    if (rv != CKR_OK) {
        rv = audit_pin_failure(s->slot, s->h, who == CKU_SO ? CKU_SO : CKU_USER, rv, failed);
        goto out;
    }
    CHSM_GUARD(chsm_store_pin_set(chsm_g.store, s->slot, kind, &mk, newp->data, newp->len,
                                  chsm_g.cfg.security.pbkdf2_iterations));
    CHSM_GUARD(chsm_core_audit("pin_change", s->slot, s->h, who == CKU_SO ? CKU_SO : CKU_USER, NULL, NULL, CKR_OK));
out:
    chsm_secbuf_free(&mk);
    return rv;
}

CK_RV chsm_core_SetPIN(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
                       CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct chsm_secbuf oldp = {0}, newp = {0};
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    /* Spec 5.6: only in R/W public, R/W user or R/W SO state. */
    CHSM_ENSURE(chsm_session_rw(s), CKR_SESSION_READ_ONLY);
    CHSM_ENSURE(pOldPin != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_pin_copy(pNewPin, ulNewLen, &newp));
    /* An old PIN outside the length policy cannot be right; do not spend an attempt on it. */
    if (chsm_pin_copy(pOldPin, ulOldLen, &oldp) != CKR_OK)
        CHSM_BAIL(CKR_PIN_INCORRECT);
    struct chsm_slot *sl = &chsm_g.slots[s->slot];
    (void)pthread_mutex_lock(&sl->auth_lock);
    rv = set_pin_locked(s, &oldp, &newp);
    (void)pthread_mutex_unlock(&sl->auth_lock);
out:
    chsm_secbuf_free(&oldp);
    chsm_secbuf_free(&newp);
    chsm_session_put(s);
    return rv;
}
