#include <string.h>

#include "store_util.h"
#include "token_facts.h"

int adm_token_facts(const struct adm *a, const struct chsm_config *cfg, struct adm_token_facts *out)
{
    struct chsm_store *st = NULL;
    struct chsm_token_state ts;
    int rc = adm_store_open_existing(cfg, &st);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    rv = chsm_store_token_get(st, adm_slot(a), &ts);
    chsm_store_close(st);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot read the token state", "check the store");
    if (!ts.initialized)
        return adm_fail(ADM_FAILED, "slot %u holds no initialised token; run 'craton-hsm-admin token init' or "
                        "'restore'", adm_slot(a));
    adm_trim(out->label, sizeof(out->label), ts.label, sizeof(ts.label));
    adm_trim(out->serial, sizeof(out->serial), ts.serial, sizeof(ts.serial));
    out->object_count = ts.object_count;
    return ADM_OK;
}
