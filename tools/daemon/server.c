/*
 * gRPC C core transport for craton-hsmd. Every grpc_* call of the daemon is
 * in this file; see ../shared/design/grpc-c-core.md for why each step is
 * here and in this order.
 *
 * Per call, a tagged context with two states:
 *   REQUESTED  the server handed us a call: repost a request for the same
 *              method on the same queue, read the payload, dispatch, and
 *              send one batch (initial metadata, message, status, recv close)
 *   SENDING    that batch completed: free everything.
 * Tags that come back with success == 0 during shutdown are freed too.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "common/bytes.h"
#include "common/log.h"
#include "common/secbuf.h"
#include "dispatch.h"
#include "grpc_wipe.h"
#include "identity.h"

/* Outstanding requests per method on the shared queue, split over the
 * workers (at least MIN_SLOTS_PER_WORKER each). A call that arrives with no
 * request posted waits in gRPC's pending list and is matched when a worker
 * reposts, from that worker's thread, which then wakes another to take it;
 * with 32 calls in flight 2 per worker left most Sign calls on that path. */
#define SLOTS_PER_METHOD 16u
#define MIN_SLOTS_PER_WORKER 2u
#define MAX_WORKERS 32u
#define MAX_PEM_BYTES (1u << 20)
#define MAX_SPARE_CALLS 64u /* per worker: more than the calls a worker has outstanding */

struct call;

struct worker {
    pthread_t thread;
    struct chsm_server *srv;
    bool started;
    /* Finished call contexts kept for reuse: touched only by this worker's
     * thread (or by start/destroy while it is not running). A context
     * belongs to the worker that took its last event from the queue. */
    struct call *spare;
    unsigned n_spare;
};

struct chsm_server {
    grpc_server *server;
    /* One completion queue that every worker serves. With a queue per
     * worker, a connection's calls land on the queue bound to it at accept
     * time, so the thread that happened to poll it had to wake that queue's
     * worker (futex wake + context switch) for most calls; with one queue
     * the polling thread serves what it read and only hands polling over.
     * Each extra worker still costs wake-ups inside gRPC (cq_next kicks a
     * waiter whenever events remain), see bench/README.md, "Daemon". */
    grpc_completion_queue *cq;
    void **method_tags;  /* registered method handles, by dispatch index */
    size_t n_methods;
    struct worker workers[MAX_WORKERS];
    unsigned n_workers;
    atomic_bool stopping;
    int port;
    /* TLS reload: the fetcher re-reads the files when reload is set. */
    char *tls_cert, *tls_key, *tls_client_ca;
    atomic_bool reload;
};

enum call_state { CALL_REQUESTED, CALL_SENDING };

struct call {
    enum call_state state;
    struct worker *w;
    long method; /* dispatch index; -1 for the catch-all request */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_call_details details; /* catch-all only */
    grpc_byte_buffer *payload;
    grpc_byte_buffer *resp;
    grpc_slice status_details;
    bool have_details;
    int cancelled;
    struct call *next_spare;
};

/* ---- gRPC log routing ---- */

static void grpc_log_sink(gpr_log_func_args *args)
{
    enum chsm_log_level lvl = CHSM_LOG_DEBUG;
    if (args->severity == GPR_LOG_SEVERITY_ERROR) {
        /* A client failing the TLS handshake (no or wrong certificate) is the
         * client's problem, not the daemon's: keep it out of the error level. */
        lvl = strstr(args->message, "andshake") != NULL || strstr(args->message, "SSL") != NULL ? CHSM_LOG_INFO
                                                                                                : CHSM_LOG_ERROR;
    } else if (args->severity == GPR_LOG_SEVERITY_INFO) {
        lvl = CHSM_LOG_DEBUG;
    }
    chsm_log(lvl, "grpc: %s", args->message);
}

void chsm_server_route_grpc_log(void)
{
    gpr_set_log_function(grpc_log_sink);
}

/* ---- TLS credentials with reload ---- */

