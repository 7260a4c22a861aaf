"""Opens the logged-in session and runs each family of issue 4 in turn.
Each family module exposes run_family(ctx); a family that raises is one FAIL and
the others still run."""
import PyKCS11
from PyKCS11 import CKF_RW_SESSION, CKF_SERIAL_SESSION

import common
import fam_aes
import fam_ec
import fam_hmac
import fam_import
import fam_rsa
from common import result

# Every mechanism issue 4 names, checked with C_GetMechanismInfo so a
# missing table entry is reported by name before the family tests run.
MECHANISMS = [
    "CKM_RSA_PKCS_KEY_PAIR_GEN", "CKM_RSA_PKCS", "CKM_SHA1_RSA_PKCS", "CKM_SHA224_RSA_PKCS",
    "CKM_SHA256_RSA_PKCS", "CKM_SHA384_RSA_PKCS", "CKM_SHA512_RSA_PKCS", "CKM_RSA_PKCS_PSS",
    "CKM_SHA256_RSA_PKCS_PSS", "CKM_SHA384_RSA_PKCS_PSS", "CKM_SHA512_RSA_PKCS_PSS",
    "CKM_RSA_PKCS_OAEP", "CKM_RSA_X_509",
    "CKM_EC_KEY_PAIR_GEN", "CKM_ECDSA", "CKM_ECDSA_SHA1", "CKM_ECDSA_SHA224", "CKM_ECDSA_SHA256",
    "CKM_ECDSA_SHA384", "CKM_ECDSA_SHA512", "CKM_ECDH1_DERIVE",
    "CKM_EC_EDWARDS_KEY_PAIR_GEN", "CKM_EDDSA",
    "CKM_AES_KEY_GEN", "CKM_AES_ECB", "CKM_AES_CBC", "CKM_AES_CBC_PAD", "CKM_AES_CTR",
    "CKM_AES_GCM", "CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_KWP", "CKM_AES_KEY_WRAP_PAD", "CKM_AES_CMAC",
    "CKM_GENERIC_SECRET_KEY_GEN", "CKM_SHA_1_HMAC", "CKM_SHA224_HMAC", "CKM_SHA256_HMAC",
    "CKM_SHA384_HMAC", "CKM_SHA512_HMAC", "CKM_SHA_1_HMAC_GENERAL", "CKM_SHA224_HMAC_GENERAL",
    "CKM_SHA256_HMAC_GENERAL", "CKM_SHA384_HMAC_GENERAL", "CKM_SHA512_HMAC_GENERAL",
]


class Isolating:
    """Session proxy: after any failed call it switches to a fresh session
    (the login is per token, session objects stay alive because the old
    session is never closed), so one failure that legitimately leaves an
    operation active (CKR_BUFFER_TOO_SMALL keeps it, by spec) does not turn
    every later check into CKR_OPERATION_ACTIVE."""

    def __init__(self, ctx):
        self._ctx = ctx
        self._s = ctx.new_session()

    def __getattr__(self, name):
        attr = getattr(self._s, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except PyKCS11.PyKCS11Error:
                self._s = self._ctx.new_session()
                raise
        return call


class Ctx:
    def __init__(self, lib, slot):
        self.lib = lib
        self.slot = slot
        self.s = Isolating(self)

    def new_session(self):
        return self.lib.openSession(self.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION)

    def fresh(self):
        self.s = Isolating(self)
        return self.s


def find_slot(lib):
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.strip() == common.TOKEN_LABEL:
            return slot
    raise RuntimeError("no slot holds token %r" % common.TOKEN_LABEL)


def check_mechanism_list(ctx):
    # PyKCS11 returns names; map them back to codes (aliases share a code).
    listed = {PyKCS11.CKM.get(n, n) for n in ctx.lib.getMechanismList(ctx.slot)}
    for name in MECHANISMS:
        code = getattr(PyKCS11, name)
        ok = code in listed
        why = ""
        if ok:
            try:
                ctx.lib.getMechanismInfo(ctx.slot, PyKCS11.CKM[code])
            except PyKCS11.PyKCS11Error as e:
                ok, why = False, "C_GetMechanismInfo: %s" % e
        else:
            why = "not in C_GetMechanismList"
        result("mechanism %s offered" % name, ok, why)


def run_all(module):
    lib = PyKCS11.PyKCS11Lib()
    lib.load(module)
    slot = find_slot(lib)
    session = lib.openSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION)
    session.login(common.USER_PIN)
    ctx = Ctx(lib, slot)
    check_mechanism_list(ctx)
    for fam in (fam_rsa, fam_ec, fam_aes, fam_hmac, fam_import):
        try:
            ctx.fresh()
            fam.run_family(ctx)
        except Exception as e:  # noqa: BLE001 -- one family must not stop the rest
            result("%s family" % fam.__name__, False, "%s: %s" % (type(e).__name__, e))
    session.logout()
    # Finalize now, while the temp dir (store, audit log) still exists.
    lib.closeAllSessions(slot)
    lib.lib.C_Finalize()
