/*
 * The core API: everything a front end (the PKCS#11 boundary, craton-hsmd,
 * craton-hsm-admin) may call. All behaviour lives behind it.
 *
 * Applications. PKCS#11 ties login state to an application (base spec 5.5:
 * all sessions of an application share one login state per token). The
 * module is one application (chsm_core_default_app). The daemon creates one
 * struct chsm_app per client identity, so one client's login never
 * authenticates another client's sessions, and a session handle opened by
 * one app is CKR_SESSION_HANDLE_INVALID for every other app. Handles are
 * unique across the whole process and never reused within a core lifetime.
 *
 * Every chsm_core_<F> mirrors the PKCS#11 function C_<F> (same arguments,
 * same return codes, same buffer-size query convention) with the calling
 * application first. The PKCS#11 boundary (src/pkcs11) validates nothing
 * beyond the core: the core does the full argument checking, so the daemon
 * and the CLI get the same checks.
 */
#ifndef CHSM_CORE_CORE_H
#define CHSM_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"
#include "config/config.h"

struct chsm_app;

struct chsm_core_options {
    const char *config_path;   /* NULL: CRATON_HSM_CONFIG, ./craton_hsm.toml, defaults */
    const struct chsm_config *config; /* if non-NULL, used instead of loading (copied) */
    bool exclusive_store_lock; /* daemon: hold the store's advisory lock while running */
    const char *actor;         /* audit actor for the default app (NULL: "pid:<pid>") */
    bool no_threads;           /* CKF_LIBRARY_CANT_CREATE_OS_THREADS: create no threads (audit flushes inline) */
};

/*
 * Bring the core up: load and validate the config, run the power-on
 * self-tests (each logged with "self-test"), open the store and the audit
 * log. CKR_CRYPTOKI_ALREADY_INITIALIZED when already up.
 */
CHSM_MUST_CHECK CK_RV chsm_core_initialize(const struct chsm_core_options *opts);
CHSM_MUST_CHECK CK_RV chsm_core_finalize(void);
bool chsm_core_is_initialized(void);
/*
 * In a forked child (called by the PKCS#11 layer's fork detection): drop all state
 * without touching resources the parent still uses (the store handle is leaked on
 * purpose). Afterwards every call returns CKR_CRYPTOKI_NOT_INITIALIZED.
 */
void chsm_core_forget_after_fork(void);
/* The loaded configuration (valid between initialize and finalize). */
const struct chsm_config *chsm_core_config(void);

struct chsm_app *chsm_core_default_app(void);
/* A new application context (daemon: one per client identity). actor names it in the audit log. */
CHSM_MUST_CHECK CK_RV chsm_app_new(const char *actor, struct chsm_app **out);
/* Close every session of the app and forget its login state. */
void chsm_app_free(struct chsm_app *app);

/* ---- status for admin/daemon ---- */
struct chsm_core_status {
    bool selftests_passed;
    uint32_t selftests_run;
    char store_path[512];
    bool store_volatile;
    uint32_t store_format_version;
    bool store_lock_held_by_us;
    uint64_t audit_seq;
    char audit_head[65];
};
CHSM_MUST_CHECK CK_RV chsm_core_get_status(struct chsm_core_status *out);

/* Mechanism name for logs/audit/CLI ("CKM_ECDSA_SHA256"), or "CKM_0x...". */
const char *chsm_mech_name(CK_MECHANISM_TYPE mech);
/* Reverse lookup; false if unknown. */
bool chsm_mech_from_name(const char *name, CK_MECHANISM_TYPE *out);

/* ---- PKCS#11 mirror ---- */
CHSM_MUST_CHECK CK_RV chsm_core_GetInfo(CK_INFO_PTR pInfo);
CHSM_MUST_CHECK CK_RV chsm_core_GetSlotList(struct chsm_app *app, CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList,
                                            CK_ULONG_PTR pulCount);
CHSM_MUST_CHECK CK_RV chsm_core_GetSlotInfo(struct chsm_app *app, CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo);
CHSM_MUST_CHECK CK_RV chsm_core_GetTokenInfo(struct chsm_app *app, CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo);
CHSM_MUST_CHECK CK_RV chsm_core_GetMechanismList(struct chsm_app *app, CK_SLOT_ID slotID,
                                                 CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount);
CHSM_MUST_CHECK CK_RV chsm_core_GetMechanismInfo(struct chsm_app *app, CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
                                                 CK_MECHANISM_INFO_PTR pInfo);
CHSM_MUST_CHECK CK_RV chsm_core_InitToken(struct chsm_app *app, CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin,
                                          CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel);
