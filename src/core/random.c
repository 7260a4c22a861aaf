/* C_GenerateRandom / C_SeedRandom over the SP 800-90A DRBG of src/crypto. */
#include "core/internal.h"

CK_RV chsm_core_SeedRandom(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pSeed != NULL || ulSeedLen == 0, CKR_ARGUMENTS_BAD);
    /* Caller bytes are additional input only; they never replace the OS entropy. */
    CHSM_GUARD(chsm_rand_seed(pSeed, ulSeedLen));
out:
    chsm_session_put(s);
    return rv;
}

CK_RV chsm_core_GenerateRandom(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData,
                               CK_ULONG ulRandomLen)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(RandomData != NULL || ulRandomLen == 0, CKR_ARGUMENTS_BAD);
    if (ulRandomLen > 0)
        CHSM_GUARD(chsm_rand_bytes(RandomData, ulRandomLen));
out:
    chsm_session_put(s);
    return rv;
}
