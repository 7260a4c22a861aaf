/*
 * The PKCS#11 entry points for cryptographic operations, key management and
 * random numbers (base spec 3.0, 5.8-5.18), plus the legacy functions the
 * module does not offer. Same shape as pkcs11.c: policy comment, init check,
 * core call. Every operation runs under the session's lock only, so two
 * sessions work in parallel; the key object is read under the token lock
 * at *Init. Auth: keys with CKA_PRIVATE need the user logged in; keys with
 * CKA_ALWAYS_AUTHENTICATE need CKU_CONTEXT_SPECIFIC after the *Init.
 * Single-part calls and *Final follow the size-query convention (NULL output
 * -> length only, short buffer -> CKR_BUFFER_TOO_SMALL, operation kept).
 */
#include "core/core.h"
#include "pkcs11/p11_internal.h"

#define APP chsm_core_default_app()

/* ---- encryption (5.8) and decryption (5.9): lock session; auth per key ---- */
CHSM_P11_EXPORT CK_RV C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_EncryptInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_Encrypt(APP, hSession, pData, ulDataLen, pEncryptedData, pulEncryptedDataLen);
}

CHSM_P11_EXPORT CK_RV C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                                      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_EncryptUpdate(APP, hSession, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
}

CHSM_P11_EXPORT CK_RV C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                                     CK_ULONG_PTR pulLastEncryptedPartLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_EncryptFinal(APP, hSession, pLastEncryptedPart, pulLastEncryptedPartLen);
}

CHSM_P11_EXPORT CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DecryptInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_Decrypt(APP, hSession, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen);
}

CHSM_P11_EXPORT CK_RV C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                                      CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DecryptUpdate(APP, hSession, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
}

CHSM_P11_EXPORT CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DecryptFinal(APP, hSession, pLastPart, pulLastPartLen);
}

/* ---- message digesting (5.10): lock session; auth none (DigestKey: per key) ---- */
CHSM_P11_EXPORT CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DigestInit(APP, hSession, pMechanism);
}

CHSM_P11_EXPORT CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                               CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_Digest(APP, hSession, pData, ulDataLen, pDigest, pulDigestLen);
}

CHSM_P11_EXPORT CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DigestUpdate(APP, hSession, pPart, ulPartLen);
}

CHSM_P11_EXPORT CK_RV C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DigestKey(APP, hSession, hKey);
}

CHSM_P11_EXPORT CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DigestFinal(APP, hSession, pDigest, pulDigestLen);
}

/* ---- signing and MACing (5.11), verifying (5.12): lock session; auth per key ---- */
CHSM_P11_EXPORT CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SignInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                             CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_Sign(APP, hSession, pData, ulDataLen, pSignature, pulSignatureLen);
}

CHSM_P11_EXPORT CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SignUpdate(APP, hSession, pPart, ulPartLen);
}

CHSM_P11_EXPORT CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SignFinal(APP, hSession, pSignature, pulSignatureLen);
}

CHSM_P11_EXPORT CK_RV C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                        CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SignRecoverInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SignRecover(APP, hSession, pData, ulDataLen, pSignature, pulSignatureLen);
}

CHSM_P11_EXPORT CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_VerifyInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                               CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_Verify(APP, hSession, pData, ulDataLen, pSignature, ulSignatureLen);
}

CHSM_P11_EXPORT CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_VerifyUpdate(APP, hSession, pPart, ulPartLen);
}

CHSM_P11_EXPORT CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_VerifyFinal(APP, hSession, pSignature, ulSignatureLen);
}

CHSM_P11_EXPORT CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                          CK_OBJECT_HANDLE hKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_VerifyRecoverInit(APP, hSession, pMechanism, hKey);
}

CHSM_P11_EXPORT CK_RV C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen,
                                      CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_VerifyRecover(APP, hSession, pSignature, ulSignatureLen, pData, pulDataLen);
}

/*
 * ---- dual-function operations (5.13) ----
 * Not offered: each would interleave two session operations on one call,
 * and consumers use the separate calls. CKR_FUNCTION_NOT_SUPPORTED.
 */
CHSM_P11_EXPORT CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                                            CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pPart), CHSM_UNUSED(ulPartLen);
    CHSM_UNUSED(pEncryptedPart), CHSM_UNUSED(pulEncryptedPartLen);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CHSM_P11_EXPORT CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pEncryptedPart), CHSM_UNUSED(ulEncryptedPartLen);
    CHSM_UNUSED(pPart), CHSM_UNUSED(pulPartLen);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CHSM_P11_EXPORT CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                                          CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pPart), CHSM_UNUSED(ulPartLen);
    CHSM_UNUSED(pEncryptedPart), CHSM_UNUSED(pulEncryptedPartLen);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CHSM_P11_EXPORT CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    CHSM_UNUSED(hSession), CHSM_UNUSED(pEncryptedPart), CHSM_UNUSED(ulEncryptedPartLen);
    CHSM_UNUSED(pPart), CHSM_UNUSED(pulPartLen);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---- key management (5.14): lock token (new objects) + session; auth user for private/token keys ---- */
CHSM_P11_EXPORT CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GenerateKey(APP, hSession, pMechanism, pTemplate, ulCount, phKey);
}

CHSM_P11_EXPORT CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                        CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                                        CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                                        CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GenerateKeyPair(APP, hSession, pMechanism, pPublicKeyTemplate, ulPublicKeyAttributeCount,
                                     pPrivateKeyTemplate, ulPrivateKeyAttributeCount, phPublicKey, phPrivateKey);
}

/* Size query on the wrapped key. */
CHSM_P11_EXPORT CK_RV C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                                CK_ULONG_PTR pulWrappedKeyLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_WrapKey(APP, hSession, pMechanism, hWrappingKey, hKey, pWrappedKey, pulWrappedKeyLen);
}

CHSM_P11_EXPORT CK_RV C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                  CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
                                  CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_UnwrapKey(APP, hSession, pMechanism, hUnwrappingKey, pWrappedKey, ulWrappedKeyLen, pTemplate,
                               ulAttributeCount, phKey);
}

CHSM_P11_EXPORT CK_RV C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                  CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                                  CK_OBJECT_HANDLE_PTR phKey)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_DeriveKey(APP, hSession, pMechanism, hBaseKey, pTemplate, ulAttributeCount, phKey);
}

/* ---- random numbers (5.15): lock the module DRBG; auth none ---- */
CHSM_P11_EXPORT CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_SeedRandom(APP, hSession, pSeed, ulSeedLen);
}

CHSM_P11_EXPORT CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
    CHSM_P11_REQUIRE_INIT();
    return chsm_core_GenerateRandom(APP, hSession, RandomData, ulRandomLen);
}

/*
 * ---- parallel function management (5.16) ----
 * Legacy: functions never run in parallel with the caller, so the spec's
 * answer is CKR_FUNCTION_NOT_PARALLEL for both.
 */
CHSM_P11_EXPORT CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
    CHSM_UNUSED(hSession);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_PARALLEL;
}

CHSM_P11_EXPORT CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
    CHSM_UNUSED(hSession);
    CHSM_P11_REQUIRE_INIT();
    return CKR_FUNCTION_NOT_PARALLEL;
}
