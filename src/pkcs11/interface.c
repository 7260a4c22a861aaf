/*
 * The function tables and the three ways to reach them: C_GetFunctionList
 * (2.x), C_GetInterfaceList and C_GetInterface (base spec 3.0, 5.4.4-5.4.6).
 * None of them needs C_Initialize; each may be called at any time.
 *
 * C_GetFunctionList returns the 2.40 table: consumers written against 2.x
 * (OpenSC's pkcs11-tool and libp11, PyKCS11, Java SunPKCS11) cast what they
 * get to CK_FUNCTION_LIST and may check version.major == 2, and a 3.0-aware
 * consumer (p11-kit, OpenSC) asks C_GetInterface instead. C_GetInterfaceList
 * offers both "PKCS 11" interfaces, 3.0 first so that C_GetInterface with no
 * name and no version (the "default interface") is 3.0. CKF_INTERFACE_FORK_SAFE
 * is not set: a forked child must call C_Initialize again (docs/pkcs11.md).
 */
#include <string.h>

#include "pkcs11/p11_internal.h"

#define FN(f) .f = f

/* clang-format off */
#define CHSM_P11_FUNCTIONS_240                                                                               \
    FN(C_Initialize), FN(C_Finalize), FN(C_GetInfo), FN(C_GetFunctionList),                  \
    FN(C_GetSlotList), FN(C_GetSlotInfo), FN(C_GetTokenInfo), FN(C_GetMechanismList),        \
    FN(C_GetMechanismInfo), FN(C_InitToken), FN(C_InitPIN), FN(C_SetPIN),                    \
    FN(C_OpenSession), FN(C_CloseSession), FN(C_CloseAllSessions), FN(C_GetSessionInfo),     \
    FN(C_GetOperationState), FN(C_SetOperationState), FN(C_Login), FN(C_Logout),             \
    FN(C_CreateObject), FN(C_CopyObject), FN(C_DestroyObject), FN(C_GetObjectSize),          \
    FN(C_GetAttributeValue), FN(C_SetAttributeValue), FN(C_FindObjectsInit),                     \
    FN(C_FindObjects), FN(C_FindObjectsFinal), FN(C_EncryptInit), FN(C_Encrypt),             \
    FN(C_EncryptUpdate), FN(C_EncryptFinal), FN(C_DecryptInit), FN(C_Decrypt),               \
    FN(C_DecryptUpdate), FN(C_DecryptFinal), FN(C_DigestInit), FN(C_Digest),                 \
    FN(C_DigestUpdate), FN(C_DigestKey), FN(C_DigestFinal), FN(C_SignInit), FN(C_Sign),  \
    FN(C_SignUpdate), FN(C_SignFinal), FN(C_SignRecoverInit), FN(C_SignRecover),             \
    FN(C_VerifyInit), FN(C_Verify), FN(C_VerifyUpdate), FN(C_VerifyFinal),                   \
    FN(C_VerifyRecoverInit), FN(C_VerifyRecover), FN(C_DigestEncryptUpdate),                     \
    FN(C_DecryptDigestUpdate), FN(C_SignEncryptUpdate), FN(C_DecryptVerifyUpdate),               \
    FN(C_GenerateKey), FN(C_GenerateKeyPair), FN(C_WrapKey), FN(C_UnwrapKey),                \
    FN(C_DeriveKey), FN(C_SeedRandom), FN(C_GenerateRandom), FN(C_GetFunctionStatus),        \
    FN(C_CancelFunction), FN(C_WaitForSlotEvent)
/* clang-format on */

CK_FUNCTION_LIST chsm_p11_functions_240 = {
    .version = {2, 40},
    CHSM_P11_FUNCTIONS_240,
};

CK_FUNCTION_LIST_3_0 chsm_p11_functions_30 = {
    .version = {3, 0},
    CHSM_P11_FUNCTIONS_240,
    FN(C_GetInterfaceList), FN(C_GetInterface), FN(C_LoginUser), FN(C_SessionCancel),
    FN(C_MessageEncryptInit), FN(C_EncryptMessage), FN(C_EncryptMessageBegin),
    FN(C_EncryptMessageNext), FN(C_MessageEncryptFinal), FN(C_MessageDecryptInit),
    FN(C_DecryptMessage), FN(C_DecryptMessageBegin), FN(C_DecryptMessageNext),
    FN(C_MessageDecryptFinal), FN(C_MessageSignInit), FN(C_SignMessage), FN(C_SignMessageBegin),
    FN(C_SignMessageNext), FN(C_MessageSignFinal), FN(C_MessageVerifyInit), FN(C_VerifyMessage),
    FN(C_VerifyMessageBegin), FN(C_VerifyMessageNext), FN(C_MessageVerifyFinal),
};

static CK_UTF8CHAR g_iface_name[] = "PKCS 11";

/* Default (first) interface is 3.0; every interface's pFunctionList starts with its CK_VERSION. */
static CK_INTERFACE g_interfaces[] = {
    {g_iface_name, &chsm_p11_functions_30, 0},
    {g_iface_name, &chsm_p11_functions_240, 0},
};

#define IFACE_COUNT ((CK_ULONG)CHSM_ARRAY_LEN(g_interfaces))

/* lock: none (constant data). auth: none. Callable before C_Initialize. */
CHSM_P11_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (ppFunctionList == NULL)
        return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &chsm_p11_functions_240;
    return CKR_OK;
}

/* Base spec 3.0, 5.4.5: size query with pInterfacesList NULL; short list -> CKR_BUFFER_TOO_SMALL. */
CHSM_P11_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
    if (pulCount == NULL)
        return CKR_ARGUMENTS_BAD;
    if (pInterfacesList == NULL) {
        *pulCount = IFACE_COUNT;
        return CKR_OK;
    }
    if (*pulCount < IFACE_COUNT) {
        *pulCount = IFACE_COUNT;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(pInterfacesList, g_interfaces, sizeof(g_interfaces));
    *pulCount = IFACE_COUNT;
    return CKR_OK;
}

static CK_VERSION iface_version(const CK_INTERFACE *iface)
{
    /* Both table types begin with their CK_VERSION. */
    return *(const CK_VERSION *)iface->pFunctionList;
}

static bool iface_matches(const CK_INTERFACE *iface, const CK_UTF8CHAR *name, const CK_VERSION *version,
                          CK_FLAGS flags)
{
    if (name != NULL && strcmp((const char *)name, (const char *)iface->pInterfaceName) != 0)
        return false;
    if (version != NULL) {
        CK_VERSION v = iface_version(iface);
        if (v.major != version->major || v.minor != version->minor)
            return false;
    }
    return (iface->flags & flags) == flags;
}

/*
 * Base spec 3.0, 5.4.6: NULL name -> the default interface (honouring
 * version and flags if given); an unknown name, version or flag set ->
 * CKR_ARGUMENTS_BAD, the only code the spec lists for an unusable request.
 */
CHSM_P11_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
    if (ppInterface == NULL)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < IFACE_COUNT; i++) {
        if (iface_matches(&g_interfaces[i], pInterfaceName, pVersion, flags)) {
            *ppInterface = &g_interfaces[i];
            return CKR_OK;
        }
    }
    return CKR_ARGUMENTS_BAD;
}
