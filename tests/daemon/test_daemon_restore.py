#!/usr/bin/python3
"""The backup-and-recovery page's procedure, run under craton-hsmd (ctest label: daemon).

Token initialised over gRPC; a known RSA key imported with craton-hsm-admin
(its PKCS#1 v1.5 signature of a known payload is pre-computed with openssl,
independently of the HSM); while a client keeps generating keys over gRPC,
`craton-hsm-admin backup` runs (the daemon keeps serving) and the archive
verifies; restore is refused while the daemon holds the store; SIGTERM ->
exit 0 and the lock released; the store is quarantined and restored; the
daemon starts again, logs its self-test lines, and the known key still signs
the known payload to the pre-computed signature.

Environment: CRATON_HSMD, CRATON_HSM_ADMIN, CRATON_HSM_CLIENT_DIR,
CRATON_HSM_CLIENT_STUBS (set by CMake). Missing tools are errors.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.environ["CRATON_HSM_CLIENT_DIR"])
import json  # noqa: E402
import re  # noqa: E402

import grpc  # noqa: E402
import craton_hsm_client as hc  # noqa: E402
from craton_hsm_client import attr, mech  # noqa: E402

HSMD = os.environ["CRATON_HSMD"]
ADMIN = os.environ["CRATON_HSM_ADMIN"]
SO_PIN, USER_PIN = "so-pin-1234", "user-pin-5678"
PAYLOAD = b"craton known payload\n"
RPC_TIMEOUT = float(os.environ.get("CHSM_E2E_RPC_TIMEOUT", "120"))


def read_text(path):
    with open(path) as f:
        return f.read()


class SpecProcedure(unittest.TestCase):
    def setUp(self):
        for tool in ("openssl", "flock"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is required")
        self.dir = tempfile.mkdtemp(prefix="chsm-restore-")
        self.store = f"{self.dir}/store"
        os.makedirs(self.store, mode=0o700)
        os.makedirs(f"{self.dir}/audit", mode=0o700)
        self.port = self._free_port()
        self.config = f"{self.dir}/craton_hsm.toml"
        with open(self.config, "w") as f:
            f.write(f"""[token]
