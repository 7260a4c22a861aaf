#!/usr/bin/python3
"""craton-hsm-client: a small gRPC client for craton-hsmd (docs/daemon.md).

Usable from the command line by operators and as a library by the tests:

    from craton_hsm_client import HsmClient
    c = HsmClient("127.0.0.1:5696", ca="ca.crt", cert="client.crt", key="client.key")
    s = c.open_session(rw=True); c.login(s, "user", "1234")

The generated stubs (craton_hsm_pb2*.py) are looked up beside this file, then
in $CRATON_HSM_CLIENT_STUBS.
"""
import argparse
import binascii
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for _p in (os.environ.get("CRATON_HSM_CLIENT_STUBS"), _here):
    if _p and _p not in sys.path:
        sys.path.insert(0, _p)

import grpc  # noqa: E402  (python3-grpcio)
import craton_hsm_pb2 as pb  # noqa: E402
import craton_hsm_pb2_grpc as pbg  # noqa: E402

# PKCS#11 numbers the client needs to build templates (the daemon resolves
# mechanism names itself).
CKA = dict(CLASS=0x0, TOKEN=0x1, PRIVATE=0x2, LABEL=0x3, VALUE=0x11, KEY_TYPE=0x100, ID=0x102,
           SENSITIVE=0x103, ENCRYPT=0x104, DECRYPT=0x105, WRAP=0x106, UNWRAP=0x107, SIGN=0x108,
           VERIFY=0x10A, DERIVE=0x10C, MODULUS_BITS=0x121, PUBLIC_EXPONENT=0x122, VALUE_LEN=0x161,
           EXTRACTABLE=0x162, EC_PARAMS=0x180, EC_POINT=0x181)
CKO = dict(DATA=0, CERTIFICATE=1, PUBLIC_KEY=2, PRIVATE_KEY=3, SECRET_KEY=4)
CKK = dict(RSA=0x0, EC=0x3, AES=0x1F)
CKF_TOKEN_INITIALIZED = 0x400
CKF_USER_PIN_INITIALIZED = 0x8
CURVES = {  # DER OIDs for CKA_EC_PARAMS
    "P-256": bytes.fromhex("06082a8648ce3d030107"),
    "P-384": bytes.fromhex("06052b81040022"),
    "P-521": bytes.fromhex("06052b81040023"),
}
USER_TYPES = {"so": pb.USER_TYPE_SO, "user": pb.USER_TYPE_USER, "context": pb.USER_TYPE_CONTEXT_SPECIFIC}


def attr(name_or_type, value):
    """One Attribute; the Python type of value picks the oneof."""
    t = CKA[name_or_type] if isinstance(name_or_type, str) else name_or_type
    a = pb.Attribute(type=t)
    if isinstance(value, bool):
        a.bool_value = value
    elif isinstance(value, int):
        a.ulong_value = value
    elif isinstance(value, str):
        a.string_value = value
    elif value is None:
        pass
    else:
        a.bytes_value = bytes(value)
    return a


def mech(name, iv=None, gcm=None, pss=None, oaep=None):
    m = pb.Mechanism(name=name) if isinstance(name, str) else pb.Mechanism(type=name)
    if iv is not None:
        m.iv = iv
    if gcm is not None:
        m.gcm.CopyFrom(pb.GcmParams(**gcm))
    if pss is not None:
        m.pss.CopyFrom(pb.PssParams(**pss))
    if oaep is not None:
        m.oaep.CopyFrom(pb.OaepParams(**oaep))
    return m


def _read(path):
    with open(path, "rb") as f:
        return f.read()


TOKEN_METADATA = "x-craton-client"


