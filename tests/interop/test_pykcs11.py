#!/usr/bin/python3
"""Interop: drive libcraton_hsm.so through python3-pykcs11 (a real consumer).

Usage: test_pykcs11.py /path/to/libcraton_hsm.so [volatile|persistent]
(persistent: the store lives in a temporary storage_path directory; issue 3)

Token init, user PIN init, login, object create/find/get/set/copy/destroy,
random, digests (published vectors), wrong-PIN counting with the token flags
and the lockout at max_failed_logins (3 in the temporary config written
here). Prints "N passed, M failed"; exits non-zero on any failure, and when
PyKCS11 is missing (a missing consumer is a failure, never a skip).

PyKCS11 1.5.12 (Debian 12) has no binding for C_CopyObject, so the copy step
calls C_CopyObject through ctypes on the same loaded module (dlopen of the
same path returns the same instance) with PyKCS11's own session handle.
"""
import ctypes
import os
import shutil
import sys
import tempfile
import traceback

PASSED = 0
FAILED = 0

SO_PIN = "so-pin-1234"
USER_PIN = "user-pin-5678"


def check(cond, what):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s" % what, file=sys.stderr)


def expect_error(fn, code, what):
    """Call fn and require a PyKCS11Error carrying exactly `code`."""
    import PyKCS11
    try:
        fn()
    except PyKCS11.PyKCS11Error as e:
        check(e.value == code, "%s: got %s, want %s" % (what, e, PyKCS11.CKR.get(code, code)))
        return
    check(False, "%s: succeeded, want %s" % (what, PyKCS11.CKR.get(code, code)))


def finish():
    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(0 if FAILED == 0 and PASSED > 0 else 1)


def write_config(tmp, persistent):
    path = os.path.join(tmp, "craton_hsm.toml")
    store = os.path.join(tmp, "store") if persistent else ":memory:"
    with open(path, "w") as f:
        f.write('[token]\nlabel = "Craton Interop"\nserial_number = "PYKCS11"\n'
                'storage_path = "%s"\n\n[security]\npbkdf2_iterations = 100000\n'
                'max_failed_logins = 3\n\n[audit]\nenabled = false\n' % store)
    return path


def token_flags(lib, slot):
    return lib.getTokenInfo(slot).flags


def test_objects(PyKCS11, module, session):
    from PyKCS11 import (CKA_APPLICATION, CKA_CLASS, CKA_LABEL, CKA_PRIVATE,
                         CKA_TOKEN, CKA_VALUE, CKO_DATA)
    tmpl = [(CKA_CLASS, CKO_DATA), (CKA_TOKEN, True), (CKA_PRIVATE, True),
            (CKA_LABEL, "py-data"), (CKA_APPLICATION, "py-app"),
            (CKA_VALUE, b"\x00\x01interop\xff")]
    h = session.createObject(tmpl)
    found = session.findObjects([(CKA_LABEL, "py-data")])
    check(len(found) == 1 and found[0].value() == h.value(), "find by label")
    val = session.getAttributeValue(h, [CKA_VALUE], allAsBinary=True)[0]
    check(bytes(val) == b"\x00\x01interop\xff", "get CKA_VALUE")

    session.setAttributeValue(h, [(CKA_LABEL, "py-renamed")])
    label = session.getAttributeValue(h, [CKA_LABEL])[0]
    check(label == "py-renamed", "set CKA_LABEL (got %r)" % (label,))
    check(len(session.findObjects([(CKA_LABEL, "py-data")])) == 0, "old label gone")

    # C_CopyObject via ctypes on the same module instance (see module docstring)
    lib = ctypes.CDLL(module)
    new_label = b"py-copy"

    class Attr(ctypes.Structure):
        _fields_ = [("type", ctypes.c_ulong), ("pValue", ctypes.c_void_p), ("ulValueLen", ctypes.c_ulong)]

    buf = ctypes.create_string_buffer(new_label, len(new_label))
    attr = Attr(CKA_LABEL, ctypes.cast(buf, ctypes.c_void_p), len(new_label))
    new_h = ctypes.c_ulong(0)
    lib.C_CopyObject.argtypes = [ctypes.c_ulong, ctypes.c_ulong, ctypes.POINTER(Attr), ctypes.c_ulong,
                                 ctypes.POINTER(ctypes.c_ulong)]
    rv = lib.C_CopyObject(session.session.value(), h.value(), ctypes.byref(attr), 1, ctypes.byref(new_h))
    check(rv == 0 and new_h.value != 0, "C_CopyObject rv=0x%x" % rv)
    copies = session.findObjects([(CKA_APPLICATION, "py-app")])
    check(len(copies) == 2, "copy found by application (%d)" % len(copies))
    copy = [o for o in copies if o.value() == new_h.value]
    check(len(copy) == 1, "copy handle among results")
    if copy:
        check(session.getAttributeValue(copy[0], [CKA_LABEL])[0] == "py-copy", "copy label")
        session.destroyObject(copy[0])
        expect_error(lambda: session.getAttributeValue(copy[0], [CKA_LABEL]),
                     PyKCS11.CKR_OBJECT_HANDLE_INVALID, "destroyed handle invalid")
    check(len(session.findObjects([(CKA_APPLICATION, "py-app")])) == 1, "destroyed copy gone")


