#!/usr/bin/python3
"""Backup benchmark table from the RESULT lines of bench/backup/run.sh (stdin).

RESULT <cmd> wall_ms <ms> pbkdf2_ms <ms>   one CLI run (pbkdf2 = the phase the CLI reports as the PIN derivation)
RESULT openssl_pbkdf2 wall_ms <ms>         one PBKDF2 at the same iterations (cross-check)
RESULT drill_rto seconds <s>               the RTO the drill reported
"""
import statistics
import sys

objects = sys.argv[1] if len(sys.argv) > 1 else "10000"
runs, kdf, rto = {}, [], []
for line in sys.stdin:
    f = line.split()
    if len(f) < 4 or f[0] != "RESULT":
        continue
    if f[1] == "openssl_pbkdf2":
        kdf.append(float(f[3]))
    elif f[1] == "drill_rto":
        rto.append(float(f[3]))
    elif f[2] == "wall_ms":
        runs.setdefault(f[1], []).append((float(f[3]), float(f[5])))

med = statistics.median
goals = {"backup": 2000, "verify": 2000, "restore": 3000}
names = {"backup": "backup", "verify": "backup verify", "restore": "restore (fresh dir)"}
print(f"## Backup benchmark, {objects} objects (medians of {len(rto)} rounds)")
print()
print("| command | wall-clock | its PBKDF2 phase | wall-clock excluding PBKDF2 | goal | status |")
print("|---|---|---|---|---|---|")
for k in ("backup", "verify", "restore"):
    if k not in runs:
        continue
    wall = med([w for w, _ in runs[k]])
    p = med([x for _, x in runs[k]])
    ex = med([w - x for w, x in runs[k]])
    print(f"| {names[k]} | {wall:.0f} ms | {p:.0f} ms | {ex:.0f} ms | < {goals[k]} ms | "
          f"{'met' if ex < goals[k] else 'NOT met'} |")
if "drill" in runs:
    wall = med([w for w, _ in runs["drill"]])
    r = med(rto)
    print(f"| drill (whole command {wall:.0f} ms) | reported RTO {r:.3f} s | | | RTO < 5 s | "
          f"{'met' if r < 5 else 'NOT met'} |")
print()
if kdf:
    print(f"One PBKDF2-HMAC-SHA256 at the configured iterations (openssl kdf, whole process): median {med(kdf):.0f} ms "
          f"(runs: {', '.join(f'{x:.0f}' for x in kdf)})")
for k in ("backup", "verify", "restore"):
    if k in runs:
        print(f"{names[k]} runs (wall-clock ms / PBKDF2 ms): "
              + ", ".join(f"{w:.0f}/{x:.0f}" for w, x in runs[k]))
if rto:
    print("drill RTO runs (s): " + ", ".join(f"{x:.3f}" for x in rto))
