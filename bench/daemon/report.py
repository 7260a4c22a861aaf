#!/usr/bin/python3
"""Table for bench/daemon/run.sh: medians over the rounds of the RESULT lines
(RESULT <impl> <op> <threads|inflight> <ops_per_s> <p50_us> <p99_us>), the
daemon/in-process ratio for ECDSA P-256 sign and the goals of issue 7."""
import re
import statistics
import sys

SIGN_RATIO_GOAL = 0.60
RANDOM_GOAL = 8000.0
RSS_GOAL_KIB = 64 * 1024


def main(path):
    runs = {}
    soak = None
    sigterm = None
    cpu = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 7 and p[0] == "RESULT":
                runs.setdefault((p[1], p[2], p[3]), []).append(tuple(float(x) for x in p[4:7]))
            elif line.startswith("CPU daemon "):
                kv = dict(re.findall(r"(\w+)=([^\s]+)", line))
                cpu.setdefault(p[2], []).append(kv)
            elif line.startswith("SOAK "):
                soak = dict(re.findall(r"(\w+)=([^\s]+)", line))
            elif line.startswith("# craton-hsmd exit status after SIGTERM:"):
                sigterm = line.split(":")[1].strip()

    def med(key):
        rows = runs.get(key)
        if not rows:
            return None
        return tuple(statistics.median(r[i] for r in rows) for i in range(3)), len(rows)

    print("| measurement | calls/s (median) | p50 us | p99 us | rounds |")
    print("|---|---|---|---|---|")
    for key in sorted(runs):
        (ops, p50, p99), n = med(key)
        impl, op, t = key
        what = f"{impl} {op} " + (f"{t} threads" if impl == "inproc" else f"{t} in flight")
        print(f"| {what} | {ops:.0f} | {p50:.1f} | {p99:.1f} | {n} |")
    print()
    inproc = [med(k)[0][0] for k in runs if k[0] == "inproc" and k[1] == "ecdsa_p256_sign"]
    dsign = [med(k)[0][0] for k in runs if k[0] == "daemon" and k[1] == "ecdsa_p256_sign"]
    drand = [med(k)[0][0] for k in runs if k[0] == "daemon" and k[1] == "random_32"]
    if cpu:
        print("| daemon op | daemon CPU us/call | client CPU us/call | machine busy | CPU-bound ceiling on these cores |")
        print("|---|---|---|---|---|")
        for op, rows in sorted(cpu.items()):
            d = statistics.median(float(r["daemon_us_per_call"]) for r in rows)
            c = statistics.median(float(r["client_us_per_call"]) for r in rows)
            busy = statistics.median(float(r["machine_busy_pct"]) for r in rows)
            cores = int(rows[0]["cores"])
            # one worker thread runs the daemon's calls on at most one core
            dcores = 1 if op.endswith("@daemon_w1") else cores
            print(f"| {op} | {d:.0f} | {c:.0f} | {busy:.0f}% | {cores} x 1e6 / ({d:.0f} + {c:.0f}) = "
                  f"{cores * 1e6 / (d + c):.0f} calls/s (daemon alone: {dcores * 1e6 / d:.0f}) |")
        print()
    print("| goal | figure | status |")
    print("|---|---|---|")
    if inproc and dsign:
        best = max(inproc)
        ratio = dsign[0] / best
        print(f"| daemon Sign >= 60% of in-process ECDSA P-256 sign (best of 1, 2 threads) | "
              f"{dsign[0]:.0f} / {best:.0f} = {100 * ratio:.0f}% | "
              f"{'met' if ratio >= SIGN_RATIO_GOAL else 'NOT met'} |")
        # The same goal for the other daemon measurements of the run (worker_threads = 1, token key).
        for impl in sorted({k[0] for k in runs if k[0].startswith("daemon_") and k[1] == "ecdsa_p256_sign"}):
            rate = [med(k)[0][0] for k in runs if k[0] == impl and k[1] == "ecdsa_p256_sign"][0]
            print(f"| the same, {impl} | {rate:.0f} / {best:.0f} = {100 * rate / best:.0f}% | "
                  f"{'met' if rate / best >= SIGN_RATIO_GOAL else 'NOT met'} |")
    if drand:
        print(f"| GenerateRandom(32) >= 8,000 calls/s | {drand[0]:.0f} calls/s | "
              f"{'met' if drand[0] >= RANDOM_GOAL else 'NOT met'} |")
    if soak:
        end = int(soak["rss_end_kib"])
        print(f"| RSS < 64 MiB after the soak, no growth | {soak['calls']} calls in {soak['seconds']} s; "
              f"RSS {int(soak['rss_start_kib']) / 1024:.1f} MiB at start, "
              f"{int(soak['rss_warm_kib']) / 1024:.1f} MiB after warm-up, {end / 1024:.1f} MiB at end "
              f"(growth after warm-up {int(soak['growth_after_warmup_kib'])} KiB, band "
              f"{int(soak['noise_band_kib'])} KiB; slope {soak['slope_kib_per_min']} KiB/min) | "
              f"{'met' if soak['verdict'] == 'PASS' and end < RSS_GOAL_KIB else 'NOT met'} |")
    if sigterm is not None:
        print(f"| SIGTERM stops the daemon with exit 0 | exit {sigterm} | {'met' if sigterm == '0' else 'NOT met'} |")


if __name__ == "__main__":
    main(sys.argv[1])
