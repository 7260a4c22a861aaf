/* Per-client registry: see clients.h. A linked list under one mutex: the
 * number of live clients is small and lookups are one strcmp per client
 * (plus a constant-time token compare for token clients). */
#include "clients.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "common/bytes.h"
#include "common/log.h"
#include "common/secbuf.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "pin_throttle.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct chsm_client *head;
static unsigned live;
static unsigned serial; /* numbers token clients in their actor name */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct chsm_client *find_locked(const char *id, bool bound, const uint8_t *token)
{
    for (struct chsm_client *c = head; c != NULL; c = c->next) {
        if (c->bound != bound || c->provisional || strcmp(c->id, id) != 0)
            continue;
        /* The token is the secret: compare it without a timing signal. */
        if (bound || chsm_ct_equal(c->token, token, CHSM_CLIENT_TOKEN_LEN))
            return c;
    }
    return NULL;
}

static CK_RV create_locked(const char *id, const struct chsm_client_ref *ref, struct chsm_client **out)
{
    struct chsm_client *c = NULL;
    CK_RV rv = CKR_OK;

    CHSM_ENSURE(live < CHSM_DAEMON_MAX_CLIENTS,
                CHSM_ERR(CKR_HOST_MEMORY, "daemon", "too many clients (%u)", CHSM_DAEMON_MAX_CLIENTS));
    c = calloc(1, sizeof *c);
    CHSM_ENSURE(c != NULL, CKR_HOST_MEMORY);
    memcpy(c->id, id, sizeof c->id);
    c->bound = ref->bound;
    if (ref->bound) {
        snprintf(c->actor, sizeof c->actor, "%s", ref->actor != NULL ? ref->actor : id);
    } else {
        c->provisional = true;
        CHSM_GUARD(chsm_rand_bytes(c->token, sizeof c->token));
        snprintf(c->actor, sizeof c->actor, "%.200s#%u", ref->actor != NULL ? ref->actor : id, ++serial);
    }
    CHSM_GUARD(chsm_app_new(c->actor, &c->app));
    c->next = head;
    head = c;
    live++;
    if (ref->bound)
        chsm_log(CHSM_LOG_INFO, "daemon: new client %s (%s)", c->actor, id);
    *out = c;
    c = NULL;
out:
    if (c != NULL) {
        chsm_wipe(c->token, sizeof c->token);
        free(c);
    }
    return rv;
}

CK_RV chsm_clients_acquire_ref(const struct chsm_client_ref *ref, struct chsm_client **out)
{
    CK_RV rv = CKR_OK;
    char id[CHSM_DAEMON_ID_MAX];
    struct chsm_client *c = NULL;

    snprintf(id, sizeof id, "%s", ref->key);
    pthread_mutex_lock(&mu);
    if (ref->bound || ref->token != NULL)
        c = find_locked(id, ref->bound, ref->token);
    if (c == NULL)
        CHSM_GUARD(create_locked(id, ref, &c));
    c->refs++;
    c->last_used_ms = now_ms();
    *out = c;
out:
    pthread_mutex_unlock(&mu);
    return rv;
}

CK_RV chsm_clients_acquire(const char *identity, struct chsm_client **out)
{
    const struct chsm_client_ref ref = {.key = identity, .actor = identity, .bound = true};
    return chsm_clients_acquire_ref(&ref, out);
}

void chsm_clients_keep(struct chsm_client *cl, char token_hex[CHSM_CLIENT_TOKEN_HEX])
{
    bool fresh;

    pthread_mutex_lock(&mu);
    fresh = cl->provisional;
    cl->provisional = false;
    if (cl->bound)
        token_hex[0] = '\0';
    else
        chsm_hex_encode(cl->token, sizeof cl->token, token_hex);
    pthread_mutex_unlock(&mu);
    if (fresh)
        chsm_log(CHSM_LOG_INFO, "daemon: new client %s", cl->actor);
}

static void free_client(struct chsm_client *c, const char *why)
{
    if (why != NULL)
        chsm_log(CHSM_LOG_INFO, "daemon: closing sessions of %s client %s", why, c->actor);
    /* Session-close audit entries name the client they belonged to. */
    chsm_audit_set_actor(c->actor);
    chsm_app_free(c->app);
    chsm_audit_set_actor(NULL);
    chsm_wipe(c->token, sizeof c->token);
    free(c);
}

void chsm_clients_release(struct chsm_client *cl)
{
    bool drop = false;

    if (cl == NULL)
        return;
    pthread_mutex_lock(&mu);
    cl->refs--;
    cl->last_used_ms = now_ms();
    if (cl->provisional && cl->refs == 0) {
        /* Nobody holds its token: unlink it now rather than at the idle reap. */
        struct chsm_client **pp = &head;
        while (*pp != NULL && *pp != cl)
            pp = &(*pp)->next;
        if (*pp == cl) {
            *pp = cl->next;
            live--;
            drop = true;
        }
    }
    pthread_mutex_unlock(&mu);
    if (drop)
        free_client(cl, NULL);
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
        free_client(c, all ? "departing" : "idle");
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