CHSM_MUST_CHECK CK_RV chsm_core_InitPIN(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin,
                                        CK_ULONG ulPinLen);
CHSM_MUST_CHECK CK_RV chsm_core_SetPIN(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
                                       CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen);
CHSM_MUST_CHECK CK_RV chsm_core_OpenSession(struct chsm_app *app, CK_SLOT_ID slotID, CK_FLAGS flags,
                                            CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                                            CK_SESSION_HANDLE_PTR phSession);
CHSM_MUST_CHECK CK_RV chsm_core_CloseSession(struct chsm_app *app, CK_SESSION_HANDLE hSession);
CHSM_MUST_CHECK CK_RV chsm_core_CloseAllSessions(struct chsm_app *app, CK_SLOT_ID slotID);
CHSM_MUST_CHECK CK_RV chsm_core_GetSessionInfo(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                               CK_SESSION_INFO_PTR pInfo);
CHSM_MUST_CHECK CK_RV chsm_core_Login(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                                      CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen);
CHSM_MUST_CHECK CK_RV chsm_core_Logout(struct chsm_app *app, CK_SESSION_HANDLE hSession);
CHSM_MUST_CHECK CK_RV chsm_core_CreateObject(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                             CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                                             CK_OBJECT_HANDLE_PTR phObject);
CHSM_MUST_CHECK CK_RV chsm_core_CopyObject(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                           CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                                           CK_OBJECT_HANDLE_PTR phNewObject);
CHSM_MUST_CHECK CK_RV chsm_core_DestroyObject(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                              CK_OBJECT_HANDLE hObject);
CHSM_MUST_CHECK CK_RV chsm_core_GetObjectSize(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                              CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize);
CHSM_MUST_CHECK CK_RV chsm_core_GetAttributeValue(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                  CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                                                  CK_ULONG ulCount);
CHSM_MUST_CHECK CK_RV chsm_core_SetAttributeValue(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                  CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                                                  CK_ULONG ulCount);
CHSM_MUST_CHECK CK_RV chsm_core_FindObjectsInit(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CHSM_MUST_CHECK CK_RV chsm_core_FindObjects(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                            CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
                                            CK_ULONG_PTR pulObjectCount);
CHSM_MUST_CHECK CK_RV chsm_core_FindObjectsFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession);

#define CHSM_CORE_CRYPT_DECL(Op)                                                                             \
    CHSM_MUST_CHECK CK_RV chsm_core_##Op##Init(struct chsm_app *app, CK_SESSION_HANDLE hSession,             \
                                               CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CHSM_CORE_CRYPT_DECL(Encrypt)
CHSM_CORE_CRYPT_DECL(Decrypt)
CHSM_CORE_CRYPT_DECL(Sign)
CHSM_CORE_CRYPT_DECL(SignRecover)
CHSM_CORE_CRYPT_DECL(Verify)
CHSM_CORE_CRYPT_DECL(VerifyRecover)
#undef CHSM_CORE_CRYPT_DECL

CHSM_MUST_CHECK CK_RV chsm_core_Encrypt(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
                                        CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData,
                                        CK_ULONG_PTR pulEncryptedDataLen);
CHSM_MUST_CHECK CK_RV chsm_core_EncryptUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
                                              CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
                                              CK_ULONG_PTR pulEncryptedPartLen);
CHSM_MUST_CHECK CK_RV chsm_core_EncryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                             CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen);
CHSM_MUST_CHECK CK_RV chsm_core_Decrypt(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
                                        CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen);
