/*
 * Transport policy for craton-hsmd (docs/daemon.md "Transport rules"):
 *   - plaintext only on a loopback bind (a literal loopback address, or
 *     "localhost" resolving only to loopback) and only when no TLS file is set;
 *   - tls_cert and tls_key together; tls_client_ca only with them;
 *   - a non-loopback bind needs TLS *and* a client CA (mutual TLS) unless
 *     allow_unauthenticated_tls = true;
 *   - tls_key must not be accessible by group or others.
 * Pure functions over the config: no gRPC, no core, unit-tested.
 */
#ifndef CHSM_DAEMON_POLICY_H
#define CHSM_DAEMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

enum chsm_transport { CHSM_TRANSPORT_PLAINTEXT, CHSM_TRANSPORT_TLS, CHSM_TRANSPORT_MTLS };

/* True when bind ("host:port", "[v6]:port") names a loopback address: a
 * literal in 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104, or "localhost" when it
 * resolves and every address it resolves to is loopback. Any other host name
 * is not loopback (it is not resolved). */
bool chsm_dpolicy_bind_is_loopback(const char *bind);
struct addrinfo;
/* True when the list is non-empty and every entry is an IPv4/IPv6 loopback address. */
bool chsm_dpolicy_addrs_loopback(const struct addrinfo *ai);
/* True when bind has the shape host:port with a port 1..65535. */
bool chsm_dpolicy_bind_is_valid(const char *bind);

/*
 * Decide the transport for cfg->daemon. On refusal returns false and writes
 * one line (no trailing newline) into msg. Checks the key file's mode and
 * that every configured file is readable.
 */
bool chsm_dpolicy_check(const struct chsm_config *cfg, enum chsm_transport *out, char *msg, size_t msglen);

/* The key-mode rule alone (also applied on SIGHUP reload). */
bool chsm_dpolicy_key_mode_ok(const char *key_path, char *msg, size_t msglen);

#endif
