#!/usr/bin/python3
"""Comparison table of issue 4 from the RESULT lines of an interleaved run
(bench/run.sh): per operation and thread count, the median ops/s and the
p50/p99 of the median measurement for our module, raw OpenSSL and SoftHSMv2;
ours/raw, softhsm/raw, 2T/1T and ours/softhsm as the MEDIAN OF PAIRED RATIOS
(the n-th measurement of one program against the n-th of the other, taken a
second apart); raw OpenSSL's own 2T/1T, which is what the machine allows;
and whether each goal is met (the issue's ratio goals, 2-thread
scaling >= 1.8x, ahead of SoftHSMv2 on every row). Reads stdin."""
import statistics
import sys

GOALS = {  # op -> minimum ours/raw at 1 thread (issue 4)
    "rsa2048_pkcs1_sign": 0.90, "rsa2048_pkcs1_verify": 0.90, "rsa2048_pss_sign": 0.90,
    "rsa2048_pss_verify": 0.90, "ecdsa_p256_sign": 0.90, "ecdsa_p256_verify": 0.90,
    "ecdsa_p384_sign": 0.90, "ecdsa_p384_verify": 0.90, "ed25519_sign": 0.90, "ed25519_verify": 0.90,
    "sha256_4k": 0.85, "aes256_gcm_enc_4k": 0.60, "aes256_gcm_dec_4k": 0.60, "aes256_cbcpad_enc_4k": 0.60,
    "hmac_sha256_64": 0.35, "aes256_gcm_enc_64": 0.35, "random_32": 0.70, "aes256_keygen": 0.70,
    "ec_p256_keygen": 0.70,
}
SCALE_GOAL = 1.8


def paired(a, b):
    """Median of a[i]/b[i] over the measurements both have, with min and max."""
    r = [x[0] / y[0] for x, y in zip(a, b) if y[0] > 0]
    return (statistics.median(r), min(r), max(r)) if r else None


def median_meas(v):
    return sorted(v)[(len(v) - 1) // 2]


def main():
    meas = {}  # (impl, op, threads) -> [(ops, p50, p99), ...] in measurement order
    order = []
    for line in sys.stdin:
        f = line.split()
        if len(f) != 7 or f[0] != "RESULT":
            continue
        impl, op, th = f[1], f[2], int(f[3])
        meas.setdefault((impl, op, th), []).append((float(f[4]), float(f[5]), float(f[6])))
        if op not in order:
            order.append(op)
    impls = [i for i in ("craton", "raw", "softhsm2") if any(k[0] == i for k in meas)]
    hdr = f"{'operation':<22}{'thr':>4}" + "".join(f"{i+' ops/s':>17}{'p50us':>8}{'p99us':>9}" for i in impls)
    hdr += f"{'ours/raw':>10}{'sofths/raw':>11}{'2T/1T':>7}{'raw2T/1T':>9}{'goal':>7}{'met':>5}{'>softhsm':>9}"
    print(hdr)
    failures, spreads = 0, []
    for op in order:
        for th in (1, 2):
            if not any((i, op, th) in meas for i in impls):
                continue
            row = f"{op:<22}{th:>4}"
            for i in impls:
                v = meas.get((i, op, th))
                m = median_meas(v) if v else None
                row += f"{m[0]:>17.0f}{m[1]:>8.1f}{m[2]:>9.1f}" if m else f"{'-':>17}{'-':>8}{'-':>9}"
            o, raw, s = (meas.get((i, op, th)) for i in ("craton", "raw", "softhsm2"))
            r_o = paired(o, raw) if o and raw else None
            r_s = paired(s, raw) if s and raw else None
            o1 = meas.get(("craton", op, 1))
            scale = paired(o, o1) if (o and th == 2 and o1) else None
            raw1 = meas.get(("raw", op, 1))
            raw_scale = paired(raw, raw1) if (raw and th == 2 and raw1) else None
            ahead = paired(o, s) if o and s else None
            row += f"{r_o[0]:>10.2f}" if r_o else f"{'-':>10}"
            row += f"{r_s[0]:>11.2f}" if r_s else f"{'-':>11}"
            row += f"{scale[0]:>7.2f}" if scale else f"{'':>7}"
            row += f"{raw_scale[0]:>9.2f}" if raw_scale else f"{'':>9}"
            goal = GOALS.get(op) if th == 1 else SCALE_GOAL
            met = ""
            if th == 1 and r_o and goal:
                met = "yes" if r_o[0] >= goal else "NO"
            elif th == 2 and scale:
                met = "yes" if scale[0] >= SCALE_GOAL else "NO"
            failures += met == "NO"
            a = ""
            if ahead:
                a = "yes" if ahead[0] > 1.0 else "NO"
                failures += a == "NO"
            row += f"{goal if goal else '':>7}{met:>5}{a:>9}"
            print(row)
            if r_o:
                spreads.append(f"  {op:<22}{th:>2}T  ours/raw {r_o[1]:.2f} .. {r_o[2]:.2f}"
                               + (f"   2T/1T {scale[1]:.2f} .. {scale[2]:.2f}" if scale else ""))
    n = max((len(v) for v in meas.values()), default=0)
    print(f"\nmeasurements per figure: {n}; ops/s = median measurement; ratios = median of paired ratios."
          "\nRange of the paired ratios (min .. max):")
    print("\n".join(spreads))
    print(f"\ngoals missed: {failures}")


if __name__ == "__main__":
    main()
