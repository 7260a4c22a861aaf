"""RSA family: keygen 2048, PKCS#1 v1.5 (raw + SHA*), PSS (raw + SHA*),
OAEP (SHA-1/SHA-256, both directions), RSA_X_509; every signature is
verified by openssl against the exported public key."""
import hashlib
import os

import PyKCS11
from PyKCS11 import (CKA_CLASS, CKA_DECRYPT, CKA_ENCRYPT, CKA_KEY_TYPE, CKA_LABEL,
                     CKA_MODULUS, CKA_MODULUS_BITS, CKA_PRIVATE, CKA_PUBLIC_EXPONENT,
                     CKA_SENSITIVE, CKA_SIGN, CKA_TOKEN, CKA_VERIFY, CKK_RSA,
                     CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, Mechanism)

from common import (OID_RSA, check, der_uint, ossl_verify_digest, ossl_verify_pkeyutl,
                    pem_from_spki, run, spki, tlv, tmpfile)

DIGESTINFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")
HASH_CKM = {"sha1": PyKCS11.CKM_SHA_1, "sha224": PyKCS11.CKM_SHA224, "sha256": PyKCS11.CKM_SHA256,
            "sha384": PyKCS11.CKM_SHA384, "sha512": PyKCS11.CKM_SHA512}
MGF = {"sha1": PyKCS11.CKG_MGF1_SHA1, "sha224": PyKCS11.CKG_MGF1_SHA224,
       "sha256": PyKCS11.CKG_MGF1_SHA256, "sha384": PyKCS11.CKG_MGF1_SHA384,
       "sha512": PyKCS11.CKG_MGF1_SHA512}
HLEN = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


def rsa_pub_pem(s, pub, name):
    n, e = s.getAttributeValue(pub, [CKA_MODULUS, CKA_PUBLIC_EXPONENT], allAsBinary=True)
    key = tlv(0x30, der_uint(bytes(n)) + der_uint(bytes(e)))
    return pem_from_spki(spki(OID_RSA + b"\x05\x00", key), name)


def keygen(s, bits=2048):
    pub_t = [(CKA_CLASS, CKO_PUBLIC_KEY), (CKA_KEY_TYPE, CKK_RSA), (CKA_TOKEN, False),
             (CKA_MODULUS_BITS, bits), (CKA_PUBLIC_EXPONENT, b"\x01\x00\x01"),
             (CKA_VERIFY, True), (CKA_ENCRYPT, True), (CKA_LABEL, "py-rsa")]
    priv_t = [(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_KEY_TYPE, CKK_RSA), (CKA_TOKEN, False),
              (CKA_PRIVATE, True), (CKA_SENSITIVE, True), (CKA_SIGN, True), (CKA_DECRYPT, True),
              (CKA_LABEL, "py-rsa")]
    return s.generateKeyPair(pub_t, priv_t, mecha=Mechanism(PyKCS11.CKM_RSA_PKCS_KEY_PAIR_GEN))


