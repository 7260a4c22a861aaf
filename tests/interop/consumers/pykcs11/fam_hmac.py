"""HMAC family: CKM_GENERIC_SECRET_KEY_GEN, CKM_SHA*_HMAC and the
_GENERAL variants over an imported generic secret, compared with Python's
hmac module and (SHA-256) with openssl mac; RFC 4231 test case 2."""
import hmac
import os
import struct

import PyKCS11
from PyKCS11 import (CKA_CLASS, CKA_KEY_TYPE, CKA_SIGN, CKA_TOKEN, CKA_VALUE, CKA_VALUE_LEN,
                     CKA_VERIFY, CKK_GENERIC_SECRET, CKO_SECRET_KEY, Mechanism)

from common import check, run, tmpfile

MDS = {"sha1": "CKM_SHA_1_HMAC", "sha224": "CKM_SHA224_HMAC", "sha256": "CKM_SHA256_HMAC",
       "sha384": "CKM_SHA384_HMAC", "sha512": "CKM_SHA512_HMAC"}


def secret(s, value):
    return s.createObject([(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_GENERIC_SECRET),
                           (CKA_TOKEN, False), (CKA_VALUE, value), (CKA_SIGN, True),
                           (CKA_VERIFY, True)])


def ulong(n):
    return struct.pack("=L" if struct.calcsize("L") == 4 else "=Q", n)


def run_family(ctx):
    s = ctx.s

    def keygen():
        k = s.generateKey([(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_GENERIC_SECRET),
                           (CKA_TOKEN, False), (CKA_VALUE_LEN, 32), (CKA_SIGN, True),
                           (CKA_VERIFY, True)], mecha=Mechanism(PyKCS11.CKM_GENERIC_SECRET_KEY_GEN))
        data = os.urandom(64)
        mac = bytes(s.sign(k, data, Mechanism(PyKCS11.CKM_SHA256_HMAC)))
        return s.getAttributeValue(k, [CKA_VALUE_LEN])[0] == 32 and len(mac) == 32 and \
            s.verify(k, data, mac, Mechanism(PyKCS11.CKM_SHA256_HMAC))
    check("HMAC: CKM_GENERIC_SECRET_KEY_GEN (32 bytes), SHA256_HMAC sign/verify", keygen)

    # RFC 4231 test case 2 ("Jefe").
    k4231 = check("HMAC: import RFC 4231 key 'Jefe'", lambda: secret(s, b"Jefe"))
    if k4231:
        check("HMAC: CKM_SHA256_HMAC equals RFC 4231 test case 2",
              lambda: bytes(s.sign(k4231, b"what do ya want for nothing?",
                                   Mechanism(PyKCS11.CKM_SHA256_HMAC))).hex() ==
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    key = os.urandom(48)
    k = check("HMAC: import a random 48-byte generic secret", lambda: secret(s, key))
    if not k:
        return
    data = os.urandom(333)
    for md, name in MDS.items():
        want = hmac.new(key, data, md).digest()

        def full(name=name, want=want):
            mac = bytes(s.sign(k, data, Mechanism(getattr(PyKCS11, name))))
            return mac == want and s.verify(k, data, mac, Mechanism(getattr(PyKCS11, name)))
        check("HMAC: %s equals Python hmac, token verifies" % name, full)

        def general(name=name, want=want):
            mech = Mechanism(getattr(PyKCS11, name + "_GENERAL"), ulong(16))
            mac = bytes(s.sign(k, data, mech))
            return mac == want[:16] and s.verify(k, data, mac, mech)
        check("HMAC: %s_GENERAL (16 bytes) equals truncated hmac" % name, general)

    def ossl():
        mac = bytes(s.sign(k, data, Mechanism(PyKCS11.CKM_SHA256_HMAC)))
        ref = run("openssl", "mac", "-digest", "SHA256", "-macopt", "hexkey:" + key.hex(),
                  "-in", tmpfile("hmac.in", data), "HMAC").strip().decode()
        return mac.hex().upper() == ref.upper()
    check("HMAC: CKM_SHA256_HMAC equals openssl mac HMAC", ossl)

    def bad():
        mac = bytearray(s.sign(k, data, Mechanism(PyKCS11.CKM_SHA256_HMAC)))
        mac[0] ^= 1
        return s.verify(k, data, bytes(mac), Mechanism(PyKCS11.CKM_SHA256_HMAC)) is False
    check("HMAC: token verify rejects a corrupted MAC", bad)
