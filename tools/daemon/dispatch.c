/*
 * Dispatch: method index + request bytes -> handler -> reply bytes.
 * The method table is the protoc-c service descriptor, so the proto is the
 * single source of method names and message types; the handler for each
 * method is found by name once (chsm_dispatch_self_check reports a gap).
 */
#include "dispatch.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/secbuf.h"
#include "handlers.h"
#include "pin_throttle.h"

struct named_handler {
    const char *name;
    chsm_handler_fn fn;
};

#define CHSM_NAMED(name) {#name, chsm_h_##name},
static const struct named_handler named[] = {CHSM_HANDLERS(CHSM_NAMED)};
#undef CHSM_NAMED

static const ProtobufCServiceDescriptor *const svc = &craton_hsm__v1__hsm_service__descriptor;
static chsm_handler_fn by_index[64];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static struct chsm_dispatch_settings settings = {65536u, 16u << 20};
static uint64_t start_s;

static void build_table(void)
{
    for (unsigned i = 0; i < svc->n_methods && i < CHSM_ARRAY_LEN(by_index); i++)
        for (size_t k = 0; k < CHSM_ARRAY_LEN(named); k++)
            if (strcmp(svc->methods[i].name, named[k].name) == 0)
                by_index[i] = named[k].fn;
}

static uint64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

void chsm_dispatch_configure(const struct chsm_dispatch_settings *s)
{
    settings = *s;
    start_s = mono_s();
}

uint64_t chsm_h_uptime_s(void)
{
    return mono_s() - start_s;
}

size_t chsm_dispatch_method_count(void)
{
    return svc->n_methods;
}

const char *chsm_dispatch_method_name(size_t i)
{
    return i < svc->n_methods ? svc->methods[i].name : NULL;
}

void chsm_dispatch_method_path(size_t i, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "/%s/%s", CHSM_DAEMON_SERVICE, i < svc->n_methods ? svc->methods[i].name : "?");
}

bool chsm_dispatch_self_check(char *msg, size_t msglen)
{
    pthread_once(&table_once, build_table);
    if (svc->n_methods > CHSM_ARRAY_LEN(by_index)) {
        snprintf(msg, msglen, "proto has %u methods, dispatch table holds %zu", svc->n_methods,
                 CHSM_ARRAY_LEN(by_index));
        return false;
    }
    for (unsigned i = 0; i < svc->n_methods; i++)
        if (by_index[i] == NULL) {
            snprintf(msg, msglen, "no handler for %s", svc->methods[i].name);
            return false;
        }
    return true;
}

/* Wipe every bytes/string field (recursively): requests carry PINs and key values. */
static void wipe_message(ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *field = (char *)m + f->offset;
        size_t n = 1;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            memcpy(&n, (char *)m + f->quantifier_offset, sizeof n);
            field = *(char **)(void *)field; /* repeated: the field holds the array pointer */
            if (field == NULL)
                continue;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, (char *)m + f->quantifier_offset, sizeof which);
            if (which != f->id)
                continue;
        }
        for (size_t k = 0; k < n; k++) {
            if (f->type == PROTOBUF_C_TYPE_BYTES) {
                ProtobufCBinaryData *b = (ProtobufCBinaryData *)(void *)field + k;
                if (b->data != NULL)
                    chsm_wipe(b->data, b->len);
            } else if (f->type == PROTOBUF_C_TYPE_STRING) {
                char *s = ((char **)(void *)field)[k];
                if (s != NULL && s[0] != '\0')
                    chsm_wipe(s, strlen(s));
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                ProtobufCMessage *sub = ((ProtobufCMessage **)(void *)field)[k];
                if (sub != NULL)
                    wipe_message(sub);
            }
        }
    }
}

void chsm_dispatch_ref(const struct chsm_client_ref *who, size_t method, const uint8_t *req, size_t req_len,
                       struct chsm_dreply *out)
{
    struct chsm_hctx h = {.reply = out, .settings = &settings};
    ProtobufCMessage *msg = NULL;
    CK_RV rv;

    memset(out, 0, sizeof *out);
    pthread_once(&table_once, build_table);
    if (method >= svc->n_methods || method >= CHSM_ARRAY_LEN(by_index) || by_index[method] == NULL) {
        chsm_h_fail(&h, CHSM_DS_UNIMPLEMENTED, "method %zu is not implemented", method);
        return;
    }
    msg = protobuf_c_message_unpack(svc->methods[method].input, NULL, req_len, req);
    if (msg == NULL) {
        chsm_h_fail(&h, CHSM_DS_INVALID_ARGUMENT, "CKR_ARGUMENTS_BAD: malformed %s message",
                    svc->methods[method].input->short_name);
        return;
    }
    chsm_err_clear();
    rv = chsm_clients_acquire_ref(who, &h.client);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(&h, rv, "client registry");
        goto out;
    }
    chsm_audit_set_actor(h.client->actor);
    by_index[method](&h, msg);
    chsm_audit_set_actor(NULL); /* worker threads serve many clients */
    chsm_clients_release(h.client);