def run_family(ctx):
    s = ctx.s
    kp = check("RSA: C_GenerateKeyPair 2048 (e=65537)", lambda: keygen(s))
    if not kp:
        return
    pub, priv = kp
    pem = check("RSA: public key exported (CKA_MODULUS/CKA_PUBLIC_EXPONENT) -> SPKI",
                lambda: rsa_pub_pem(s, pub, "rsa"))
    if not pem:
        return
    check("RSA: exported modulus is 2048 bits",
          lambda: b"Public-Key: (2048 bit)" in run("openssl", "pkey", "-pubin", "-in", pem,
                                                   "-text", "-noout"))
    data = os.urandom(777)
    h = hashlib.sha256(data).digest()

    def pkcs_raw():
        sig = bytes(s.sign(priv, DIGESTINFO_SHA256 + h, Mechanism(PyKCS11.CKM_RSA_PKCS)))
        return ossl_verify_pkeyutl(pem, h, sig, ["digest:sha256"]) and \
            s.verify(pub, DIGESTINFO_SHA256 + h, sig, Mechanism(PyKCS11.CKM_RSA_PKCS))
    check("RSA: CKM_RSA_PKCS sign, openssl + token verify", pkcs_raw)

    for md in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        mech = getattr(PyKCS11, "CKM_%s_RSA_PKCS" % md.upper())

        def pkcs_hash(md=md, mech=mech):
            sig = bytes(s.sign(priv, data, Mechanism(mech)))
            return ossl_verify_digest(pem, md, data, sig) and s.verify(pub, data, sig, Mechanism(mech))
        check("RSA: CKM_%s_RSA_PKCS sign, openssl + token verify" % md.upper(), pkcs_hash)

    def pss_raw():
        m = PyKCS11.RSA_PSS_Mechanism(PyKCS11.CKM_RSA_PKCS_PSS, PyKCS11.CKM_SHA256,
                                      PyKCS11.CKG_MGF1_SHA256, 32)
        sig = bytes(s.sign(priv, h, m))
        return ossl_verify_pkeyutl(pem, h, sig, ["digest:sha256", "rsa_padding_mode:pss",
                                                 "rsa_pss_saltlen:32"]) and s.verify(pub, h, sig, m)
    check("RSA: CKM_RSA_PKCS_PSS (SHA-256, salt 32) sign, openssl + token verify", pss_raw)

    for md in ("sha256", "sha384", "sha512"):
        def pss_hash(md=md):
            m = PyKCS11.RSA_PSS_Mechanism(getattr(PyKCS11, "CKM_%s_RSA_PKCS_PSS" % md.upper()),
                                          HASH_CKM[md], MGF[md], HLEN[md])
            sig = bytes(s.sign(priv, data, m))
            return ossl_verify_digest(pem, md, data, sig, [
                "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:%d" % HLEN[md],
                "-sigopt", "rsa_mgf1_md:%s" % md]) and s.verify(pub, data, sig, m)
        check("RSA: CKM_%s_RSA_PKCS_PSS sign, openssl + token verify" % md.upper(), pss_hash)

    def bad_sig_rejected():
        sig = bytearray(s.sign(priv, data, Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS)))
        sig[5] ^= 0x40
        return s.verify(pub, data, bytes(sig), Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS)) is False
    check("RSA: token verify rejects a corrupted signature", bad_sig_rejected)

    secret = os.urandom(40)
    for md in ("sha1", "sha256"):
        m = PyKCS11.RSAOAEPMechanism(HASH_CKM[md], MGF[md])

        def oaep_from_openssl(md=md, m=m):
            ct = run("openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", pem,
                     "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:" + md,
                     "-pkeyopt", "rsa_mgf1_md:" + md, "-in", tmpfile("oaep.in", secret))
            return bytes(s.decrypt(priv, ct, m)) == secret
        check("RSA: CKM_RSA_PKCS_OAEP (%s) decrypts openssl ciphertext" % md.upper(), oaep_from_openssl)

        def oaep_roundtrip(m=m):
            ct = bytes(s.encrypt(pub, secret, m))
            return len(ct) == 256 and bytes(s.decrypt(priv, ct, m)) == secret
        check("RSA: CKM_RSA_PKCS_OAEP (%s) token encrypt -> decrypt" % md.upper(), oaep_roundtrip)

    def pkcs1_enc():
        ct = run("openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", pem,
                 "-pkeyopt", "rsa_padding_mode:pkcs1", "-in", tmpfile("p1.in", secret))
        return bytes(s.decrypt(priv, ct, Mechanism(PyKCS11.CKM_RSA_PKCS))) == secret
    check("RSA: CKM_RSA_PKCS decrypts openssl ciphertext", pkcs1_enc)

    def x509_raw():
        block = b"\x00\x01" + os.urandom(254)
        sig = bytes(s.sign(priv, block, Mechanism(PyKCS11.CKM_RSA_X_509)))
        rec = run("openssl", "pkeyutl", "-verifyrecover", "-pubin", "-inkey", pem,
                  "-pkeyopt", "rsa_padding_mode:none", "-in", tmpfile("x509.sig", sig))
        return rec == block
    check("RSA: CKM_RSA_X_509 raw sign, openssl -verifyrecover returns the block", x509_raw)

    def x509_dec():
        block = b"\x00" + os.urandom(255)
        ct = run("openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", pem,
                 "-pkeyopt", "rsa_padding_mode:none", "-in", tmpfile("x509.in", block))
        out = bytes(s.decrypt(priv, ct, Mechanism(PyKCS11.CKM_RSA_X_509)))
        return out.rjust(256, b"\x00") == block
    check("RSA: CKM_RSA_X_509 decrypts openssl raw ciphertext", x509_dec)
