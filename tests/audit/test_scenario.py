#!/usr/bin/python3
"""Acceptance 1 (+7): one of each audited operation through libcraton_hsm.so,
then the exact event sequence and every field of every entry, for
key_use="each" and the default "summary". The part the module can do is
checked first; operations it cannot do yet make the test fail by name.
Usage: test_scenario.py MODULE ADMIN CLIENT each|summary"""
import sys
from collections import Counter

from auditlib import Failure, Home, KEY_USE, chain, run_main, scan_no_secrets

MODULE_EVENTS = {"config_load", "selftest", "initialize", "finalize"}


def parse_client(out):
    evs, missing, pins, keys, pid = [], [], [], [], None
    for line in out.splitlines():
        kind, _, rest = line.partition(" ")
        if kind in ("EV", "KU"):
            name, *kv = rest.split(" ")
            d = dict(x.split("=", 1) for x in kv)
            evs.append((kind, name, d))
        elif kind == "MISSING":
            missing.append(rest)
        elif kind == "INFO":
            k, _, v = rest.partition("=")
            if k == "pin":
                pins.append(v)
            elif k == "key":
                keys.append(bytes.fromhex(v))
            elif k == "pid":
                pid = int(v)
        elif kind == "FATAL":
            raise Failure(f"audit_client: {rest}")
    return evs, missing, pins, keys, pid


def none_if_dash(v):
    return None if v == "-" else v


def expect_fields(kind, name, d, pid):
    return {
        "event": name,
        "slot": None if name in MODULE_EVENTS else 0,
        "session": None if d["session"] == "-" else int(d["session"]),
        "user": none_if_dash(d["user"]),
        "object": None if d["uid"] == "-" else {"id": d["uid"], "label": none_if_dash(d["label"])},
        "mechanism": none_if_dash(d["mech"]),
        "result": d["result"],
        "pid": pid,
    }


def compare(e, want, where, problems):
    bad = [f"{k}: want {want[k]!r}, log has {e.get(k)!r}" for k in want if e.get(k) != want[k]]
    if bad:
        problems.append(f"{where} ({want['event']}) seq {e['seq']}:\n    " + "\n    ".join(bad) +
                        f"\n    line: {e['_raw'].decode()}")


def check(ctx, key_use):
    home = Home(ctx, f"scenario-{key_use}", audit={} if key_use == "summary" else {"key_use": "each"})
    p = home.client("scenario")
    evs, missing, pins, keys, pid = parse_client(p.stdout)
    entries = chain(home.files())
    ctx.ok(f"chain of {len(entries)} entries: seq 1..{entries[-1]['seq']} contiguous, prev = SHA-256 of previous "
           f"line, key order, RFC 3339 time, pid, CKR result")
    expected_ev = [x for x in evs if x[0] == "EV" or key_use == "each"]
    got = entries if key_use == "each" else [e for e in entries if e["event"] not in KEY_USE]
    # Every field of every entry; all mismatches are collected so one run reports every gap.
    problems = []
    names_got = [g["event"] for g in got]
    names_want = [x[1] for x in expected_ev]
    if names_got != names_want:
        problems.append(f"event sequence differs:\n    want {names_want}\n    log  {names_got}")
    else:
        for i, (kind, name, d) in enumerate(expected_ev):
            compare(got[i], expect_fields(kind, name, d, pid), f"entry {i + 1}", problems)
            if kind == "KU" and key_use == "each" and ("count" in got[i] or "interval" in got[i]):
                problems.append(f"key_use=each entry {got[i]['seq']} carries a summary count")
    if key_use == "summary":
        want = Counter()
        for kind, name, d in evs:
            if kind == "KU":
                f = expect_fields(kind, name, d, pid)
                want[(name, f["session"], d["uid"], f["mechanism"], f["result"], f["user"],
                      f["object"]["label"] if f["object"] else None)] += 1
        have = Counter()
        close_seq = {e["session"]: e["seq"] for e in entries if e["event"] == "session_close"}
        for e in entries:
            if e["event"] in KEY_USE:
                if "count" not in e or "interval" not in e or set(e["interval"]) != {"first", "last"}:
                    problems.append(f"summary entry {e['seq']} lacks count/interval: {e['_raw'].decode()}")
                if e["seq"] > close_seq.get(e["session"], 0):
                    problems.append(f"summary entry {e['seq']} written after its session closed")
                have[(e["event"], e["session"], e["object"]["id"] if e["object"] else None, e["mechanism"],
                      e["result"], e["user"], e["object"]["label"] if e["object"] else None)] += e["count"]
        if have != want:
            problems.append(f"key-use summaries (event, session, object id, mechanism, result, user, label) "
                          f"{dict(have)} != operations performed {dict(want)}")
        else:
            ctx.ok(f"key-use summaries account for every use ({sum(want.values())}) before session_close, "
                   f"with count and interval")
    n = scan_no_secrets(home.files(), pins, keys)
    ctx.ok(f"no PIN ({len(pins)}) or key byte (raw/hex/base64) in {n} bytes of audit log")
    if problems:
        raise Failure(f"{len(problems)} entr(ies) wrong ({key_use}):\n  " + "\n  ".join(problems) +
                      ("\n  and missing capabilities:\n  " + "\n  ".join(missing) if missing else ""))
    ctx.ok(f"exact sequence of {len(expected_ev)} {'entries' if key_use == 'each' else 'non-key-use entries'} "
           f"with slot/session/user/object/mechanism/result/pid ({key_use})")
    if missing:
        raise Failure("the module cannot yet perform audited operation(s) — their events are unchecked:\n  " +
                      "\n  ".join(missing))
    ctx.ok("every audited operation performed")
    home.cleanup()


if __name__ == "__main__":
    run_main(lambda ctx: check(ctx, sys.argv[4] if len(sys.argv) > 4 else "each"))
