/* Commands of the later phases (issue 6 steps 5-6): refused clearly until they land. */
#include "admin.h"

int cmd_drill(struct adm *a)
{
    CHSM_UNUSED(a);
    return adm_fail(ADM_FAILED, "'drill' is not available in this build yet; follow the spec's drill steps by "
                    "hand (backup verify, restore, token info)");
}
