"""EC and Edwards families: P-256/384/521 keygen, CKM_ECDSA and
CKM_ECDSA_SHA*, CKM_ECDH1_DERIVE (null and SHA-256 KDF); Ed25519 (by OID
and by curve name) and Ed448 keygen with CKM_EDDSA. Signatures verify in
openssl; the ECDH secret equals openssl's (and X9.63-KDF of it)."""
import hashlib
import os

import PyKCS11
from PyKCS11 import (CKA_CLASS, CKA_DERIVE, CKA_EC_PARAMS, CKA_EC_POINT, CKA_EXTRACTABLE,
                     CKA_KEY_TYPE, CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN, CKA_TOKEN, CKA_VALUE,
                     CKA_VALUE_LEN, CKA_VERIFY, CKK_EC, CKK_GENERIC_SECRET, CKO_PRIVATE_KEY,
                     CKO_PUBLIC_KEY, CKO_SECRET_KEY, Mechanism)

from common import (CURVES, ED25519_NAME, ED25519_OID, ED448_OID, OID_EC, check, der_read,
                    ossl_verify_digest, ossl_verify_pkeyutl, pem_from_spki, rs_to_der, run,
                    spki, tmpfile, unwrap_octet)

CKK_EC_EDWARDS = PyKCS11.CKK_EC_EDWARDS
COORD = {"P-256": 32, "P-384": 48, "P-521": 66}
CURVE_MD = {"P-256": "sha256", "P-384": "sha384", "P-521": "sha512"}


def keygen(s, params, edwards=False, derive=False):
    kt = CKK_EC_EDWARDS if edwards else CKK_EC
    mech = PyKCS11.CKM_EC_EDWARDS_KEY_PAIR_GEN if edwards else PyKCS11.CKM_EC_KEY_PAIR_GEN
    pub_t = [(CKA_CLASS, CKO_PUBLIC_KEY), (CKA_KEY_TYPE, kt), (CKA_TOKEN, False),
             (CKA_EC_PARAMS, params), (CKA_VERIFY, True)]
    priv_t = [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, kt), (CKA_TOKEN, False),
              (CKA_PRIVATE, True), (CKA_SENSITIVE, True), (CKA_SIGN, True)]
    if derive:
        priv_t.append((CKA_DERIVE, True))
    return s.generateKeyPair(pub_t, priv_t, mecha=Mechanism(mech))


def ec_point(s, pub, expect_len):
    pt = bytes(s.getAttributeValue(pub, [CKA_EC_POINT], allAsBinary=True)[0])
    return unwrap_octet(pt, expect_len)


def ec_pub_pem(s, pub, curve, name):
    pt = ec_point(s, pub, 1 + 2 * COORD[curve])
    if len(pt) != 1 + 2 * COORD[curve] or pt[0] != 4:
        raise ValueError("CKA_EC_POINT is not an uncompressed %s point: %s" % (curve, pt.hex()))
    return pem_from_spki(spki(OID_EC + CURVES[curve], pt), name)


def ed_pub_pem(s, pub, oid, size, name):
    pt = ec_point(s, pub, size)
    if len(pt) != size:
        raise ValueError("CKA_EC_POINT is not a %d-byte Edwards key: %s" % (size, pt.hex()))
    return pem_from_spki(spki(oid, pt), name)


def run_ecdsa(s, curve):
    kp = check("EC %s: C_GenerateKeyPair (CKA_EC_PARAMS by OID)" % curve,
               lambda: keygen(s, CURVES[curve], derive=True))
    if not kp:
        return None
    pub, priv = kp
    pem = check("EC %s: CKA_EC_POINT exported -> SPKI" % curve,
                lambda: ec_pub_pem(s, pub, curve, "ec-" + curve))
    if not pem:
        return None
    data = os.urandom(500)
    md = CURVE_MD[curve]
    h = hashlib.new(md, data).digest()

    def ecdsa_raw():
        sig = bytes(s.sign(priv, h, Mechanism(PyKCS11.CKM_ECDSA)))
        return len(sig) == 2 * COORD[curve] and ossl_verify_pkeyutl(pem, h, rs_to_der(sig)) \
            and s.verify(pub, h, sig, Mechanism(PyKCS11.CKM_ECDSA))
    check("EC %s: CKM_ECDSA (%s prehash) sign, openssl + token verify" % (curve, md), ecdsa_raw)

    mds = ("sha1", "sha224", "sha256", "sha384", "sha512") if curve == "P-256" else (md,)
    for m in mds:
        def ecdsa_hash(m=m):
            mech = Mechanism(getattr(PyKCS11, "CKM_ECDSA_%s" % m.upper()))
            sig = bytes(s.sign(priv, data, mech))
            return ossl_verify_digest(pem, m, data, rs_to_der(sig)) and s.verify(pub, data, sig, mech)
        check("EC %s: CKM_ECDSA_%s sign, openssl + token verify" % (curve, m.upper()), ecdsa_hash)

    def bad():
        sig = bytearray(s.sign(priv, h, Mechanism(PyKCS11.CKM_ECDSA)))
        sig[3] ^= 1
        return s.verify(pub, h, bytes(sig), Mechanism(PyKCS11.CKM_ECDSA)) is False
    check("EC %s: token verify rejects a corrupted signature" % curve, bad)
    return priv, pem


