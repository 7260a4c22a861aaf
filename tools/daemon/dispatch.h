/*
 * The dispatch layer: one RPC = method index + request bytes in, status +
 * message + response bytes out. No gRPC here, so the fuzz harness and unit
 * tests drive it directly; server.c only moves bytes.
 *
 * Ownership: chsm_dispatch fills *out; the caller frees it with
 * chsm_dreply_free. The request bytes are not kept; the unpacked request is
 * wiped (PINs, key material) before it is freed.
 */
#ifndef CHSM_DAEMON_DISPATCH_H
#define CHSM_DAEMON_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "clients.h"
#include "config/config.h"
#include "errmap.h"

#define CHSM_DAEMON_SERVICE "craton_hsm.v1.HsmService"

struct chsm_dreply {
    enum chsm_dstatus status;
    char message[384];  /* "CKR_NAME: what failed" on error; empty on success */
    uint8_t *body;      /* packed response message (status OK only) */
    size_t body_len;
};

/* Limits and facts the handlers need (copied from the config at start). */
struct chsm_dispatch_settings {
    uint32_t max_random_bytes;
    uint32_t max_send_message_bytes;
};
void chsm_dispatch_configure(const struct chsm_dispatch_settings *s);

size_t chsm_dispatch_method_count(void);
/* Short name ("Sign") of method i, or NULL. */
const char *chsm_dispatch_method_name(size_t i);
/* Full path ("/craton_hsm.v1.HsmService/Sign") of method i into buf. */
void chsm_dispatch_method_path(size_t i, char *buf, size_t buflen);
/* False when some proto method lacks a handler (a build/proto mismatch). */
bool chsm_dispatch_self_check(char *msg, size_t msglen);

/* Run method i for the calling client (see clients.h) on the request bytes. */
void chsm_dispatch_ref(const struct chsm_client_ref *who, size_t method, const uint8_t *req, size_t req_len,
                       struct chsm_dreply *out);
/* The same for a bound client keyed and named by identity (tests, fuzzing). */
void chsm_dispatch(const char *identity, size_t method, const uint8_t *req, size_t req_len,
                   struct chsm_dreply *out);
void chsm_dreply_free(struct chsm_dreply *r);

#endif
