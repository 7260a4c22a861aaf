#define _GNU_SOURCE
#include "bench_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 200000

/* One cache line each: a worker writes iters/nsamples on every operation, and sharing a line
 * with its neighbour's fn/ctx/deadline made two threads pull it back and forth per operation. */
struct worker {
    _Alignas(64) bench_iter_fn fn;
    void *ctx;
    uint64_t deadline_ns;
    uint64_t iters;
    uint32_t *samples; /* latency in ns / 16, capped */
    size_t nsamples;
    int failed;
    pthread_barrier_t *start;
};

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    uint64_t now = bench_now_ns();
    while (now < w->deadline_ns) {
        uint64_t t0 = now;
        if (w->fn(w->ctx) != 0) {
            w->failed = 1;
            break;
        }
        now = bench_now_ns();
        if (w->nsamples < MAX_SAMPLES) {
            uint64_t d = (now - t0);
            w->samples[w->nsamples++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
        }
        w->iters++;
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int bench_run(bench_iter_fn fn, void **ctxs, int threads, double seconds, struct bench_result *out)
{
    struct worker w[64];
    pthread_t tid[64];
    pthread_barrier_t start;
    if (threads < 1 || threads > 64)
        return -1;
    /* Warm-up: one call per context (first-use costs such as lazy fetches). */
    for (int i = 0; i < threads; i++)
        if (fn(ctxs[i]) != 0)
            return -1;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){.fn = fn, .ctx = ctxs[i], .start = &start};
        w[i].samples = malloc(sizeof(uint32_t) * MAX_SAMPLES);
        if (w[i].samples == NULL)
            return -1;
    }
    uint64_t t_start = bench_now_ns();
    uint64_t deadline = t_start + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < threads; i++) {
        w[i].deadline_ns = deadline;
        pthread_create(&tid[i], NULL, worker_main, &w[i]);
    }
    pthread_barrier_wait(&start);
    t_start = bench_now_ns();
    uint64_t total = 0;
    size_t nall = 0;
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += w[i].iters;
        nall += w[i].nsamples;
        failed |= w[i].failed;
    }
    uint64_t t_end = bench_now_ns();
    uint32_t *all = malloc(sizeof(uint32_t) * (nall ? nall : 1));
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        for (size_t j = 0; j < w[i].nsamples; j++)
            all[k++] = w[i].samples[j];
        free(w[i].samples);
    }
    qsort(all, nall, sizeof(uint32_t), cmp_u32);
    out->iterations = total;
    out->ops_per_s = (double)total / ((double)(t_end - t_start) / 1e9);
    out->p50_us = nall ? all[nall / 2] / 1000.0 : 0;
    out->p99_us = nall ? all[(nall * 99) / 100] / 1000.0 : 0;
    free(all);
    pthread_barrier_destroy(&start);
    return failed ? -1 : 0;
}

void bench_print(const char *impl, const char *op, int threads, const struct bench_result *r)
{
    printf("RESULT %s %s %d %.1f %.2f %.2f\n", impl, op, threads, r->ops_per_s, r->p50_us, r->p99_us);
    fflush(stdout);
}

int bench_plan_opt(struct bench_plan *p, int c, const char *arg)
{
    switch (c) {
    case 0x100: p->threads = arg; return 1;
    case 0x101: p->seconds = atof(arg); return p->seconds > 0 ? 1 : -1;
    case 0x102: p->only = arg; return 1;
    case 0x103: p->slices = atoi(arg); return p->slices > 0 ? 1 : -1;
    case 0x104: p->turn_in = arg; return 1;
    case 0x105: p->turn_out = arg; return 1;
    case 0x106: p->ready = arg; return 1;
    case 0x107: p->settle_ms = atoi(arg); return p->settle_ms >= 0 ? 1 : -1;
    default: return 0;
    }
}

static int selected(const char *list, const char *name)
{
    if (list == NULL)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* FIFOs are opened read-write: the open never blocks and a write never meets a reader-less pipe. */
struct turns {
    int in, out;
    pid_t driver; /* the driver script (BENCH_DRIVER_PID, set by interleave.sh), else the parent */
};

static int turns_open(const struct bench_plan *p, struct turns *t)
{
    t->in = t->out = -1;
    const char *d = getenv("BENCH_DRIVER_PID");
    t->driver = d != NULL && atoi(d) > 0 ? (pid_t)atoi(d) : getppid();
    if (p->turn_in == NULL && p->turn_out == NULL && p->ready == NULL)
        return 0;
    if (p->turn_in == NULL || p->turn_out == NULL || p->ready == NULL) {
        fprintf(stderr, "bench: --turn-in, --turn-out and --ready go together\n");
        return -1;
    }
    t->in = open(p->turn_in, O_RDWR);
    t->out = open(p->turn_out, O_RDWR);
    int ready = open(p->ready, O_RDWR);
    if (t->in < 0 || t->out < 0 || ready < 0 || write(ready, "r", 1) != 1) {
        fprintf(stderr, "bench: turn FIFOs: %s\n", strerror(errno));
        return -1;
    }
    close(ready);
    return 0;
}

/* Waits at most 10 minutes, and gives up at once when the driver that started it is gone:
 * a partner or driver that died must not leave this program waiting. */
static int turn_wait(const struct turns *t)
{
    if (t->in < 0)
        return 0;
    struct pollfd pf = {.fd = t->in, .events = POLLIN};
    char b;
    for (int waited = 0; waited < 600; waited++) {
        int n = poll(&pf, 1, 1000);
        if (n == 1)
            return read(t->in, &b, 1) == 1 ? 0 : -1;
        if (n < 0 && errno != EINTR)
            break;
        if (kill(t->driver, 0) != 0 && errno == ESRCH) {
            fprintf(stderr, "bench: the driver is gone; stopping\n");
            return -1;
        }
    }
    fprintf(stderr, "bench: no turn within 10 minutes (a partner program failed?)\n");
    return -1;
}

static int turn_pass(const struct turns *t)
{
    if (t->out < 0 || write(t->out, "t", 1) == 1)
        return 0;
    fprintf(stderr, "bench: passing the turn: %s\n", strerror(errno));
    return -1;
}

int bench_run_plan(const struct bench_plan *p, const struct bench_op *ops, const int *unavailable, size_t nops,
                   void **ctxs, bench_prepare_fn prepare, void *prepare_arg)
{
    struct turns t;
    if (turns_open(p, &t) != 0)
        return 1;
    int rc = 0;
    for (size_t o = 0; o < nops; o++) {
        if (!selected(p->only, ops[o].name))
            continue;
        for (int slice = 0; slice < p->slices; slice++) {
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", p->threads);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                int nt = atoi(tok);
                struct bench_result r;
                if (turn_wait(&t) != 0)
                    return 1;
                if (unavailable != NULL && unavailable[o]) {
                    /* skipped, but the turn still moves on */
                } else if ((prepare != NULL && prepare(nt, prepare_arg) != 0) ||
                           bench_run(ops[o].fn, ctxs, nt, p->seconds, &r) != 0) {
                    fprintf(stderr, "%s: %s failed during the run\n", p->impl, ops[o].name);
                    rc = 1;
                } else {
                    bench_print(p->impl, ops[o].name, nt, &r);
                }
                if (p->settle_ms > 0) {
                    struct timespec ts = {p->settle_ms / 1000, (long)(p->settle_ms % 1000) * 1000000L};
                    nanosleep(&ts, NULL);
                }
                if (turn_pass(&t) != 0)
                    return 1;
            }
        }
    }
    return rc;
}
