/*
 * craton-hsmd: lifecycle. Load and validate the config, apply the transport
 * policy, run the power-on self-tests through the core (which also opens
 * the store under its exclusive advisory lock), serve gRPC until SIGTERM or
 * SIGINT, then drain, flush and close. Exit codes (docs/daemon.md):
 *   0 clean shutdown / config OK   2 usage or configuration error
 *   3 transport or TLS policy refused   4 core initialisation (self-test,
 *   store, lock) failed   5 cannot listen   1 anything else
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef CHSM_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "clients.h"
#include "common/log.h"
#include "core/core.h"
#include "dispatch.h"
#include "policy.h"
#include "server.h"

enum { EXIT_USAGE = 2, EXIT_POLICY = 3, EXIT_CORE = 4, EXIT_LISTEN = 5 };

static void usage(FILE *f)
{
    fprintf(f, "usage: craton-hsmd [--config PATH] [--check-config] [--help] [--version]\n"
               "  --config PATH    craton_hsm.toml to use (default: $CRATON_HSM_CONFIG, ./craton_hsm.toml,\n"
               "                   built-in defaults)\n"
               "  --check-config   validate the configuration and transport rules, then exit\n"
               "Signals: SIGTERM/SIGINT shut down cleanly, SIGHUP reloads the TLS certificates.\n");
}

static void notify(const char *state)
{
#ifdef CHSM_HAVE_SYSTEMD
    (void)sd_notify(0, state);
#else
    (void)state;
#endif
}

static const char *transport_name(enum chsm_transport t)
{
    return t == CHSM_TRANSPORT_MTLS ? "mutual TLS" : t == CHSM_TRANSPORT_TLS ? "TLS (no client certificates)"
                                                                               : "plaintext (loopback only)";
}

static int load_config(const char *path, struct chsm_config *cfg)
{
    struct chsm_config_diag diag = {0};
    CK_RV rv = chsm_config_load(path, cfg, &diag);

    for (size_t i = 0; i < diag.count; i++)
        fprintf(stderr, "craton-hsmd: %s\n", diag.items[i].message);
    chsm_config_diag_free(&diag);
    if (rv != CKR_OK) {
        if (diag.count == 0)
            fprintf(stderr, "craton-hsmd: cannot load the configuration: %s\n", chsm_rv_name(rv));
        return EXIT_USAGE;
    }
    return 0;
}

static void finalize_quietly(void)
{
    if (chsm_core_finalize() != CKR_OK)
        chsm_log_err(CHSM_LOG_WARN, "craton-hsmd: finalize");
}

/* Self-tests run inside chsm_core_initialize; the log level is raised so
 * each "self-test" line reaches stderr (the journal) whatever CRATON_HSM_LOG says. */
static int start_core(const struct chsm_config *cfg)
{
    struct chsm_core_options opts = {.config = cfg, .exclusive_store_lock = true, .actor = "craton-hsmd"};
    struct chsm_core_status st;
    enum chsm_log_level prev = chsm_log_get_level();
    CK_RV rv;

    if (prev < CHSM_LOG_INFO)
        chsm_log_set_level(CHSM_LOG_INFO);
    rv = chsm_core_initialize(&opts);
    if (rv != CKR_OK) {
        const struct chsm_err *e = chsm_err_last();
        fprintf(stderr, "craton-hsmd: core initialisation failed: %s%s%s\n", chsm_rv_name(rv),
                e->msg[0] ? ": " : "", e->msg);
        chsm_log_set_level(prev);
        return EXIT_CORE;
    }
    rv = chsm_core_get_status(&st);
    if (rv != CKR_OK || !st.selftests_passed) {
        chsm_log(CHSM_LOG_ERROR, "self-test: FAILED (%u run)", rv == CKR_OK ? st.selftests_run : 0u);
        finalize_quietly();
        chsm_log_set_level(prev);
        return EXIT_CORE;
    }
    chsm_log(CHSM_LOG_INFO, "self-test: all %u passed", st.selftests_run);
    chsm_log(CHSM_LOG_INFO, "craton-hsmd: store %s%s", st.store_path,
             st.store_lock_held_by_us ? " (exclusive lock held)" : "");
    chsm_log_set_level(prev);
    return 0;
}

