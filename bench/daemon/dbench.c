/*
 * dbench: load client for craton-hsmd on the gRPC C core (issue 7, "Speed").
 *
 *   dbench --target HOST:PORT --ca CA --cert CRT --key KEY --pin USERPIN [--init SOPIN]
 *          [--ops ecdsa_p256_sign,random_32] [--inflight 32] [--channels 4] [--threads 1]
 *          [--seconds S] [--rounds N] [--pid DAEMON_PID] [--lean] [--token-key]
 *          [--soak --pid PID [--max-calls 1000000] [--max-seconds 120] [--rss-every 5] [--warmup 20]]
 *
 * Set-up over gRPC: (InitToken, SO login, InitPin when --init), one session
 * per call in flight (a PKCS#11 session runs one operation at a time), user
 * login, one EC P-256 key pair by GenerateKeyPair: session objects by default,
 * like the in-process p11bench keys, so both sides run the same operation;
 * --token-key makes them token objects (SignInit on a token key also polls
 * the store for other processes' writes). --lean sets throughput channel args
 * on the client (rpc.c). Then each op keeps
 * --inflight calls outstanding for --seconds and prints
 *   RESULT daemon <op> <inflight> <calls_per_s> <p50_us> <p99_us>
 * (the p11bench format) and, with --pid, the CPU time per call of the daemon
 * (/proc/PID/stat) and of this client (getrusage) in one CPU line. --soak mixes Sign and GenerateRandom(32) until
 * --max-calls or --max-seconds, samples the daemon's VmRSS every --rss-every
 * seconds and prints RSS lines and one SOAK verdict line. Exit 1 on any failed
 * call or a failed soak verdict.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "rpc.h"

#define CKM_EC_KEY_PAIR_GEN 0x1040u
#define CKM_ECDSA 0x1041u
#define CKA_TOKEN 0x1u
#define CKA_PRIVATE 0x2u
#define CKA_SENSITIVE 0x103u
#define CKA_SIGN 0x108u
#define CKA_VERIFY 0x10au
#define CKA_EC_PARAMS 0x180u
#define MAX_INFLIGHT 256
#define CALL_DEADLINE_S 60
#define CHSM_DBENCH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum op { OP_SIGN, OP_RANDOM, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"ecdsa_p256_sign", "random_32"};
static const char *const op_methods[OP_COUNT] = {"Sign", "GenerateRandom"};

struct lat {
    uint32_t *us;
    size_t n, cap;
};

struct slot {
    unsigned ch;
    grpc_slice req[OP_COUNT];
    enum op cur;
    grpc_call *call;
    grpc_byte_buffer *send, *recv;
    grpc_metadata_array imd, tmd;
    grpc_status_code st;
    grpc_slice details;
    uint64_t t0;
};

struct driver {
    pthread_t th;
    struct slot *slots;
    unsigned n;
    grpc_completion_queue *cq;
    struct lat lat[OP_COUNT];
    uint64_t errors;
};

static struct {
    struct dconn_opts conn;
    const char *pin, *so_pin, *ops;
    unsigned inflight, threads, rounds, rss_every, warmup;
    double seconds, max_seconds;
    uint64_t max_calls;
    bool soak, token_key;
    long pid;
} opt = {.conn = {.server_name = "localhost", .channels = 4},
         .ops = "ecdsa_p256_sign,random_32",
         .inflight = 32,
         .threads = 1,
         .rounds = 1,
         .rss_every = 5,
         .warmup = 20,
         .seconds = 5,
         .max_seconds = 120,
         .max_calls = 1000000};

static struct dconn conn;
static size_t method_idx[OP_COUNT];
static uint64_t phase_end_ns;
static bool soak_mix;
static atomic_uint_fast64_t calls_done;
static atomic_bool phase_over;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void lat_add(struct lat *l, uint32_t us)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 65536;
        l->us = realloc(l->us, l->cap * sizeof *l->us);
        if (l->us == NULL)
            exit(1);
    }
    l->us[l->n++] = us;
}

/* ---- set-up over gRPC ---- */

