/* Sessions and authentication: OpenSession, CloseSession, Login, Logout,
 * InitToken, InitPin, SetPin. PINs arrive as request bytes; the dispatcher
 * wipes the request after the handler returns. */
#include <string.h>

#include "common/secbuf.h"
#include "handlers.h"

CHSM_HANDLER(OpenSession)
{
    CratonHsm__V1__OpenSessionRequest *q = (CratonHsm__V1__OpenSessionRequest *)req;
    CratonHsm__V1__OpenSessionResponse r = CRATON_HSM__V1__OPEN_SESSION_RESPONSE__INIT;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    char token[CHSM_CLIENT_TOKEN_HEX];
    CK_FLAGS flags = CKF_SERIAL_SESSION | (q->read_write ? CKF_RW_SESSION : 0);
    CK_RV rv = chsm_core_OpenSession(h->client->app, (CK_SLOT_ID)q->slot_id, flags, NULL, NULL, &s);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "OpenSession");
        return;
    }
    /* The session makes the client worth keeping; the token (none under mutual
     * TLS) must come with every later call of this client. */
    chsm_clients_keep(h->client, token);
    r.session = s;
    r.client_token = token;
    chsm_h_ok(h, &r.base);
    chsm_wipe(token, sizeof token);
}

CHSM_HANDLER(CloseSession)
{
    CratonHsm__V1__CloseSessionRequest *q = (CratonHsm__V1__CloseSessionRequest *)req;
    CratonHsm__V1__CloseSessionResponse r = CRATON_HSM__V1__CLOSE_SESSION_RESPONSE__INIT;
    CK_RV rv = chsm_core_CloseSession(h->client->app, (CK_SESSION_HANDLE)q->session);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "CloseSession");
        return;
    }
    chsm_h_ok(h, &r.base);
}

static bool user_type(CratonHsm__V1__UserType t, CK_USER_TYPE *out)
{
    switch (t) {
    case CRATON_HSM__V1__USER_TYPE__USER_TYPE_SO:
        *out = CKU_SO;
        return true;
    case CRATON_HSM__V1__USER_TYPE__USER_TYPE_USER:
        *out = CKU_USER;
        return true;
    case CRATON_HSM__V1__USER_TYPE__USER_TYPE_CONTEXT_SPECIFIC:
        *out = CKU_CONTEXT_SPECIFIC;
        return true;
    default:
        return false;
    }
}

CHSM_HANDLER(Login)
{
    CratonHsm__V1__LoginRequest *q = (CratonHsm__V1__LoginRequest *)req;
    CratonHsm__V1__LoginResponse r = CRATON_HSM__V1__LOGIN_RESPONSE__INIT;
    CK_USER_TYPE ut;
    CK_SLOT_ID slot, *sp;
    CK_RV rv;

    if (!user_type(q->user_type, &ut)) {
        chsm_h_fail(h, CHSM_DS_INVALID_ARGUMENT, "CKR_USER_TYPE_INVALID: user_type must be SO, USER or CONTEXT_SPECIFIC");
        return;
    }
    sp = chsm_h_session_slot(h, q->session, &slot) ? &slot : NULL;
    if (!chsm_h_pin_gate(h, sp))
        return;
    rv = chsm_core_Login(h->client->app, (CK_SESSION_HANDLE)q->session, ut, q->pin.data, (CK_ULONG)q->pin.len);
    chsm_h_pin_result(h, sp, rv, true);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "Login");
        return;
    }
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(Logout)
{
    CratonHsm__V1__LogoutRequest *q = (CratonHsm__V1__LogoutRequest *)req;
    CratonHsm__V1__LogoutResponse r = CRATON_HSM__V1__LOGOUT_RESPONSE__INIT;
    CK_RV rv = chsm_core_Logout(h->client->app, (CK_SESSION_HANDLE)q->session);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "Logout");
        return;
    }
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(InitToken)
{
    CratonHsm__V1__InitTokenRequest *q = (CratonHsm__V1__InitTokenRequest *)req;
    CratonHsm__V1__InitTokenResponse r = CRATON_HSM__V1__INIT_TOKEN_RESPONSE__INIT;
    CK_UTF8CHAR label[32];
    size_t ll = q->label ? strlen(q->label) : 0;
    CK_SLOT_ID slot = (CK_SLOT_ID)q->slot_id;
    CK_RV rv;

    if (ll > sizeof label) {
        chsm_h_fail(h, CHSM_DS_INVALID_ARGUMENT, "CKR_ARGUMENTS_BAD: label longer than 32 bytes");
        return;
    }
    memset(label, ' ', sizeof label);
    if (ll > 0)
        memcpy(label, q->label, ll);
    /* Re-initialisation checks the current SO PIN. */
    if (!chsm_h_pin_gate(h, &slot))
        return;
    rv = chsm_core_InitToken(h->client->app, slot, q->so_pin.data, (CK_ULONG)q->so_pin.len, label);
    chsm_h_pin_result(h, &slot, rv, true);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "InitToken");
        return;
    }
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(InitPin)
{
    CratonHsm__V1__InitPinRequest *q = (CratonHsm__V1__InitPinRequest *)req;
    CratonHsm__V1__InitPinResponse r = CRATON_HSM__V1__INIT_PIN_RESPONSE__INIT;
    CK_SLOT_ID slot, *sp = chsm_h_session_slot(h, q->session, &slot) ? &slot : NULL;
    CK_RV rv;

    /* Gated like every PIN RPC (the review's list); it verifies no PIN, so success resets nothing. */
    if (!chsm_h_pin_gate(h, sp))
        return;
    rv = chsm_core_InitPIN(h->client->app, (CK_SESSION_HANDLE)q->session, q->pin.data, (CK_ULONG)q->pin.len);
    chsm_h_pin_result(h, sp, rv, false);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "InitPIN");
        return;
    }
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(SetPin)
{
    CratonHsm__V1__SetPinRequest *q = (CratonHsm__V1__SetPinRequest *)req;
    CratonHsm__V1__SetPinResponse r = CRATON_HSM__V1__SET_PIN_RESPONSE__INIT;
    CK_SLOT_ID slot, *sp = chsm_h_session_slot(h, q->session, &slot) ? &slot : NULL;
    CK_RV rv;

    if (!chsm_h_pin_gate(h, sp))
        return;
    rv = chsm_core_SetPIN(h->client->app, (CK_SESSION_HANDLE)q->session, q->old_pin.data, (CK_ULONG)q->old_pin.len,
                          q->new_pin.data, (CK_ULONG)q->new_pin.len);
    chsm_h_pin_result(h, sp, rv, true);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "SetPIN");
        return;
    }
    chsm_h_ok(h, &r.base);
}
