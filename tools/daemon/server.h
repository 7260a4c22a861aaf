/*
 * The gRPC transport: every grpc_* call of craton-hsmd lives in server.c
 * (call sequence from ../shared/design/grpc-c-core.md). It moves bytes
 * between gRPC and chsm_dispatch() and knows nothing of PKCS#11.
 *
 * Threading: chsm_server_start creates worker threads (one completion queue
 * each). The caller must block SIGTERM/SIGINT/SIGHUP before calling it so
 * gRPC's threads inherit the mask, and must never fork afterwards.
 */
#ifndef CHSM_DAEMON_SERVER_H
#define CHSM_DAEMON_SERVER_H

#include <stdint.h>

#include "config/config.h"
#include "policy.h"

struct chsm_server;

struct chsm_server_options {
    const char *bind;
    enum chsm_transport transport;
    const char *tls_cert, *tls_key, *tls_client_ca; /* paths (TLS/MTLS) */
    uint32_t max_recv_message_bytes;
    uint32_t max_send_message_bytes;
    uint32_t max_concurrent_streams;
    uint32_t worker_threads;
};

/* Route gRPC's own log lines into chsm_log (call before grpc is used). */
void chsm_server_route_grpc_log(void);

/* Create, bind and start. On failure returns NULL and writes one line into msg. */
struct chsm_server *chsm_server_start(const struct chsm_server_options *opts, char *msg, size_t msglen);
/* The port actually bound (useful with port 0). */
int chsm_server_port(const struct chsm_server *srv);
/* SIGHUP: re-read the TLS files at the next handshake (a broken file keeps the old ones). */
void chsm_server_request_reload(struct chsm_server *srv);
/* Stop accepting, wait up to grace_s for in-flight calls, cancel the rest, join workers, free. */
void chsm_server_stop(struct chsm_server *srv, uint32_t grace_s);

#endif
