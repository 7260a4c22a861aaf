#!/usr/bin/python3
"""craton-hsmd under valgrind through a short end-to-end session (ctest label
daemon-valgrind): mutual TLS, InitToken, SO and user login, EC P-256 keygen,
sign, verify, AES-GCM encrypt and decrypt, find, destroy, GenerateRandom, a
bad call, SIGTERM. Requires exit status 0, "definitely lost: 0 bytes",
"indirectly lost: 0 bytes" (or no leaks at all) and 0 errors.

Reuses the PKI and config helpers of tests/daemon/test_daemon_e2e.py.
Environment (set by CMake): CRATON_HSMD, CRATON_HSM_CLIENT_DIR,
CRATON_HSM_CLIENT_STUBS, CHSM_E2E_DIR (tests/daemon). A missing valgrind is a
failure, never a skip.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ["CHSM_E2E_DIR"])
sys.path.insert(0, os.environ["CRATON_HSM_CLIENT_DIR"])
import grpc  # noqa: E402
import craton_hsm_client as hc  # noqa: E402
from craton_hsm_client import attr, mech  # noqa: E402
from test_daemon_e2e import free_port, make_pki, write_config  # noqa: E402

HSMD = os.environ["CRATON_HSMD"]
SO_PIN, USER_PIN = "so-pin-1234", "user-pin-5678"
VALGRIND_EXIT = 99


def fail(msg, log=None):
    print("FAIL: " + msg)
    if log:
        print(log[-20000:])
    sys.exit(1)


def session(c):
    c.init_token(SO_PIN, "vg")
    s = c.open_session()
    c.login(s, "so", SO_PIN)
    c.init_pin(s, USER_PIN)
    c.logout(s)
    c.login(s, "user", USER_PIN)
    pub, priv = c.generate_ec(s, "P-256", label="vg-ec")
    sig = c.sign(s, priv, mech("CKM_ECDSA_SHA256"), b"payload")
    assert len(sig) == 64
    assert c.verify(s, pub, mech("CKM_ECDSA_SHA256"), b"payload", sig)
    assert not c.verify(s, pub, mech("CKM_ECDSA_SHA256"), b"payloae", sig)
    k = c.generate_aes(s, 256, label="vg-aes")
    g = dict(iv=b"\x02" * 12, aad=b"hdr", tag_bits=128)
    ct = c.encrypt(s, k, mech("CKM_AES_GCM", gcm=g), b"under valgrind")
    assert c.decrypt(s, k, mech("CKM_AES_GCM", gcm=g), ct) == b"under valgrind"
    assert c.find(s, [attr("LABEL", "vg-aes")]) == [k]
    c.destroy(s, k)
    assert c.find(s, [attr("LABEL", "vg-aes")]) == []
    assert len(c.random(s, 32)) == 32
    try:  # an error path too: a destroyed handle
        c.destroy(s, k)
        fail("destroying a destroyed key succeeded")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND, e
    c.logout(s)
    c.close_session(s)
    c.open_session()  # left open: the shutdown path must free it


def main():
    vg = shutil.which("valgrind")
    if vg is None:
        fail("valgrind is not installed (apt-get install valgrind)")
    d = tempfile.mkdtemp(prefix="chsm-vg-")
    try:
        os.makedirs(f"{d}/store", mode=0o700)
        os.makedirs(f"{d}/audit", mode=0o700)
        make_pki(d)
        target = f"127.0.0.1:{free_port()}"
        cfg = write_config(d, "daemon", target)
        vlog = f"{d}/valgrind.log"
        dlog = open(f"{d}/daemon.log", "wb")
        cmd = [vg, "--leak-check=full", "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
               f"--error-exitcode={VALGRIND_EXIT}", "--num-callers=40", f"--log-file={vlog}", HSMD, "--config", cfg]
        proc = subprocess.Popen(cmd, stdout=dlog, stderr=subprocess.STDOUT)
        c = hc.HsmClient(target, ca=f"{d}/ca.crt", cert=f"{d}/client-a.crt", key=f"{d}/client-a.key",
                         server_name="localhost", timeout=300)
        deadline = time.time() + 120
        while True:
            try:
                c.health()
                break
            except grpc.RpcError:
                if proc.poll() is not None or time.time() > deadline:
                    proc.kill()
                    fail("craton-hsmd did not come up under valgrind", open(f"{d}/daemon.log").read())
                time.sleep(0.5)
        t0 = time.time()
        session(c)
        print(f"session done in {time.time() - t0:.1f} s")
        c.close()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=120)
        dlog.close()
        log = open(vlog).read()
        summary = re.search(r"ERROR SUMMARY: (\d+) errors", log)
        no_leaks = "All heap blocks were freed -- no leaks are possible" in log
        definite = re.search(r"definitely lost: ([\d,]+) bytes", log)
        indirect = re.search(r"indirectly lost: ([\d,]+) bytes", log)
        for line in log.splitlines():
            if re.search(r"(definitely|indirectly) lost:|ERROR SUMMARY|All heap blocks", line):
                print(line)
        if rc != 0:
            fail(f"craton-hsmd exit status {rc} after SIGTERM (valgrind reports errors as {VALGRIND_EXIT})", log)
        if summary is None or summary.group(1) != "0":
            fail("valgrind reported errors", log)
        if not no_leaks and (definite is None or indirect is None):
            fail("no leak summary in the valgrind log", log)
        if not no_leaks and (definite.group(1) != "0" or indirect.group(1) != "0"):
            fail("memory leaked", log)
        print("PASS: exit 0, 0 errors, definitely lost: 0 bytes, indirectly lost: 0 bytes")
    finally:
        if os.environ.get("CHSM_KEEP_TMP") is None:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