static ProtobufCMessage *must(ProtobufCMessage *m)
{
    if (m == NULL)
        exit(1);
    return m;
}

static uint64_t open_session(void)
{
    CratonHsm__V1__OpenSessionRequest q = CRATON_HSM__V1__OPEN_SESSION_REQUEST__INIT;
    CratonHsm__V1__OpenSessionResponse *r;
    uint64_t s;
    q.read_write = true;
    r = (CratonHsm__V1__OpenSessionResponse *)must(dconn_call(&conn, "OpenSession", &q.base, "OpenSession"));
    s = r->session;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return s;
}

static void simple(const char *method, const ProtobufCMessage *q)
{
    protobuf_c_message_free_unpacked(must(dconn_call(&conn, method, q, method)), NULL);
}

static void login(uint64_t s, CratonHsm__V1__UserType who, const char *pin)
{
    CratonHsm__V1__LoginRequest q = CRATON_HSM__V1__LOGIN_REQUEST__INIT;
    q.session = s;
    q.user_type = who;
    q.pin.data = (uint8_t *)pin;
    q.pin.len = strlen(pin);
    simple("Login", &q.base);
}

static void init_token(void)
{
    CratonHsm__V1__InitTokenRequest it = CRATON_HSM__V1__INIT_TOKEN_REQUEST__INIT;
    CratonHsm__V1__InitPinRequest ip = CRATON_HSM__V1__INIT_PIN_REQUEST__INIT;
    CratonHsm__V1__LogoutRequest lo = CRATON_HSM__V1__LOGOUT_REQUEST__INIT;
    CratonHsm__V1__CloseSessionRequest cs = CRATON_HSM__V1__CLOSE_SESSION_REQUEST__INIT;
    uint64_t s;

    it.so_pin.data = (uint8_t *)opt.so_pin;
    it.so_pin.len = strlen(opt.so_pin);
    it.label = (char *)"dbench";
    simple("InitToken", &it.base);
    s = open_session();
    login(s, CRATON_HSM__V1__USER_TYPE__USER_TYPE_SO, opt.so_pin);
    ip.session = s;
    ip.pin.data = (uint8_t *)opt.pin;
    ip.pin.len = strlen(opt.pin);
    simple("InitPin", &ip.base);
    lo.session = s;
    simple("Logout", &lo.base);
    cs.session = s;
    simple("CloseSession", &cs.base);
}

static void set_bool(CratonHsm__V1__Attribute *a, uint64_t type, bool v)
{
    a->type = type;
    a->value_case = CRATON_HSM__V1__ATTRIBUTE__VALUE_BOOL_VALUE;
    a->bool_value = v;
}

static uint64_t generate_p256(uint64_t s)
{
    static uint8_t p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CratonHsm__V1__GenerateKeyPairRequest q = CRATON_HSM__V1__GENERATE_KEY_PAIR_REQUEST__INIT;
    CratonHsm__V1__Mechanism m = CRATON_HSM__V1__MECHANISM__INIT;
    CratonHsm__V1__Attribute pub[3], priv[4];
    CratonHsm__V1__Attribute *pubp[3], *privp[4];
    CratonHsm__V1__GenerateKeyPairResponse *r;
    uint64_t h;

    for (int i = 0; i < 3; i++)
        craton_hsm__v1__attribute__init(&pub[i]), pubp[i] = &pub[i];
    for (int i = 0; i < 4; i++)
        craton_hsm__v1__attribute__init(&priv[i]), privp[i] = &priv[i];
    pub[0].type = CKA_EC_PARAMS;
    pub[0].value_case = CRATON_HSM__V1__ATTRIBUTE__VALUE_BYTES_VALUE;
    pub[0].bytes_value.data = p256_oid;
    pub[0].bytes_value.len = sizeof p256_oid;
    set_bool(&pub[1], CKA_VERIFY, true);
    set_bool(&pub[2], CKA_TOKEN, opt.token_key);
    set_bool(&priv[0], CKA_SIGN, true);
    set_bool(&priv[1], CKA_SENSITIVE, true);
    set_bool(&priv[2], CKA_PRIVATE, true);
    set_bool(&priv[3], CKA_TOKEN, opt.token_key);
    m.type = CKM_EC_KEY_PAIR_GEN;
    q.session = s;
    q.mechanism = &m;
    q.n_public_template = 3;
    q.public_template = pubp;
    q.n_private_template = 4;
    q.private_template = privp;
    r = (CratonHsm__V1__GenerateKeyPairResponse *)must(dconn_call(&conn, "GenerateKeyPair", &q.base, "keygen"));
    h = r->private_handle;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return h;
}

