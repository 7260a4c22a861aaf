"""AES family: keygen 128/192/256; ECB, CBC, CBC_PAD, CTR compared with
openssl enc for each key size; GCM with AAD against a published vector
(McGrew-Viega test case 4) plus round trip and tag tamper; KEY_WRAP
(RFC 3394 4.1/4.6) and KWP (RFC 5649) vectors; CMAC against openssl mac."""
import os
import struct

import PyKCS11
from PyKCS11 import (CKA_CLASS, CKA_DECRYPT, CKA_ENCRYPT, CKA_EXTRACTABLE, CKA_KEY_TYPE,
                     CKA_SENSITIVE, CKA_SIGN, CKA_TOKEN, CKA_UNWRAP, CKA_VALUE, CKA_VALUE_LEN,
                     CKA_VERIFY, CKA_WRAP, CKK_AES, CKO_SECRET_KEY, Mechanism)

from common import check, expect_ckr, run, tmpfile


def aes_import(s, key, extractable=False):
    return s.createObject([(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES), (CKA_TOKEN, False),
                           (CKA_VALUE, key), (CKA_ENCRYPT, True), (CKA_DECRYPT, True),
                           (CKA_WRAP, True), (CKA_UNWRAP, True), (CKA_SIGN, True), (CKA_VERIFY, True),
                           (CKA_SENSITIVE, not extractable), (CKA_EXTRACTABLE, extractable)])


def ossl_enc(mode, key, data, iv=None, pad=False):
    args = ["openssl", "enc", "-aes-%d-%s" % (len(key) * 8, mode), "-K", key.hex(),
            "-in", tmpfile("enc.in", data)]
    if iv is not None:
        args += ["-iv", iv.hex()]
    if not pad:
        args.append("-nopad")
    return run(*args)


def ctr_params(iv):
    # CK_AES_CTR_PARAMS { CK_ULONG ulCounterBits; CK_BYTE cb[16]; } (native CK_ULONG)
    return struct.pack("=L" if struct.calcsize("L") == 4 else "=Q", 128) + iv


def gen_key(s, nbytes):
    return s.generateKey([(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES), (CKA_TOKEN, False),
                          (CKA_VALUE_LEN, nbytes), (CKA_ENCRYPT, True), (CKA_DECRYPT, True)],
                         mecha=Mechanism(PyKCS11.CKM_AES_KEY_GEN))


def run_keygen(s):
    for nbytes in (16, 24, 32):
        def keygen(nbytes=nbytes):
            k = gen_key(s, nbytes)
            vl = s.getAttributeValue(k, [CKA_VALUE_LEN])[0]
            pt = os.urandom(50)
            iv = os.urandom(16)
            m = Mechanism(PyKCS11.CKM_AES_CBC_PAD, iv)
            ct = bytes(s.encrypt(k, pt, m))
            return vl == nbytes and len(ct) == 64 and bytes(s.decrypt(k, ct, m)) == pt
        check("AES-%d: C_GenerateKey, CKA_VALUE_LEN, CBC_PAD round trip" % (nbytes * 8), keygen)


def run_modes(s):
    for nbytes in (16, 24, 32):
        key = os.urandom(nbytes)
        bits = nbytes * 8
        k = check("AES-%d: C_CreateObject of a known key" % bits, lambda: aes_import(s, key))
        if not k:
            continue
        pt = os.urandom(64)
        iv = os.urandom(16)
        cases = [
            ("ECB", Mechanism(PyKCS11.CKM_AES_ECB), pt, lambda: ossl_enc("ecb", key, pt)),
            ("CBC", Mechanism(PyKCS11.CKM_AES_CBC, iv), pt, lambda: ossl_enc("cbc", key, pt, iv)),
            ("CBC_PAD", Mechanism(PyKCS11.CKM_AES_CBC_PAD, iv), pt[:37],
             lambda: ossl_enc("cbc", key, pt[:37], iv, pad=True)),
            ("CTR", Mechanism(PyKCS11.CKM_AES_CTR, ctr_params(iv)), pt[:45],
             lambda: ossl_enc("ctr", key, pt[:45], iv)),
        ]
        for name, mech, data, ref in cases:
            def enc(mech=mech, data=data, ref=ref):
                ct = bytes(s.encrypt(k, data, mech))
                return ct == ref() and bytes(s.decrypt(k, ct, mech)) == data
            check("AES-%d: CKM_AES_%s equals openssl enc, decrypts back" % (bits, name), enc)


def run_gcm(s):
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308")
    iv = bytes.fromhex("cafebabefacedbaddecaf888")
    pt = bytes.fromhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                       "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    ct_tag = bytes.fromhex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                           "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
                           "5bc94fbc3221a5db94fae95ae7121a47")
    k = check("AES-GCM: C_CreateObject of the test-case-4 key", lambda: aes_import(s, key))
    if not k:
        return
    m = PyKCS11.AES_GCM_Mechanism(iv, aad, 128)
    check("AES-GCM: encrypt with AAD equals published ciphertext||tag",
          lambda: bytes(s.encrypt(k, pt, m)) == ct_tag)
    check("AES-GCM: decrypt with AAD returns the plaintext",
          lambda: bytes(s.decrypt(k, ct_tag, PyKCS11.AES_GCM_Mechanism(iv, aad, 128))) == pt)

    bad = bytearray(ct_tag)
    bad[-1] ^= 1
    check("AES-GCM: tag mismatch -> CKR_ENCRYPTED_DATA_INVALID",
          lambda: expect_ckr(lambda: s.decrypt(k, bytes(bad), PyKCS11.AES_GCM_Mechanism(iv, aad, 128)),
                             PyKCS11.CKR_ENCRYPTED_DATA_INVALID))

    check("AES-GCM: wrong AAD -> CKR_ENCRYPTED_DATA_INVALID",
          lambda: expect_ckr(lambda: s.decrypt(k, ct_tag, PyKCS11.AES_GCM_Mechanism(iv, aad + b"x", 128)),
                             PyKCS11.CKR_ENCRYPTED_DATA_INVALID))

    def short_tag_roundtrip():
        k2 = aes_import(s, os.urandom(32))
        data = os.urandom(100)
        mm = PyKCS11.AES_GCM_Mechanism(os.urandom(12), b"hdr", 96)
        ct = bytes(s.encrypt(k2, data, mm))
        return len(ct) == 112 and bytes(s.decrypt(k2, ct, mm)) == data
    check("AES-256-GCM: 96-bit tag round trip", short_tag_roundtrip)


