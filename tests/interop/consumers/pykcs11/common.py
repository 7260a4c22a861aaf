"""Shared helpers for test_pykcs11_families.py: PASS/FAIL accounting, CLI
runner, temp files, a minimal DER encoder/reader and openssl verifiers."""
import os
import subprocess
import sys

PASSED = 0
FAILED = 0
SO_PIN = "so-pin-1234"
USER_PIN = "user-pin-5678"
TOKEN_LABEL = "interop"
TMP = None  # set by the driver to a private temp dir


def result(name, ok, why=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("PASS: %s" % name)
    else:
        FAILED += 1
        print("FAIL: %s%s" % (name, " -- " + why if why else ""))


def check(name, fn):
    """Run fn; pass iff it returns a truthy value without raising."""
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 -- report any consumer error
        result(name, False, "%s: %s" % (type(e).__name__, e))
        return None
    result(name, bool(r), "" if r else "assertion false")
    return r


def expect_ckr(fn, code):
    """fn must raise PyKCS11Error with exactly `code` (spec return value)."""
    import PyKCS11
    try:
        fn()
    except PyKCS11.PyKCS11Error as e:
        if e.value == code:
            return True
        raise RuntimeError("want %s, got %s" % (PyKCS11.CKR[code], e)) from None
    raise RuntimeError("succeeded, want %s" % PyKCS11.CKR[code])


def finish():
    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(0 if FAILED == 0 and PASSED > 0 else 1)


def run(*args, data=None):
    """Run a CLI tool; raise with its stderr on failure; return stdout bytes."""
    p = subprocess.run(list(args), input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args[:3]), p.returncode,
                                                p.stderr.decode(errors="replace").strip()[:300]))
    return p.stdout


def tmpfile(name, content=None):
    path = os.path.join(TMP, name)
    if content is not None:
        with open(path, "wb") as f:
            f.write(content)
    return path


# ---- minimal DER ----------------------------------------------------------
def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_uint(b):
    """INTEGER from big-endian unsigned bytes."""
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return tlv(0x02, b)


def der_read(buf, off=0):
    """Return (tag, body, next_offset) of the TLV at off."""
    tag = buf[off]
    n = buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    return tag, buf[off:off + n], off + n


def der_children(body):
    out, off = [], 0
    while off < len(body):
        t, b, off = der_read(body, off)
        out.append((t, b))
    return out


OID_RSA = bytes.fromhex("06092a864886f70d010101")
OID_EC = bytes.fromhex("06072a8648ce3d0201")
CURVES = {"P-256": bytes.fromhex("06082a8648ce3d030107"),
          "P-384": bytes.fromhex("06052b81040022"),
          "P-521": bytes.fromhex("06052b81040023")}
ED25519_OID = bytes.fromhex("06032b6570")
ED448_OID = bytes.fromhex("06032b6571")
# PKCS#11 3.0 also allows the curve name as a PrintableString.
ED25519_NAME = tlv(0x13, b"edwards25519")
HASHLEN = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


def spki(alg, key_bits):
    return tlv(0x30, tlv(0x30, alg) + tlv(0x03, b"\x00" + key_bits))


def pem_from_spki(der, name):
    path = tmpfile(name + ".der", der)
    run("openssl", "pkey", "-pubin", "-inform", "DER", "-in", path, "-out", tmpfile(name + ".pem"))
    return tmpfile(name + ".pem")


def unwrap_octet(point, expect_len=None):
    """CKA_EC_POINT is a DER OCTET STRING; tolerate a raw point too."""
    if point[0] == 0x04 and len(point) > 2:
        t, body, end = der_read(point)
        if end == len(point) and (expect_len is None or len(body) == expect_len):
            return body
    return point


def rs_to_der(sig):
    h = len(sig) // 2
    return tlv(0x30, der_uint(sig[:h]) + der_uint(sig[h:]))


def der_to_rs(der, n):
    _, body, _ = der_read(der)
    r, s = [b for _, b in der_children(body)]
    return r.lstrip(b"\x00").rjust(n, b"\x00") + s.lstrip(b"\x00").rjust(n, b"\x00")


def ossl_verify_digest(pem, md, data, sig, extra=()):
    """openssl dgst -<md> -verify; returns True iff 'Verified OK'."""
    out = run("openssl", "dgst", "-" + md, "-verify", pem, *extra,
              "-signature", tmpfile("sig.bin", sig), tmpfile("msg.bin", data))
    return b"Verified OK" in out


def ossl_verify_pkeyutl(pem, data, sig, opts=(), rawin=False):
    args = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem,
            "-in", tmpfile("msg.bin", data), "-sigfile", tmpfile("sig.bin", sig)]
    if rawin:
        args.append("-rawin")
    for o in opts:
        args += ["-pkeyopt", o]
    return b"Signature Verified Successfully" in run(*args)
