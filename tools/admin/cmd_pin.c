/*
 * pin change --user-type so|user (old PIN via --pin*, new via --new-pin*)
 * pin reset (SO PIN via --so-pin* or --pin*, new user PIN via --new-pin*):
 * C_InitPIN by the SO; objects survive because only the MK wrap changes.
 */
#include <string.h>

#include "core_session.h"

static const struct adm_optspec SPECS[] = {{"--user-type", true, false}, ADM_PIN_SPECS("pin"),
                                           ADM_PIN_SPECS("old-pin"), ADM_PIN_SPECS("so-pin"),
                                           ADM_PIN_SPECS("new-pin")};

static bool given(const struct adm *a, const char *base)
{
    char n[40];
    const char *sfx[] = {"", "-file", "-env"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(n, sizeof(n), "--%s%s", base, sfx[i]);
        if (adm_opt(a, n))
            return true;
    }
    return false;
}

static int run(struct adm *a, bool reset, CK_USER_TYPE ut, struct chsm_secbuf *oldp, struct chsm_secbuf *newp)
{
    CK_SESSION_HANDLE h;
    CK_RV rv;
    int rc = adm_core_up(a);
    if (rc != ADM_OK)
        return rc;
    rc = adm_core_session(a, ut, oldp, &h);
    if (rc == ADM_OK) {
        if (reset)
            rv = chsm_core_InitPIN(chsm_core_default_app(), h, newp->data, (CK_ULONG)newp->len);
        else
            rv = chsm_core_SetPIN(chsm_core_default_app(), h, oldp->data, (CK_ULONG)oldp->len, newp->data,
                                  (CK_ULONG)newp->len);
        if (rv != CKR_OK)
            rc = adm_core_fail(rv, reset ? "pin reset failed" : "pin change failed");
        else if (!a->quiet)
            printf("%s\n", reset ? "user PIN set by the SO" : (ut == CKU_SO ? "SO PIN changed" : "user PIN changed"));
    }
    adm_core_down();
    return rc;
}

int cmd_pin(struct adm *a)
{
    struct chsm_secbuf oldp = {0}, newp = {0};
    bool reset;
    CK_USER_TYPE ut = CKU_SO;
    const char *t;
    int rc;
    if (a->argc < 2 || (strcmp(a->argv[1], "change") != 0 && strcmp(a->argv[1], "reset") != 0))
        return adm_fail(ADM_USAGE, "expected 'pin change --user-type so|user' or 'pin reset'");
    reset = strcmp(a->argv[1], "reset") == 0;
    rc = adm_parse(a, 2, SPECS, CHSM_ARRAY_LEN(SPECS), 0);
    if (rc != ADM_OK)
        return rc;
    if (!reset) {
        t = adm_opt(a, "--user-type");
        if (t == NULL || (strcmp(t, "so") != 0 && strcmp(t, "user") != 0))
            return adm_fail(ADM_USAGE, "pin change needs --user-type so|user");
        ut = strcmp(t, "so") == 0 ? CKU_SO : CKU_USER;
    }
    const char *oldbase = given(a, "old-pin") ? "old-pin" : (given(a, "so-pin") ? "so-pin" : "pin");
    rc = adm_pin(a, oldbase, reset ? "SO PIN" : (ut == CKU_SO ? "current SO PIN" : "current user PIN"), false, &oldp);
    if (rc == ADM_OK)
        rc = adm_pin(a, "new-pin", reset || ut == CKU_USER ? "new user PIN" : "new SO PIN", true, &newp);
    if (rc == ADM_OK)
        rc = run(a, reset, ut, &oldp, &newp);
    chsm_secbuf_free(&oldp);
    chsm_secbuf_free(&newp);
    return rc;
}
