/*
 * Module, slot and token information (base spec 5.4). Slot ids are
 * 0..slot_count-1, fixed by the config and never derived from token state.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

static void pad(CK_UTF8CHAR *dst, size_t n, const char *src)
{
    size_t l = strlen(src);
    memset(dst, ' ', n);
    memcpy(dst, src, l < n ? l : n);
}

static void version(CK_VERSION *v)
{
    unsigned major = 0, minor = 0;
    (void)sscanf(CHSM_VERSION_STRING, "%u.%u", &major, &minor);
    v->major = (CK_BYTE)major;
    v->minor = (CK_BYTE)minor;
}

CK_RV chsm_core_GetInfo(CK_INFO_PTR pInfo)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(pInfo != NULL, CKR_ARGUMENTS_BAD);
    memset(pInfo, 0, sizeof(*pInfo));
    pInfo->cryptokiVersion.major = 3;
    pInfo->cryptokiVersion.minor = 0;
    pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "Craton");
    pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription), "Craton HSM");
    version(&pInfo->libraryVersion);
out:
    return rv;
}

CK_RV chsm_core_GetSlotList(struct chsm_app *app, CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList,
                            CK_ULONG_PTR pulCount)
{
    CK_RV rv = CKR_OK;
    CHSM_UNUSED(tokenPresent); /* every slot always has its (software) token */
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pulCount != NULL, CKR_ARGUMENTS_BAD);
    if (pSlotList != NULL) {
        CK_ULONG have = *pulCount;
        *pulCount = chsm_g.nslots;
        CHSM_ENSURE(have >= chsm_g.nslots, CKR_BUFFER_TOO_SMALL);
        for (uint32_t i = 0; i < chsm_g.nslots; i++)
            pSlotList[i] = i;
    }
    *pulCount = chsm_g.nslots;
out:
    return rv;
}

CK_RV chsm_core_GetSlotInfo(struct chsm_app *app, CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pInfo != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    memset(pInfo, 0, sizeof(*pInfo));
    char desc[64];
    (void)snprintf(desc, sizeof(desc), "Craton HSM slot %u", sl->id);
    pad(pInfo->slotDescription, sizeof(pInfo->slotDescription), desc);
    pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "Craton");
    pInfo->flags = CKF_TOKEN_PRESENT;
    version(&pInfo->hardwareVersion);
    version(&pInfo->firmwareVersion);
out:
    return rv;
}

/* CKF_*_PIN_COUNT_LOW / FINAL_TRY / LOCKED from a failure counter (fresh from the store). */
static CK_FLAGS pin_flags(uint32_t failed, uint32_t max, CK_FLAGS low, CK_FLAGS final, CK_FLAGS locked)
{
    if (failed >= max)
        return locked;
    if (failed + 1 == max)
        return final | low;
    if (failed > 0)
        return low;
    return 0;
}

CK_RV chsm_core_GetTokenInfo(struct chsm_app *app, CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    struct chsm_token_state ts;
    const struct chsm_config *c = &chsm_g.cfg;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pInfo != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    CHSM_GUARD(chsm_store_token_get(chsm_g.store, sl->id, &ts));
    memset(pInfo, 0, sizeof(*pInfo));
    if (ts.initialized)
        memcpy(pInfo->label, ts.label, sizeof(pInfo->label));
    else
        pad(pInfo->label, sizeof(pInfo->label), "");
    pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "Craton");
    pad(pInfo->model, sizeof(pInfo->model), "Craton HSM");
    memcpy(pInfo->serialNumber, sl->serial, sizeof(pInfo->serialNumber));
    uint32_t max = c->security.max_failed_logins;
    pInfo->flags = CKF_RNG | CKF_LOGIN_REQUIRED;
    if (ts.initialized)
        pInfo->flags |= CKF_TOKEN_INITIALIZED;
    if (ts.user_pin_initialized)
        pInfo->flags |= CKF_USER_PIN_INITIALIZED;
    pInfo->flags |= pin_flags(ts.user_failed, max, CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY,
                              CKF_USER_PIN_LOCKED);
    pInfo->flags |= pin_flags(ts.so_failed, max, CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY, CKF_SO_PIN_LOCKED);
    chsm_rdlock();
    pInfo->ulSessionCount = sl->sessions;
    pInfo->ulRwSessionCount = sl->rw_sessions;
    chsm_unlock();
    pInfo->ulMaxSessionCount = c->token.max_sessions;
    pInfo->ulMaxRwSessionCount = c->token.max_rw_sessions;
    pInfo->ulMaxPinLen = c->security.pin_max_length;
    pInfo->ulMinPinLen = c->security.pin_min_length;
    pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    version(&pInfo->hardwareVersion);
    version(&pInfo->firmwareVersion);
    /* No clock on the token: utcTime stays blank (CKF_CLOCK_ON_TOKEN unset). */
    memset(pInfo->utcTime, ' ', sizeof(pInfo->utcTime));
out:
    return rv;
}
