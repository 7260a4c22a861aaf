"""Object import: RSA, EC and Ed25519 key pairs made by the openssl CLI are
loaded with C_CreateObject from their PKCS#11 components (parsed from
openssl's DER); the imported private keys sign and openssl verifies, the
imported public keys verify openssl's signatures. Then a private key is
wrapped as PKCS#8 under AES key wrap with padding (RFC 5649): openssl
unwraps it, and C_UnwrapKey brings it back as a working key."""
import hashlib
import os

import PyKCS11
from PyKCS11 import (CKA_CLASS, CKA_COEFFICIENT, CKA_DECRYPT, CKA_EC_PARAMS, CKA_EC_POINT,
                     CKA_ENCRYPT, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_EXTRACTABLE, CKA_KEY_TYPE,
                     CKA_MODULUS, CKA_PRIME_1, CKA_PRIME_2, CKA_PRIVATE, CKA_PRIVATE_EXPONENT,
                     CKA_PUBLIC_EXPONENT, CKA_SENSITIVE, CKA_SIGN, CKA_TOKEN, CKA_UNWRAP,
                     CKA_VALUE, CKA_VERIFY, CKA_WRAP, CKK_AES, CKK_EC, CKK_RSA, CKO_PRIVATE_KEY,
                     CKO_PUBLIC_KEY, CKO_SECRET_KEY, Mechanism)

from common import (CURVES, ED25519_OID, check, der_children, der_read, der_to_rs,
                    ossl_verify_digest, ossl_verify_pkeyutl, rs_to_der, run, tlv, tmpfile)

KWP_IV = "A65959A6"


def openssl_key(kind):
    path = tmpfile("imp-%s.pem" % kind)
    if kind == "rsa":
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    elif kind == "ec":
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    else:
        run("openssl", "genpkey", "-algorithm", "ED25519", "-out", path)
    pub = tmpfile("imp-%s.pub.pem" % kind)
    run("openssl", "pkey", "-in", path, "-pubout", "-out", pub)
    return path, pub


def priv_common(kt):
    return [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, kt), (CKA_TOKEN, False),
            (CKA_PRIVATE, True), (CKA_SIGN, True), (CKA_SENSITIVE, True), (CKA_EXTRACTABLE, True)]


def pub_common(kt):
    return [(CKA_CLASS, CKO_PUBLIC_KEY), (CKA_KEY_TYPE, kt), (CKA_TOKEN, False), (CKA_VERIFY, True)]


def rsa_objects(s, path):
    der = run("openssl", "rsa", "-in", path, "-traditional", "-outform", "DER")
    ints = [b for _, b in der_children(der_read(der)[1])]
    _, n, e, d, p, q, dp, dq, qi = ints
    strip = [x.lstrip(b"\x00") for x in (n, e, d, p, q, dp, dq, qi)]
    priv = s.createObject(priv_common(CKK_RSA) + [(CKA_DECRYPT, True)] + list(zip(
        [CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
         CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT], strip)))
    pub = s.createObject(pub_common(CKK_RSA) + [(CKA_ENCRYPT, True), (CKA_MODULUS, strip[0]),
                                                (CKA_PUBLIC_EXPONENT, strip[1])])
    return priv, pub


def ec_objects(s, path):
    der = run("openssl", "ec", "-in", path, "-outform", "DER")
    kids = der_children(der_read(der)[1])
    d = kids[1][1]
    point = der_read(kids[3][1])[1][1:]  # [1] { BIT STRING 00 || point }
    priv = s.createObject(priv_common(CKK_EC) + [(CKA_EC_PARAMS, CURVES["P-256"]), (CKA_VALUE, d)])
    pub = s.createObject(pub_common(CKK_EC) + [(CKA_EC_PARAMS, CURVES["P-256"]),
                                               (CKA_EC_POINT, tlv(0x04, point))])
    return priv, pub


def ed_objects(s, path, pubpath):
    p8 = run("openssl", "pkey", "-in", path, "-outform", "DER")
    seed = p8[-32:]
    pub_raw = run("openssl", "pkey", "-pubin", "-in", pubpath, "-outform", "DER")[-32:]
    kt = PyKCS11.CKK_EC_EDWARDS
    priv = s.createObject(priv_common(kt) + [(CKA_EC_PARAMS, ED25519_OID), (CKA_VALUE, seed)])
    pub = s.createObject(pub_common(kt) + [(CKA_EC_PARAMS, ED25519_OID),
                                           (CKA_EC_POINT, tlv(0x04, pub_raw))])
    return priv, pub


