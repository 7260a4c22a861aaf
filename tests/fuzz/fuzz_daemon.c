/*
 * fuzz_daemon: request messages through the daemon's dispatch layer (the
 * code between gRPC and the core), over a volatile store.
 *
 * Input: byte 0 selects the method (mod the method count), byte 1 the client
 * identity (one of four, so cross-client handle use is exercised), the rest
 * is the request message as it would arrive over gRPC.
 * Checks: the status is a gRPC code; an OK reply unpacks as the method's
 * response type; a failure carries a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "core/core.h"
#include "craton_hsm.pb-c.h"
#include "dispatch.h"

static int ready;
static unsigned runs;

/* Release everything at exit so LeakSanitizer sees only real leaks. */
static void teardown(void)
{
    chsm_clients_shutdown();
    if (chsm_core_finalize() != CKR_OK)
        fprintf(stderr, "fuzz_daemon: finalize failed\n");
}

static void setup(void)
{
    struct chsm_config cfg;
    struct chsm_core_options opts = {0};
    struct chsm_dispatch_settings ds = {4096u, 16u << 20};

    if (chsm_config_defaults(&cfg) != CKR_OK)
        abort();
    free(cfg.token.storage_path);
    cfg.token.storage_path = strdup(":memory:");
    cfg.audit.enabled = false;
    cfg.security.pbkdf2_iterations = CHSM_PBKDF2_ITER_MIN;
    opts.config = &cfg;
    opts.actor = "fuzz";
    if (chsm_core_initialize(&opts) != CKR_OK) {
        fprintf(stderr, "fuzz_daemon: core initialisation failed\n");
        abort();
    }
    chsm_config_free(&cfg);
    chsm_dispatch_configure(&ds);
    atexit(teardown);
    ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {"x509:fuzz-a", "x509:fuzz-b", "peer:ipv4:127.0.0.1:1", "peer:ipv6:[::1]:2"};
    const ProtobufCServiceDescriptor *svc = &craton_hsm__v1__hsm_service__descriptor;
    struct chsm_dreply r;
    size_t method;

    if (size < 2)
        return 0;
    if (!ready)
        setup();
    method = data[0] % chsm_dispatch_method_count();
    chsm_dispatch(ids[data[1] & 3], method, data + 2, size - 2, &r);
    if ((unsigned)r.status > 16)
        abort();
    if (r.status == CHSM_DS_OK) {
        ProtobufCMessage *m = protobuf_c_message_unpack(svc->methods[method].output, NULL, r.body_len, r.body);
        if (m == NULL)
            abort();
        protobuf_c_message_free_unpacked(m, NULL);
    } else if (r.message[0] == '\0') {
        abort();
    }
    chsm_dreply_free(&r);
    /* Bound memory over long runs: forget every client (closes their sessions). */
    if (++runs % 512 == 0)
        chsm_clients_shutdown();
    return 0;
}
