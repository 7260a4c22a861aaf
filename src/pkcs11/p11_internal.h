/*
 * Private to the PKCS#11 boundary (src/pkcs11): module lifetime state and
 * the prototypes of the 3.0 entry points p11-kit's 2.40 header lacks.
 *
 * The boundary holds no business logic. Its only state is "is the module
 * initialised in this process", kept here so a forked child answers
 * CKR_CRYPTOKI_NOT_INITIALIZED (base spec 3.0, 5.4 / conventions) until it
 * calls C_Initialize itself. Everything else is the core's (src/core/core.h).
 */
#ifndef CHSM_PKCS11_P11_INTERNAL_H
#define CHSM_PKCS11_P11_INTERNAL_H

#include <stdbool.h>

#include "common/result.h"

/* Every symbol the module exports carries this; the rest of the library is hidden. */
#define CHSM_P11_EXPORT __attribute__((visibility("default")))

/*
 * True when C_Initialize succeeded in this process and C_Finalize has not
 * run since. One relaxed atomic load: cheap enough for every call.
 */
bool chsm_p11_ready(void);

/* The prologue of every entry point that needs an initialised module. */
#define CHSM_P11_REQUIRE_INIT()                                                                              \
    do {                                                                                                     \
        if (!chsm_p11_ready())                                                                               \
            return CKR_CRYPTOKI_NOT_INITIALIZED;                                                             \
    } while (0)

/*
 * The same plus a getpid() comparison, for the entry points an application
 * reaches first after a fork (GetInfo, GetSlotList, OpenSession...). It
 * catches children created without running pthread_atfork handlers (raw
 * clone, vfork+exec failures); the atfork handler catches fork(). Kept off
 * the per-operation paths because getpid() is a system call.
 */
bool chsm_p11_ready_here(void);
#define CHSM_P11_REQUIRE_INIT_HERE()                                                                         \
    do {                                                                                                     \
        if (!chsm_p11_ready_here())                                                                          \
            return CKR_CRYPTOKI_NOT_INITIALIZED;                                                             \
    } while (0)

/* The static function tables (interface.c). */
extern CK_FUNCTION_LIST chsm_p11_functions_240;
extern CK_FUNCTION_LIST_3_0 chsm_p11_functions_30;

/* 3.0 entry points (base spec 3.0, 5.x); p11-kit's header declares only 2.40's. */
CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion, CK_INTERFACE_PTR_PTR ppInterface,
                     CK_FLAGS flags);
CK_RV C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen);
CK_RV C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags);
CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV C_EncryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                       CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pPlaintext,
                       CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext, CK_ULONG_PTR pulCiphertextLen);
CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                            CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen);
CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                           CK_BYTE_PTR pPlaintextPart, CK_ULONG ulPlaintextPartLen, CK_BYTE_PTR pCiphertextPart,
                           CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags);
CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE hSession);
CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV C_DecryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                       CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pCiphertext,
                       CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext, CK_ULONG_PTR pulPlaintextLen);
CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                            CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen);
CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                           CK_BYTE_PTR pCiphertextPart, CK_ULONG ulCiphertextPartLen, CK_BYTE_PTR pPlaintextPart,
                           CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags);
CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE hSession);
CK_RV C_MessageSignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV C_SignMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen, CK_BYTE_PTR pData,
                    CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);
CK_RV C_SignMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen);
CK_RV C_SignMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                        CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);
CK_RV C_MessageSignFinal(CK_SESSION_HANDLE hSession);
CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV C_VerifyMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                      CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);
CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen);
CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                          CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);
CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE hSession);

#endif
