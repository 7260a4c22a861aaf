/*
 * The mechanism table: one row per offered CKM_ (key sizes, CKF_ flags,
 * the handler per operation kind). C_GetMechanismList/Info report exactly
 * the rows the loaded config allows ([algorithms] fips_approved_only), and
 * op.c dispatches through the same rows, so a mechanism is offered if and
 * only if it works. Mechanisms are added by adding a row and its handlers
 * (see chsm_op_vtable in internal.h); session and object code is untouched.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

extern const struct chsm_op_vtable chsm_digest_vt;

#define DIGEST_ROW(m) {m, 0, 0, CKF_DIGEST, true, false, {[CHSM_OP_DIGEST] = &chsm_digest_vt}}

static const struct chsm_mech_entry table[] = {
    DIGEST_ROW(CKM_SHA_1),    DIGEST_ROW(CKM_SHA224),   DIGEST_ROW(CKM_SHA256),   DIGEST_ROW(CKM_SHA384),
    DIGEST_ROW(CKM_SHA512),   DIGEST_ROW(CKM_SHA3_256), DIGEST_ROW(CKM_SHA3_384), DIGEST_ROW(CKM_SHA3_512),
};

static bool offered(const struct chsm_mech_entry *e)
{
    if (chsm_g.cfg.algorithms.fips_approved_only && !e->fips_approved)
        return false;
    return true;
}

const struct chsm_mech_entry *chsm_mech_lookup(CK_MECHANISM_TYPE mech)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(table); i++)
        if (table[i].type == mech)
            return offered(&table[i]) ? &table[i] : NULL;
    return NULL;
}

CK_RV chsm_core_GetMechanismList(struct chsm_app *app, CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                                 CK_ULONG_PTR pulCount)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pulCount != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    CK_ULONG n = 0;
    for (size_t i = 0; i < CHSM_ARRAY_LEN(table); i++)
        n += offered(&table[i]) ? 1 : 0;
    if (pMechanismList != NULL) {
        CK_ULONG have = *pulCount;
        *pulCount = n;
        CHSM_ENSURE(have >= n, CKR_BUFFER_TOO_SMALL);
        CK_ULONG j = 0;
        for (size_t i = 0; i < CHSM_ARRAY_LEN(table); i++)
            if (offered(&table[i]))
                pMechanismList[j++] = table[i].type;
    }
    *pulCount = n;
out:
    return rv;
}

CK_RV chsm_core_GetMechanismInfo(struct chsm_app *app, CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
                                 CK_MECHANISM_INFO_PTR pInfo)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pInfo != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    const struct chsm_mech_entry *e = chsm_mech_lookup(type);
    CHSM_ENSURE(e != NULL, CKR_MECHANISM_INVALID);
    pInfo->ulMinKeySize = e->min_key;
    pInfo->ulMaxKeySize = e->max_key;
    pInfo->flags = e->flags;
out:
    return rv;
}
