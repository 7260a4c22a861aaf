#!/usr/bin/python3
"""Acceptance 2: `craton-hsm-admin backup` and `restore` leave "backup" and
"restore" entries, and `audit verify` over the archived segments + the new
host's log passes (restore continuity, spec "Restoration drill")."""
import os
import shutil

from auditlib import Failure, Home, chain, run_main


def main(ctx):
    a = Home(ctx, "backup-host1")
    a.client("setup")
    a.client("traffic", 2)
    arch = os.path.join(a.root, "backup.enc")
    r = a.admin("backup", "--pin-file", a.so_pin_file, "--output", arch)
    if r.returncode != 0:
        raise Failure(f"backup exit {r.returncode}: {r.stderr.strip()}")
    ctx.ok(f"craton-hsm-admin backup: exit 0")
    problems = []
    ev = [e for e in chain(a.files()) if e["event"] == "backup"]
    if len(ev) != 1 or ev[0]["result"] != "CKR_OK" or ev[0]["user"] != "so":
        problems.append(f"after `craton-hsm-admin backup` the log has {len(ev)} \"backup\" entries (want 1, user so, "
                        f"CKR_OK); last entry: {chain(a.files())[-1]['_raw'].decode()}")
    else:
        ctx.ok(f"backup entry: {ev[0]['_raw'].decode()[:150]}")
    # Archive the log: close the segment and copy segments to "immutable storage".
    r = a.admin("audit", "rotate")
    if r.returncode != 0:
        raise Failure(f"rotate exit {r.returncode}: {r.stderr.strip()}")
    vault = os.path.join(a.root, "vault")
    os.makedirs(vault)
    for f in a.files()[:-1]:
        shutil.copy2(f, vault)

    b = Home(ctx, "backup-host2")  # new host: same config identity, empty store and log dir
    os.rmdir(b.store)
    r = b.admin("restore", "--pin-file", b.so_pin_file, "--input", arch, "--audit-archive", vault)
    if r.returncode != 0:
        raise Failure(f"restore exit {r.returncode}: {r.stderr.strip()}")
    ctx.ok("craton-hsm-admin restore --audit-archive: exit 0")
    new = chain([b.log], from_hash=None)
    first = new[0]
    if first["event"] != "restore":
        problems.append(f"restored log starts with {first['event']}, want restore")
    b.client("traffic", 2)  # the restored store works and appends to the continued chain
    r = b.verify("--segments", vault)
    if r.returncode != 0:
        raise Failure(f"verify old segments + new log: exit {r.returncode}: {r.stderr.strip()}")
    entries = chain(sorted(os.path.join(vault, f) for f in os.listdir(vault)) + [b.log])
    ctx.ok(f"restore entry seq {first['seq']} chains from the archived segment; audit verify --segments vault: "
           f"{r.stdout.strip()} (independent check: {len(entries)} entries)")
    if problems:
        raise Failure("\n  ".join(problems))
    a.cleanup()
    b.cleanup()


if __name__ == "__main__":
    run_main(main)