CHSM_MUST_CHECK CK_RV chsm_core_DecryptUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                              CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                                              CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen);
CHSM_MUST_CHECK CK_RV chsm_core_DecryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                             CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen);
/* PKCS#11 3.0 message-based encryption (CKM_AES_GCM with CK_GCM_MESSAGE_PARAMS; msgcrypt*.c). */
CHSM_MUST_CHECK CK_RV chsm_core_MessageEncryptInit(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                   CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CHSM_MUST_CHECK CK_RV chsm_core_EncryptMessage(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                               CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                               CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                                               CK_BYTE_PTR pPlaintext, CK_ULONG ulPlaintextLen,
                                               CK_BYTE_PTR pCiphertext, CK_ULONG_PTR pulCiphertextLen);
CHSM_MUST_CHECK CK_RV chsm_core_EncryptMessageBegin(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                    CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                                    CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen);
CHSM_MUST_CHECK CK_RV chsm_core_EncryptMessageNext(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                   CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                                   CK_BYTE_PTR pPlaintextPart, CK_ULONG ulPlaintextPartLen,
                                                   CK_BYTE_PTR pCiphertextPart, CK_ULONG_PTR pulCiphertextPartLen,
                                                   CK_FLAGS flags);
CHSM_MUST_CHECK CK_RV chsm_core_MessageEncryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession);
CHSM_MUST_CHECK CK_RV chsm_core_MessageDecryptInit(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                   CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CHSM_MUST_CHECK CK_RV chsm_core_DecryptMessage(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                               CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                               CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen,
                                               CK_BYTE_PTR pCiphertext, CK_ULONG ulCiphertextLen,
                                               CK_BYTE_PTR pPlaintext, CK_ULONG_PTR pulPlaintextLen);
CHSM_MUST_CHECK CK_RV chsm_core_DecryptMessageBegin(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                    CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                                    CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen);
CHSM_MUST_CHECK CK_RV chsm_core_DecryptMessageNext(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                   CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
                                                   CK_BYTE_PTR pCiphertextPart, CK_ULONG ulCiphertextPartLen,
                                                   CK_BYTE_PTR pPlaintextPart, CK_ULONG_PTR pulPlaintextPartLen,
                                                   CK_FLAGS flags);
CHSM_MUST_CHECK CK_RV chsm_core_MessageDecryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession);
CHSM_MUST_CHECK CK_RV chsm_core_DigestInit(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                           CK_MECHANISM_PTR pMechanism);
CHSM_MUST_CHECK CK_RV chsm_core_Digest(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
                                       CK_ULONG ulDataLen, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen);
CHSM_MUST_CHECK CK_RV chsm_core_DigestUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
                                             CK_ULONG ulPartLen);
CHSM_MUST_CHECK CK_RV chsm_core_DigestKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey);
CHSM_MUST_CHECK CK_RV chsm_core_DigestFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest,
                                            CK_ULONG_PTR pulDigestLen);
CHSM_MUST_CHECK CK_RV chsm_core_Sign(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
                                     CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);
CHSM_MUST_CHECK CK_RV chsm_core_SignUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
                                           CK_ULONG ulPartLen);
CHSM_MUST_CHECK CK_RV chsm_core_SignFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
                                          CK_ULONG_PTR pulSignatureLen);
CHSM_MUST_CHECK CK_RV chsm_core_SignRecover(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
                                            CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                                            CK_ULONG_PTR pulSignatureLen);
CHSM_MUST_CHECK CK_RV chsm_core_Verify(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
                                       CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);
CHSM_MUST_CHECK CK_RV chsm_core_VerifyUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
                                             CK_ULONG ulPartLen);
CHSM_MUST_CHECK CK_RV chsm_core_VerifyFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                            CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);
CHSM_MUST_CHECK CK_RV chsm_core_VerifyRecover(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                              CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen, CK_BYTE_PTR pData,
                                              CK_ULONG_PTR pulDataLen);
CHSM_MUST_CHECK CK_RV chsm_core_GenerateKey(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                            CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pTemplate,
                                            CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey);
CHSM_MUST_CHECK CK_RV chsm_core_GenerateKeyPair(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                                CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pPublicKeyTemplate,
                                                CK_ULONG ulPublicKeyAttributeCount,
                                                CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
                                                CK_ULONG ulPrivateKeyAttributeCount,
                                                CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey);
CHSM_MUST_CHECK CK_RV chsm_core_WrapKey(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                        CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hWrappingKey,
                                        CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                                        CK_ULONG_PTR pulWrappedKeyLen);
CHSM_MUST_CHECK CK_RV chsm_core_UnwrapKey(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                          CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hUnwrappingKey,
                                          CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
                                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                                          CK_OBJECT_HANDLE_PTR phKey);
CHSM_MUST_CHECK CK_RV chsm_core_DeriveKey(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                          CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hBaseKey,
                                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                                          CK_OBJECT_HANDLE_PTR phKey);
CHSM_MUST_CHECK CK_RV chsm_core_SeedRandom(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed,
                                           CK_ULONG ulSeedLen);
CHSM_MUST_CHECK CK_RV chsm_core_GenerateRandom(struct chsm_app *app, CK_SESSION_HANDLE hSession,
                                               CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen);
CHSM_MUST_CHECK CK_RV chsm_core_LoginUser(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                                          CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername,
                                          CK_ULONG ulUsernameLen);
CHSM_MUST_CHECK CK_RV chsm_core_SessionCancel(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_FLAGS flags);

#endif
