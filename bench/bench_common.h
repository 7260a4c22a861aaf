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

/*
 * A run plan shared by the benchmark programs. Every selected operation is
 * measured in `slices` slices of `seconds` each; within a slice every thread
 * count is measured once (op1: slice1 1T 2T, slice2 1T 2T, ...; op2: ...).
 *
 * Interleaving (bench/run.sh, bench/audit/run.sh): several programs run at
 * once and take turns through FIFOs, so each measurement of one program sits
 * next to the same measurement of the others. A program reads one byte from
 * turn_in before each measurement and writes one byte to turn_out after it;
 * it writes one byte to `ready` when its set-up is done. On this shared,
 * noisy machine, measurements taken seconds apart are comparable, while
 * measurements minutes apart can differ by 50 %.
 */
struct bench_op {
    const char *name;
    bench_iter_fn fn;
};

/*
 * The operations p11bench and rawbench both measure, as X(name, iteration
 * function), in the one order interleaved runs rely on (each program defines
 * the functions under these names).
 */
#define BENCH_OPS(X)                                                                                         \
    X(rsa2048_pkcs1_sign, it_rsa_pkcs_sign) X(rsa2048_pkcs1_verify, it_rsa_pkcs_verify)                      \
    X(rsa2048_pss_sign, it_rsa_pss_sign) X(rsa2048_pss_verify, it_rsa_pss_verify)                            \
    X(ecdsa_p256_sign, it_p256_sign) X(ecdsa_p256_verify, it_p256_verify)                                    \
    X(ecdsa_p384_sign, it_p384_sign) X(ecdsa_p384_verify, it_p384_verify)                                    \
    X(ed25519_sign, it_ed_sign) X(ed25519_verify, it_ed_verify)                                              \
    X(sha256_4k, it_sha256_4k) X(aes256_gcm_enc_4k, it_gcm_enc_4k)                                           \
    X(aes256_gcm_dec_4k, it_gcm_dec_4k) X(aes256_cbcpad_enc_4k, it_cbcpad_enc_4k)                            \
    X(hmac_sha256_64, it_hmac_64) X(aes256_gcm_enc_64, it_gcm_enc_64)                                        \
    X(random_32, it_random_32) X(aes256_keygen, it_aes_keygen) X(ec_p256_keygen, it_p256_keygen)

struct bench_plan {
    const char *impl;
    const char *only;    /* comma-separated op names; NULL = all */
    const char *threads; /* "1,2" */
    double seconds;
    int slices;
    const char *turn_in, *turn_out, *ready; /* FIFOs; NULL = no turn-taking */
    int settle_ms; /* idle time after each measurement before the turn passes (background work drains) */
};

#define BENCH_PLAN_DEFAULTS {.impl = "module", .threads = "1,2", .seconds = 2.0, .slices = 1}
/* getopt_long entries for the plan's options (values 0x100..0x107); end the caller's table with them. */
#define BENCH_PLAN_OPTIONS                                                                                   \
    {"threads", 1, 0, 0x100}, {"seconds", 1, 0, 0x101}, {"ops", 1, 0, 0x102}, {"slices", 1, 0, 0x103},      \
        {"turn-in", 1, 0, 0x104}, {"turn-out", 1, 0, 0x105}, {"ready", 1, 0, 0x106}, {"settle-ms", 1, 0, 0x107}
#define BENCH_PLAN_USAGE                                                                                     \
    "[--threads 1,2] [--seconds S] [--slices N] [--ops a,b] [--turn-in F --turn-out F --ready F] [--settle-ms M]"
/* Apply option c (from BENCH_PLAN_OPTIONS); 1 if it was one of them, -1 if its value is bad, 0 otherwise. */
int bench_plan_opt(struct bench_plan *p, int c, const char *arg);

/* Called before each measurement with the thread count (e.g. to open sessions); non-zero = failure. */
typedef int (*bench_prepare_fn)(int threads, void *arg);

/*
 * Run the plan over ops (unavailable[i] != 0 skips op i but still takes its
 * turns, so interleaved programs stay in step) and print one RESULT line per
 * measurement. Returns 0 when every measurement succeeded.
 */
int bench_run_plan(const struct bench_plan *p, const struct bench_op *ops, const int *unavailable, size_t nops,
                   void **ctxs, bench_prepare_fn prepare, void *prepare_arg);

#endif
