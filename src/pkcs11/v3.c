/*
 * The PKCS#11 3.0 additions (base spec 3.0, 5.4.5-5.19): C_LoginUser,
 * C_SessionCancel and the message-based functions.
 *
 * Message-based encryption and decryption (5.19, 5.20) are offered for
 * CKM_AES_GCM with a CK_GCM_MESSAGE_PARAMS per message, including IVs the
 * module generates (CKG_GENERATE, CKG_GENERATE_RANDOM, CKG_GENERATE_COUNTER)
 * and multi-part messages; the core does all checking (src/core/msgcrypt*.c,
 * docs/pkcs11.md). Lock: session. Auth: per key, as C_EncryptInit.
 *
 * Message-based signing and verification (5.21, 5.22: C_MessageSignInit ..
 * C_MessageVerifyFinal) are not offered; the spec prescribes
 * CKR_FUNCTION_NOT_SUPPORTED for a function a library does not support,
 * and consumers fall back to C_Sign/C_Verify. Each still checks that the
 * module is initialised first, like every other entry point.
 */
#include "core/core.h"
#include "pkcs11/p11_internal.h"

#define APP chsm_core_default_app()

/* lock: token. auth: the PIN presented; the module has no named users (username must be absent). */
CHSM_P11_EXPORT CK_RV C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
                                  CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_LoginUser(APP, hSession, userType, pPin, ulPinLen, pUsername, ulUsernameLen);
}

/* lock: session. auth: none. Ends the operations named by flags (CKF_ENCRYPT, CKF_SIGN, ...). */
CHSM_P11_EXPORT CK_RV C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SessionCancel(APP, hSession, flags);
}

/* The unsupported message sign/verify API: one body, the spec's code. */
#define CHSM_P11_NOT_SUPPORTED()                                                                             \
    do {                                                                                                     \
        CHSM_P11_REQUIRE_INIT();                                                                             \
        return CKR_FUNCTION_NOT_SUPPORTED;                                                                   \
    } while (0)

/* Message encryption (5.19) and decryption (5.20). lock: session. auth: per key, as C_EncryptInit. */
CHSM_P11_EXPORT CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                           CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_MessageEncryptInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_EncryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                       CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                                       CK_BYTE_PTR pPlaintext, CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext,
                                       CK_ULONG_PTR pulCiphertextLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_EncryptMessage(APP, hSession, pParameter, ulParameterLen, pAssociatedData,
                                    ulAssociatedDataLen, pPlaintext, ulPlaintextLen, pCiphertext, pulCiphertextLen);
}

CHSM_P11_EXPORT CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                            CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                            CK_ULONG ulAssociatedDataLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_EncryptMessageBegin(APP, hSession, pParameter, ulParameterLen, pAssociatedData,
                                         ulAssociatedDataLen);
}

CHSM_P11_EXPORT CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                           CK_ULONG ulParameterLen, CK_BYTE_PTR pPlaintextPart,
                                           CK_ULONG ulPlaintextPartLen, CK_BYTE_PTR pCiphertextPart,
                                           CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_EncryptMessageNext(APP, hSession, pParameter, ulParameterLen, pPlaintextPart,
                                        ulPlaintextPartLen, pCiphertextPart, pulCiphertextPartLen, flags);
}

CHSM_P11_EXPORT CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE hSession)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_MessageEncryptFinal(APP, hSession);
}

CHSM_P11_EXPORT CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                           CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_MessageDecryptInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_DecryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                       CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                                       CK_BYTE_PTR pCiphertext, CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext,
                                       CK_ULONG_PTR pulPlaintextLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DecryptMessage(APP, hSession, pParameter, ulParameterLen, pAssociatedData,
                                    ulAssociatedDataLen, pCiphertext, ulCiphertextLen, pPlaintext, pulPlaintextLen);
}

CHSM_P11_EXPORT CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                            CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                            CK_ULONG ulAssociatedDataLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DecryptMessageBegin(APP, hSession, pParameter, ulParameterLen, pAssociatedData,
                                         ulAssociatedDataLen);
}

CHSM_P11_EXPORT CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                           CK_ULONG ulParameterLen, CK_BYTE_PTR pCiphertextPart,
                                           CK_ULONG ulCiphertextPartLen, CK_BYTE_PTR pPlaintextPart,
                                           CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DecryptMessageNext(APP, hSession, pParameter, ulParameterLen, pCiphertextPart,
                                        ulCiphertextPartLen, pPlaintextPart, pulPlaintextPartLen, flags);
}

CHSM_P11_EXPORT CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE hSession)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_MessageDecryptFinal(APP, hSession);
}

CHSM_P11_EXPORT CK_RV C_MessageSignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                        CK_OBJECT_HANDLE hKey)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pMechanism), CHSM_UNUSED(hKey);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_SignMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                    CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                                    CK_ULONG_PTR pulSignatureLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pParameter), CHSM_UNUSED(ulParameterLen), CHSM_UNUSED(pData);
    CHSM_UNUSED(ulDataLen), CHSM_UNUSED(pSignature), CHSM_UNUSED(pulSignatureLen);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_SignMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                         CK_ULONG ulParameterLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pParameter), CHSM_UNUSED(ulParameterLen);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_SignMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                        CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                                        CK_ULONG_PTR pulSignatureLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pParameter), CHSM_UNUSED(ulParameterLen), CHSM_UNUSED(pData);
    CHSM_UNUSED(ulDataLen), CHSM_UNUSED(pSignature), CHSM_UNUSED(pulSignatureLen);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_MessageSignFinal(CK_SESSION_HANDLE hSession)
{
    CHSM_UNUSED(hSession);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                          CK_OBJECT_HANDLE hKey)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pMechanism), CHSM_UNUSED(hKey);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_VerifyMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                      CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                                      CK_ULONG ulSignatureLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pParameter), CHSM_UNUSED(ulParameterLen), CHSM_UNUSED(pData);
    CHSM_UNUSED(ulDataLen), CHSM_UNUSED(pSignature), CHSM_UNUSED(ulSignatureLen);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                           CK_ULONG ulParameterLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pParameter), CHSM_UNUSED(ulParameterLen);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                          CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                          CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pParameter), CHSM_UNUSED(ulParameterLen), CHSM_UNUSED(pData);
    CHSM_UNUSED(ulDataLen), CHSM_UNUSED(pSignature), CHSM_UNUSED(ulSignatureLen);
    CHSM_P11_NOT_SUPPORTED();
}

CHSM_P11_EXPORT CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE hSession)
{
    CHSM_UNUSED(hSession);
    CHSM_P11_NOT_SUPPORTED();
}
