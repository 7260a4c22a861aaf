#define _GNU_SOURCE
#include "bench_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_SAMPLES 200000

struct worker {
    bench_iter_fn fn;
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