static char *read_file(const char *path, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    char *buf = NULL;
    size_t len = 0;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size > MAX_PEM_BYTES)
        goto out;
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        goto out;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n <= 0) {
            free(buf);
            buf = NULL;
            goto out;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    *len_out = len;
out:
    close(fd);
    return buf;
}

static void free_secret(char *p, size_t len)
{
    if (p != NULL) {
        chsm_wipe(p, len);
        free(p);
    }
}

/* Called by gRPC at each handshake. Re-reads the files only after a SIGHUP
 * (or the first time); any problem keeps the configuration already serving. */
static grpc_ssl_certificate_config_reload_status fetch_config(void *user, grpc_ssl_server_certificate_config **cfg)
{
    struct chsm_server *srv = user;
    grpc_ssl_certificate_config_reload_status st = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
    size_t cl = 0, kl = 0, al = 0;
    char *cert = NULL, *key = NULL, *ca = NULL;
    grpc_ssl_pem_key_cert_pair pair;
    char why[512];

    if (!atomic_exchange(&srv->reload, false))
        return st;
    cert = read_file(srv->tls_cert, &cl);
    key = read_file(srv->tls_key, &kl);
    ca = srv->tls_client_ca ? read_file(srv->tls_client_ca, &al) : NULL;
    if (cert == NULL || key == NULL || (srv->tls_client_ca != NULL && ca == NULL)) {
        chsm_log(CHSM_LOG_ERROR, "tls: cannot read %s; keeping the certificates already loaded",
                 cert == NULL ? srv->tls_cert : key == NULL ? srv->tls_key : srv->tls_client_ca);
        goto out;
    }
    if (!chsm_dpolicy_key_mode_ok(srv->tls_key, why, sizeof why)) {
        chsm_log(CHSM_LOG_ERROR, "tls: %s; keeping the certificates already loaded", why);
        goto out;
    }
    if (strstr(cert, "-----BEGIN") == NULL || strstr(key, "-----BEGIN") == NULL ||
        (ca != NULL && strstr(ca, "-----BEGIN") == NULL)) {
        chsm_log(CHSM_LOG_ERROR, "tls: a file is not PEM; keeping the certificates already loaded");
        goto out;
    }
    pair.private_key = key;
    pair.cert_chain = cert;
    /* Never NULL roots: Debian's libgrpc aborts on a reloaded config without
     * them (pitfall 2); without a client CA the server's own chain stands in. */
    *cfg = grpc_ssl_server_certificate_config_create(ca ? ca : cert, &pair, 1);
    if (*cfg != NULL) {
        st = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
        chsm_log(CHSM_LOG_INFO, "tls: loaded certificate %s", srv->tls_cert);
    }
out:
    free(cert);
    free_secret(key, kl);
    free(ca);
    return st;
}

static grpc_server_credentials *make_credentials(struct chsm_server *srv, const struct chsm_server_options *o)
{
    grpc_ssl_server_credentials_options *so;

    if (o->transport == CHSM_TRANSPORT_PLAINTEXT)
        return grpc_insecure_server_credentials_create();
    srv->tls_cert = strdup(o->tls_cert);
    srv->tls_key = strdup(o->tls_key);
    srv->tls_client_ca = o->transport == CHSM_TRANSPORT_MTLS ? strdup(o->tls_client_ca) : NULL;
    if (srv->tls_cert == NULL || srv->tls_key == NULL ||
        (o->transport == CHSM_TRANSPORT_MTLS && srv->tls_client_ca == NULL))
        return NULL;
    atomic_store(&srv->reload, true);
    so = grpc_ssl_server_credentials_create_options_using_config_fetcher(
        o->transport == CHSM_TRANSPORT_MTLS ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                            : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
        fetch_config, srv);
    if (so == NULL)
        return NULL;
    return grpc_ssl_server_credentials_create_with_options(so);
}

void chsm_server_request_reload(struct chsm_server *srv)
{
    if (srv->tls_cert != NULL) {
        atomic_store(&srv->reload, true);
        chsm_log(CHSM_LOG_INFO, "tls: reload requested; new certificates apply from the next handshake");
    }
}

