/*
 * Per-client state: one struct chsm_app (login state + sessions) per client
 * identity, so one client's login never authenticates another's sessions
 * and a session handle of another client is CKR_SESSION_HANDLE_INVALID.
 *
 * The identity is "x509:<peer identity>" (mutual TLS: the certificate's
 * SAN or CN as gRPC reports it) or "peer:<address:port>" (no client
 * certificates: each connection is its own client). A client unused for
 * session_idle_timeout_s is reaped: its sessions are closed and its login
 * forgotten.
 *
 * Failed logins are throttled per identity: after k consecutive
 * CKR_PIN_INCORRECT the next Login is refused for min(250 ms * 2^(k-1), 8 s)
 * without reaching the core; the attempts that do reach the core count
 * toward the token's lockout as usual.
 *
 * Thread-safe. A client is reference-counted while a call uses it.
 */
#ifndef CHSM_DAEMON_CLIENTS_H
#define CHSM_DAEMON_CLIENTS_H

#include <stdint.h>

#include "common/result.h"

#define CHSM_DAEMON_MAX_CLIENTS 4096u
#define CHSM_DAEMON_ID_MAX 256u

struct chsm_app;

struct chsm_client {
    char id[CHSM_DAEMON_ID_MAX];
    struct chsm_app *app;
    /* private to clients.c */
    struct chsm_client *next;
    unsigned refs;
    uint64_t last_used_ms;
    unsigned failed_logins;
    uint64_t login_not_before_ms;
};

/* Find or create the client for identity (truncated to CHSM_DAEMON_ID_MAX-1). */
CHSM_MUST_CHECK CK_RV chsm_clients_acquire(const char *identity, struct chsm_client **out);
void chsm_clients_release(struct chsm_client *cl);

/* Milliseconds the client must still wait before its next Login (0: go). */
uint64_t chsm_clients_login_wait_ms(struct chsm_client *cl);
/* Record a Login outcome for the throttle. */
void chsm_clients_login_result(struct chsm_client *cl, CK_RV rv);

/* Free clients idle for at least idle_s seconds; returns how many. */
unsigned chsm_clients_reap_idle(uint32_t idle_s);
/* Free every client (shutdown, after the last call finished). */
void chsm_clients_shutdown(void);
unsigned chsm_clients_count(void);

#endif
