#!/usr/bin/python3
"""Acceptance 3: tampering detected by `craton-hsm-admin audit verify`, which
exits non-zero naming the first broken entry (file and line); an untouched
log across segments verifies and prints count, first/last seq and head."""
import os
import re
import shutil

from auditlib import Failure, Home, chain, head_of, read_lines, run_main


def build_log(ctx):
    h = Home(ctx, "tamper")
    h.client("setup")
    for _ in range(2):
        h.client("traffic", 2)
        r = h.admin("audit", "rotate")
        if r.returncode != 0:
            raise Failure(f"audit rotate exit {r.returncode}: {r.stderr.strip()}")
    h.client("traffic", 2)
    return h


def copy_home(ctx, base, name):
    h = Home(ctx, name)
    shutil.rmtree(h.logdir)
    shutil.copytree(base.logdir, h.logdir)
    for f in h.files():
        os.chmod(f, 0o600)
    return h


def rewrite(path, lines, terminated=True):
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + (b"\n" if terminated else b""))


def expect_broken(ctx, h, what, fname, line):
    r = h.verify()
    msg = r.stderr.strip()
    if r.returncode == 0:
        raise Failure(f"{what}: audit verify exit 0 (tampering undetected): {r.stdout.strip()}")
    m = re.search(r"broken at (\S+) line (\d+): (.*)", msg)
    if not m:
        raise Failure(f"{what}: exit {r.returncode} but no 'broken at FILE line N' in: {msg}")
    if os.path.basename(m.group(1)) != fname or int(m.group(2)) != line:
        raise Failure(f"{what}: verify names {os.path.basename(m.group(1))} line {m.group(2)}, expected {fname} "
                      f"line {line}: {msg}")
    ctx.ok(f"{what}: exit {r.returncode}, {msg[:150]}")


def main(ctx):
    base = build_log(ctx)
    files = base.files()
    if len(files) != 3:
        raise Failure(f"expected 2 segments + live log, have {files}")
    entries = chain(files)
    r = base.verify()
    out = r.stdout.strip()
    want = (f"{len(files)} file(s), {len(entries)} entries, seq {entries[0]['seq']}..{entries[-1]['seq']}, "
            f"head {head_of(files)}")
    if r.returncode != 0 or want not in out:
        raise Failure(f"untouched log: exit {r.returncode}, stdout {out!r}, stderr {r.stderr.strip()!r}; want {want!r}")
    ctx.ok(f"untouched log verifies: {out}")
    seg1, seg2, live = (os.path.basename(f) for f in files)

    h = copy_home(ctx, base, "edit")   # edit a field of line 3 in segment 1
    p = os.path.join(h.logdir, seg1)
    lines, _ = read_lines(p)
    lines[2] = lines[2].replace(b'"result":"CKR_OK"', b'"result":"CKR_PIN_INCORRECT"', 1)
    if lines[2] == read_lines(os.path.join(base.logdir, seg1))[0][2]:
        raise Failure("edit case: line 3 has no result field to edit")
    rewrite(p, lines)
    expect_broken(ctx, h, "edited field (segment 1 line 3)", seg1, 4)
    h.cleanup()

    h = copy_home(ctx, base, "delete")  # delete line 4 of the live log
    p = os.path.join(h.logdir, live)
    lines, _ = read_lines(p)
    del lines[3]
    rewrite(p, lines)
    expect_broken(ctx, h, "deleted line (live line 4)", live, 4)
    h.cleanup()

    h = copy_home(ctx, base, "swap")  # swap lines 5 and 6 of segment 2
    p = os.path.join(h.logdir, seg2)
    lines, _ = read_lines(p)
    lines[4], lines[5] = lines[5], lines[4]
    rewrite(p, lines)
    expect_broken(ctx, h, "swapped lines (segment 2 lines 5/6)", seg2, 5)
    h.cleanup()

    h = copy_home(ctx, base, "truncate")  # cut line 6 of segment 1 in the middle, newline kept
    p = os.path.join(h.logdir, seg1)
    lines, _ = read_lines(p)
    lines[5] = lines[5][:len(lines[5]) // 2]
    rewrite(p, lines)
    expect_broken(ctx, h, "line truncated in the middle (segment 1 line 6)", seg1, 6)
    h.cleanup()

    h = copy_home(ctx, base, "segment")  # delete the middle segment
    os.unlink(os.path.join(h.logdir, seg2))
    expect_broken(ctx, h, "middle segment deleted", live, 1)
    h.cleanup()

    r = base.verify()
    if r.returncode != 0:
        raise Failure("the original log no longer verifies")
    base.cleanup()


if __name__ == "__main__":
    run_main(main)