label = "spec"
serial_number = "SPEC000000000001"
storage_path = "{self.store}"
[security]
pbkdf2_iterations = 100000
[audit]
log_path = "{self.dir}/audit/craton_hsm_audit.jsonl"
[daemon]
bind = "127.0.0.1:{self.port}"
shutdown_grace_s = 5
""")
        self.procs = []

    def tearDown(self):
        for p, log in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            log.close()
        if os.environ.get("CHSM_KEEP_TMP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def _free_port():
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def start_daemon(self, name):
        log_path = f"{self.dir}/{name}.log"
        log = open(log_path, "wb")
        p = subprocess.Popen([HSMD, "--config", self.config], stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((p, log))
        c = hc.HsmClient(f"127.0.0.1:{self.port}", timeout=RPC_TIMEOUT)
        deadline = time.time() + 120
        while True:
            try:
                c.health()
                return p, c, log_path
            except grpc.RpcError:
                if p.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"craton-hsmd did not come up:\n{read_text(log_path)}")
                time.sleep(0.2)

    def stop_daemon(self, p):
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=60), 0)
        lock = f"{self.store}/craton_hsm.lock"
        self.assertEqual(subprocess.run(["flock", "-n", lock, "true"]).returncode, 0, "store lock not released")

    def admin(self, *args, check=True):
        r = subprocess.run([ADMIN, "--config", self.config, *args], capture_output=True, text=True, timeout=600)
        if check:
            self.assertEqual(r.returncode, 0, f"{args}: {r.stdout}{r.stderr}")
        return r

    def test_backup_while_serving_then_restore(self):
        d = self.dir
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", f"{d}/known.pem"], check=True, capture_output=True)
        os.chmod(f"{d}/known.pem", 0o600)
        with open(f"{d}/payload", "wb") as f:
            f.write(PAYLOAD)
        subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{d}/known.pem", "-out", f"{d}/known.sig",
                        f"{d}/payload"], check=True, capture_output=True)
        with open(f"{d}/known.sig", "rb") as f:
            expected = f.read()

        # 1. token over gRPC, then the known key with the admin CLI (daemon stopped)
        p, c, _ = self.start_daemon("first")
        c.init_token(SO_PIN, "spec")
        s = c.open_session()
        c.login(s, "so", SO_PIN)
        c.init_pin(s, USER_PIN)
        c.close_session(s)
        c.close()
        self.stop_daemon(p)
        self.admin("key", "import", "--file", f"{d}/known.pem", "--type", "rsa", "--label", "known",
                   "--pin", USER_PIN)

        # 2. backup while a client keeps generating keys
        p, c, _ = self.start_daemon("second")
        s = c.open_session()
        c.login(s, "user", USER_PIN)
        stop, made, errors = threading.Event(), [], []

        def generate():
            g = hc.HsmClient(f"127.0.0.1:{self.port}", timeout=RPC_TIMEOUT)
            gs = g.open_session()
            try:
                g.login(gs, "user", USER_PIN)
            except grpc.RpcError as e:
                if "ALREADY_LOGGED_IN" not in (e.details() or ""):
                    errors.append(e)
                    return
            while not stop.is_set():
                try:
                    made.append(g.generate_aes(gs, 256, label=f"load-{len(made)}"))
                except grpc.RpcError as e:
                    errors.append(e)
                    return
            g.close()

        t = threading.Thread(target=generate)
        t.start()
        deadline = time.time() + 120
        while len(made) < 3 and not errors and time.time() < deadline:
            time.sleep(0.05)
        before = len(made)
        self.admin("backup", "--pin", SO_PIN, "--output", f"{d}/backup.enc")
        during = len(made) - before
        stop.set()
        t.join(timeout=120)
        self.assertEqual(errors, [])
        self.assertGreater(during, 0, "the daemon made no key while the backup ran")
        v = self.admin("backup", "verify", "--input", f"{d}/backup.enc", "--pin", SO_PIN)
        self.assertIn("known", v.stdout + v.stderr)
        # The archive is one consistent snapshot: it authenticates, holds what its header
        # says, both halves of the known pair, and the generator's keys as a gap-free
        # prefix load-0..load-(m-1) (each generate commits before the next starts).
        v = self.admin("--json", "backup", "verify", "--input", f"{d}/backup.enc", "--pin", SO_PIN)
        listing = json.loads(v.stdout)
        self.assertEqual(listing["integrity"], "ok")
        self.assertEqual(listing["object_count"], len(listing["objects"]))
        labels = [o["label"] for o in listing["objects"]]
        self.assertEqual(sorted(o["class"] for o in listing["objects"] if o["label"] == "known"),
                         ["private-key", "public-key"])
        loads = sorted(int(l[5:]) for l in labels if re.fullmatch(r"load-\d+", l))
        self.assertEqual(loads, list(range(len(loads))), "archive holds a torn set of the generator's keys")
        self.assertGreaterEqual(len(loads), 3)
        self.assertLessEqual(len(loads), len(made))
        self.assertEqual(len(labels), len(loads) + 2)
        # token info works beside the running daemon (the spec runs it with the daemon up)
        info = json.loads(self.admin("--json", "token", "info").stdout)
        self.assertEqual(info["label"], "spec")
        self.assertGreaterEqual(info["object_count"], listing["object_count"])
        # restore must refuse while the daemon holds the store, touching nothing
        r = self.admin("restore", "--pin", SO_PIN, "--input", f"{d}/backup.enc", check=False)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("running daemon holds the store", r.stderr)
        c.close()
        self.stop_daemon(p)

        # 3. quarantine, restore, start, self-test lines, known signature
        quarantine = f"{self.store}.quarantine.{int(time.time())}"
        os.rename(self.store, quarantine)
        self.admin("restore", "--pin", SO_PIN, "--input", f"{d}/backup.enc")
        p, c, log_path = self.start_daemon("restored")
        # spec: journalctl -u craton-hsm | grep -i self-test (the daemon logs on stderr)
        selftest = [ln for ln in read_text(log_path).splitlines() if "self-test" in ln.lower()]
        self.assertGreaterEqual(len(selftest), 1, read_text(log_path))
        # spec: craton-hsm-admin token info after the start: the archive's label and count
        info = json.loads(self.admin("--json", "token", "info").stdout)
        self.assertEqual(info["label"], "spec")
        self.assertEqual(info["object_count"], listing["object_count"])
        self.assertTrue(os.path.isdir(quarantine), "the quarantined store must be kept")
        s = c.open_session()
        c.login(s, "user", USER_PIN)
        keys = c.find(s, [attr("LABEL", "known"), attr("CLASS", hc.CKO["PRIVATE_KEY"])])
        self.assertEqual(len(keys), 1)
        self.assertEqual(c.sign(s, keys[0], mech("CKM_SHA256_RSA_PKCS"), PAYLOAD), expected)
        c.close()
        self.stop_daemon(p)


if __name__ == "__main__":
    unittest.main(verbosity=2)
