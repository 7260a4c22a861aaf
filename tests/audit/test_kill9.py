#!/usr/bin/python3
"""Acceptance 6: kill -9 during heavy logging (sync="batch", key_use="each").
Under sync="batch" key-use entries wait in the module's in-process queue
(src/audit/queue.c) and are written by the flusher within batch_ms, or by
the caller once the queue holds AUDIT_Q_MAX_ENTRIES; a process crash loses
at most what is queued at that instant: the queue plus the batch the
flusher is writing, i.e. at most 2 x AUDIT_Q_MAX_ENTRIES entries (in
practice the last batch_ms). Everything written forms a valid chain; the
last line may be partial. On the next module start a torn last line is
terminated and a "recovered" entry chains from the last complete line, and
`audit verify` passes reporting the truncation. A real SIGKILL almost never
tears a single write(), so the torn write of a power loss is also produced
explicitly (the last line cut in the middle)."""
import glob
import os
import re
import signal
import time

from auditlib import Failure, Home, chain, duration, read_lines, run_main

# src/audit/internal.h AUDIT_Q_MAX_ENTRIES: the queue, plus one batch being written.
QUEUE_BOUND = 4096
MAX_LOST = 2 * QUEUE_BOUND


def crash(h, secs):
    p = h.popen_client("heavy")
    line = p.stdout.readline()
    while line.startswith("DONE "):
        line = p.stdout.readline()
    if line.strip() != "READY":
        p.kill()
        raise Failure(f"heavy client did not start: {line!r} {p.stderr.read()[-400:]}")
    time.sleep(secs)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    done = [int(l.split()[1]) for l in p.stdout.read().splitlines() if l.startswith("DONE ")]
    return p.pid, max(done, default=2000)


def main(ctx):
    secs = duration(1, 5)
    h = Home(ctx, "kill9", audit={"key_use": "each", "sync": "batch"})
    h.client("setup")
    pid, done = crash(h, secs)
    # Count across size-rotated segments too: at acceptance length the log passes max_size.
    lines, terminated = read_lines(h.log)
    segments = sorted(glob.glob(glob.escape(h.log) + ".[0-9][0-9][0-9][0-9][0-9][0-9]*"))
    mine = 0
    for path in segments + [h.log]:
        mine += sum(1 for l in read_lines(path)[0] if f'"pid":{pid},'.encode() in l and b'"event":"digest_key"' in l)
    if mine < done - MAX_LOST:
        raise Failure(f"only {mine} digest_key entries from the killed process, but {done} C_DigestKey calls had "
                      f"returned (lost more than the queue bound of {MAX_LOST} allows)")
    ctx.ok(f"kill -9 after {secs} s: {mine} digest_key entries on disk, {done} calls reported returned (at most "
           f"{max(done - mine, 0)} lost from the batch queue, bound {MAX_LOST}; {len(segments)} rotated "
           f"segments); last line "
           f"{'complete' if terminated else 'partial'}")
    h.client("traffic", 1)  # module restart
    r = h.verify()
    if r.returncode != 0:
        raise Failure(f"verify after kill -9 + restart: exit {r.returncode}: {r.stderr.strip()}")
    ctx.ok(f"after restart: {r.stdout.strip()}")

    # Torn write: kill again, cut the last line in the middle (no newline), as a crash mid-write leaves it.
    crash(h, 0.2)
    with open(h.log, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        data = data[:data.rindex(b"\n") + 1]
    last_nl = data.rindex(b"\n", 0, len(data) - 1)
    last_complete = data[:last_nl].rsplit(b"\n", 1)[-1]
    torn = data[last_nl + 1:-1][: (len(data) - last_nl) // 2]
    with open(h.log, "wb") as f:
        f.write(data[:last_nl + 1] + torn)
    r = h.verify()
    if r.returncode == 0:
        raise Failure("verify passed on an unrecovered torn last line")
    ctx.ok(f"torn last line before restart: verify exit {r.returncode}: {r.stderr.strip()[:120]}")
    h.client("traffic", 1)  # module restart records the recovery
    lines, terminated = read_lines(h.log)
    idx = lines.index(torn)
    rec = lines[idx + 1]
    import json
    import hashlib
    e = json.loads(rec)
    want_seq = json.loads(last_complete)["seq"] + 1
    if e["event"] != "recovered" or e.get("detail") != f"partial_line_bytes={len(torn)}" or \
            e["prev"] != hashlib.sha256(last_complete).hexdigest() or e["seq"] != want_seq:
        raise Failure(f"after the torn line: {rec.decode()}; want recovered, detail partial_line_bytes={len(torn)}, "
                      f"seq {want_seq}, prev = SHA-256 of the last complete line")
    ctx.ok(f"restart wrote: {rec.decode()[:160]}...")
    r = h.verify()
    if r.returncode != 0 or "truncated line was recovered" not in r.stdout:
        raise Failure(f"verify after recovery: exit {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")
    ctx.ok(f"verify reports the truncation: {r.stdout.strip()}")
    h.cleanup()


if __name__ == "__main__":
    run_main(main)
