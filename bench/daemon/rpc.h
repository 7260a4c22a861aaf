/*
 * Minimal gRPC C core client for the daemon benchmark: TLS channels, method
 * handles from the protoc-c service descriptor, one synchronous unary call for
 * set-up, and the batch that the asynchronous load loop starts per call.
 * Ownership: a struct dconn owns its channels; callers free unpacked replies
 * with protobuf_c_message_free_unpacked.
 */
#ifndef CHSM_DBENCH_RPC_H
#define CHSM_DBENCH_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

#include "craton_hsm.pb-c.h"

#define DBENCH_MAX_CHANNELS 16

struct dconn {
    grpc_channel *ch[DBENCH_MAX_CHANNELS];
    unsigned n_ch;
    void **methods; /* registered call handle per channel per method: methods[ch * n + m] */
    size_t n_methods;
    grpc_completion_queue *sync_cq;
};

struct dconn_opts {
    const char *target, *ca, *cert, *key, *server_name;
    unsigned channels;
    bool lean; /* throughput channel args (see dconn_open) */
};

/* Connect n_ch channels with mutual TLS; exits the program on failure (a benchmark tool). */
void dconn_open(struct dconn *c, const struct dconn_opts *o);
void dconn_close(struct dconn *c);

/* Method index by its proto name ("Sign"); exits if unknown. */
size_t dconn_method(const char *name);

/* Register-call handle of method m on channel ch. */
void *dconn_handle(const struct dconn *c, unsigned ch, size_t m);

/*
 * Synchronous unary call on channel 0. Returns the unpacked reply (NULL on a
 * non-OK status, whose code and message go to stderr prefixed with what).
 */
ProtobufCMessage *dconn_call(struct dconn *c, const char *method, const ProtobufCMessage *req, const char *what);

/* Pack a message into a new slice (caller unrefs). */
grpc_slice dconn_pack(const ProtobufCMessage *m);

#endif
