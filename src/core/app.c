/*
 * Applications (base spec 5.5): login state is per (application, token).
 * The PKCS#11 module is one application; the daemon makes one per client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"

CK_RV chsm_app_create(const char *actor, struct chsm_app **out)
{
    struct chsm_app *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return CHSM_ERR(CKR_HOST_MEMORY, "core", "app");
    if (actor != NULL)
        (void)snprintf(a->actor, sizeof(a->actor), "%s", actor);
    else
        (void)snprintf(a->actor, sizeof(a->actor), "pid:%ld", (long)getpid());
    for (size_t i = 0; i < CHSM_SLOT_COUNT_MAX; i++)
        a->login[i] = CHSM_NOT_LOGGED_IN;
    chsm_wrlock();
    a->next = chsm_g.apps;
    chsm_g.apps = a;
    chsm_unlock();
    *out = a;
    return CKR_OK;
}

CK_RV chsm_app_new(const char *actor, struct chsm_app **out)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(out != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_core_check_up());
    CHSM_GUARD(chsm_app_create(actor, out));
out:
    return rv;
}

struct chsm_app *chsm_core_default_app(void)
{
    return chsm_g.up ? chsm_g.default_app : NULL;
}

bool chsm_app_valid(const struct chsm_app *app)
{
    for (const struct chsm_app *a = chsm_g.apps; a != NULL; a = a->next)
        if (a == app)
            return true;
    return false;
}

void chsm_app_free(struct chsm_app *app)
{
    if (app == NULL || !chsm_g.up)
        return;
    chsm_rdlock();
    bool valid = chsm_app_valid(app);
    chsm_unlock();
    if (!valid)
        return;
    chsm_sessions_close_app(app, true, 0);
    /* Log out of every slot still logged in (sessions were closed, which normally did it). */
    for (uint32_t i = 0; i < chsm_g.nslots; i++) {
        struct chsm_slot *sl = &chsm_g.slots[i];
        (void)pthread_mutex_lock(&sl->auth_lock);
        chsm_login_drop(app, sl);
        (void)pthread_mutex_unlock(&sl->auth_lock);
    }
    chsm_wrlock();
    chsm_objects_drop_app(app);
    for (struct chsm_app **pp = &chsm_g.apps; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == app) {
            *pp = app->next;
            break;
        }
    }
    if (chsm_g.default_app == app)
        chsm_g.default_app = NULL;
    chsm_unlock();
    free(app);
}