DIGESTS = [
    ("CKM_SHA_1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("CKM_SHA256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("CKM_SHA384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                   "8086072ba1e7cc2358baeca134c825a7"),
    ("CKM_SHA512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                   "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
]


def test_random_and_digests(PyKCS11, session):
    a = bytes(session.generateRandom(32))
    b = bytes(session.generateRandom(32))
    check(len(a) == 32 and a != b and a != bytes(32), "generateRandom")
    for name, want in DIGESTS:
        mech = PyKCS11.Mechanism(getattr(PyKCS11, name), None)
        got = bytes(session.digest(b"abc", mech)).hex()
        check(got == want, "%s single-part" % name)
        ds = session.digestSession(mech)
        ds.update(b"a")
        ds.update(b"bc")
        check(bytes(ds.final()).hex() == want, "%s multi-part" % name)


def test_lockout(PyKCS11, lib, slot, session):
    from PyKCS11 import (CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY,
                         CKF_USER_PIN_LOCKED, CKR_PIN_INCORRECT, CKR_PIN_LOCKED)
    expect_error(lambda: session.login("wrong-pin-1"), CKR_PIN_INCORRECT, "wrong PIN 1")
    fl = token_flags(lib, slot)
    check(fl & CKF_USER_PIN_COUNT_LOW and not fl & CKF_USER_PIN_FINAL_TRY, "COUNT_LOW after 1 (flags 0x%x)" % fl)
    expect_error(lambda: session.login("wrong-pin-2"), CKR_PIN_INCORRECT, "wrong PIN 2")
    fl = token_flags(lib, slot)
    check(fl & CKF_USER_PIN_FINAL_TRY and not fl & CKF_USER_PIN_LOCKED, "FINAL_TRY after 2 (flags 0x%x)" % fl)
    try:
        session.login("wrong-pin-3")
        check(False, "wrong PIN 3 accepted")
    except PyKCS11.PyKCS11Error as e:
        check(e.value in (CKR_PIN_INCORRECT, CKR_PIN_LOCKED), "wrong PIN 3: %s" % e)
    check(token_flags(lib, slot) & CKF_USER_PIN_LOCKED, "LOCKED after 3")
    expect_error(lambda: session.login(USER_PIN), CKR_PIN_LOCKED, "right PIN refused once locked")


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] not in ("volatile", "persistent")):
        print("usage: test_pykcs11.py /path/to/libcraton_hsm.so [volatile|persistent]", file=sys.stderr)
        check(False, "module path argument")
        finish()
    module = os.path.abspath(sys.argv[1])
    try:
        import PyKCS11
    except ImportError as e:
        check(False, "python3-pykcs11 is not importable (%s): apt-get install python3-pykcs11" % e)
        finish()
    tmp = tempfile.mkdtemp(prefix="chsm-pykcs11.")
    try:
        os.environ["CRATON_HSM_CONFIG"] = write_config(tmp, len(sys.argv) == 3 and sys.argv[2] == "persistent")
        lib = PyKCS11.PyKCS11Lib()
        lib.load(module)
        info = lib.getInfo()
        check(info.cryptokiVersion[0] in (2, 3), "C_GetInfo cryptoki version")
        slots = lib.getSlotList(tokenPresent=True)
        check(len(slots) >= 1 and slots[0] == 0, "slot list %r" % (slots,))
        slot = slots[0]
        check(not token_flags(lib, slot) & PyKCS11.CKF_TOKEN_INITIALIZED, "token starts uninitialised")
        # PyKCS11 passes the label through unpadded; CK_TOKEN_INFO labels are 32 blank-padded bytes
        lib.initToken(slot, SO_PIN, "py-token".ljust(32))
        ti = lib.getTokenInfo(slot)
        check(ti.label.strip() == "py-token" and ti.flags & PyKCS11.CKF_TOKEN_INITIALIZED, "token initialised")
        mechs = lib.getMechanismList(slot)
        check("CKM_SHA256" in mechs, "CKM_SHA256 in mechanism list")

        s = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
        s.login(SO_PIN, user_type=PyKCS11.CKU_SO)
        s.initPin(USER_PIN)
        s.logout()
        check(token_flags(lib, slot) & PyKCS11.CKF_USER_PIN_INITIALIZED, "user PIN initialised")
        s.login(USER_PIN)
        test_objects(PyKCS11, module, s)
        test_random_and_digests(PyKCS11, s)
        s.logout()
        # re-init with a wrong SO PIN is refused (sessions must be closed first)
        lib.closeAllSessions(slot)
        expect_error(lambda: lib.initToken(slot, "not-the-so-pin", "evil".ljust(32)), PyKCS11.CKR_PIN_INCORRECT,
                     "re-init with wrong SO PIN")
        check(lib.getTokenInfo(slot).label.strip() == "py-token", "label unchanged after refused re-init")
        s = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
        test_lockout(PyKCS11, lib, slot, s)
        s.closeSession()
    except Exception:  # any unexpected error is a failure with its trace
        traceback.print_exc()
        check(False, "unexpected exception")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
