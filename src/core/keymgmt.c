/*
 * Key generation, wrapping and derivation entry points. No row of the
 * mechanism table offers them yet (the mechanism phase adds the rows and
 * handlers), so after the argument and session checks every mechanism is
 * CKR_MECHANISM_INVALID — the truth, not a stub that pretends.
 */
#include "core/internal.h"

static CK_RV check(struct chsm_app *app, CK_SESSION_HANDLE h, const CK_MECHANISM *m, bool out_ok)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, h, &s));
    CHSM_ENSURE(m != NULL && out_ok, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(chsm_mech_lookup(m->mechanism) != NULL, CKR_MECHANISM_INVALID);
    /* A row without a handler for this function: not offered for it. */
    rv = CKR_MECHANISM_INVALID;
out:
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_GenerateKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                            CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
    return check(app, hSession, pMechanism, phKey != NULL && (pTemplate != NULL || ulCount == 0));
}

CK_RV chsm_core_GenerateKeyPair(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                                CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                                CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    bool ok = phPublicKey != NULL && phPrivateKey != NULL &&
              (pPublicKeyTemplate != NULL || ulPublicKeyAttributeCount == 0) &&
              (pPrivateKeyTemplate != NULL || ulPrivateKeyAttributeCount == 0);
    return check(app, hSession, pMechanism, ok);
}

CK_RV chsm_core_WrapKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                        CK_ULONG_PTR pulWrappedKeyLen)
{
    CHSM_UNUSED(hWrappingKey);
    CHSM_UNUSED(hKey);
    CHSM_UNUSED(pWrappedKey);
    return check(app, hSession, pMechanism, pulWrappedKeyLen != NULL);
}

CK_RV chsm_core_UnwrapKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
    CHSM_UNUSED(hUnwrappingKey);
    bool ok = phKey != NULL && (pWrappedKey != NULL || ulWrappedKeyLen == 0) &&
              (pTemplate != NULL || ulAttributeCount == 0);
    return check(app, hSession, pMechanism, ok);
}

CK_RV chsm_core_DeriveKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                          CK_OBJECT_HANDLE_PTR phKey)
{
    CHSM_UNUSED(hBaseKey);
    return check(app, hSession, pMechanism, phKey != NULL && (pTemplate != NULL || ulAttributeCount == 0));
}
