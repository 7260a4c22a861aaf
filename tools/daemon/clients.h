/*
 * Per-client state: one struct chsm_app (login state + sessions) per client,
 * so one client's login never authenticates another's sessions and a session
 * handle of another client is CKR_SESSION_HANDLE_INVALID.
 *
 * A client is found by its key (security review H2):
 *   - bound (mutual TLS): "x509:sha256:<certificate fingerprint>" alone; every
 *     connection presenting that certificate is the same client;
 *   - token (no client certificates): "peer:<address:port>" plus a random
 *     128-bit token the daemon issued. A call without a matching token gets a
 *     fresh provisional client that lives for that call only, unless the call
 *     keeps it (OpenSession), which hands the token to the caller. So a new
 *     connection, or another process that reuses the port, starts empty.
 * The actor ("x509:<CN>", "peer:<address:port>#<n>") names the client in
 * audit entries and logs. A client unused for session_idle_timeout_s is
 * reaped: its sessions are closed and its login forgotten.
 *
 * Failed PIN attempts are throttled per client here and per slot in
 * pin_throttle.h: after k consecutive CKR_PIN_INCORRECT the next PIN RPC is
 * refused for min(250 ms * 2^(k-1), 8 s) without reaching the core.
 *
 * Thread-safe. A client is reference-counted while a call uses it.
 */
#ifndef CHSM_DAEMON_CLIENTS_H
#define CHSM_DAEMON_CLIENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/result.h"

#define CHSM_DAEMON_MAX_CLIENTS 4096u
#define CHSM_DAEMON_ID_MAX 256u
#define CHSM_CLIENT_TOKEN_LEN 16u
#define CHSM_CLIENT_TOKEN_HEX (2u * CHSM_CLIENT_TOKEN_LEN + 1u)
/* gRPC call metadata that carries the token (lower case, as HTTP/2 requires). */
#define CHSM_CLIENT_TOKEN_METADATA "x-craton-client"

struct chsm_app;

struct chsm_client {
    char id[CHSM_DAEMON_ID_MAX];    /* registry key */
    char actor[CHSM_DAEMON_ID_MAX]; /* audit actor, log name */
    struct chsm_app *app;
    /* private to clients.c */
    struct chsm_client *next;
    bool bound;       /* the key alone identifies the client */
    bool provisional; /* freed at its last release unless kept */
    uint8_t token[CHSM_CLIENT_TOKEN_LEN];
    unsigned refs;
    uint64_t last_used_ms;
    unsigned failed_logins;
    uint64_t login_not_before_ms;
};

/* How a call identifies itself (filled by the transport). */
struct chsm_client_ref {
    const char *key;   /* registry key (truncated to CHSM_DAEMON_ID_MAX-1) */
    const char *actor; /* NULL: the key */
    bool bound;
    const uint8_t *token; /* CHSM_CLIENT_TOKEN_LEN bytes, or NULL; ignored when bound */
};

/* Find the client, or create one (bound: registered; token: provisional). */
CHSM_MUST_CHECK CK_RV chsm_clients_acquire_ref(const struct chsm_client_ref *ref, struct chsm_client **out);
/* A bound client keyed (and named) by identity: tests and fuzzing. */
CHSM_MUST_CHECK CK_RV chsm_clients_acquire(const char *identity, struct chsm_client **out);
/* Keep a provisional client after this call. token_hex receives the token the
 * caller must present from now on ("" for a bound client). */
void chsm_clients_keep(struct chsm_client *cl, char token_hex[CHSM_CLIENT_TOKEN_HEX]);
/* End a call's use; a provisional client that was not kept is freed. */
void chsm_clients_release(struct chsm_client *cl);

/* Milliseconds the client must still wait before its next PIN RPC (0: go). */
uint64_t chsm_clients_login_wait_ms(struct chsm_client *cl);
/* Record a PIN RPC outcome for the per-client throttle. */
void chsm_clients_login_result(struct chsm_client *cl, CK_RV rv);

/* Free clients idle for at least idle_s seconds; returns how many. */
unsigned chsm_clients_reap_idle(uint32_t idle_s);
/* Free every client (shutdown, after the last call finished). */
void chsm_clients_shutdown(void);
/* Clients alive, provisional ones included. */
unsigned chsm_clients_count(void);

#endif
