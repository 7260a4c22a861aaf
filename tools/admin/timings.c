/*
 * --timings: phase timings on stderr, one line per phase, so benchmarks can
 * separate the one deliberate cost (PBKDF2 of a PIN, kept slow on purpose)
 * from everything else:
 *   craton-hsm-admin: timing: <phase> <ms> ms[ (pbkdf2)]
 *   craton-hsm-admin: timing: total <ms> ms, pbkdf2 <ms> ms, excluding pbkdf2 <ms> ms
 * A phase marked as PBKDF2 is the PIN check or unwrap it sits in (the
 * derivation dominates it; the unwrap and counter update are microseconds).
 */
#include "admin.h"
#include "common/timeutil.h"

static struct {
    bool on;
    uint64_t start_ns;
    uint64_t last_ns;
    uint64_t kdf_ns;
} T;

void adm_timing_start(bool on)
{
    T.on = on;
    T.start_ns = T.last_ns = chsm_time_mono_ns();
    T.kdf_ns = 0;
}

void adm_timing(const char *phase, bool pbkdf2)
{
    uint64_t now = chsm_time_mono_ns(), d = now - T.last_ns;
    T.last_ns = now;
    if (pbkdf2)
        T.kdf_ns += d;
    if (T.on)
        fprintf(stderr, "craton-hsm-admin: timing: %s %.1f ms%s\n", phase, (double)d / 1e6,
                pbkdf2 ? " (pbkdf2)" : "");
}

void adm_timing_end(void)
{
    uint64_t total = chsm_time_mono_ns() - T.start_ns;
    if (T.on)
        fprintf(stderr, "craton-hsm-admin: timing: total %.1f ms, pbkdf2 %.1f ms, excluding pbkdf2 %.1f ms\n",
                (double)total / 1e6, (double)T.kdf_ns / 1e6, (double)(total - T.kdf_ns) / 1e6);
}