/* ---- calls ---- */

static void call_free(struct call *c)
{
    if (c->call != NULL)
        grpc_call_unref(c->call);
    if (c->payload != NULL) {
        /* The request may hold a PIN or key value: gRPC frees its receive memory unwiped. */
        chsm_grpc_wipe_byte_buffer(c->payload);
        grpc_byte_buffer_destroy(c->payload);
    }
    if (c->resp != NULL)
        grpc_byte_buffer_destroy(c->resp);
    if (c->have_details)
        grpc_slice_unref(c->status_details);
    grpc_metadata_array_destroy(&c->md);
    if (c->method < 0)
        grpc_call_details_destroy(&c->details);
    if (c->w != NULL && c->w->n_spare < MAX_SPARE_CALLS) {
        struct worker *w = c->w;
        memset(c, 0, sizeof *c);
        c->next_spare = w->spare;
        w->spare = c;
        w->n_spare++;
        return;
    }
    free(c);
}

/* A zeroed call context: a spare one when the worker has it (no allocation per call). */
static struct call *call_new(struct worker *w)
{
    struct call *c = w->spare;
    if (c == NULL)
        return calloc(1, sizeof *c);
    w->spare = c->next_spare;
    w->n_spare--;
    c->next_spare = NULL;
    return c;
}

static void free_spares(struct worker *w)
{
    while (w->spare != NULL) {
        struct call *c = w->spare;
        w->spare = c->next_spare;
        free(c);
    }
    w->n_spare = 0;
}

static bool post_request(struct worker *w, long method)
{
    struct chsm_server *srv = w->srv;
    struct call *c = call_new(w);
    grpc_call_error e;

    if (c == NULL)
        return false;
    c->w = w;
    c->method = method;
    c->state = CALL_REQUESTED;
    grpc_metadata_array_init(&c->md);
    if (method >= 0) {
        e = grpc_server_request_registered_call(srv->server, srv->method_tags[method], &c->call, &c->deadline,
                                                &c->md, &c->payload, srv->cq, srv->cq, c);
    } else {
        grpc_call_details_init(&c->details);
        e = grpc_server_request_call(srv->server, &c->call, &c->details, &c->md, srv->cq, srv->cq, c);
    }
    if (e != GRPC_CALL_OK) {
        call_free(c);
        return false;
    }
    return true;
}

/* Who is calling: key, actor and token storage for one call. */
struct caller {
    struct chsm_client_ref ref;
    char key[CHSM_DAEMON_ID_MAX];
    char actor[CHSM_DAEMON_ID_MAX];
    uint8_t token[CHSM_CLIENT_TOKEN_LEN];
};

/* The first value of auth property name, or NULL. */
static const grpc_auth_property *auth_prop(const grpc_auth_context *ac, const char *name)
{
    grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ac, name);
    return grpc_auth_property_iterator_next(&it);
}

/* Mutual TLS: the certificate's fingerprint is the key, its CN (or gRPC's
 * peer identity) the actor. False when there is no verified certificate. */
static bool identify_cert(grpc_call *call, struct caller *who)
{
    grpc_auth_context *ac = grpc_call_auth_context(call);
    const grpc_auth_property *pem, *name;
    bool ok = false;

    if (ac == NULL)
        return false;
    if (grpc_auth_context_peer_is_authenticated(ac) &&
        (pem = auth_prop(ac, GRPC_X509_PEM_CERT_PROPERTY_NAME)) != NULL &&
        chsm_identity_cert_key(pem->value, pem->value_length, who->key)) {
        name = auth_prop(ac, GRPC_X509_CN_PROPERTY_NAME);
        if (name == NULL) {
            grpc_auth_property_iterator it = grpc_auth_context_peer_identity(ac);
            name = grpc_auth_property_iterator_next(&it);
        }
        snprintf(who->actor, sizeof who->actor, "x509:%.*s", name ? (int)name->value_length : 1,
                 name ? name->value : "?");
        ok = true;
    }
    grpc_auth_context_release(ac);
    return ok;
}

