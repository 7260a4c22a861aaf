#!/usr/bin/python3
"""Acceptance 7: the no-secrets scan covers every audit file (segments, live
log, lock file) after PIN operations, an imported AES key (C_CreateObject
with CKA_VALUE), key uses, a backup and a rotation: no PIN and no key byte
string in raw, hex or base64 form."""
import os

from auditlib import Failure, Home, SO_PIN, run_main, scan_no_secrets


def main(ctx):
    h = Home(ctx, "nosecrets", audit={"key_use": "each"})
    p = h.client("scenario")
    pins = [l.split("=", 1)[1] for l in p.stdout.splitlines() if l.startswith("INFO pin=")]
    keys = [bytes.fromhex(l.split("=", 1)[1]) for l in p.stdout.splitlines() if l.startswith("INFO key=")]
    if SO_PIN not in pins or not keys:
        raise Failure(f"client did not report its PINs/keys: {p.stdout[:300]}")
    r = h.admin("backup", "--pin-file", h.so_pin_file, "--output", os.path.join(h.root, "b.enc"))
    if r.returncode != 0:
        raise Failure(f"backup exit {r.returncode}: {r.stderr.strip()}")
    r = h.admin("audit", "rotate")
    if r.returncode != 0:
        raise Failure(f"rotate exit {r.returncode}: {r.stderr.strip()}")
    files = [os.path.join(h.logdir, f) for f in sorted(os.listdir(h.logdir))]
    n = scan_no_secrets(files, pins, keys)
    ctx.ok(f"{len(files)} audit files ({n} bytes): none of {len(pins)} PINs or {len(keys)} key(s) in raw/hex/base64")
    h.cleanup()


if __name__ == "__main__":
    run_main(main)
