/*
 * The PKCS#11 entry points for the general, slot/token, session and object
 * functions (base spec 3.0, 5.4-5.7). One short function per C_*: the
 * comment states the locking and authentication policy the core applies,
 * the body checks the module is up and hands the call to the core with the
 * module's single application context. The core validates every argument
 * (src/core/core.h), so the daemon and the CLI get the same checks; this
 * file holds no business logic.
 *
 * Policy words used below:
 *   lock: module  - the core's module lock (slot/token tables)
 *         token   - the token's lock (login state, PIN counters, objects)
 *         session - the session's own lock (its operation state)
 *   auth: none | user | SO | per-object (CKA_PRIVATE objects need the user)
 *
 * C_Initialize/C_Finalize live in init.c, C_GetFunctionList and the 3.0
 * interface functions in interface.c, the cryptographic functions in
 * crypto.c, the 3.0 additions in v3.c.
 */
#include "core/core.h"
#include "pkcs11/p11_internal.h"

#define APP chsm_core_default_app()

/* lock: none (static data). auth: none. */
CHSM_P11_EXPORT CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    CHSM_P11_REQUIRE_INIT_HERE();
    return chsm_core_GetInfo(pInfo);
}

/* lock: module. auth: none. Size query: pSlotList NULL -> count only. */
CHSM_P11_EXPORT CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
    CHSM_P11_REQUIRE_INIT_HERE();
    return chsm_core_GetSlotList(APP, tokenPresent, pSlotList, pulCount);
}

/* lock: module. auth: none. */
CHSM_P11_EXPORT CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GetSlotInfo(APP, slotID, pInfo);
}

/* lock: token (reads flags and PIN counters). auth: none. */
CHSM_P11_EXPORT CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GetTokenInfo(APP, slotID, pInfo);
}

/*
 * Slot events: the module's slots and tokens never appear or disappear, so
 * there is no event to wait for (base spec 5.5: CKR_FUNCTION_NOT_SUPPORTED).
 */
CHSM_P11_EXPORT CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
    CHSM_UNUSED(flags);
    CHSM_UNUSED(pSlot);
    CHSM_UNUSED(pReserved);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_SUPPORTED;
}

/* lock: none (the mechanism table is constant per config). auth: none. Size query on the list. */
CHSM_P11_EXPORT CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                                         CK_ULONG_PTR pulCount)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GetMechanismList(APP, slotID, pMechanismList, pulCount);
}

/* lock: none. auth: none. */
CHSM_P11_EXPORT CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GetMechanismInfo(APP, slotID, type, pInfo);
}

/* lock: token, exclusive (no session may be open). auth: SO PIN (current one on re-init). */
CHSM_P11_EXPORT CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_InitToken(APP, slotID, pPin, ulPinLen, pLabel);
}

/* lock: token. auth: SO logged in, R/W SO session. */
CHSM_P11_EXPORT CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_InitPIN(APP, hSession, pPin, ulPinLen);
}

/* lock: token. auth: the old PIN of the logged-in user (or user PIN when public R/W session). */
CHSM_P11_EXPORT CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
                               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SetPIN(APP, hSession, pOldPin, ulOldLen, pNewPin, ulNewLen);
}

/* lock: module + token (session counts). auth: none; R/O refused while the SO is logged in (base spec 5.6). */
CHSM_P11_EXPORT CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                                    CK_SESSION_HANDLE_PTR phSession)
{
    CHSM_P11_REQUIRE_INIT_HERE();
    return chsm_core_OpenSession(APP, slotID, flags, pApplication, Notify, phSession);
}

/* lock: module + token (the last close logs the application out). auth: none. */
CHSM_P11_EXPORT CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_CloseSession(APP, hSession);
}

/* lock: module + token. auth: none. */
CHSM_P11_EXPORT CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_CloseAllSessions(APP, slotID);
}

/* lock: session. auth: none. */
CHSM_P11_EXPORT CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GetSessionInfo(APP, hSession, pInfo);
}

/*
 * Saving and restoring operation state would export the running state of
 * cryptographic contexts (key schedules included) to the caller; the module
 * does not offer it (base spec 5.6: CKR_FUNCTION_NOT_SUPPORTED).
 */
CHSM_P11_EXPORT CK_RV C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                                          CK_ULONG_PTR pulOperationStateLen)
{
    CHSM_UNUSED(hSession);
    CHSM_UNUSED(pOperationState);
    CHSM_UNUSED(pulOperationStateLen);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CHSM_P11_EXPORT CK_RV C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                                          CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
                                          CK_OBJECT_HANDLE hAuthenticationKey)
{
    CHSM_UNUSED(hSession);
    CHSM_UNUSED(pOperationState);
    CHSM_UNUSED(ulOperationStateLen);
    CHSM_UNUSED(hEncryptionKey);
    CHSM_UNUSED(hAuthenticationKey);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_SUPPORTED;
}

/* lock: token (PIN check, failed-login counter). auth: the PIN being presented. */
CHSM_P11_EXPORT CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
                              CK_ULONG ulPinLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_Login(APP, hSession, userType, pPin, ulPinLen);
}

/* lock: token. auth: someone logged in. Ends every session's operations that need the login. */
CHSM_P11_EXPORT CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_Logout(APP, hSession);
}

/* lock: token for token objects, session for session objects. auth: user for private/token objects in R/W. */
CHSM_P11_EXPORT CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                                     CK_OBJECT_HANDLE_PTR phObject)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_CreateObject(APP, hSession, pTemplate, ulCount, phObject);
}

/* lock: token. auth: per-object; CKA_COPYABLE honoured. */
CHSM_P11_EXPORT CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_CopyObject(APP, hSession, hObject, pTemplate, ulCount, phNewObject);
}

/* lock: token. auth: per-object; CKA_DESTROYABLE honoured; token objects need a R/W session. */
CHSM_P11_EXPORT CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DestroyObject(APP, hSession, hObject);
}

/* lock: token (read). auth: per-object. */
CHSM_P11_EXPORT CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GetObjectSize(APP, hSession, hObject, pulSize);
}

/*
 * lock: token (read). auth: per-object; sensitive values answer
 * CK_UNAVAILABLE_INFORMATION. Per-attribute size query (pValue NULL).
 */
CHSM_P11_EXPORT CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GetAttributeValue(APP, hSession, hObject, pTemplate, ulCount);
}

/* lock: token. auth: per-object; CKA_MODIFIABLE and the one-way latches honoured. */
CHSM_P11_EXPORT CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SetAttributeValue(APP, hSession, hObject, pTemplate, ulCount);
}

/* lock: session (+ token read for the snapshot). auth: private objects visible only to the user. */
CHSM_P11_EXPORT CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_FindObjectsInit(APP, hSession, pTemplate, ulCount);
}

/* lock: session. auth: as at FindObjectsInit. */
CHSM_P11_EXPORT CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_FindObjects(APP, hSession, phObject, ulMaxObjectCount, pulObjectCount);
}

/* lock: session. auth: none. */
CHSM_P11_EXPORT CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_FindObjectsFinal(APP, hSession);
}