/* The "x-craton-client" metadata value, when it is a well-formed token. */
static bool find_token(const grpc_metadata_array *md, uint8_t token[CHSM_CLIENT_TOKEN_LEN])
{
    char hex[CHSM_CLIENT_TOKEN_HEX];

    for (size_t i = 0; i < md->count; i++) {
        const grpc_slice *v = &md->metadata[i].value;
        if (grpc_slice_str_cmp(md->metadata[i].key, CHSM_CLIENT_TOKEN_METADATA) != 0)
            continue;
        if (GRPC_SLICE_LENGTH(*v) != CHSM_CLIENT_TOKEN_HEX - 1)
            return false;
        memcpy(hex, GRPC_SLICE_START_PTR(*v), sizeof hex - 1);
        hex[sizeof hex - 1] = '\0';
        return chsm_hex_decode(hex, token, CHSM_CLIENT_TOKEN_LEN);
    }
    return false;
}

/* Client identity (clients.h): the certificate under mutual TLS, otherwise
 * the connection's peer address plus the token the client presents. */
static void identify(struct call *c, struct caller *who)
{
    memset(who, 0, sizeof *who);
    who->ref.key = who->key;
    who->ref.actor = who->actor;
    if (identify_cert(c->call, who)) {
        who->ref.bound = true;
        return;
    }
    char *peer = grpc_call_get_peer(c->call);
    snprintf(who->key, sizeof who->key, "peer:%s", peer ? peer : "unknown");
    snprintf(who->actor, sizeof who->actor, "%s", who->key);
    gpr_free(peer);
    if (find_token(&c->md, who->token))
        who->ref.token = who->token;
}

/* Responses may hold key material (wrapped keys, decrypted data): wipe on release. */
static void reply_body_free(void *p, size_t len)
{
    chsm_wipe(p, len);
    free(p);
}

static void run_call(struct call *c, enum chsm_dstatus *st, char *msg, size_t msglen)
{
    struct chsm_dreply reply;
    grpc_byte_buffer_reader rd;
    grpc_slice in;
    struct caller who;

    if (c->method < 0) {
        char *m = grpc_slice_to_c_string(c->details.method);
        *st = CHSM_DS_UNIMPLEMENTED;
        snprintf(msg, msglen, "unknown method %s", m ? m : "?");
        gpr_free(m);
        return;
    }
    if (c->payload == NULL || !grpc_byte_buffer_reader_init(&rd, c->payload)) {
        *st = CHSM_DS_INVALID_ARGUMENT;
        snprintf(msg, msglen, "CKR_ARGUMENTS_BAD: missing request message");
        return;
    }
    in = grpc_byte_buffer_reader_readall(&rd);
    /* A compressed payload is inflated into a reader-owned buffer (the daemon
     * refuses compression, so this is defence in depth): wipe it too. */
    if (rd.buffer_out != rd.buffer_in)
        chsm_grpc_wipe_byte_buffer(rd.buffer_out);
    grpc_byte_buffer_reader_destroy(&rd);
    identify(c, &who);
    chsm_dispatch_ref(&who.ref, (size_t)c->method, GRPC_SLICE_START_PTR(in), GRPC_SLICE_LENGTH(in), &reply);
    chsm_wipe(who.token, sizeof who.token);
    /* The request may hold a PIN: wipe our flat copy before releasing it. */
    chsm_wipe(GRPC_SLICE_START_PTR(in), GRPC_SLICE_LENGTH(in));
    grpc_slice_unref(in);
    *st = reply.status;
    snprintf(msg, msglen, "%s", reply.message);
    if (reply.status == CHSM_DS_OK && reply.body != NULL) {
        /* Zero copy: gRPC owns the packed body from here and wipes it when
         * the slice dies (reply_body_free), saving a malloc and a memcpy per call. */
        grpc_slice out = grpc_slice_new_with_len(reply.body, reply.body_len, reply_body_free);
        c->resp = grpc_raw_byte_buffer_create(&out, 1);
        grpc_slice_unref(out);
        reply.body = NULL;
        reply.body_len = 0;
    }
    chsm_dreply_free(&reply);
}

