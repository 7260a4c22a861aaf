/* Per-client registry: see clients.h. A linked list under one mutex: the
 * number of live clients is small and lookups are one strcmp per client. */
#include "clients.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "common/log.h"
#include "core/core.h"
#include "pin_throttle.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct chsm_client *head;
static unsigned live;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct chsm_client *find_locked(const char *id)
{
    for (struct chsm_client *c = head; c != NULL; c = c->next)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

CK_RV chsm_clients_acquire(const char *identity, struct chsm_client **out)
{
    CK_RV rv = CKR_OK;
    char id[CHSM_DAEMON_ID_MAX];
    struct chsm_client *c;

    strncpy(id, identity, sizeof id - 1);
    id[sizeof id - 1] = '\0';
    pthread_mutex_lock(&mu);
    c = find_locked(id);
    if (c == NULL) {
        CHSM_ENSURE(live < CHSM_DAEMON_MAX_CLIENTS,
                    CHSM_ERR(CKR_HOST_MEMORY, "daemon", "too many clients (%u)", CHSM_DAEMON_MAX_CLIENTS));
        c = calloc(1, sizeof *c);
        CHSM_ENSURE(c != NULL, CKR_HOST_MEMORY);
        memcpy(c->id, id, sizeof id);
        rv = chsm_app_new(id, &c->app);
        if (rv != CKR_OK) {
            free(c);
            goto out;
        }
        c->next = head;
        head = c;
        live++;
        chsm_log(CHSM_LOG_INFO, "daemon: new client %s", id);
    }
    c->refs++;
    c->last_used_ms = now_ms();
    *out = c;
out:
    pthread_mutex_unlock(&mu);
    return rv;
}

void chsm_clients_release(struct chsm_client *cl)
{
    if (cl == NULL)
        return;
    pthread_mutex_lock(&mu);
    cl->refs--;
    cl->last_used_ms = now_ms();
    pthread_mutex_unlock(&mu);
}

uint64_t chsm_clients_login_wait_ms(struct chsm_client *cl)
{
    uint64_t wait = 0, now = now_ms();
    pthread_mutex_lock(&mu);
    if (cl->login_not_before_ms > now)
        wait = cl->login_not_before_ms - now;
    pthread_mutex_unlock(&mu);
    return wait;
}

void chsm_clients_login_result(struct chsm_client *cl, CK_RV rv)
{
    pthread_mutex_lock(&mu);
    if (rv == CKR_PIN_INCORRECT) {
        if (cl->failed_logins < 32)
            cl->failed_logins++;
        cl->login_not_before_ms = now_ms() + chsm_pin_throttle_delay_ms(cl->failed_logins);
    } else if (rv == CKR_OK) {
        cl->failed_logins = 0;
        cl->login_not_before_ms = 0;
    }
    pthread_mutex_unlock(&mu);
}

/* Unlink the clients matching pred under the lock, free their apps outside it
 * (closing sessions writes audit entries and must not hold up other calls). */
static unsigned reap(bool all, uint32_t idle_s)
{
    struct chsm_client *dead = NULL, **pp;
    uint64_t now = now_ms();
    unsigned n = 0;

    pthread_mutex_lock(&mu);
    pp = &head;
    while (*pp != NULL) {
        struct chsm_client *c = *pp;
        bool idle = c->refs == 0 && now - c->last_used_ms >= (uint64_t)idle_s * 1000u;
        if (all || idle) {
            *pp = c->next;
            c->next = dead;
            dead = c;
            live--;
            n++;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&mu);
    while (dead != NULL) {
        struct chsm_client *c = dead;
        dead = c->next;
        chsm_log(CHSM_LOG_INFO, "daemon: closing sessions of %s client %s", all ? "departing" : "idle", c->id);
        /* Session-close audit entries name the client they belonged to. */
        chsm_audit_set_actor(c->id);
        chsm_app_free(c->app);
        chsm_audit_set_actor(NULL);
        free(c);
    }
    return n;
}

unsigned chsm_clients_reap_idle(uint32_t idle_s)
{
    return reap(false, idle_s);
}

void chsm_clients_shutdown(void)
{
    (void)reap(true, 0);
    chsm_pin_throttle_reset();
}

unsigned chsm_clients_count(void)
{
    unsigned n;
    pthread_mutex_lock(&mu);
    n = live;
    pthread_mutex_unlock(&mu);
    return n;
}
