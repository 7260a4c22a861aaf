#!/usr/bin/python3
"""Acceptance 4: `audit rotate` three times with module traffic in between,
one rotation while a module process is running and appending (it must follow
the rename) and module restarts between the others; verify passes across all
segments, each segment ends with its rotate entry and is mode 0400."""
import os
import time

from auditlib import Failure, Home, chain, mode, run_main


def rotate(h, n):
    r = h.admin("audit", "rotate")
    if r.returncode != 0:
        raise Failure(f"rotate {n}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout.strip()


def main(ctx):
    h = Home(ctx, "rotation")
    h.client("setup")
    h.client("traffic", 2)
    out1 = rotate(h, 1)
    # Rotation 2 while a module process is appending (it notices the inode change).
    runner = h.popen_client("loop", 3)
    time.sleep(1.0)
    out2 = rotate(h, 2)
    o, e = runner.communicate(timeout=120)
    if runner.returncode != 0:
        raise Failure(f"module process during rotation failed: {o} {e}")
    # Module restart (new process) then rotation 3, then more traffic in yet another process.
    h.client("traffic", 2)
    out3 = rotate(h, 3)
    h.client("traffic", 1)
    ctx.ok(f"three rotations: {out1} / {out2} / {out3}")
    files = h.files()
    segs = files[:-1]
    if len(segs) != 3:
        raise Failure(f"expected 3 segments, found {[os.path.basename(f) for f in files]}")
    for s in segs:
        if mode(s) != 0o400:
            raise Failure(f"{s} has mode {oct(mode(s))}, want 0400")
    ctx.ok("segments .000001..000003 are mode 0400")
    entries = chain(files)
    for s in segs:
        last = [e for e in entries if e["_file"] == s][-1]
        if last["event"] != "rotate" or last.get("detail") != f"segment={os.path.basename(s)}":
            raise Failure(f"{s}: last entry is {last['_raw'].decode()}, want rotate with detail segment=<name>")
    ctx.ok(f"independent chain check over {len(files)} files, {len(entries)} entries; each segment ends with its rotate entry")
    in2 = [e for e in entries if e["_file"] == segs[1] and e["pid"] == runner.pid]
    in3 = [e for e in entries if e["_file"] == segs[2] and e["pid"] == runner.pid]
    if not in2 or not in3:
        raise Failure(f"the running module did not follow the rotation: its entries in .000002: {len(in2)}, "
                      f"in .000003: {len(in3)}")
    ctx.ok(f"the module running across rotation 2 wrote {len(in2)} entries before and {len(in3)} after it")
    pids = {e["pid"] for e in entries}
    if len(pids) < 5:
        raise Failure(f"expected entries from >= 5 processes (module runs and CLI), got {len(pids)}")
    r = h.verify()
    if r.returncode != 0:
        raise Failure(f"audit verify after rotations: exit {r.returncode}: {r.stderr.strip()}")
    ctx.ok(f"audit verify: {r.stdout.strip()}")
    h.cleanup()


if __name__ == "__main__":
    run_main(main)