def run_wrap(s):
    kek = check("AES-KW: import RFC 3394 256-bit KEK", lambda: aes_import(s, bytes(range(32))))
    kd = check("AES-KW: import RFC 3394 key data (extractable)",
               lambda: aes_import(s, bytes.fromhex("00112233445566778899AABBCCDDEEFF"), True))
    want = bytes.fromhex("64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7")
    if kek and kd:
        check("AES-KW: CKM_AES_KEY_WRAP equals RFC 3394 4.6",
              lambda: bytes(s.wrapKey(kek, kd, Mechanism(PyKCS11.CKM_AES_KEY_WRAP))) == want)

        def unwrap():
            t = [(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES), (CKA_TOKEN, False),
                 (CKA_ENCRYPT, True), (CKA_DECRYPT, True)]
            u = s.unwrapKey(kek, want, t, Mechanism(PyKCS11.CKM_AES_KEY_WRAP))
            ct = bytes(s.encrypt(u, bytes(16), Mechanism(PyKCS11.CKM_AES_ECB)))
            return ct == ossl_enc("ecb", bytes.fromhex("00112233445566778899AABBCCDDEEFF"), bytes(16))
        check("AES-KW: C_UnwrapKey yields the RFC 3394 key", unwrap)

        def unwrap_corrupt():
            bad = bytearray(want)
            bad[0] ^= 1
            t = [(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES), (CKA_TOKEN, False)]
            return expect_ckr(lambda: s.unwrapKey(kek, bytes(bad), t, Mechanism(PyKCS11.CKM_AES_KEY_WRAP)),
                              PyKCS11.CKR_WRAPPED_KEY_INVALID)
        check("AES-KW: corrupted wrapped key -> CKR_WRAPPED_KEY_INVALID", unwrap_corrupt)

    # RFC 5649 section 6: 192-bit KEK, 20-byte key (wrapped as a generic secret).
    kek5649 = bytes.fromhex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
    kd5649 = bytes.fromhex("c37b7e6492584340bed12207808941155068f738")
    want5649 = bytes.fromhex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")
    k1 = check("AES-KWP: import RFC 5649 KEK", lambda: aes_import(s, kek5649))
    k2 = check("AES-KWP: import RFC 5649 20-byte generic secret (extractable)",
               lambda: s.createObject([(CKA_CLASS, CKO_SECRET_KEY),
                                       (CKA_KEY_TYPE, PyKCS11.CKK_GENERIC_SECRET),
                                       (CKA_TOKEN, False), (CKA_VALUE, kd5649),
                                       (CKA_SENSITIVE, False), (CKA_EXTRACTABLE, True)]))
    if k1 and k2:
        for name in ("CKM_AES_KEY_WRAP_KWP", "CKM_AES_KEY_WRAP_PAD"):
            check("AES-KWP: %s equals RFC 5649 vector" % name,
                  lambda name=name: bytes(s.wrapKey(k1, k2, Mechanism(getattr(PyKCS11, name)))) == want5649)

            def unwrap5649(name=name):
                t = [(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, PyKCS11.CKK_GENERIC_SECRET),
                     (CKA_TOKEN, False), (CKA_SENSITIVE, False), (CKA_EXTRACTABLE, True)]
                u = s.unwrapKey(k1, want5649, t, Mechanism(getattr(PyKCS11, name)))
                return bytes(s.getAttributeValue(u, [CKA_VALUE], allAsBinary=True)[0]) == kd5649
            check("AES-KWP: %s unwraps the RFC 5649 vector to its key" % name, unwrap5649)


def run_cmac(s):
    key = os.urandom(16)
    k = check("AES-CMAC: import key", lambda: aes_import(s, key))
    if not k:
        return
    # PyKCS11 passes NULL for an empty message, which modules may refuse.
    for n in (1, 16, 40):
        data = os.urandom(n)

        def cmac(data=data):
            mac = bytes(s.sign(k, data, Mechanism(PyKCS11.CKM_AES_CMAC)))
            ref = run("openssl", "mac", "-cipher", "AES-128-CBC", "-macopt", "hexkey:" + key.hex(),
                      "-in", tmpfile("cmac.in", data), "CMAC").strip().decode()
            return mac.hex().upper() == ref.upper() and \
                s.verify(k, data, mac, Mechanism(PyKCS11.CKM_AES_CMAC))
        check("AES-CMAC: %d-byte message equals openssl mac CMAC, token verifies" % n, cmac)


def run_family(ctx):
    for part in (run_keygen, run_modes, run_gcm, run_wrap, run_cmac):
        part(ctx.fresh())
