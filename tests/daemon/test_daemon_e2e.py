#!/usr/bin/python3
"""End-to-end test of craton-hsmd over mutual TLS (ctest label: daemon).

A throwaway CA, server and client certificates are made with openssl; the
daemon runs on a free loopback port with a store in a temp dir; the Python
client (tools/daemon/client) drives it. Environment (set by CMake):
  CRATON_HSMD               path of the craton-hsmd binary
  CRATON_HSM_CLIENT_DIR     directory of craton_hsm_client.py
  CRATON_HSM_CLIENT_STUBS   directory of the generated craton_hsm_pb2*.py
A missing tool or module is an error, never a skip.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.environ["CRATON_HSM_CLIENT_DIR"])
import grpc  # noqa: E402
import craton_hsm_client as hc  # noqa: E402
from craton_hsm_client import attr, mech, pb  # noqa: E402

HSMD = os.environ["CRATON_HSMD"]
SO_PIN, USER_PIN = "so-pin-1234", "user-pin-5678"
SERVICE = "/craton_hsm.v1.HsmService/"
# Generous: sanitizer builds run PBKDF2 (InitToken, Login) many times slower.
RPC_TIMEOUT = float(os.environ.get("CHSM_E2E_RPC_TIMEOUT", "120"))

# Exit codes documented in docs/daemon.md
EXIT_POLICY = 3


def run(*cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def make_pki(d):
    """CA + server + clients a/b/c (a2: a's CN, own certificate), and a second CA with a rogue client."""
    def key_and_csr(name, cn):
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr", "-subj", f"/CN={cn}")
        os.chmod(f"{d}/{name}.key", 0o600)

    def ca(name):
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.crt", "-subj", f"/CN={name}", "-days", "2")
        os.chmod(f"{d}/{name}.key", 0o600)

    def sign(name, ca_name, ext):
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(ext)
        run("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca_name}.crt",
            "-CAkey", f"{d}/{ca_name}.key", "-CAcreateserial", "-out", f"{d}/{name}.crt", "-days", "2",
            "-extfile", f"{d}/{name}.ext")

    ca("ca")
    ca("rogue-ca")
    key_and_csr("server", "localhost")
    sign("server", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    for c in ("a", "b", "c"):
        key_and_csr(f"client-{c}", f"client-{c}")
        sign(f"client-{c}", "ca", "extendedKeyUsage=clientAuth\n")
    key_and_csr("client-a2", "client-a")  # same CN as a, same CA, another certificate
    sign("client-a2", "ca", "extendedKeyUsage=clientAuth\n")
    key_and_csr("rogue", "client-a")  # same CN as a real client, wrong CA
    sign("rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n")


def read_text(path):
    with open(path) as f:
        return f.read()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(d, name, bind, daemon_extra="", tls=True):
    path = f"{d}/{name}.toml"
    tls_lines = (f'tls_cert = "{d}/server.crt"\ntls_key = "{d}/server.key"\n'
                 f'tls_client_ca = "{d}/ca.crt"\n') if tls else ""
    with open(path, "w") as f:
        f.write(f"""[token]
label = "e2e"
storage_path = "{d}/store"
[security]
pbkdf2_iterations = 100000
max_failed_logins = 10
[audit]
log_path = "{d}/audit/craton_hsm_audit.jsonl"
[daemon]
bind = "{bind}"
{tls_lines}max_recv_message_bytes = 1048576
max_random_bytes = 4096
shutdown_grace_s = 5
{daemon_extra}""")
    return path


def wait_and_init_token(proc, x, log_path, label):
    """Wait (up to 120 s) until the daemon answers HealthCheck, then initialise the token
    with SO_PIN and give it USER_PIN."""
    deadline = time.time() + 120
    while True:
        try:
            x.health()
            break
        except grpc.RpcError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("craton-hsmd did not come up:\n" + read_text(log_path))
            time.sleep(0.2)
    x.init_token(SO_PIN, label)
    s = x.open_session()
    x.login(s, "so", SO_PIN)
    x.init_pin(s, USER_PIN)
    x.logout(s)
    x.close_session(s)


class DaemonE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(HSMD, os.X_OK):
            raise RuntimeError(f"craton-hsmd not found at {HSMD}")
        if shutil.which("openssl") is None or shutil.which("flock") is None:
            raise RuntimeError("openssl and flock are required")
        cls.dir = tempfile.mkdtemp(prefix="chsm-e2e-")
        os.makedirs(f"{cls.dir}/store", mode=0o700)
        os.makedirs(f"{cls.dir}/audit", mode=0o700)
        make_pki(cls.dir)
        cls.port = free_port()
        cls.target = f"127.0.0.1:{cls.port}"
        cls.config = write_config(cls.dir, "daemon", cls.target)
        cls.log_path = f"{cls.dir}/daemon.log"
        cls.log = open(cls.log_path, "wb")
        # systemd readiness: the daemon sends READY=1 to $NOTIFY_SOCKET (Type=notify).
        cls.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        cls.notify.bind(f"{cls.dir}/notify.sock")
        # info: the "new client" lines name each client (checked below)
        env = dict(os.environ, NOTIFY_SOCKET=f"{cls.dir}/notify.sock", CRATON_HSM_LOG="info")
        cls.proc = subprocess.Popen([HSMD, "--config", cls.config], stdout=cls.log, stderr=subprocess.STDOUT,
                                    env=env)
        cls.a = cls.client("a")
        wait_and_init_token(cls.proc, cls.a, cls.log_path, "e2e")

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait()
        cls.log.close()
        cls.notify.close()
        if os.environ.get("CHSM_KEEP_TMP") is None:
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def client(cls, who, ca="ca", with_cert=True):
        d = cls.dir
        if not with_cert:
            return hc.HsmClient(cls.target, ca=f"{d}/{ca}.crt", server_name="localhost", timeout=RPC_TIMEOUT)
        name = "rogue" if who == "rogue" else f"client-{who}"
        return hc.HsmClient(cls.target, ca=f"{d}/{ca}.crt", cert=f"{d}/{name}.crt", key=f"{d}/{name}.key",
                            server_name="localhost", timeout=RPC_TIMEOUT)

    def user_session(self, c=None):
        c = c or self.a
        s = c.open_session()
        try:
            c.login(s, "user", USER_PIN)
        except grpc.RpcError as e:
            if "CKR_USER_ALREADY_LOGGED_IN" not in (e.details() or ""):
                raise
        return s

    def assertRpcError(self, code, fn, *args, ckr=None):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        if ckr:
            self.assertIn(ckr, cm.exception.details())
        return cm.exception

    def assertServing(self):
        self.assertEqual(self.a.health().status, pb.HealthCheckResponse.SERVING)

    def raw_call(self, method, payload, client=None):
        c = client or self.a
        fn = c.channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        return fn(payload, timeout=RPC_TIMEOUT)

    # ---- basics ----
    def test_health(self):
        h = self.a.health()
        self.assertEqual(h.status, pb.HealthCheckResponse.SERVING)
        self.assertTrue(h.selftests_passed)
        self.assertGreater(h.selftests_run, 0)
        self.assertTrue(h.store_lock_held)
        self.assertEqual(len(h.audit_head), 64)

    def test_sd_notify_ready(self):
        self.notify.settimeout(30)
        msg = self.notify.recv(4096).decode()
        self.assertIn("READY=1", msg)

    def test_selftest_lines_logged(self):
        log = read_text(self.log_path)
        lines = [ln for ln in log.splitlines() if "self-test" in ln.lower()]
        self.assertGreaterEqual(len(lines), 2, log)
        self.assertTrue(any("self-test: all" in ln for ln in lines), log)

    def test_token_info(self):
        t = self.a.token_info()
        self.assertEqual(t.label, "e2e")
        self.assertTrue(t.flags & hc.CKF_TOKEN_INITIALIZED)
        self.assertTrue(t.flags & hc.CKF_USER_PIN_INITIALIZED)

    def test_audit_head_advances(self):
        before = self.a.audit_head().seq
        s = self.a.open_session()
        self.a.close_session(s)
        self.assertGreaterEqual(self.a.audit_head().seq, before)

    def test_random(self):
        s = self.a.open_session()
        r1, r2 = self.a.random(s, 32), self.a.random(s, 32)
        self.assertEqual(len(r1), 32)
        self.assertNotEqual(r1, r2)
        self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, self.a.random, s, 4097, ckr="max_random_bytes")
        self.a.close_session(s)

    # ---- isolation ----
    def test_sessions_and_logins_isolated(self):
        b = self.client("b")
        sa = self.user_session()
        label = "private-of-a"
        self.a.call("CreateObject", pb.CreateObjectRequest(session=sa, template=[
            attr("CLASS", hc.CKO["DATA"]), attr("TOKEN", False), attr("PRIVATE", True), attr("LABEL", label),
            attr("VALUE", b"secret-ish")]))
        self.assertEqual(len(self.a.find(sa, [attr("LABEL", label)])), 1)
        sb = b.open_session()
        # a's login does not authenticate b's session
        self.assertEqual(b.find(sb, [attr("LABEL", label)]), [])
        # b cannot use or close a's session
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, b.find, sa, [], ckr="CKR_SESSION_HANDLE_INVALID")
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, b.close_session, sa, ckr="CKR_SESSION_HANDLE_INVALID")
        self.assertEqual(len(self.a.find(sa, [attr("LABEL", label)])), 1)
        b.close_session(sb)
        self.a.close_session(sa)
        b.close()

    # ---- mutual TLS ----
    def test_same_cn_other_certificate_is_another_client(self):
        # H2: the certificate (SHA-256), not its CN, is the client
        a2 = self.client("a2")
        sa = self.user_session()
        label = "private-of-a-cert"
        self.a.call("CreateObject", pb.CreateObjectRequest(session=sa, template=[
            attr("CLASS", hc.CKO["DATA"]), attr("TOKEN", False), attr("PRIVATE", True), attr("LABEL", label),
            attr("VALUE", b"only a")]))
        sa2 = a2.open_session()
        self.assertEqual(a2.find(sa2, [attr("LABEL", label)]), [])
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, a2.find, sa, [], ckr="CKR_SESSION_HANDLE_INVALID")
        self.assertEqual(len(self.a.find(sa, [attr("LABEL", label)])), 1)
        a2.close_session(sa2)
        a2.close()
        self.a.close_session(sa)
        # both are named client-a in the log and audit, with different fingerprints as keys
        keys = set()
        for ln in read_text(self.log_path).splitlines():
            if "new client x509:client-a (x509:sha256:" in ln:
                keys.add(ln.split("(x509:sha256:")[1][:64])
        self.assertEqual(len(keys), 2, keys)

    def test_mtls_rejects_client_without_certificate(self):
        c = self.client("a", with_cert=False)
        self.assertRpcError(grpc.StatusCode.UNAVAILABLE, c.health)
        c.close()
        self.assertServing()

    def test_mtls_rejects_client_from_other_ca(self):
        c = self.client("rogue")
        self.assertRpcError(grpc.StatusCode.UNAVAILABLE, c.health)
        c.close()
        self.assertServing()

    # ---- negative ----
    def test_malformed_protobuf(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.raw_call(SERVICE + "OpenSession", b"\xff\xff\xff\xff\x0f")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertServing()

    def test_oversize_message(self):
        s = self.a.open_session()
        self.assertRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, self.a.call, "Digest",
                            pb.DigestRequest(session=s, mechanism=mech("CKM_SHA256"), data=b"x" * (2 << 20)))
        self.a.close_session(s)
        self.assertServing()

    def test_compressed_request_refused(self):
        # gRPC would inflate it into buffers the daemon cannot wipe (M3)
        with self.assertRaises(grpc.RpcError) as cm:
            self.a.stub.HealthCheck(pb.HealthCheckRequest(), timeout=RPC_TIMEOUT, compression=grpc.Compression.Gzip)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED, cm.exception.details())
        self.assertServing()

    def test_unknown_method(self):
        for m in (SERVICE + "NoSuchMethod", "/other.v1.Svc/Call"):
            with self.assertRaises(grpc.RpcError) as cm:
                self.raw_call(m, b"")
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertServing()

    def test_bad_session_handle(self):
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, self.a.sign, 987654321, 1, mech("CKM_ECDSA"), b"x",
                            ckr="CKR_SESSION_HANDLE_INVALID")
        self.assertServing()

    def test_wrong_pin_then_throttle_then_right_pin(self):
        c, b = self.client("c"), self.client("b")
        s, sb = c.open_session(), b.open_session()
        self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, c.login, s, "user", "wrong-pin-0000",
                            ckr="CKR_PIN_INCORRECT")
        self.assertRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, c.login, s, "user", USER_PIN, ckr="throttled")
        # M4: the slot is throttled for every client and every PIN RPC, not just c's Login
        self.assertRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, b.login, sb, "user", USER_PIN, ckr="throttled")
        self.assertRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, b.call, "SetPin",
                            pb.SetPinRequest(session=sb, old_pin=b"x", new_pin=b"y"), ckr="throttled")
        self.assertRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, b.backup, SO_PIN, ckr="throttled")
        b.close_session(sb)
        b.close()
        time.sleep(0.4)
        c.login(s, "user", USER_PIN)
        c.logout(s)
        c.close_session(s)
        c.close()
        self.assertServing()

    def test_user_type_unspecified(self):
        s = self.a.open_session()
        self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, self.a.call, "Login",
                            pb.LoginRequest(session=s, pin=b"1234"), ckr="CKR_USER_TYPE_INVALID")
        self.a.close_session(s)

    def test_backup_archive_verifies_with_admin(self):
        admin = os.environ["CRATON_HSM_ADMIN"]
        s = self.user_session()
        self.a.call("CreateObject", pb.CreateObjectRequest(session=s, template=[
            attr("CLASS", hc.CKO["DATA"]), attr("TOKEN", True), attr("LABEL", "e2e-backup-data"),
            attr("VALUE", b"kept")]))
        self.a.close_session(s)
        blob = self.a.backup(SO_PIN)
        self.assertTrue(blob.startswith(b"CRATONHSMBK"), blob[:16])
        path = f"{self.dir}/remote.bak"
        with open(path, "wb") as f:
            f.write(blob)
        r = subprocess.run([admin, "--config", self.config, "backup", "verify", "--input", path, "--pin", SO_PIN],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("e2e-backup-data", r.stdout + r.stderr)
        b = self.client("b")
        self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, b.backup, "wrong-so-pin", ckr="CKR_PIN_INCORRECT")
        b.close()
        time.sleep(0.3)  # b's throttle window; the correct SO PIN also resets the store counter
        self.assertTrue(self.a.backup(SO_PIN).startswith(b"CRATONHSMBK"))

    # ---- keys and cryptography (need the mechanism layer) ----
    def test_ec_sign_verify(self):
        s = self.user_session()
        pub, priv = self.a.generate_ec(s, "P-256", label="e2e-ec")
        sig = self.a.sign(s, priv, mech("CKM_ECDSA_SHA256"), b"payload")
        self.assertEqual(len(sig), 64)
        self.assertTrue(self.a.verify(s, pub, mech("CKM_ECDSA_SHA256"), b"payload", sig))
        self.assertFalse(self.a.verify(s, pub, mech("CKM_ECDSA_SHA256"), b"payloae", sig))
        self.a.close_session(s)

    def test_rsa_sign_verify(self):
        s = self.user_session()
        pub, priv = self.a.generate_rsa(s, 2048, label="e2e-rsa")
        sig = self.a.sign(s, priv, mech("CKM_SHA256_RSA_PKCS"), b"payload")
        self.assertEqual(len(sig), 256)
        self.assertTrue(self.a.verify(s, pub, mech("CKM_SHA256_RSA_PKCS"), b"payload", sig))
        pss = dict(hash_alg=0x250, mgf=0x2, salt_len=32)  # CKM_SHA256, CKG_MGF1_SHA256
        sig = self.a.sign(s, priv, mech("CKM_SHA256_RSA_PKCS_PSS", pss=pss), b"payload")
        self.assertTrue(self.a.verify(s, pub, mech("CKM_SHA256_RSA_PKCS_PSS", pss=pss), b"payload", sig))
        self.a.close_session(s)

    def test_aes_gcm_encrypt_decrypt(self):
        s = self.user_session()
        k = self.a.generate_aes(s, 256, label="e2e-aes")
        g = dict(iv=b"\x01" * 12, aad=b"hdr", tag_bits=128)
        ct = self.a.encrypt(s, k, mech("CKM_AES_GCM", gcm=g), b"hello daemon")
        self.assertEqual(len(ct), len(b"hello daemon") + 16)
        self.assertEqual(self.a.decrypt(s, k, mech("CKM_AES_GCM", gcm=g), ct), b"hello daemon")
        bad = bytes([ct[0] ^ 1]) + ct[1:]
        self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, self.a.decrypt, s, k, mech("CKM_AES_GCM", gcm=g), bad)
        vals = self.a.get_attributes(s, k, ["VALUE", "VALUE_LEN", "SENSITIVE"])
        self.assertEqual(vals[0].status, pb.ATTRIBUTE_STATUS_SENSITIVE)
        self.assertEqual(vals[1].attribute.ulong_value, 32)
        self.assertTrue(vals[2].attribute.bool_value)
        self.a.close_session(s)

    def test_find_and_destroy(self):
        s = self.user_session()
        k = self.a.generate_aes(s, 128, label="e2e-destroy-me")
        self.assertEqual(self.a.find(s, [attr("LABEL", "e2e-destroy-me")]), [k])
        self.a.destroy(s, k)
        self.assertEqual(self.a.find(s, [attr("LABEL", "e2e-destroy-me")]), [])
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, self.a.destroy, s, k, ckr="HANDLE_INVALID")
        self.a.close_session(s)

    # ---- certificate reload ----
    def test_sighup_with_broken_cert_keeps_serving(self):
        d = self.dir
        shutil.copy(f"{d}/server.crt", f"{d}/server.crt.good")
        try:
            with open(f"{d}/server.crt", "w") as f:
                f.write("not a certificate\n")
            self.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            c = self.client("b")  # new connection -> new handshake
            self.assertEqual(c.health().status, pb.HealthCheckResponse.SERVING)
            c.close()
        finally:
            os.replace(f"{d}/server.crt.good", f"{d}/server.crt")
        self.proc.send_signal(signal.SIGHUP)
        c = self.client("b")
        self.assertEqual(c.health().status, pb.HealthCheckResponse.SERVING)
        c.close()

    # ---- shutdown (runs last: unittest sorts by name) ----
    def test_zz_sigterm_exit0_and_lock_released(self):
        lock = f"{self.dir}/store/craton_hsm.lock"
        held = subprocess.run(["flock", "-n", lock, "true"])
        self.assertNotEqual(held.returncode, 0, "store lock should be held while the daemon runs")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=60), 0)
        self.assertEqual(subprocess.run(["flock", "-n", lock, "true"]).returncode, 0)
        self.assertIn("stopped", read_text(self.log_path))
        self.notify.settimeout(5)
        msgs = []
        try:
            while True:
                msgs.append(self.notify.recv(4096).decode())
        except socket.timeout:
            pass
        self.assertTrue(any("STOPPING=1" in m for m in msgs), msgs)


