/* gRPC C core client helpers for dbench; see rpc.h. */
#include "rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#define SERVICE "craton_hsm.v1.HsmService"
#define SYNC_DEADLINE_S 300 /* InitToken/Login run PBKDF2; sanitizer builds are slow */

static const ProtobufCServiceDescriptor *const svc = &craton_hsm__v1__hsm_service__descriptor;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "dbench: cannot read %s\n", path);
        exit(1);
    }
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "dbench: cannot read %s\n", path);
        exit(1);
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

size_t dconn_method(const char *name)
{
    for (unsigned i = 0; i < svc->n_methods; i++)
        if (strcmp(svc->methods[i].name, name) == 0)
            return i;
    fprintf(stderr, "dbench: no method %s in the proto\n", name);
    exit(1);
}

void *dconn_handle(const struct dconn *c, unsigned ch, size_t m)
{
    return c->methods[ch * c->n_methods + m];
}

void dconn_open(struct dconn *c, const struct dconn_opts *o)
{
    char *ca = slurp(o->ca), *cert = slurp(o->cert), *key = slurp(o->key);
    grpc_ssl_pem_key_cert_pair pair = {key, cert};
    grpc_channel_credentials *creds;
    grpc_arg args[5];
    grpc_channel_args ca_args = {o->lean ? 5 : 2, args};

    memset(c, 0, sizeof *c);
    grpc_init();
    creds = grpc_ssl_credentials_create(ca, &pair, NULL, NULL);
    memset(args, 0, sizeof args);
    args[0].type = GRPC_ARG_STRING;
    args[0].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    args[0].value.string = (char *)o->server_name;
    /* Distinct channel args keep gRPC from sharing one subchannel (one TCP
     * connection) between our channels. */
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = (char *)"craton.dbench.channel";
    /* --lean: a client tuned for unary throughput. No retry filter (it
     * buffers every call's ops for a possible replay), the minimal filter
     * stack (no client-side deadline/size filters; the server keeps its own
     * limits) and the throughput optimisation target. */
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = (char *)GRPC_ARG_ENABLE_RETRIES;
    args[2].value.integer = 0;
    args[3].type = GRPC_ARG_INTEGER;
    args[3].key = (char *)GRPC_ARG_MINIMAL_STACK;
    args[3].value.integer = 1;
    args[4].type = GRPC_ARG_STRING;
    args[4].key = (char *)GRPC_ARG_OPTIMIZATION_TARGET;
    args[4].value.string = (char *)"throughput";
    c->n_ch = o->channels == 0 ? 1 : o->channels > DBENCH_MAX_CHANNELS ? DBENCH_MAX_CHANNELS : o->channels;
    c->n_methods = svc->n_methods;
    c->methods = calloc((size_t)c->n_ch * c->n_methods, sizeof *c->methods);
    if (c->methods == NULL)
        exit(1);
    for (unsigned i = 0; i < c->n_ch; i++) {
        args[1].value.integer = (int)i;
        c->ch[i] = grpc_channel_create(o->target, creds, &ca_args);
        for (size_t m = 0; m < c->n_methods; m++) {
            char path[128];
            snprintf(path, sizeof path, "/%s/%s", SERVICE, svc->methods[m].name);
            c->methods[i * c->n_methods + m] = grpc_channel_register_call(c->ch[i], path, NULL, NULL);
        }
    }
    grpc_channel_credentials_release(creds);
    c->sync_cq = grpc_completion_queue_create_for_pluck(NULL);
    free(ca);
    free(cert);
    memset(key, 0, strlen(key));
    free(key);
}

void dconn_close(struct dconn *c)
{
    for (unsigned i = 0; i < c->n_ch; i++)
        grpc_channel_destroy(c->ch[i]);
    grpc_completion_queue_shutdown(c->sync_cq);
    while (grpc_completion_queue_pluck(c->sync_cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(c->sync_cq);
    free(c->methods);
    grpc_shutdown();
}

grpc_slice dconn_pack(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
    return s;
}

ProtobufCMessage *dconn_call(struct dconn *c, const char *method, const ProtobufCMessage *req, const char *what)
{
    size_t m = dconn_method(method);
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_seconds(SYNC_DEADLINE_S, GPR_TIMESPAN));
    grpc_call *call = grpc_channel_create_registered_call(c->ch[0], NULL, GRPC_PROPAGATE_DEFAULTS, c->sync_cq,
                                                          dconn_handle(c, 0, m), dl, NULL);
    grpc_slice body = dconn_pack(req);
    grpc_byte_buffer *out = grpc_raw_byte_buffer_create(&body, 1), *in = NULL;
    grpc_metadata_array imd, tmd;
    grpc_status_code st = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    ProtobufCMessage *reply = NULL;
    int tag;

    grpc_metadata_array_init(&imd);
    grpc_metadata_array_init(&tmd);
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = out;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &in;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
    ops[5].data.recv_status_on_client.status = &st;
    ops[5].data.recv_status_on_client.status_details = &details;
    if (grpc_call_start_batch(call, ops, 6, &tag, NULL) != GRPC_CALL_OK) {
        fprintf(stderr, "dbench: %s: start_batch failed\n", what);
        exit(1);
    }
    (void)grpc_completion_queue_pluck(c->sync_cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (st != GRPC_STATUS_OK || in == NULL) {
        char *d = grpc_slice_to_c_string(details);
        fprintf(stderr, "dbench: %s: status %d: %s\n", what, (int)st, d);
        gpr_free(d);
    } else {
        grpc_byte_buffer_reader rd;
        grpc_slice flat;
        grpc_byte_buffer_reader_init(&rd, in);
        flat = grpc_byte_buffer_reader_readall(&rd);
        grpc_byte_buffer_reader_destroy(&rd);
        reply = protobuf_c_message_unpack(svc->methods[m].output, NULL, GRPC_SLICE_LENGTH(flat),
                                          GRPC_SLICE_START_PTR(flat));
        grpc_slice_unref(flat);
    }
    if (in != NULL)
        grpc_byte_buffer_destroy(in);
    grpc_byte_buffer_destroy(out);
    grpc_slice_unref(body);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&imd);
    grpc_metadata_array_destroy(&tmd);
    grpc_call_unref(call);
    return reply;
}
