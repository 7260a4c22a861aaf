#!/usr/bin/python3
"""Interop: python3-pykcs11 drives every mechanism family of issue 4
through ANY PKCS#11 module, and every result is cross-checked outside the
token (openssl CLI, Python's hashlib/hmac, or a published vector).

Usage: test_pykcs11_families.py /path/to/module.so

Families: RSA, EC, Edwards, AES, HMAC, object import (C_CreateObject) and
private-key wrap/unwrap as PKCS#8 under AES key wrap with padding.
Keys are session objects. Prints one PASS/FAIL line per check and a final
line "N passed, M failed"; exits non-zero on any failure or a missing tool.
PyKCS11 1.5.12 has no multi-part sign/encrypt binding, so only the
single-part calls are exercised here.
"""
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pykcs11"))
import common  # noqa: E402
from common import finish, result, run, tmpfile  # noqa: E402

SO_PIN = common.SO_PIN
USER_PIN = common.USER_PIN
TOKEN_LABEL = common.TOKEN_LABEL


# ---- token preparation (mirrors lib.sh prepare_token) -------------------
def prepare_token(module):
    if os.path.basename(module) == "libcraton_hsm.so":
        store = os.path.join(common.TMP, "store")
        os.mkdir(store, 0o700)
        cfg = tmpfile("craton_hsm.toml")
        with open(cfg, "w") as f:
            f.write('[token]\nlabel = "%s"\nserial_number = "INTEROP0002"\nstorage_path = "%s"\n\n'
                    '[security]\npbkdf2_iterations = 100000\n\n'
                    # SHA-1 signature mechanisms are off by default; the families test covers them.
                    '[algorithms]\nallow_sha1_signing = true\n\n[audit]\nlog_path = "%s"\n'
                    % (TOKEN_LABEL, store, os.path.join(common.TMP, "audit.jsonl")))
        os.environ["CRATON_HSM_CONFIG"] = cfg
        run("pkcs11-tool", "--module", module, "--slot", "0", "--init-token",
            "--label", TOKEN_LABEL, "--so-pin", SO_PIN)
        run("pkcs11-tool", "--module", module, "--slot", "0", "--init-pin", "--login",
            "--so-pin", SO_PIN, "--pin", USER_PIN)
    else:
        tokens = os.path.join(common.TMP, "tokens")
        os.mkdir(tokens, 0o700)
        conf = tmpfile("softhsm2.conf", ("directories.tokendir = %s\nobjectstore.backend = file\n"
                                         "log.level = ERROR\n" % tokens).encode())
        os.environ["SOFTHSM2_CONF"] = conf
        run("softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL,
            "--so-pin", SO_PIN, "--pin", USER_PIN)


def main():
    if len(sys.argv) != 2:
        print("usage: test_pykcs11_families.py /path/to/module.so", file=sys.stderr)
        sys.exit(2)
    module = sys.argv[1]
    missing = [t for t in ("openssl", "pkcs11-tool") if shutil.which(t) is None]
    if os.path.basename(module) != "libcraton_hsm.so" and shutil.which("softhsm2-util") is None:
        missing.append("softhsm2-util")
    try:
        import PyKCS11  # noqa: F401
    except ImportError as e:
        missing.append("python3-pykcs11 (%s)" % e)
    if not os.path.exists(module):
        missing.append(module)
    if missing:
        for m in missing:
            result("required tool/file %s" % m, False, "not found")
        finish()
    common.TMP = tempfile.mkdtemp(prefix="chsm-pykcs11.")
    os.chmod(common.TMP, 0o700)
    try:
        prepare_token(module)
        import families
        families.run_all(module)
    except Exception as e:  # noqa: BLE001
        result("harness", False, "%s: %s" % (type(e).__name__, e))
    finally:
        shutil.rmtree(common.TMP, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
