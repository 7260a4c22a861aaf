/* The CLI links the core directly (never dlopen): this is the small glue every core-using command shares. */
#include <string.h>

#include "core_session.h"

int adm_core_fail(CK_RV rv, const char *what)
{
    switch (rv) {
    case CKR_PIN_INCORRECT:
        return adm_fail(ADM_AUTH, "%s: wrong PIN (CKR_PIN_INCORRECT); check the PIN (each failure counts toward "
                        "the lockout)", what);
    case CKR_PIN_LOCKED:
        return adm_fail(ADM_AUTH, "%s: the PIN is locked after too many failures (CKR_PIN_LOCKED); the SO must "
                        "run 'craton-hsm-admin pin reset' (user PIN) or the token must be re-initialised (SO PIN)",
                        what);
    case CKR_USER_PIN_NOT_INITIALIZED:
        return adm_fail(ADM_AUTH, "%s: the user PIN is not set (CKR_USER_PIN_NOT_INITIALIZED); run "
                        "'craton-hsm-admin pin reset' as SO", what);
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_TOKEN_NOT_PRESENT:
        return adm_fail(ADM_FAILED, "%s: the token is not initialised (%s); run 'craton-hsm-admin token init "
                        "--label L' first", what, chsm_rv_name(rv));
    case CKR_PIN_LEN_RANGE:
        return adm_fail(ADM_USAGE, "%s: PIN length outside [security].pin_min_length..pin_max_length "
                        "(CKR_PIN_LEN_RANGE); choose a PIN within the configured bounds", what);
    default:
        return adm_fail_rv(rv, what, "see the process log (CRATON_HSM_LOG=debug) for detail");
    }
}

int adm_core_up(struct adm *a)
{
    struct chsm_core_options o;
    const struct chsm_config *cfg;
    int rc = adm_config(a, &cfg);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    memset(&o, 0, sizeof(o));
    o.config = cfg;
    o.actor = "craton-hsm-admin";
    o.no_threads = true;
    rv = chsm_core_initialize(&o);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot start the core", "check the config, the store path and its permissions");
    return ADM_OK;
}

void adm_core_down(void)
{
    if (chsm_core_finalize() != CKR_OK)
        adm_warn("core shutdown reported an error");
}

int adm_core_session(struct adm *a, CK_USER_TYPE user_type, const struct chsm_secbuf *pin, CK_SESSION_HANDLE *out)
{
    struct chsm_app *app = chsm_core_default_app();
    CK_RV rv = chsm_core_OpenSession(app, adm_slot(a), CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, out);
    if (rv != CKR_OK)
        return adm_core_fail(rv, "cannot open a session");
    if (pin == NULL)
        return ADM_OK;
    rv = chsm_core_Login(app, *out, user_type, pin->data, (CK_ULONG)pin->len);
    if (rv != CKR_OK)
        return adm_core_fail(rv, user_type == CKU_SO ? "SO login failed" : "user login failed");
    return ADM_OK;
}