static void prepare_slot(struct slot *sl, uint64_t session, uint64_t key, unsigned ch)
{
    static uint8_t hash32[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    CratonHsm__V1__SignRequest sq = CRATON_HSM__V1__SIGN_REQUEST__INIT;
    CratonHsm__V1__GenerateRandomRequest rq = CRATON_HSM__V1__GENERATE_RANDOM_REQUEST__INIT;
    CratonHsm__V1__Mechanism m = CRATON_HSM__V1__MECHANISM__INIT;

    memset(sl, 0, sizeof *sl);
    sl->ch = ch;
    m.type = CKM_ECDSA;
    sq.session = session;
    sq.mechanism = &m;
    sq.key = key;
    sq.data.data = hash32;
    sq.data.len = sizeof hash32;
    sl->req[OP_SIGN] = dconn_pack(&sq.base);
    rq.session = session;
    rq.length = 32;
    sl->req[OP_RANDOM] = dconn_pack(&rq.base);
}

/* ---- asynchronous load ---- */

static void start_call(struct driver *d, struct slot *sl)
{
    grpc_op ops[6];
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_seconds(CALL_DEADLINE_S, GPR_TIMESPAN));

    sl->call = grpc_channel_create_registered_call(conn.ch[sl->ch], NULL, GRPC_PROPAGATE_DEFAULTS, d->cq,
                                                   dconn_handle(&conn, sl->ch, method_idx[sl->cur]), dl, NULL);
    sl->send = grpc_raw_byte_buffer_create(&sl->req[sl->cur], 1);
    sl->recv = NULL;
    sl->st = GRPC_STATUS_UNKNOWN;
    sl->details = grpc_empty_slice();
    grpc_metadata_array_init(&sl->imd);
    grpc_metadata_array_init(&sl->tmd);
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = sl->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &sl->imd;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &sl->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &sl->tmd;
    ops[5].data.recv_status_on_client.status = &sl->st;
    ops[5].data.recv_status_on_client.status_details = &sl->details;
    sl->t0 = now_ns();
    if (grpc_call_start_batch(sl->call, ops, 6, sl, NULL) != GRPC_CALL_OK) {
        fprintf(stderr, "dbench: start_batch failed\n");
        exit(1);
    }
}

/* The reply must be what the op promises: a 64-byte signature, 32 random bytes. */
static bool reply_ok(struct slot *sl)
{
    grpc_byte_buffer_reader rd;
    grpc_slice flat;
    bool ok = false;

    if (sl->st != GRPC_STATUS_OK || sl->recv == NULL || !grpc_byte_buffer_reader_init(&rd, sl->recv))
        return false;
    flat = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    /* Both replies are one bytes field 1: tag 0x0a, length, payload. */
    if (GRPC_SLICE_LENGTH(flat) >= 2 && GRPC_SLICE_START_PTR(flat)[0] == 0x0a) {
        size_t want = sl->cur == OP_SIGN ? 64 : 32;
        ok = GRPC_SLICE_START_PTR(flat)[1] == want && GRPC_SLICE_LENGTH(flat) == want + 2;
    }
    grpc_slice_unref(flat);
    return ok;
}