/* Wait for signals; reap idle clients between them. */
static void serve(struct chsm_server *srv, const sigset_t *set, uint32_t idle_s)
{
    const struct timespec tick = {1, 0};

    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            chsm_log(CHSM_LOG_WARN, "craton-hsmd: %s received; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
        if (sig == SIGHUP) {
            chsm_server_request_reload(srv);
            continue;
        }
        (void)chsm_clients_reap_idle(idle_s);
    }
}

static int run(const struct chsm_config *cfg, enum chsm_transport tr)
{
    struct chsm_server_options so = {
        .bind = cfg->daemon.bind,
        .transport = tr,
        .tls_cert = cfg->daemon.tls_cert,
        .tls_key = cfg->daemon.tls_key,
        .tls_client_ca = cfg->daemon.tls_client_ca,
        .max_recv_message_bytes = cfg->daemon.max_recv_message_bytes,
        .max_send_message_bytes = cfg->daemon.max_send_message_bytes,
        .max_concurrent_streams = cfg->daemon.max_concurrent_streams,
        .worker_threads = cfg->daemon.worker_threads,
    };
    struct chsm_dispatch_settings ds = {cfg->daemon.max_random_bytes, cfg->daemon.max_send_message_bytes};
    struct chsm_server *srv;
    sigset_t set;
    char msg[512];
    int rc;

    /* Before any thread exists (core, gRPC): every thread inherits the mask
     * and main collects the signals with sigtimedwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = start_core(cfg);
    if (rc != 0)
        return rc;
    chsm_dispatch_configure(&ds);
    chsm_server_route_grpc_log();
    srv = chsm_server_start(&so, msg, sizeof msg);
    if (srv == NULL) {
        fprintf(stderr, "craton-hsmd: %s\n", msg);
        chsm_clients_shutdown();
        finalize_quietly();
        return EXIT_LISTEN;
    }
    fprintf(stderr, "craton-hsmd: serving on %s (port %d, %s)\n", cfg->daemon.bind, chsm_server_port(srv),
            transport_name(tr));
    notify("READY=1\nSTATUS=serving");
    serve(srv, &set, cfg->daemon.session_idle_timeout_s);
    notify("STOPPING=1");
    chsm_server_stop(srv, cfg->daemon.shutdown_grace_s);
    chsm_clients_shutdown();
    if (chsm_core_finalize() != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, "craton-hsmd: finalize");
        return 1;
    }
    fprintf(stderr, "craton-hsmd: stopped\n");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"check-config", no_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL;
    bool check_only = false;
    struct chsm_config cfg;
    enum chsm_transport tr;
    char msg[512];
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            check_only = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("craton-hsmd %s\n", CHSM_VERSION_STRING);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    chsm_log_init();
    memset(&cfg, 0, sizeof cfg);
    rc = load_config(path, &cfg);
    if (rc != 0)
        return rc;
    if (!chsm_dispatch_self_check(msg, sizeof msg)) {
        fprintf(stderr, "craton-hsmd: internal: %s\n", msg);
        rc = 1;
    } else if (!chsm_dpolicy_check(&cfg, &tr, msg, sizeof msg)) {
        fprintf(stderr, "craton-hsmd: refusing to start: %s\n", msg);
        rc = EXIT_POLICY;
    } else if (check_only) {
        printf("craton-hsmd: configuration OK (%s): bind %s, %s\n",
               cfg.source_path ? cfg.source_path : "built-in defaults", cfg.daemon.bind, transport_name(tr));
        rc = 0;
    } else {
        rc = run(&cfg, tr);
    }
    chsm_config_free(&cfg);
    return rc;
}
