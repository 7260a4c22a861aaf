#!/usr/bin/python3
"""Acceptance 5: two processes using the module append to one log
concurrently for N seconds (CHSM_ACCEPTANCE=1: 30 s); verify passes and seq
has no gap or duplicate; both processes' entries are interleaved."""
from auditlib import Failure, Home, chain, duration, run_main


def main(ctx):
    secs = duration(5, 30)
    h = Home(ctx, "concurrent", audit={"key_use": "each"})
    h.client("setup")
    procs = [h.popen_client("loop", secs) for _ in range(2)]
    outs = [p.communicate(timeout=secs + 300) for p in procs]
    for p, (o, e) in zip(procs, outs):
        if p.returncode != 0:
            raise Failure(f"module process exit {p.returncode}: {o[-400:]} {e[-400:]}")
    rounds = [o.strip().split("rounds=")[-1] for o, _ in outs]
    entries = chain(h.files())
    seqs = [e["seq"] for e in entries]
    if seqs != list(range(1, len(seqs) + 1)):
        raise Failure("seq has gaps or duplicates")
    pids = [e["pid"] for e in entries]
    ppids = [p.pid for p in procs]
    counts = {pid: pids.count(pid) for pid in ppids}
    switches = sum(1 for a, b in zip(pids, pids[1:]) if a != b and a in ppids and b in ppids)
    if min(counts.values()) == 0 or switches < 2:
        raise Failure(f"the two processes did not both append concurrently: per-pid {counts}, switches {switches}")
    ctx.ok(f"{secs} s, rounds {rounds}: {len(entries)} entries seq 1..{seqs[-1]} without gap/duplicate; "
           f"per-pid {list(counts.values())}, {switches} interleavings")
    r = h.verify()
    if r.returncode != 0:
        raise Failure(f"audit verify: exit {r.returncode}: {r.stderr.strip()}")
    ctx.ok(f"audit verify: {r.stdout.strip()}")
    h.cleanup()


if __name__ == "__main__":
    run_main(main)