static void finish_call(struct driver *d, struct slot *sl)
{
    uint64_t t = now_ns();

    if (reply_ok(sl)) {
        lat_add(&d->lat[sl->cur], (uint32_t)((t - sl->t0) / 1000u));
        atomic_fetch_add(&calls_done, 1);
    } else {
        char *msg = grpc_slice_to_c_string(sl->details);
        if (d->errors++ < 5)
            fprintf(stderr, "dbench: %s failed: status %d: %s\n", op_names[sl->cur], (int)sl->st, msg);
        gpr_free(msg);
    }
    if (sl->recv != NULL)
        grpc_byte_buffer_destroy(sl->recv);
    grpc_byte_buffer_destroy(sl->send);
    grpc_slice_unref(sl->details);
    grpc_metadata_array_destroy(&sl->imd);
    grpc_metadata_array_destroy(&sl->tmd);
    grpc_call_unref(sl->call);
    sl->call = NULL;
}

static bool keep_going(void)
{
    if (atomic_load(&phase_over))
        return false;
    if (now_ns() >= phase_end_ns || (soak_mix && atomic_load(&calls_done) >= opt.max_calls)) {
        atomic_store(&phase_over, true);
        return false;
    }
    return true;
}

static void *drive(void *arg)
{
    struct driver *d = arg;
    unsigned pending = 0;

    for (unsigned i = 0; i < d->n; i++, pending++)
        start_call(d, &d->slots[i]);
    while (pending > 0) {
        grpc_event ev = grpc_completion_queue_next(d->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        struct slot *sl = ev.tag;
        if (ev.type != GRPC_OP_COMPLETE) {
            fprintf(stderr, "dbench: unexpected completion queue event %d\n", (int)ev.type);
            exit(1);
        }
        finish_call(d, sl);
        if (keep_going()) {
            if (soak_mix)
                sl->cur = sl->cur == OP_SIGN ? OP_RANDOM : OP_SIGN;
            start_call(d, sl);
        } else {
            pending--;
        }
    }
    return NULL;
}

/* ---- phases and figures ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(struct lat *l, double p)
{
    size_t i;
    if (l->n == 0)
        return 0;
    i = (size_t)(p * (double)(l->n - 1) + 0.5);
    return (double)l->us[i];
}

/* ---- CPU accounting: the daemon's (from /proc) and ours, per call ---- */

struct cpu_mark {
    double daemon_s, client_s, busy, total;
};

static double daemon_cpu_s(void)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    size_t n;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/stat", opt.pid);
    if (opt.pid <= 0 || (f = fopen(path, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* comm may hold spaces */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void cpu_mark(struct cpu_mark *m)
{
    struct rusage ru;
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");

    getrusage(RUSAGE_SELF, &ru);
    m->client_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                  (double)ru.ru_stime.tv_usec / 1e6;
    m->daemon_s = daemon_cpu_s();
    m->busy = m->total = 0;
    if (f != NULL) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) == 8) {
            for (int i = 0; i < 8; i++)
                m->total += (double)v[i];
            m->busy = m->total - (double)v[3] - (double)v[4];
        }
        fclose(f);
    }
}

static void print_cpu(const char *what, const struct cpu_mark *a, const struct cpu_mark *b, uint64_t calls)
{
    double n = calls ? (double)calls : 1;
    if (opt.pid <= 0)
        return;
    printf("CPU daemon %s daemon_us_per_call=%.1f client_us_per_call=%.1f machine_busy_pct=%.0f cores=%ld\n", what,
           1e6 * (b->daemon_s - a->daemon_s) / n, 1e6 * (b->client_s - a->client_s) / n,
           b->total > a->total ? 100.0 * (b->busy - a->busy) / (b->total - a->total) : 0, sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);
}

/* Run one phase on every driver; all slots do op (or alternate when soak_mix). */
static uint64_t run_phase(struct driver *drv, enum op op, double seconds, double *elapsed_s)
{
    uint64_t t0, errors = 0;

    atomic_store(&phase_over, false);
    atomic_store(&calls_done, 0);
    for (unsigned t = 0; t < opt.threads; t++) {
        for (unsigned i = 0; i < drv[t].n; i++)
            drv[t].slots[i].cur = soak_mix ? (enum op)(i % 2) : op;
        for (int k = 0; k < OP_COUNT; k++)
            drv[t].lat[k].n = 0;
        drv[t].errors = 0;
    }
    t0 = now_ns();
    phase_end_ns = t0 + (uint64_t)(seconds * 1e9);
    for (unsigned t = 0; t < opt.threads; t++)
        if (pthread_create(&drv[t].th, NULL, drive, &drv[t]) != 0)
            exit(1);
    for (unsigned t = 0; t < opt.threads; t++) {
        pthread_join(drv[t].th, NULL);
        errors += drv[t].errors;
    }
    *elapsed_s = (double)(now_ns() - t0) / 1e9;
    return errors;
}

/* Merge the drivers' latencies of op into one sorted list. */
static struct lat merged(struct driver *drv, enum op op)
{
    struct lat all = {0};
    for (unsigned t = 0; t < opt.threads; t++)
        for (size_t i = 0; i < drv[t].lat[op].n; i++)
            lat_add(&all, drv[t].lat[op].us[i]);
    if (all.n)
        qsort(all.us, all.n, sizeof *all.us, cmp_u32);
    return all;
}

static void print_result(struct driver *drv, enum op op, double elapsed)
{
    struct lat all = merged(drv, op);
    printf("RESULT daemon %s %u %.1f %.2f %.2f\n", op_names[op], opt.inflight, (double)all.n / elapsed,
           pct(&all, 0.50), pct(&all, 0.99));
    fflush(stdout);
    free(all.us);
}

/* ---- soak: RSS sampling ---- */

struct rss_sample {
    double t;
    uint64_t calls;
    long kib;
};

static struct {
    struct rss_sample s[4096];
    unsigned n;
    atomic_bool stop;
    uint64_t t0;
} rss;

static long read_rss_kib(void)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/status", opt.pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void rss_sample_now(void)
{
    struct rss_sample *s;
    if (rss.n >= CHSM_DBENCH_ARRAY_LEN(rss.s))
        return;
    s = &rss.s[rss.n++];
    s->t = (double)(now_ns() - rss.t0) / 1e9;
    s->calls = atomic_load(&calls_done);
    s->kib = read_rss_kib();
    printf("RSS t=%.1fs calls=%llu vmrss_kib=%ld\n", s->t, (unsigned long long)s->calls, s->kib);
    fflush(stdout);
}

static void *rss_sampler(void *arg)
{
    (void)arg;
    for (;;) {
        for (unsigned i = 0; i < opt.rss_every * 10; i++) {
            if (atomic_load(&rss.stop))
                return NULL;
            usleep(100000);
        }
        rss_sample_now();
    }
}

/* Least-squares slope of RSS against time over the samples from index k. */
static double slope_kib_per_min(unsigned k)
{
    double n = 0, st = 0, sr = 0, stt = 0, str = 0;
    for (unsigned i = k; i < rss.n; i++) {
        n++;
        st += rss.s[i].t;
        sr += (double)rss.s[i].kib;
        stt += rss.s[i].t * rss.s[i].t;
        str += rss.s[i].t * (double)rss.s[i].kib;
    }
    if (n < 3 || n * stt - st * st == 0)
        return 0;
    return 60.0 * (n * str - st * sr) / (n * stt - st * st);
}

/*
 * Verdict: RSS under 64 MiB at the end, and no growth after warm-up beyond
 * noise: end - warm <= 2 MiB + 5 % of warm. (A leak of even 64 bytes per call
 * would add 61 MiB over a million calls, far beyond that band.)
 */
static int soak(struct driver *drv)
{
    pthread_t th;
    double elapsed;
    uint64_t errors;
    unsigned warm = 0;
    struct cpu_mark ca, cb;
    long start, warm_kib, end, band;
    bool ok;

    if (opt.pid <= 0) {
        fprintf(stderr, "dbench: --soak needs --pid\n");
        return 1;
    }
    soak_mix = true;
    rss.t0 = now_ns();
    rss_sample_now();
    if (pthread_create(&th, NULL, rss_sampler, NULL) != 0)
        exit(1);
    cpu_mark(&ca);
    errors = run_phase(drv, OP_SIGN, opt.max_seconds, &elapsed);
    cpu_mark(&cb);
    atomic_store(&rss.stop, true);
    pthread_join(th, NULL);
    rss_sample_now();
    print_result(drv, OP_SIGN, elapsed);
    print_result(drv, OP_RANDOM, elapsed);
    print_cpu("soak_mix", &ca, &cb, atomic_load(&calls_done));
    while (warm + 1 < rss.n && rss.s[warm].t < (double)opt.warmup)
        warm++;
    start = rss.s[0].kib;
    warm_kib = rss.s[warm].kib;
    end = rss.s[rss.n - 1].kib;
    band = 2048 + warm_kib / 20;
    ok = errors == 0 && start > 0 && end > 0 && end < 64 * 1024 && end - warm_kib <= band;
    printf("SOAK calls=%llu seconds=%.1f calls_per_s=%.1f errors=%llu rss_start_kib=%ld rss_warm_kib=%ld "
           "(t=%.0fs) rss_end_kib=%ld growth_after_warmup_kib=%ld noise_band_kib=%ld slope_kib_per_min=%.1f "
           "limit_kib=%d verdict=%s\n",
           (unsigned long long)atomic_load(&calls_done), elapsed, (double)atomic_load(&calls_done) / elapsed,
           (unsigned long long)errors, start, warm_kib, rss.s[warm].t, end, end - warm_kib, band,
           slope_kib_per_min(warm), 64 * 1024, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: dbench --target H:P --ca F --cert F --key F --pin PIN [--init SOPIN] [--ops a,b]\n"
                    "              [--inflight N] [--channels N] [--threads N] [--seconds S] [--rounds N]\n"
                    "              [--lean] [--token-key]\n"
                    "              [--soak --pid PID [--max-calls N] [--max-seconds S] [--rss-every S] [--warmup S]]\n");
    exit(2);
}

static void parse(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--soak") == 0) {
            opt.soak = true;
            continue;
        }
        if (strcmp(a, "--lean") == 0) {
            opt.conn.lean = true;
            continue;
        }
        if (strcmp(a, "--token-key") == 0) {
            opt.token_key = true;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--target") == 0) opt.conn.target = v;
        else if (strcmp(a, "--ca") == 0) opt.conn.ca = v;
        else if (strcmp(a, "--cert") == 0) opt.conn.cert = v;
        else if (strcmp(a, "--key") == 0) opt.conn.key = v;
        else if (strcmp(a, "--server-name") == 0) opt.conn.server_name = v;
        else if (strcmp(a, "--channels") == 0) opt.conn.channels = (unsigned)atoi(v);
        else if (strcmp(a, "--pin") == 0) opt.pin = v;
        else if (strcmp(a, "--init") == 0) opt.so_pin = v;
        else if (strcmp(a, "--ops") == 0) opt.ops = v;
        else if (strcmp(a, "--inflight") == 0) opt.inflight = (unsigned)atoi(v);
        else if (strcmp(a, "--threads") == 0) opt.threads = (unsigned)atoi(v);
        else if (strcmp(a, "--seconds") == 0) opt.seconds = atof(v);
        else if (strcmp(a, "--rounds") == 0) opt.rounds = (unsigned)atoi(v);
        else if (strcmp(a, "--pid") == 0) opt.pid = atol(v);
        else if (strcmp(a, "--max-calls") == 0) opt.max_calls = strtoull(v, NULL, 10);
        else if (strcmp(a, "--max-seconds") == 0) opt.max_seconds = atof(v);
        else if (strcmp(a, "--rss-every") == 0) opt.rss_every = (unsigned)atoi(v);
        else if (strcmp(a, "--warmup") == 0) opt.warmup = (unsigned)atoi(v);
        else usage();
    }
    if (opt.conn.target == NULL || opt.conn.ca == NULL || opt.conn.cert == NULL || opt.conn.key == NULL ||
        opt.pin == NULL || opt.inflight == 0 || opt.inflight > MAX_INFLIGHT || opt.threads == 0 ||
        opt.threads > opt.inflight || opt.rss_every == 0)
        usage();
}

