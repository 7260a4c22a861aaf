/*
 * The PKCS#11 mirror of the key-using operations: thin wrappers over the op
 * framework (op.c). Which mechanisms work is decided by the table (mech.c).
 */
#include "core/internal.h"

#define INIT(Op, KIND)                                                                                       \
    CK_RV chsm_core_##Op##Init(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, \
                               CK_OBJECT_HANDLE hKey)                                                        \
    {                                                                                                        \
        return chsm_op_init(app, hSession, KIND, pMechanism, hKey, true);                                    \
    }
INIT(Encrypt, CHSM_OP_ENCRYPT)
INIT(Decrypt, CHSM_OP_DECRYPT)
INIT(Sign, CHSM_OP_SIGN)
INIT(SignRecover, CHSM_OP_SIGN_RECOVER)
INIT(Verify, CHSM_OP_VERIFY)
INIT(VerifyRecover, CHSM_OP_VERIFY_RECOVER)

CK_RV chsm_core_Encrypt(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                        CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
    if (pulEncryptedDataLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_ENCRYPT, CHSM_STEP_ONESHOT, pData, ulDataLen, pEncryptedData,
                        pulEncryptedDataLen);
}

CK_RV chsm_core_EncryptUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                              CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    if (pulEncryptedPartLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_ENCRYPT, CHSM_STEP_UPDATE, pPart, ulPartLen, pEncryptedPart,
                        pulEncryptedPartLen);
}

CK_RV chsm_core_EncryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                             CK_ULONG_PTR pulLastEncryptedPartLen)
{
    if (pulLastEncryptedPartLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_ENCRYPT, CHSM_STEP_FINAL, NULL, 0, pLastEncryptedPart,
                        pulLastEncryptedPartLen);
}

CK_RV chsm_core_Decrypt(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
                        CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    if (pulDataLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_DECRYPT, CHSM_STEP_ONESHOT, pEncryptedData, ulEncryptedDataLen, pData,
                        pulDataLen);
}

CK_RV chsm_core_DecryptUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                              CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    if (pulPartLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_DECRYPT, CHSM_STEP_UPDATE, pEncryptedPart, ulEncryptedPartLen, pPart,
                        pulPartLen);
}

CK_RV chsm_core_DecryptFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
                             CK_ULONG_PTR pulLastPartLen)
{
    if (pulLastPartLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_DECRYPT, CHSM_STEP_FINAL, NULL, 0, pLastPart, pulLastPartLen);
}

CK_RV chsm_core_Sign(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                     CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    if (pulSignatureLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_SIGN, CHSM_STEP_ONESHOT, pData, ulDataLen, pSignature,
                        pulSignatureLen);
}

CK_RV chsm_core_SignUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return chsm_op_step(app, hSession, CHSM_OP_SIGN, CHSM_STEP_UPDATE, pPart, ulPartLen, NULL, NULL);
}

CK_RV chsm_core_SignFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
                          CK_ULONG_PTR pulSignatureLen)
{
    if (pulSignatureLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_SIGN, CHSM_STEP_FINAL, NULL, 0, pSignature, pulSignatureLen);
}

CK_RV chsm_core_SignRecover(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                            CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    if (pulSignatureLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_SIGN_RECOVER, CHSM_STEP_ONESHOT, pData, ulDataLen, pSignature,
                        pulSignatureLen);
}

CK_RV chsm_core_Verify(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                       CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    return chsm_op_verify(app, hSession, CHSM_OP_VERIFY, true, pData, ulDataLen, pSignature, ulSignatureLen);
}

CK_RV chsm_core_VerifyUpdate(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return chsm_op_step(app, hSession, CHSM_OP_VERIFY, CHSM_STEP_UPDATE, pPart, ulPartLen, NULL, NULL);
}

CK_RV chsm_core_VerifyFinal(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
                            CK_ULONG ulSignatureLen)
{
    return chsm_op_verify(app, hSession, CHSM_OP_VERIFY, false, NULL, 0, pSignature, ulSignatureLen);
}

CK_RV chsm_core_VerifyRecover(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
                              CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    if (pulDataLen == NULL)
        return CKR_ARGUMENTS_BAD;
    return chsm_op_step(app, hSession, CHSM_OP_VERIFY_RECOVER, CHSM_STEP_ONESHOT, pSignature, ulSignatureLen, pData,
                        pulDataLen);
}