class HsmClient:
    """One channel to craton-hsmd. ca alone: TLS; ca+cert+key: mutual TLS; none: plaintext (loopback).

    Without a client certificate the daemon ties sessions and login to this
    connection plus the token OpenSession returns; the client keeps that token
    (self.token) and sends it as "x-craton-client" metadata with every call.
    """

    def __init__(self, target, ca=None, cert=None, key=None, server_name=None, timeout=30.0, options=()):
        self.timeout = timeout
        self.token = None
        if ca:
            creds = grpc.ssl_channel_credentials(
                root_certificates=_read(ca),
                private_key=_read(key) if key else None,
                certificate_chain=_read(cert) if cert else None)
            opts = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            self.channel = grpc.secure_channel(target, creds, options=opts + list(options))
        else:
            self.channel = grpc.insecure_channel(target, options=list(options))
        self.stub = pbg.HsmServiceStub(self.channel)

    def close(self):
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, method, request):
        md = ((TOKEN_METADATA, self.token),) if self.token else None
        return getattr(self.stub, method)(request, timeout=self.timeout, metadata=md)

    # ---- thin helpers ----
    def health(self):
        return self.call("HealthCheck", pb.HealthCheckRequest())

    def token_info(self, slot=0):
        return self.call("GetTokenInfo", pb.GetTokenInfoRequest(slot_id=slot))

    def open_session(self, slot=0, rw=True):
        r = self.call("OpenSession", pb.OpenSessionRequest(slot_id=slot, read_write=rw))
        if r.client_token:
            self.token = r.client_token
        return r.session

    def close_session(self, session):
        self.call("CloseSession", pb.CloseSessionRequest(session=session))

    def login(self, session, user, pin):
        pin = pin.encode() if isinstance(pin, str) else pin
        self.call("Login", pb.LoginRequest(session=session, user_type=USER_TYPES[user], pin=pin))

    def logout(self, session):
        self.call("Logout", pb.LogoutRequest(session=session))

    def init_token(self, so_pin, label, slot=0):
        self.call("InitToken", pb.InitTokenRequest(slot_id=slot, so_pin=so_pin.encode(), label=label))

    def init_pin(self, session, pin):
        self.call("InitPin", pb.InitPinRequest(session=session, pin=pin.encode()))

    def generate_aes(self, session, bits=256, label="", token=True, extra=()):
        tmpl = [attr("CLASS", CKO["SECRET_KEY"]), attr("KEY_TYPE", CKK["AES"]), attr("VALUE_LEN", bits // 8),
                attr("TOKEN", token), attr("ENCRYPT", True), attr("DECRYPT", True), attr("SENSITIVE", True),
                attr("EXTRACTABLE", False)] + list(extra)
        if label:
            tmpl.append(attr("LABEL", label))
        r = self.call("GenerateKey", pb.GenerateKeyRequest(session=session, mechanism=mech("CKM_AES_KEY_GEN"),
                                                           template=tmpl))
        return r.handle

    def generate_ec(self, session, curve="P-256", label="", token=True):
        pub = [attr("EC_PARAMS", CURVES[curve]), attr("VERIFY", True), attr("TOKEN", token)]
        priv = [attr("SIGN", True), attr("SENSITIVE", True), attr("PRIVATE", True), attr("TOKEN", token)]
        if label:
            pub.append(attr("LABEL", label))
            priv.append(attr("LABEL", label))
        r = self.call("GenerateKeyPair", pb.GenerateKeyPairRequest(
            session=session, mechanism=mech("CKM_EC_KEY_PAIR_GEN"), public_template=pub, private_template=priv))
        return r.public_handle, r.private_handle

    def generate_rsa(self, session, bits=2048, label="", token=True):
        pub = [attr("MODULUS_BITS", bits), attr("PUBLIC_EXPONENT", b"\x01\x00\x01"), attr("VERIFY", True),
               attr("ENCRYPT", True), attr("TOKEN", token)]
        priv = [attr("SIGN", True), attr("DECRYPT", True), attr("SENSITIVE", True), attr("PRIVATE", True),
                attr("TOKEN", token)]
        if label:
            pub.append(attr("LABEL", label))
            priv.append(attr("LABEL", label))
        r = self.call("GenerateKeyPair", pb.GenerateKeyPairRequest(
            session=session, mechanism=mech("CKM_RSA_PKCS_KEY_PAIR_GEN"), public_template=pub,
            private_template=priv))
        return r.public_handle, r.private_handle

    def sign(self, session, key, mechanism, data):
        return self.call("Sign", pb.SignRequest(session=session, key=key, mechanism=mechanism, data=data)).signature

    def verify(self, session, key, mechanism, data, signature):
        return self.call("Verify", pb.VerifyRequest(session=session, key=key, mechanism=mechanism, data=data,
                                                    signature=signature)).valid

    def encrypt(self, session, key, mechanism, data):
        return self.call("Encrypt", pb.EncryptRequest(session=session, key=key, mechanism=mechanism, data=data)).data

    def decrypt(self, session, key, mechanism, data):
        return self.call("Decrypt", pb.DecryptRequest(session=session, key=key, mechanism=mechanism, data=data)).data

    def find(self, session, template=(), max_objects=0):
        return list(self.call("FindObjects", pb.FindObjectsRequest(session=session, template=list(template),
                                                                   max_objects=max_objects)).handles)

    def destroy(self, session, handle):
        self.call("DestroyObject", pb.DestroyObjectRequest(session=session, handle=handle))

    def get_attributes(self, session, handle, names):
        types = [CKA[n] if isinstance(n, str) else n for n in names]
        r = self.call("GetAttributeValue", pb.GetAttributeValueRequest(session=session, handle=handle, types=types))
        return r.values

    def random(self, session, length):
        return self.call("GenerateRandom", pb.GenerateRandomRequest(session=session, length=length)).data

    def audit_head(self):
        return self.call("AuditHead", pb.AuditHeadRequest())

    def backup(self, so_pin, slot=0):
        return self.call("Backup", pb.BackupRequest(slot_id=slot, so_pin=so_pin.encode())).archive


# ---------------------------------------------------------------- command line

def _pin(args, which="pin"):
    v = getattr(args, which, None)
    if v:
        return v
    env = "CRATON_HSM_SO_PIN" if which == "so_pin" else "CRATON_HSM_PIN"
    if os.environ.get(env):
        return os.environ[env]
    sys.exit("craton-hsm-client: --%s or $%s is required" % (which.replace("_", "-"), env))


class _Session:
    """--session H reuses a session (mutual TLS keeps it for this identity); otherwise open, log in, close."""

    def __init__(self, client, args, need_login=True):
        self.c, self.args, self.need_login, self.own = client, args, need_login, False

    def __enter__(self):
        if getattr(self.args, "session", None):
            return self.args.session
        self.s = self.c.open_session(self.args.slot, rw=True)
        self.own = True
        if self.need_login:
            self.c.login(self.s, "user", _pin(self.args))
        return self.s

    def __exit__(self, *exc):
        if self.own:
            try:
                self.c.close_session(self.s)
            except grpc.RpcError:
                pass


def _data(args):
    if args.hex is not None:
        return binascii.unhexlify(args.hex)
    if args.input:
        return _read(args.input)
    return sys.stdin.buffer.read()


def _emit(args, blob):
    if getattr(args, "output", None):
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
    else:
        print(blob.hex())


def _mech_from_args(args):
    gcm = None
    if getattr(args, "iv", None) is not None and "GCM" in args.mechanism:
        gcm = dict(iv=binascii.unhexlify(args.iv), aad=binascii.unhexlify(args.aad or ""), tag_bits=128)
        return mech(args.mechanism, gcm=gcm)
    if getattr(args, "iv", None) is not None:
        return mech(args.mechanism, iv=binascii.unhexlify(args.iv))
    return mech(args.mechanism)


def _resolve_key(c, s, args):
    if args.key:
        return args.key
    t = [attr("LABEL", args.label)]
    if getattr(args, "key_class", None):
        t.append(attr("CLASS", CKO[args.key_class]))
    found = c.find(s, t)
    if len(found) != 1:
        sys.exit("craton-hsm-client: label %r matches %d objects; pass --key HANDLE" % (args.label, len(found)))
    return found[0]


def cmd_token_info(c, a):
    t = c.token_info(a.slot)
    print("label: %s\nserial: %s\nmanufacturer: %s\nmodel: %s\nflags: 0x%x\ninitialized: %s\nuser_pin_initialized: %s"
          "\nsessions: %d/%d" % (t.label, t.serial_number, t.manufacturer_id, t.model, t.flags,
                                 bool(t.flags & CKF_TOKEN_INITIALIZED), bool(t.flags & CKF_USER_PIN_INITIALIZED),
                                 t.session_count, t.max_session_count))


def cmd_health(c, a):
    h = c.health()
    print("status: %s\nselftests_passed: %s (%d run)\nstore: %s%s (format %d, lock held: %s)\naudit: seq %d head %s"
          "\nuptime: %ds\nversion: %s" % (pb.HealthCheckResponse.ServingStatus.Name(h.status), h.selftests_passed,
                                          h.selftests_run, h.store_path, " (volatile)" if h.store_volatile else "",
                                          h.store_format_version, h.store_lock_held, h.audit_seq, h.audit_head,
                                          h.uptime_seconds, h.version))
    return 0 if h.status == pb.HealthCheckResponse.SERVING else 1


def cmd_audit_head(c, a):
    h = c.audit_head()
    print("seq: %d\nhash: %s" % (h.seq, h.hash))


def cmd_login(c, a):
    s = c.open_session(a.slot, rw=True)
    c.login(s, a.user, _pin(a, "so_pin" if a.user == "so" else "pin"))
    print(s)


def cmd_init_token(c, a):
    c.init_token(_pin(a, "so_pin"), a.token_label, a.slot)
    s = c.open_session(a.slot, rw=True)
    try:
        c.login(s, "so", _pin(a, "so_pin"))
        c.init_pin(s, _pin(a))
        c.logout(s)
    finally:
        c.close_session(s)
    print("token initialised")


def cmd_generate(c, a):
    with _Session(c, a) as s:
        if a.type == "aes":
            print("secret %d" % c.generate_aes(s, a.bits or 256, a.label or ""))
        elif a.type == "ec":
            pub, priv = c.generate_ec(s, a.curve, a.label or "")
            print("public %d\nprivate %d" % (pub, priv))
        else:
            pub, priv = c.generate_rsa(s, a.bits or 2048, a.label or "")
            print("public %d\nprivate %d" % (pub, priv))


def cmd_sign(c, a):
    with _Session(c, a) as s:
        a.key_class = a.key_class or "PRIVATE_KEY"
        _emit(a, c.sign(s, _resolve_key(c, s, a), _mech_from_args(a), _data(a)))


def cmd_verify(c, a):
    with _Session(c, a) as s:
        a.key_class = a.key_class or "PUBLIC_KEY"
        ok = c.verify(s, _resolve_key(c, s, a), _mech_from_args(a), _data(a), binascii.unhexlify(a.signature))
        print("valid" if ok else "invalid")
        return 0 if ok else 1


def cmd_encrypt(c, a):
    with _Session(c, a) as s:
        _emit(a, c.encrypt(s, _resolve_key(c, s, a), _mech_from_args(a), _data(a)))


def cmd_decrypt(c, a):
    with _Session(c, a) as s:
        _emit(a, c.decrypt(s, _resolve_key(c, s, a), _mech_from_args(a), _data(a)))


def cmd_find(c, a):
    with _Session(c, a) as s:
        t = []
        if a.label:
            t.append(attr("LABEL", a.label))
        if a.key_class:
            t.append(attr("CLASS", CKO[a.key_class]))
        for h in c.find(s, t):
            vals = {v.attribute.type: v for v in c.get_attributes(s, h, ["CLASS", "LABEL"])}
            cls = vals[CKA["CLASS"]].attribute.ulong_value
            lbl = vals[CKA["LABEL"]].attribute.string_value
            print("%d class=%s label=%s" % (h, {v: k for k, v in CKO.items()}.get(cls, cls), lbl))


def cmd_destroy(c, a):
    with _Session(c, a) as s:
        c.destroy(s, a.handle)
        print("destroyed %d" % a.handle)


def cmd_random(c, a):
    with _Session(c, a, need_login=False) as s:
        _emit(a, c.random(s, a.length))


def cmd_backup(c, a):
    _emit(a, c.backup(_pin(a, "so_pin"), a.slot))


def build_parser():
    p = argparse.ArgumentParser(prog="craton-hsm-client", description="Talk to craton-hsmd over gRPC.")
    p.add_argument("--target", default=os.environ.get("CRATON_HSM_TARGET", "127.0.0.1:5696"))
    p.add_argument("--ca", help="CA certificate (PEM) that signed the server certificate; enables TLS")
    p.add_argument("--cert", help="client certificate (PEM) for mutual TLS")
    p.add_argument("--key", dest="client_key", help="client private key (PEM) for mutual TLS")
    p.add_argument("--server-name", help="expected server name when it differs from --target's host")
    p.add_argument("--slot", type=int, default=0)
    p.add_argument("--timeout", type=float, default=30.0)
    sub = p.add_subparsers(dest="cmd", required=True)

    def sp(name, fn, session=True, pin=True):
        q = sub.add_parser(name)
        q.set_defaults(fn=fn)
        if session:
            q.add_argument("--session", type=int, help="reuse an open session (see login)")
        if pin:
            q.add_argument("--pin", help="user PIN (or $CRATON_HSM_PIN)")
        return q

    sp("token-info", cmd_token_info, session=False, pin=False)
    sp("health", cmd_health, session=False, pin=False)
    sp("audit-head", cmd_audit_head, session=False, pin=False)
    q = sp("login", cmd_login, session=False)
    q.add_argument("--user", choices=["user", "so"], default="user")
    q.add_argument("--so-pin")
    q = sp("init-token", cmd_init_token, session=False)
    q.add_argument("--so-pin")
    q.add_argument("--token-label", default="Craton HSM")
    q = sp("generate", cmd_generate)
    q.add_argument("--type", choices=["ec", "rsa", "aes"], required=True)
    q.add_argument("--curve", default="P-256", choices=sorted(CURVES))
    q.add_argument("--bits", type=int)
    q.add_argument("--label")
    for name, fn in (("sign", cmd_sign), ("verify", cmd_verify), ("encrypt", cmd_encrypt), ("decrypt", cmd_decrypt)):
        q = sp(name, fn)
        g = q.add_mutually_exclusive_group(required=True)
        g.add_argument("--key-handle", dest="key", type=int)
        g.add_argument("--label")
        q.add_argument("--key-class", choices=sorted(CKO))
        q.add_argument("--mechanism", required=True, help="e.g. CKM_ECDSA_SHA256, CKM_AES_GCM")
        q.add_argument("--iv", help="hex IV (GCM: nonce)")
        q.add_argument("--aad", help="hex additional data (GCM)")
        q.add_argument("--in", dest="input")
        q.add_argument("--hex", help="input as hex instead of --in/stdin")
        if name == "verify":
            q.add_argument("--signature", required=True, help="hex signature")
        else:
            q.add_argument("--out", dest="output")
    q = sp("find", cmd_find)
    q.add_argument("--label")
    q.add_argument("--key-class", choices=sorted(CKO))
    q = sp("destroy", cmd_destroy)
    q.add_argument("--handle", type=int, required=True)
    q = sp("random", cmd_random, pin=False)
    q.add_argument("--length", type=int, default=32)
    q.add_argument("--out", dest="output")
    q = sp("backup", cmd_backup, session=False, pin=False)
    q.add_argument("--so-pin")
    q.add_argument("--output", required=True)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if (args.cert or args.client_key) and not (args.cert and args.client_key and args.ca):
        sys.exit("craton-hsm-client: --cert and --key go together and need --ca")
    client = HsmClient(args.target, args.ca, args.cert, args.client_key, args.server_name, args.timeout)
    try:
        rc = args.fn(client, args)
    except grpc.RpcError as e:
        print("craton-hsm-client: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        return 1
    finally:
        client.close()
    return rc or 0


if __name__ == "__main__":
    sys.exit(main())