def derive_template():
    return [(CKA_CLASS, CKO_SECRET_KEY), (CKA_KEY_TYPE, CKK_GENERIC_SECRET), (CKA_TOKEN, False),
            (CKA_VALUE_LEN, 32), (CKA_SENSITIVE, False), (CKA_EXTRACTABLE, True)]


def run_ecdh(s, priv, pem):
    peer = tmpfile("peer.pem")
    run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", peer)
    peer_spki = run("openssl", "pkey", "-in", peer, "-pubout", "-outform", "DER")
    _, body, _ = der_read(peer_spki)
    _, bits, _ = der_read(body, der_read(body)[2])
    peer_point = bits[1:]
    z = run("openssl", "pkeyutl", "-derive", "-inkey", peer, "-peerkey", pem)

    def null_kdf():
        k = s.deriveKey(priv, derive_template(), PyKCS11.ECDH1_DERIVE_Mechanism(peer_point))
        return bytes(s.getAttributeValue(k, [CKA_VALUE], allAsBinary=True)[0]) == z
    check("EC P-256: CKM_ECDH1_DERIVE (CKD_NULL) equals openssl pkeyutl -derive", null_kdf)

    def sha256_kdf():
        k = s.deriveKey(priv, derive_template(),
                        PyKCS11.ECDH1_DERIVE_Mechanism(peer_point, PyKCS11.CKD_SHA256_KDF))
        want = hashlib.sha256(z + b"\x00\x00\x00\x01").digest()  # ANSI X9.63 KDF, no shared info
        return bytes(s.getAttributeValue(k, [CKA_VALUE], allAsBinary=True)[0]) == want
    check("EC P-256: CKM_ECDH1_DERIVE (CKD_SHA256_KDF) equals X9.63-KDF(openssl Z)", sha256_kdf)


def run_eddsa(s, label, params, oid, size):
    kp = check("Edwards %s: C_GenerateKeyPair" % label, lambda: keygen(s, params, edwards=True))
    if not kp:
        return
    pub, priv = kp
    pem = check("Edwards %s: CKA_EC_POINT exported -> SPKI" % label,
                lambda: ed_pub_pem(s, pub, oid, size, "ed-" + label.split()[0]))
    if not pem:
        return
    data = os.urandom(300)

    def eddsa():
        sig = bytes(s.sign(priv, data, Mechanism(PyKCS11.CKM_EDDSA)))
        return len(sig) == 2 * size and ossl_verify_pkeyutl(pem, data, sig, rawin=True) \
            and s.verify(pub, data, sig, Mechanism(PyKCS11.CKM_EDDSA))
    check("Edwards %s: CKM_EDDSA sign, openssl + token verify" % label, eddsa)

    def bad():
        sig = bytearray(s.sign(priv, data, Mechanism(PyKCS11.CKM_EDDSA)))
        sig[0] ^= 1
        return s.verify(pub, data, bytes(sig), Mechanism(PyKCS11.CKM_EDDSA)) is False
    check("Edwards %s: token verify rejects a corrupted signature" % label, bad)


def run_family(ctx):
    s = ctx.s
    first = None
    for curve in ("P-256", "P-384", "P-521"):
        r = run_ecdsa(s, curve)
        if curve == "P-256":
            first = r
    if first:
        run_ecdh(s, *first)
    run_eddsa(s, "Ed25519 (OID params)", ED25519_OID, ED25519_OID, 32)
    run_eddsa(s, "Ed25519 (curve-name params)", ED25519_NAME, ED25519_OID, 32)
    run_eddsa(s, "Ed448 (OID params)", ED448_OID, ED448_OID, 57)
