"""Shared helpers for the audit acceptance tests (issue 5): temp HSM homes,
running the real module through audit_client and the admin CLI, reading and
checking the JSON Lines chain independently of src/audit."""
import base64
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

ZERO = "0" * 64
KEYS = ["seq", "time", "event", "slot", "session", "user", "object", "mechanism", "result", "pid", "actor"]
KEY_USE = {"sign", "verify", "encrypt", "decrypt", "digest_key", "mac"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SO_PIN = "so-secret-7391"
USER_PIN = "usr-secret-4822"


class Failure(Exception):
    pass


def acceptance():
    return os.environ.get("CHSM_ACCEPTANCE") == "1"


def duration(default, accept):
    d = accept if acceptance() else default
    print(f"duration: {d} s ({'acceptance' if acceptance() else 'ordinary run; CHSM_ACCEPTANCE=1 for ' + str(accept) + ' s'})")
    return d


class Ctx:
    """Tool paths from argv: MODULE ADMIN CLIENT."""

    def __init__(self, argv):
        if len(argv) < 4:
            raise SystemExit("usage: test_x.py MODULE ADMIN CLIENT")
        self.module, self.admin, self.client = argv[1:4]
        for p in (self.module, self.admin, self.client):
            if not os.access(p, os.X_OK) and not os.path.isfile(p):
                raise Failure(f"missing tool {p} (build craton_hsm, craton-hsm-admin, audit_client)")
        self.passed = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok {self.passed} - {what}")


class Home:
    """A temp HSM home: dir 0700, store 0700, config with [audit] log_path in it."""

    def __init__(self, ctx, name="home", audit=None, root=None, label="audit-token"):
        self.ctx = ctx
        self.root = root or tempfile.mkdtemp(prefix=f"chsm-audit-{name}.")
        os.chmod(self.root, 0o700)
        self.store = os.path.join(self.root, "store")
        self.logdir = os.path.join(self.root, "audit")
        os.makedirs(self.store, 0o700, exist_ok=True)
        os.makedirs(self.logdir, 0o700, exist_ok=True)
        self.log = os.path.join(self.logdir, "craton_hsm_audit.jsonl")
        self.config = os.path.join(self.root, "craton_hsm.toml")
        lines = ["[token]", f'label = "{label}"', f'storage_path = "{self.store}"', "",
                 "[security]", "pbkdf2_iterations = 100000", "max_failed_logins = 3", "",
                 "[audit]", f'log_path = "{self.log}"']
        for k, v in (audit or {}).items():
            lines.append(f"{k} = {json.dumps(v) if isinstance(v, str) else str(v).lower()}")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.env = dict(os.environ, CRATON_HSM_CONFIG=self.config, CRATON_HSM_LOG="error")
        self.so_pin_file = os.path.join(self.root, "so.pin")
        with open(self.so_pin_file, "w") as f:
            f.write(SO_PIN + "\n")
        os.chmod(self.so_pin_file, 0o600)

    def client(self, *args, check=True, timeout=600):
        p = subprocess.run([self.ctx.client, self.ctx.module, *map(str, args)], env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise Failure(f"audit_client {' '.join(map(str, args))} exit {p.returncode}: {p.stdout[-800:]} {p.stderr[-800:]}")
        return p

    def popen_client(self, *args):
        return subprocess.Popen([self.ctx.client, self.ctx.module, *map(str, args)], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def admin(self, *args, log=None):
        argv = [self.ctx.admin, "--config", self.config, *args]
        p = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=600)
        return p

    def verify(self, *extra):
        return self.admin("audit", "verify", *extra)

    def files(self):
        segs = sorted(f for f in os.listdir(self.logdir) if re.fullmatch(r"craton_hsm_audit\.jsonl\.\d{6,}", f))
        out = [os.path.join(self.logdir, s) for s in segs]
        if os.path.exists(self.log):
            out.append(self.log)
        return out

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    terminated = data.endswith(b"\n") or data == b""
    if lines and lines[-1] == b"":
        lines.pop()
    return lines, terminated


def sha(b):
    return hashlib.sha256(b).hexdigest()


def parse(line, where):
    """Strict: JSON object with the documented keys in the documented order."""
    try:
        e = json.loads(line.decode("utf-8"))
    except Exception as ex:  # noqa: BLE001
        raise Failure(f"{where}: not JSON ({ex}): {line[:120]!r}")
    keys = list(e.keys())
    if keys[:len(KEYS)] != KEYS or keys[-1] != "prev":
        raise Failure(f"{where}: keys {keys} not in the documented order {KEYS}+[detail][count,interval]+prev")
    rest = keys[len(KEYS):-1]
    if rest not in ([], ["detail"], ["count", "interval"], ["detail", "count", "interval"]):
        raise Failure(f"{where}: unexpected keys {rest}")
    return e


def chain(paths, from_hash=None):
    """Independent verification of the whole chain: returns the parsed entries with file/line."""
    prev_line, prev_seq, out = None, None, []
    for path in paths:
        lines, terminated = read_lines(path)
        if not terminated:
            raise Failure(f"{path}: last line unterminated")
        for i, line in enumerate(lines, 1):
            where = f"{os.path.basename(path)}:{i}"
            e = parse(line, where)
            if prev_line is None:
                want = from_hash or (ZERO if e["seq"] == 1 else e["prev"])
            else:
                want = sha(prev_line)
            if e["prev"] != want:
                raise Failure(f"{where}: prev {e['prev']} != {want}")
            if prev_seq is not None and e["seq"] != prev_seq + 1:
                raise Failure(f"{where}: seq {e['seq']} after {prev_seq}")
            if not TIME_RE.match(e["time"]):
                raise Failure(f"{where}: time {e['time']!r} is not RFC 3339 UTC with microseconds")
            if not isinstance(e["pid"], int) or e["pid"] <= 0:
                raise Failure(f"{where}: pid {e['pid']!r}")
            if not e["result"].startswith("CKR_"):
                raise Failure(f"{where}: result {e['result']!r}")
            e["_file"], e["_line"], e["_raw"] = path, i, line
            out.append(e)
            prev_line, prev_seq = line, e["seq"]
    return out


def head_of(paths):
    for p in reversed(paths):
        lines, _ = read_lines(p)
        if lines:
            return sha(lines[-1])
    return None


def secret_forms(secret):
    """Raw, hex (both cases) and base64 forms of a secret, as bytes to search for."""
    b = secret if isinstance(secret, bytes) else secret.encode()
    forms = {b, b.hex().encode(), b.hex().upper().encode(), base64.b64encode(b), base64.b64encode(b).rstrip(b"=")}
    if not isinstance(secret, bytes):
        forms.add(json.dumps(secret)[1:-1].encode())
    # Also 16-byte windows of keys (a partial leak still leaks).
    if isinstance(secret, bytes) and len(b) >= 32:
        for off in (0, 16):
            part = b[off:off + 16]
            forms |= {part, part.hex().encode(), base64.b64encode(part).rstrip(b"=")}
    return forms


def scan_no_secrets(paths, pins, keys):
    """Every file: no PIN, no key byte string in raw/hex/base64."""
    hits = []
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        for s in list(pins) + list(keys):
            for form in secret_forms(s):
                if form in data:
                    hits.append(f"{p}: contains {'PIN' if s in pins else 'key'} form {form[:24]!r}")
    if hits:
        raise Failure("secrets in the audit log:\n  " + "\n  ".join(hits))
    return sum(os.path.getsize(p) for p in paths)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def run_main(fn):
    ctx = None
    try:
        ctx = Ctx(sys.argv)
        fn(ctx)
    except Failure as ex:
        print(f"FAIL: {ex}")
        print(f"{ctx.passed if ctx else 0} passed, 1 failed")
        sys.exit(1)
    print(f"{ctx.passed} passed, 0 failed")