int main(int argc, char **argv)
{
    struct driver drv[MAX_INFLIGHT];
    struct slot *slots;
    uint64_t key, *sessions;
    int rc = 0;

    parse(argc, argv);
    dconn_open(&conn, &opt.conn);
    for (int k = 0; k < OP_COUNT; k++)
        method_idx[k] = dconn_method(op_methods[k]);
    if (opt.so_pin != NULL)
        init_token();
    slots = calloc(opt.inflight, sizeof *slots);
    sessions = calloc(opt.inflight, sizeof *sessions);
    if (slots == NULL || sessions == NULL)
        return 1;
    for (unsigned i = 0; i < opt.inflight; i++)
        sessions[i] = open_session();
    login(sessions[0], CRATON_HSM__V1__USER_TYPE__USER_TYPE_USER, opt.pin);
    key = generate_p256(sessions[0]);
    for (unsigned i = 0; i < opt.inflight; i++)
        prepare_slot(&slots[i], sessions[i], key, i % conn.n_ch);
    memset(drv, 0, sizeof drv);
    for (unsigned t = 0, next = 0; t < opt.threads; t++) {
        unsigned n = opt.inflight / opt.threads + (t < opt.inflight % opt.threads);
        drv[t].slots = &slots[next];
        drv[t].n = n;
        drv[t].cq = grpc_completion_queue_create_for_next(NULL);
        next += n;
    }
    printf("# dbench: target %s, %u calls in flight, %u channels, %u client threads, %u sessions, mutual TLS, "
           "%s key, %s client channel args\n",
           opt.conn.target, opt.inflight, conn.n_ch, opt.threads, opt.inflight,
           opt.token_key ? "token" : "session", opt.conn.lean ? "lean" : "default");
    fflush(stdout);
    if (opt.soak) {
        rc = soak(drv);
    } else {
        for (unsigned r = 0; r < opt.rounds; r++)
            for (int k = 0; k < OP_COUNT; k++) {
                double elapsed;
                if (strstr(opt.ops, op_names[k]) == NULL)
                    continue;
                struct cpu_mark a, b;
                cpu_mark(&a);
                if (run_phase(drv, (enum op)k, opt.seconds, &elapsed) != 0)
                    rc = 1;
                cpu_mark(&b);
                print_result(drv, (enum op)k, elapsed);
                print_cpu(op_names[k], &a, &b, atomic_load(&calls_done));
            }
    }
    for (unsigned t = 0; t < opt.threads; t++) {
        grpc_completion_queue_shutdown(drv[t].cq);
        while (grpc_completion_queue_next(drv[t].cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(drv[t].cq);
        for (int k = 0; k < OP_COUNT; k++)
            free(drv[t].lat[k].us);
    }
    for (unsigned i = 0; i < opt.inflight; i++) {
        CratonHsm__V1__CloseSessionRequest cs = CRATON_HSM__V1__CLOSE_SESSION_REQUEST__INIT;
        cs.session = sessions[i];
        simple("CloseSession", &cs.base);
        for (int k = 0; k < OP_COUNT; k++)
            grpc_slice_unref(slots[i].req[k]);
    }
    free(sessions);
    free(slots);
    dconn_close(&conn);
    return rc;
}