static void handle(struct call *c)
{
    grpc_op ops[4];
    size_t n = 0;
    enum chsm_dstatus st;
    char msg[512];

    memset(ops, 0, sizeof ops);
    msg[0] = '\0';
    run_call(c, &st, msg, sizeof msg);
    if (msg[0] != '\0') {
        c->status_details = grpc_slice_from_copied_string(msg);
        c->have_details = true;
    } else {
        c->status_details = grpc_empty_slice(); /* the usual case: nothing to allocate */
    }
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n++].data.send_initial_metadata.count = 0;
    if (c->resp != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->resp;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.trailing_metadata_count = 0;
    ops[n].data.send_status_from_server.status = (grpc_status_code)st;
    ops[n++].data.send_status_from_server.status_details = &c->status_details;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    c->state = CALL_SENDING;
    if (grpc_call_start_batch(c->call, ops, n, c, NULL) != GRPC_CALL_OK) {
        chsm_log(CHSM_LOG_ERROR, "grpc: start_batch failed; dropping call");
        call_free(c);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    for (;;) {
        grpc_event ev = grpc_completion_queue_next(w->srv->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        struct call *c;
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        c = ev.tag;
        c->w = w; /* this thread owns the context now (spare list, reposts) */
        if (c->state == CALL_SENDING || !ev.success) {
            call_free(c);
            continue;
        }
        if (!atomic_load(&w->srv->stopping))
            (void)post_request(w, c->method);
        handle(c);
    }
    return NULL;
}

/* ---- lifecycle ---- */

static grpc_server *create_server(const struct chsm_server_options *o)
{
    grpc_arg args[5];
    grpc_channel_args ca = {CHSM_ARRAY_LEN(args), args};

    memset(args, 0, sizeof args);
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_MAX_CONCURRENT_STREAMS;
    args[0].value.integer = (int)o->max_concurrent_streams;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[1].value.integer = (int)o->max_recv_message_bytes;
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = (char *)GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[2].value.integer = (int)o->max_send_message_bytes;
    /* SO_REUSEPORT would let any process of the same user bind our port (pitfall 3). */
    args[3].type = GRPC_ARG_INTEGER;
    args[3].key = (char *)GRPC_ARG_ALLOW_REUSEPORT;
    args[3].value.integer = 0;
    /* Identity only: a compressed request would be inflated by gRPC into
     * buffers we cannot wipe, so it fails (UNIMPLEMENTED) before any handler. */
    args[4].type = GRPC_ARG_INTEGER;
    args[4].key = (char *)GRPC_COMPRESSION_CHANNEL_ENABLED_ALGORITHMS_BITSET;
    args[4].value.integer = 1 << GRPC_COMPRESS_NONE;
    return grpc_server_create(&ca, NULL);
}

static bool register_methods(struct chsm_server *srv)
{
    srv->n_methods = chsm_dispatch_method_count();
    srv->method_tags = calloc(srv->n_methods, sizeof *srv->method_tags);
    if (srv->method_tags == NULL)
        return false;
    for (size_t i = 0; i < srv->n_methods; i++) {
        char path[128];
        chsm_dispatch_method_path(i, path, sizeof path);
        srv->method_tags[i] =
            grpc_server_register_method(srv->server, path, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        if (srv->method_tags[i] == NULL)
            return false;
    }
    return true;
}

static bool post_all(struct worker *w)
{
    unsigned slots = SLOTS_PER_METHOD / w->srv->n_workers;

    if (slots < MIN_SLOTS_PER_WORKER)
        slots = MIN_SLOTS_PER_WORKER;
    for (unsigned k = 0; k < slots; k++) {
        for (size_t i = 0; i < w->srv->n_methods; i++)
            if (!post_request(w, (long)i))
                return false;
        /* Catch-all: an unknown method is answered UNIMPLEMENTED instead of hanging. */
        if (!post_request(w, -1))
            return false;
    }
    return true;
}

static void destroy(struct chsm_server *srv)
{
    bool any_started = false;

    if (srv->cq != NULL) {
        /* Started workers drain the shared queue until it reports shutdown. */
        grpc_completion_queue_shutdown(srv->cq);
        for (unsigned i = 0; i < srv->n_workers; i++)
            if (srv->workers[i].started) {
                pthread_join(srv->workers[i].thread, NULL);
                any_started = true;
            }
        if (!any_started) {
            grpc_event ev;
            while ((ev = grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)).type !=
                   GRPC_QUEUE_SHUTDOWN)
                if (ev.type == GRPC_OP_COMPLETE)
                    call_free(ev.tag);
        }
    }
    if (srv->server != NULL)
        grpc_server_destroy(srv->server);
    if (srv->cq != NULL)
        grpc_completion_queue_destroy(srv->cq);
    for (unsigned i = 0; i < srv->n_workers; i++)
        free_spares(&srv->workers[i]);
    free(srv->method_tags);
    free(srv->tls_cert);
    free(srv->tls_key);
    free(srv->tls_client_ca);
    free(srv);
    grpc_shutdown();
}

/* Shut the server down when it may have been started (no calls yet when start failed). */
static void shutdown_server(struct chsm_server *srv, uint32_t grace_s, bool started)
{
    grpc_completion_queue *scq;
    grpc_event ev;
    int tag;

    atomic_store(&srv->stopping, true);
    if (srv->server == NULL || !started)
        return;
    scq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_shutdown_and_notify(srv->server, scq, &tag);
    ev = grpc_completion_queue_pluck(scq, &tag,
                                     gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                                  gpr_time_from_seconds((int64_t)grace_s, GPR_TIMESPAN)),
                                     NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        chsm_log(CHSM_LOG_WARN, "daemon: calls still running after %u s grace; cancelling them", grace_s);
        grpc_server_cancel_all_calls(srv->server);
        (void)grpc_completion_queue_pluck(scq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    }
    grpc_completion_queue_shutdown(scq);
    while (grpc_completion_queue_pluck(scq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(scq);
}

struct chsm_server *chsm_server_start(const struct chsm_server_options *o, char *msg, size_t msglen)
{
    struct chsm_server *srv = calloc(1, sizeof *srv);
    grpc_server_credentials *creds = NULL;
    bool started = false;

    if (srv == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    grpc_init();
    srv->n_workers = o->worker_threads == 0 ? 1 : o->worker_threads > MAX_WORKERS ? MAX_WORKERS : o->worker_threads;
    srv->server = create_server(o);
    if (srv->server == NULL || !register_methods(srv)) {
        snprintf(msg, msglen, "cannot create the gRPC server");
        goto fail;
    }
    for (unsigned i = 0; i < srv->n_workers; i++)
        srv->workers[i].srv = srv;
    srv->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(srv->server, srv->cq, NULL);
    creds = make_credentials(srv, o);
    if (creds == NULL) {
        snprintf(msg, msglen, "cannot create the server credentials");
        goto fail;
    }
    srv->port = grpc_server_add_http2_port(srv->server, o->bind, creds);
    grpc_server_credentials_release(creds);
    if (srv->port == 0) {
        snprintf(msg, msglen, "cannot listen on daemon.bind %s (address in use, not local, or bad TLS files)",
                 o->bind);
        goto fail;
    }
    grpc_server_start(srv->server);
    started = true;
    for (unsigned i = 0; i < srv->n_workers; i++) {
        if (!post_all(&srv->workers[i])) {
            snprintf(msg, msglen, "cannot post call requests");
            goto fail;
        }
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0) {
            snprintf(msg, msglen, "cannot start worker thread");
            goto fail;
        }
        srv->workers[i].started = true;
    }
    return srv;
fail:
    shutdown_server(srv, 0, started);
    destroy(srv);
    return NULL;
}

int chsm_server_port(const struct chsm_server *srv)
{
    return srv->port;
}

void chsm_server_stop(struct chsm_server *srv, uint32_t grace_s)
{
    shutdown_server(srv, grace_s, true);
    destroy(srv);
}