out:
    wipe_message(msg);
    protobuf_c_message_free_unpacked(msg, NULL);
}

void chsm_dispatch(const char *identity, size_t method, const uint8_t *req, size_t req_len, struct chsm_dreply *out)
{
    const struct chsm_client_ref who = {.key = identity, .actor = identity, .bound = true};
    chsm_dispatch_ref(&who, method, req, req_len, out);
}

void chsm_dreply_free(struct chsm_dreply *r)
{
    if (r->body != NULL)
        chsm_wipe(r->body, r->body_len);
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

/* ---- helpers shared by the handlers ---- */

void chsm_h_ok(struct chsm_hctx *h, const ProtobufCMessage *resp)
{
    size_t n = protobuf_c_message_get_packed_size(resp);
    uint8_t *buf = malloc(n ? n : 1);

    if (buf == NULL) {
        chsm_h_fail(h, CHSM_DS_RESOURCE_EXHAUSTED, "CKR_HOST_MEMORY: response of %zu bytes", n);
        return;
    }
    if (n > h->settings->max_send_message_bytes) {
        free(buf);
        chsm_h_fail(h, CHSM_DS_RESOURCE_EXHAUSTED, "response of %zu bytes exceeds max_send_message_bytes %u", n,
                    h->settings->max_send_message_bytes);
        return;
    }
    h->reply->body_len = protobuf_c_message_pack(resp, buf);
    h->reply->body = buf;
    h->reply->status = CHSM_DS_OK;
    h->reply->message[0] = '\0';
}

void chsm_h_fail(struct chsm_hctx *h, enum chsm_dstatus st, const char *fmt, ...)
{
    va_list ap;
    chsm_dreply_free(h->reply);
    h->reply->status = st;
    va_start(ap, fmt);
    vsnprintf(h->reply->message, sizeof h->reply->message, fmt, ap);
    va_end(ap);
}

void chsm_h_fail_rv(struct chsm_hctx *h, CK_RV rv, const char *what)
{
    const struct chsm_err *e = chsm_err_last();
    /* The client gets the CKR name and a fixed text per code; the core's
     * detail (store paths, layer names) goes to the daemon log only. */
    chsm_h_fail(h, chsm_errmap_status(rv), "%s: %s", chsm_rv_name(rv), chsm_errmap_text(rv));
    if (e != NULL && e->rv == rv && e->msg[0] != '\0')
        chsm_log(CHSM_LOG_INFO, "daemon: %s: %s: %s: %s", h->client ? h->client->actor : "-", what,
                 chsm_rv_name(rv), e->msg);
    else
        chsm_log(CHSM_LOG_INFO, "daemon: %s: %s: %s", h->client ? h->client->actor : "-", what, chsm_rv_name(rv));
}

bool chsm_h_session_slot(struct chsm_hctx *h, uint64_t session, CK_SLOT_ID *slot)
{
    CK_SESSION_INFO info;
    if (chsm_core_GetSessionInfo(h->client->app, (CK_SESSION_HANDLE)session, &info) != CKR_OK)
        return false;
    *slot = info.slotID;
    return true;
}

bool chsm_h_pin_gate(struct chsm_hctx *h, const CK_SLOT_ID *slot)
{
    uint64_t wait = chsm_clients_login_wait_ms(h->client);
    uint64_t slot_wait = slot != NULL ? chsm_pin_throttle_wait_ms(*slot) : 0;

    if (slot_wait > wait)
        wait = slot_wait;
    if (wait == 0)
        return true;
    /* Throttled before the core: the attempt neither succeeds nor counts. */
    chsm_h_fail(h, CHSM_DS_RESOURCE_EXHAUSTED,
                "CKR_PIN_INCORRECT: throttled after failed PIN attempts; retry in %llu ms", (unsigned long long)wait);
    chsm_log(CHSM_LOG_INFO, "daemon: %s: PIN RPC throttled for %llu ms", h->client->actor, (unsigned long long)wait);
    return false;
}

void chsm_h_pin_result(struct chsm_hctx *h, const CK_SLOT_ID *slot, CK_RV rv, bool verifies_pin)
{
    if (rv == CKR_PIN_INCORRECT || (rv == CKR_OK && verifies_pin))
        chsm_clients_login_result(h->client, rv);
    if (slot != NULL)
        chsm_pin_throttle_result(*slot, rv, verifies_pin);
}

bool chsm_h_mech_resolve(const char *name, CK_MECHANISM_TYPE *out)
{
    return chsm_mech_from_name(name, out);
}