def run_pair(s, kind):
    label = {"rsa": "RSA-2048", "ec": "EC P-256", "ed": "Ed25519"}[kind]
    path, pub_pem = openssl_key(kind)
    build = {"rsa": lambda: rsa_objects(s, path), "ec": lambda: ec_objects(s, path),
             "ed": lambda: ed_objects(s, path, pub_pem)}[kind]
    objs = check("import %s: C_CreateObject private + public from openssl components" % label, build)
    if not objs:
        return None
    priv, pub = objs
    data = os.urandom(200)
    sig_file = tmpfile("ossl.sig")
    msg = tmpfile("ossl.msg", data)
    if kind == "rsa":
        mech = Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS)
        token_ok = lambda: ossl_verify_digest(pub_pem, "sha256", data, bytes(s.sign(priv, data, mech)))
        run("openssl", "dgst", "-sha256", "-sign", path, "-out", sig_file, msg)
        ossl_sig = open(sig_file, "rb").read()
    elif kind == "ec":
        mech = Mechanism(PyKCS11.CKM_ECDSA)
        h = hashlib.sha256(data).digest()
        token_ok = lambda: ossl_verify_pkeyutl(pub_pem, h, rs_to_der(bytes(s.sign(priv, h, mech))))
        run("openssl", "pkeyutl", "-sign", "-inkey", path, "-in", tmpfile("h.bin", h), "-out", sig_file)
        ossl_sig = der_to_rs(open(sig_file, "rb").read(), 32)
        data = h
    else:
        mech = Mechanism(PyKCS11.CKM_EDDSA)
        token_ok = lambda: ossl_verify_pkeyutl(pub_pem, data, bytes(s.sign(priv, data, mech)), rawin=True)
        run("openssl", "pkeyutl", "-sign", "-rawin", "-inkey", path, "-in", msg, "-out", sig_file)
        ossl_sig = open(sig_file, "rb").read()
    check("import %s: imported private key signs, openssl verifies" % label, token_ok)
    check("import %s: imported public key verifies openssl's signature" % label,
          lambda: s.verify(pub, data, ossl_sig, mech))
    return priv, path, pub_pem


def import_kek(s, kek):
    return s.createObject([(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_AES), (CKA_TOKEN, False),
                           (CKA_VALUE, kek), (CKA_WRAP, True), (CKA_UNWRAP, True)])


def run_pkcs8_wrap(s, kind, priv, path, pub_pem):
    kek = os.urandom(32)
    k = check("PKCS#8 wrap: import AES-256 KEK", lambda: import_kek(s, kek))
    if not k:
        return
    for mname in ("CKM_AES_KEY_WRAP_KWP", "CKM_AES_KEY_WRAP_PAD"):
        mech = Mechanism(getattr(PyKCS11, mname))
        wrapped = check("PKCS#8 wrap: C_WrapKey %s private key under %s" % (kind, mname),
                        lambda mech=mech: bytes(s.wrapKey(k, priv, mech)))
        if not wrapped:
            continue

        def ossl_unwrap(wrapped=wrapped):
            p8 = run("openssl", "enc", "-d", "-id-aes256-wrap-pad", "-K", kek.hex(), "-iv", KWP_IV,
                     "-in", tmpfile("wrapped.bin", wrapped))
            pub = run("openssl", "pkey", "-inform", "DER", "-in", tmpfile("p8.der", p8), "-pubout")
            return pub == open(pub_pem, "rb").read()
        check("PKCS#8 wrap: openssl unwraps (RFC 5649) a PKCS#8 of the same %s key" % kind, ossl_unwrap)

        def unwrap(mech=mech, wrapped=wrapped):
            kt = {"RSA-2048": CKK_RSA, "EC P-256": CKK_EC}[kind]
            t = [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, kt), (CKA_TOKEN, False),
                 (CKA_PRIVATE, True), (CKA_SIGN, True), (CKA_SENSITIVE, True)]
            u = s.unwrapKey(k, wrapped, t, mech)
            data = os.urandom(64)
            if kt == CKK_RSA:
                sig = bytes(s.sign(u, data, Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS)))
                return ossl_verify_digest(pub_pem, "sha256", data, sig)
            h = hashlib.sha256(data).digest()
            sig = bytes(s.sign(u, h, Mechanism(PyKCS11.CKM_ECDSA)))
            return ossl_verify_pkeyutl(pub_pem, h, rs_to_der(sig))
        check("PKCS#8 wrap: C_UnwrapKey %s (%s) signs, openssl verifies" % (kind, mname), unwrap)


def run_family(ctx):
    s = ctx.s
    rsa = run_pair(s, "rsa")
    ec = run_pair(s, "ec")
    run_pair(s, "ed")
    if rsa:
        run_pkcs8_wrap(s, "RSA-2048", *rsa)
    if ec:
        run_pkcs8_wrap(s, "EC P-256", *ec)