class DaemonPlaintextClients(unittest.TestCase):
    """H2 without client certificates: sessions belong to (connection, token)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chsm-e2e-plain-")
        os.makedirs(f"{cls.dir}/store", mode=0o700)
        os.makedirs(f"{cls.dir}/audit", mode=0o700)
        cls.target = f"127.0.0.1:{free_port()}"
        cfg = write_config(cls.dir, "plain", cls.target, tls=False)
        cls.log_path = f"{cls.dir}/daemon.log"
        cls.log = open(cls.log_path, "wb")
        cls.proc = subprocess.Popen([HSMD, "--config", cfg], stdout=cls.log, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, CRATON_HSM_LOG="info"))
        cls.x = cls.client()
        wait_and_init_token(cls.proc, cls.x, cls.log_path, "plain")

    @classmethod
    def tearDownClass(cls):
        cls.x.close()
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            cls.proc.wait(timeout=60)
        cls.log.close()
        if os.environ.get("CHSM_KEEP_TMP") is None:
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def client(cls, own_connection=False):
        opts = [("grpc.use_local_subchannel_pool", 1)] if own_connection else []
        return hc.HsmClient(cls.target, timeout=RPC_TIMEOUT, options=opts)

    def logged_in(self, c, label):
        s = c.open_session()
        c.login(s, "user", USER_PIN)
        c.call("CreateObject", pb.CreateObjectRequest(session=s, template=[
            attr("CLASS", hc.CKO["DATA"]), attr("TOKEN", False), attr("PRIVATE", True), attr("LABEL", label),
            attr("VALUE", b"x")]))
        self.assertEqual(len(c.find(s, [attr("LABEL", label)])), 1)
        return s

    def assertNoSession(self, fn, *args):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND, cm.exception.details())
        self.assertIn("CKR_SESSION_HANDLE_INVALID", cm.exception.details())

    def test_two_clients_of_one_process_are_isolated(self):
        y = self.client()  # same process, same target: gRPC may share x's connection (same peer address)
        sx = self.logged_in(self.x, "plain-x")
        sy = y.open_session()
        self.assertTrue(self.x.token and y.token and self.x.token != y.token)
        self.assertEqual(y.find(sy, [attr("LABEL", "plain-x")]), [])  # x's login is not y's
        self.assertNoSession(y.find, sx, [])
        self.assertNoSession(y.close_session, sx)
        self.assertEqual(len(self.x.find(sx, [attr("LABEL", "plain-x")])), 1)
        y.close_session(sy)
        y.close()
        self.x.logout(sx)
        self.x.close_session(sx)

    def test_call_without_or_with_forged_token_cannot_use_login(self):
        sx = self.logged_in(self.x, "plain-token")
        req = pb.FindObjectsRequest(session=sx)
        self.assertNoSession(self.x.stub.FindObjects, req, RPC_TIMEOUT)  # same connection, no token
        forged = ("0" if self.x.token[0] != "0" else "1") + self.x.token[1:]
        self.assertNoSession(lambda: self.x.stub.FindObjects(req, timeout=RPC_TIMEOUT,
                                                             metadata=(("x-craton-client", forged),)))
        self.assertEqual(len(self.x.find(sx, [attr("LABEL", "plain-token")])), 1)
        self.x.logout(sx)
        self.x.close_session(sx)

    def test_reconnect_cannot_use_old_login(self):
        sx = self.logged_in(self.x, "plain-reconnect")
        z = self.client(own_connection=True)  # a new connection: another source port
        self.assertNoSession(z.find, sx, [])  # without the token
        z.token = self.x.token  # even with the stolen token: it is bound to x's connection
        self.assertNoSession(z.find, sx, [])
        z.close()
        self.x.logout(sx)
        self.x.close_session(sx)

    def test_kept_clients_logged_with_own_number(self):
        c = self.client(own_connection=True)
        for _ in range(3):
            c.health()
        s = c.open_session()
        c.close_session(s)
        c.close()
        # only clients that kept a session are announced, each with its own number
        log = read_text(self.log_path)
        news = [ln for ln in log.splitlines() if "new client peer:" in ln]
        self.assertGreaterEqual(len(news), 1, log[-4000:])
        self.assertEqual(len(set(news)), len(news), news)
        self.assertTrue(all("#" in ln for ln in news), news)


    def test_zz_sigterm_exit0(self):
        # a clean exit (under ASan: no leak or error report) after the token paths ran
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=60), 0, read_text(self.log_path)[-4000:])


class DaemonStartupRefusals(unittest.TestCase):
    """Policy refusals happen before anything is opened: exit code 3 and one clear line."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chsm-e2e-neg-")
        os.makedirs(f"{cls.dir}/store", mode=0o700)
        os.makedirs(f"{cls.dir}/audit", mode=0o700)
        make_pki(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, cfg):
        return subprocess.run([HSMD, "--config", cfg], capture_output=True, text=True, timeout=60)

    def test_non_loopback_without_tls_refused(self):
        cfg = write_config(self.dir, "plain", f"0.0.0.0:{free_port()}", tls=False)
        r = self.start(cfg)
        self.assertEqual(r.returncode, EXIT_POLICY, r.stderr)
        self.assertIn("not a loopback address", r.stderr)

    def test_non_loopback_tls_without_client_ca_refused(self):
        cfg = write_config(self.dir, "tlsonly", f"0.0.0.0:{free_port()}", tls=False,
                           daemon_extra=f'tls_cert = "{self.dir}/server.crt"\ntls_key = "{self.dir}/server.key"\n')
        r = self.start(cfg)
        self.assertEqual(r.returncode, EXIT_POLICY, r.stderr)
        self.assertIn("mutual TLS is required", r.stderr)

    def test_key_mode_0644_refused(self):
        key = f"{self.dir}/server.key"
        os.chmod(key, 0o644)
        try:
            cfg = write_config(self.dir, "mode", f"127.0.0.1:{free_port()}")
            r = self.start(cfg)
            self.assertEqual(r.returncode, EXIT_POLICY, r.stderr)
            self.assertIn(f"tls_key {key} has mode 0644", r.stderr)
            self.assertIn("must not be readable by group or others", r.stderr)
        finally:
            os.chmod(key, 0o600)

    def test_localhost_plaintext_accepted(self):
        # L2: "localhost" counts as loopback because it resolves only to loopback here
        cfg = write_config(self.dir, "lh", f"localhost:{free_port()}", tls=False)
        r = subprocess.run([HSMD, "--check-config", "--config", cfg], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("plaintext", r.stdout)

    def test_other_name_plaintext_refused(self):
        # L2: other names are not resolved, so they never allow plaintext
        cfg = write_config(self.dir, "ip6lh", f"ip6-localhost:{free_port()}", tls=False)
        r = subprocess.run([HSMD, "--check-config", "--config", cfg], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, EXIT_POLICY, r.stderr)
        self.assertIn("not a loopback address", r.stderr)

    def test_check_config_ok(self):
        cfg = write_config(self.dir, "ok", f"127.0.0.1:{free_port()}")
        r = subprocess.run([HSMD, "--check-config", "--config", cfg], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mutual TLS", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
