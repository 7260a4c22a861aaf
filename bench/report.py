#!/usr/bin/python3
"""Combine RESULT lines from rawbench and p11bench runs into the comparison
table of issue 4: per operation and thread count, ops/s and p50/p99 for our
module, raw OpenSSL and SoftHSMv2, the ratios to raw, the 2-thread scaling,
and whether each goal is met (the issue's ratio goals, 2-thread scaling
>= 1.8x, and ahead of SoftHSMv2 on every row). Reads RESULT lines on stdin;
when a figure was measured in several rounds, the table shows the round with
the median ops/s (its p50/p99 with it) and the spread of the rounds."""
import sys

GOALS = {  # op -> minimum ours/raw at 1 thread (issue 4)
    "rsa2048_pkcs1_sign": 0.90, "rsa2048_pkcs1_verify": 0.90, "rsa2048_pss_sign": 0.90,
    "rsa2048_pss_verify": 0.90, "ecdsa_p256_sign": 0.90, "ecdsa_p256_verify": 0.90,
    "ecdsa_p384_sign": 0.90, "ecdsa_p384_verify": 0.90, "ed25519_sign": 0.90, "ed25519_verify": 0.90,
    "sha256_4k": 0.85, "aes256_gcm_enc_4k": 0.60, "aes256_gcm_dec_4k": 0.60, "aes256_cbcpad_enc_4k": 0.60,
    "hmac_sha256_64": 0.35, "aes256_gcm_enc_64": 0.35, "random_32": 0.70, "aes256_keygen": 0.70,
    "ec_p256_keygen": 0.70,
}

def main():
    rounds = {}  # (impl, op, threads) -> [(ops, p50, p99), ...]
    order = []
    for line in sys.stdin:
        f = line.split()
        if len(f) != 7 or f[0] != "RESULT":
            continue
        impl, op, th = f[1], f[2], int(f[3])
        rounds.setdefault((impl, op, th), []).append((float(f[4]), float(f[5]), float(f[6])))
        if op not in order:
            order.append(op)
    res = {}     # (impl, op, threads) -> the median round's (ops, p50, p99)
    spread = {}  # (impl, op, threads) -> (min ops, max ops)
    for k, v in rounds.items():
        v = sorted(v)
        res[k] = v[(len(v) - 1) // 2]
        spread[k] = (v[0][0], v[-1][0])
    nrounds = max(len(v) for v in rounds.values()) if rounds else 0
    impls = sorted({k[0] for k in res})
    ours = "craton" if "craton" in impls else None
    hdr = f"{'operation':<22}{'thr':>4}" + "".join(f"{i+' ops/s':>17}{'p50us':>8}{'p99us':>9}" for i in impls)
    hdr += f"{'ours/raw':>10}{'sofths/raw':>11}{'2T/1T':>7}{'goal':>7}{'met':>5}{'>softhsm':>9}"
    print(hdr)
    failures = 0
    for op in order:
        for th in (1, 2):
            if not any((i, op, th) in res for i in impls):
                continue
            row = f"{op:<22}{th:>4}"
            for i in impls:
                v = res.get((i, op, th))
                row += f"{v[0]:>17.0f}{v[1]:>8.1f}{v[2]:>9.1f}" if v else f"{'-':>17}{'-':>8}{'-':>9}"
            raw = res.get(("raw", op, th))
            o = res.get((ours, op, th)) if ours else None
            s = res.get(("softhsm2", op, th))
            r_o = o[0] / raw[0] if (o and raw) else None
            r_s = s[0] / raw[0] if (s and raw) else None
            scale = None
            if o and th == 2 and res.get((ours, op, 1)):
                scale = o[0] / res[(ours, op, 1)][0]
            row += f"{r_o:>10.2f}" if r_o is not None else f"{'-':>10}"
            row += f"{r_s:>11.2f}" if r_s is not None else f"{'-':>11}"
            row += f"{scale:>7.2f}" if scale is not None else f"{'':>7}"
            goal = GOALS.get(op) if th == 1 else 1.8
            met = ""
            if th == 1 and r_o is not None and goal:
                met = "yes" if r_o >= goal else "NO"
            elif th == 2 and scale is not None:
                met = "yes" if scale >= 1.8 else "NO"
            if met == "NO":
                failures += 1
            ahead = ""
            if o and s:
                ahead = "yes" if o[0] > s[0] else "NO"
                if ahead == "NO":
                    failures += 1
            row += f"{goal if goal else '':>7}{met:>5}{ahead:>9}"
            print(row)
    if nrounds > 1:
        print(f"\nrounds: {nrounds}; each figure is the median round. Spread of craton ops/s (min..max):")
        for op in order:
            for th in (1, 2):
                k = (ours, op, th)
                if k in spread:
                    lo, hi = spread[k]
                    print(f"  {op:<22}{th:>2}T {lo:>10.0f} .. {hi:<10.0f}")
    print(f"\ngoals missed: {failures}")

if __name__ == "__main__":
    main()
