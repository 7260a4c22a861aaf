/*
 * Shared measurement code for the benchmark programs: each operation runs
 * for a fixed time on T threads; every iteration's latency is sampled; the
 * result line is machine-readable so run.sh can build the comparison table:
 *   RESULT <impl> <op> <threads> <ops_per_s> <p50_us> <p99_us>
 */
#ifndef CHSM_BENCH_COMMON_H
#define CHSM_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef int (*bench_iter_fn)(void *thread_ctx); /* 0 = ok */

struct bench_result {
    double ops_per_s;
    double p50_us;
    double p99_us;
    uint64_t iterations;
};

/* Run fn on `threads` threads for `seconds` each with its own ctx (ctxs[i]). Returns 0 if every iteration succeeded. */
int bench_run(bench_iter_fn fn, void **ctxs, int threads, double seconds, struct bench_result *out);
void bench_print(const char *impl, const char *op, int threads, const struct bench_result *r);
uint64_t bench_now_ns(void);

#endif
