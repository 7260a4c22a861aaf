/*
 * Known-answer tests of the elliptic-curve mechanisms through a PKCS#11
 * module: Wycheproof ECDSA P-256/384/521 P1363 verify (CKM_ECDSA_SHA*),
 * ECDH P-256/384/521 (CKM_ECDH1_DERIVE, CKD_NULL, derived CKA_VALUE compared),
 * Ed25519/Ed448 verify (CKM_EDDSA) and RFC 8032 Ed25519 tests 1-3 signed and
 * compared byte for byte. Usage: kat_ec MODULE.so [VECTOR_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kat_ops.h"

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};

struct curve {
    const char *file;
    const uint8_t *oid;
    size_t oidn, fieldbytes;
    CK_MECHANISM_TYPE mech;
    const char *mech_name;
    CK_MECHANISM_TYPE hash; /* ECDSA: the digest of mech (SoftHSMv2 fallback only) */
};

/*
 * SoftHSMv2 2.6 has no CKM_ECDSA_SHA*: there the harness hashes with the
 * module's C_Digest and verifies with CKM_ECDSA, so the vector handling is
 * still checked against an independent module. Never used for ours.
 */
static CK_RV verify_prehashed(CK_MECHANISM_TYPE hash, CK_OBJECT_HANDLE h, const uint8_t *msg, size_t mn,
                              const uint8_t *sig, size_t sn)
{
    CK_MECHANISM dm = {hash, NULL, 0}, m = {CKM_ECDSA, NULL, 0};
    CK_BYTE dg[64];
    CK_ULONG dl = sizeof dg;
    CK_RV rv = F->C_DigestInit(K.s, &dm);
    if (rv == CKR_OK)
        rv = F->C_Digest(K.s, (CK_BYTE *)msg, (CK_ULONG)mn, dg, &dl);
    return rv != CKR_OK ? rv : op_verify(&m, h, dg, dl, sig, sn);
}

/* ---------------- ECDSA ---------------- */
static void ecdsa_group(struct tally *t, const struct curve *cv, const struct json *grp)
{
    const struct json *pk = json_get(grp, "publicKey"), *tests = json_get(grp, "tests");
    size_t qn;
    uint8_t *q = hexdup(json_str(pk, "uncompressed"), &qn);
    CK_OBJECT_HANDLE h;
    CK_MECHANISM m = {cv->mech, NULL, 0};
    CK_RV rv = kat_ec_pub(CKK_EC, cv->oid, cv->oidn, q, qn, &h);
    bool prehash = K.softhsm && !kat_has_mech(cv->mech);
    free(q);
    if (rv != CKR_OK) {
        tally_fail(t, -1, cv->mech_name, "C_CreateObject(EC public key, group of %zu) -> %s", tests->n, kat_rv(rv));
        return;
    }
    for (size_t i = 0; i < tests->n; i++) {
        const struct json *tc = tests->items[i];
        long id = json_int(tc, "tcId", -1);
        size_t mn, sn;
        uint8_t *msg = hexdup(json_str(tc, "msg"), &mn), *sig = hexdup(json_str(tc, "sig"), &sn);
        const char *res = vres(tc);
        rv = prehash ? verify_prehashed(cv->hash, h, msg, mn, sig, sn) : op_verify(&m, h, msg, mn, sig, sn);
        if (strcmp(res, "invalid") == 0) {
            bool lenbad = sn != 2 * cv->fieldbytes;
            tally_invalid(t, rv == CKR_SIGNATURE_INVALID || (lenbad && rv == CKR_SIGNATURE_LEN_RANGE), id,
                          cv->mech_name, "C_Verify: expected CKR_SIGNATURE_INVALID%s, got %s",
                          lenbad ? " or CKR_SIGNATURE_LEN_RANGE" : "", kat_rv(rv));
        } else if (strcmp(res, "acceptable") == 0) {
            t->acceptable++;
        } else {
            CK_RV rv2 = prehash ? rv : op_verify_mp(&m, h, msg, mn, mn / 2, sig, sn);
            tally_valid(t, rv == CKR_OK && rv2 == CKR_OK, id, cv->mech_name,
                        "C_Verify: expected CKR_OK, got %s; C_VerifyUpdate/Final got %s", kat_rv(rv), kat_rv(rv2));
        }
        free(msg);
        free(sig);
    }
    kat_destroy(h);
}

static void run_ecdsa(const struct curve *cv)
{
    struct tally t = {.file = cv->file};
    struct json *j = kat_load(t.file);
    if (j == NULL)
        return;
    for (size_t g = 0; g < json_get(j, "testGroups")->n; g++)
        ecdsa_group(&t, cv, json_get(j, "testGroups")->items[g]);
    json_free(j);
    tally_done(&t);
}

/* ---------------- ECDH ---------------- */
/* One DER TLV at *p (definite lengths only); false when malformed. */
static bool der_tlv(const uint8_t **p, size_t *n, uint8_t *tag, const uint8_t **v, size_t *vn)
{
    if (*n < 2)
        return false;
    size_t o = 2, len = (*p)[1];
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 3 || *n < 2 + k)
            return false;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | (*p)[2 + i];
        o += k;
    }
    if (*n - o < len)
        return false;
    *tag = (*p)[0];
    *v = *p + o;
    *vn = len;
    *p += o + len;
    *n -= o + len;
    return true;
}

/*
 * The EC point of a SubjectPublicKeyInfo when it names the expected curve by
 * OID; NULL otherwise (explicit or other parameters cannot be said in
 * PKCS#11, so the caller passes the whole DER, which a module must refuse).
 */
static const uint8_t *spki_point(const uint8_t *der, size_t n, const struct curve *cv, size_t *pn)
{
    const uint8_t *p = der, *seq, *alg, *oid, *bits;
    size_t rest = n, sn, an, on, bn;
    uint8_t tag;
    if (!der_tlv(&p, &rest, &tag, &seq, &sn) || tag != 0x30 || rest != 0)
        return NULL;
    if (!der_tlv(&seq, &sn, &tag, &alg, &an) || tag != 0x30)
        return NULL;
    if (!der_tlv(&alg, &an, &tag, &oid, &on) || tag != 0x06)
        return NULL; /* id-ecPublicKey; its value is not checked here */
    const uint8_t *params = alg;
    if (an != cv->oidn || memcmp(params, cv->oid, cv->oidn) != 0)
        return NULL;
    if (!der_tlv(&seq, &sn, &tag, &bits, &bn) || tag != 0x03 || sn != 0 || bn < 1 || bits[0] != 0)
        return NULL;
    *pn = bn - 1;
    return bits + 1;
}

static CK_RV ecdh_derive(CK_OBJECT_HANDLE priv, const uint8_t *pub, size_t pubn, size_t len, uint8_t **out,
                         size_t *on)
{
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, (CK_ULONG)pubn, (CK_BYTE *)pub};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof p};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ULONG vlen = (CK_ULONG)len;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE a[] = {
        {CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_VALUE_LEN, &vlen, sizeof vlen},
        {CKA_TOKEN, &no, 1},           {CKA_SENSITIVE, &no, 1},        {CKA_EXTRACTABLE, &yes, 1},
    };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    *out = NULL;
    *on = 0;
    CK_RV rv = F->C_DeriveKey(K.s, &m, priv, a, sizeof a / sizeof a[0], &h);
    if (rv != CKR_OK)
        return rv;
    rv = op_value(h, out, on);
    kat_destroy(h);
    return rv;
}

static void ecdh_case(struct tally *t, const struct curve *cv, const struct json *tc)
{
    static const char *mech = "CKM_ECDH1_DERIVE";
    long id = json_int(tc, "tcId", -1);
    const char *res = vres(tc);
    size_t pubn, dn, shn, pn = 0, on = 0;
    uint8_t *pub = hexdup(json_str(tc, "public"), &pubn), *d = hexdup(json_str(tc, "private"), &dn);
    uint8_t *shared = hexdup(json_str(tc, "shared"), &shn), *out = NULL;
    const uint8_t *dp = d, *pt = spki_point(pub, pubn, cv, &pn);
    CK_OBJECT_HANDLE h;
    bn_trim(&dp, &dn);
    CK_RV rv = kat_ec_priv(CKK_EC, cv->oid, cv->oidn, dp, dn, &h);
    if (rv != CKR_OK) {
        tally_fail(t, id, mech, "C_CreateObject(EC private key) -> %s", kat_rv(rv));
        goto out;
    }
    if (pt == NULL) {
        pt = pub;
        pn = pubn;
    }
    rv = ecdh_derive(h, pt, pn, cv->fieldbytes, &out, &on);
    if (strcmp(res, "acceptable") == 0) {
        t->acceptable++;
    } else if (strcmp(res, "valid") == 0) {
        char g[80];
        hexstr(g, sizeof g, out, on);
        tally_valid(t, rv == CKR_OK && on == shn && memcmp(out, shared, shn) == 0, id, mech,
                    "C_DeriveKey+CKA_VALUE: expected CKR_OK and %.16s.., got %s and %.16s.. (%zu bytes)",
                    json_str(tc, "shared"), kat_rv(rv), g, on);
    } else {
        tally_invalid(t,
                      rv_in(rv, CKR_MECHANISM_PARAM_INVALID, CKR_PUBLIC_KEY_INVALID, CKR_DOMAIN_PARAMS_INVALID,
                            CKR_ATTRIBUTE_VALUE_INVALID, RV_END),
                      id, mech,
                      "C_DeriveKey with a bad public point (%s): expected CKR_MECHANISM_PARAM_INVALID or "
                      "CKR_PUBLIC_KEY_INVALID, got %s",
                      pt == pub ? "whole SPKI passed" : "point passed", kat_rv(rv));
    }
    kat_destroy(h);
out:
    free(pub), free(d), free(shared), free(out);
}

static void run_ecdh(const struct curve *cv)
{
    struct tally t = {.file = cv->file};
    struct json *j = kat_load(t.file);
    if (j == NULL)
        return;
    for (size_t g = 0; g < json_get(j, "testGroups")->n; g++) {
        const struct json *tests = json_get(json_get(j, "testGroups")->items[g], "tests");
        for (size_t i = 0; i < tests->n; i++)
            ecdh_case(&t, cv, tests->items[i]);
    }
    json_free(j);
    tally_done(&t);
}

/* ---------------- EdDSA ---------------- */
static void eddsa_group(struct tally *t, const struct curve *cv, const struct json *grp)
{
    const struct json *tests = json_get(grp, "tests");
    size_t pkn;
    uint8_t *pk = hexdup(json_str(json_get(grp, "publicKey"), "pk"), &pkn);
    CK_OBJECT_HANDLE h;
    CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
    CK_RV rv = kat_ec_pub(CKK_EC_EDWARDS, cv->oid, cv->oidn, pk, pkn, &h);
    free(pk);
    if (rv != CKR_OK) {
        tally_fail(t, -1, "CKM_EDDSA", "C_CreateObject(Edwards public key, group of %zu) -> %s", tests->n,
                   kat_rv(rv));
        return;
    }
    for (size_t i = 0; i < tests->n; i++) {
        const struct json *tc = tests->items[i];
        long id = json_int(tc, "tcId", -1);
        size_t mn, sn;
        uint8_t *msg = hexdup(json_str(tc, "msg"), &mn), *sig = hexdup(json_str(tc, "sig"), &sn);
        const char *res = vres(tc);
        rv = op_verify(&m, h, msg, mn, sig, sn);
        if (strcmp(res, "invalid") == 0) {
            bool lenbad = sn != 2 * cv->fieldbytes;
            tally_invalid(t, rv == CKR_SIGNATURE_INVALID || (lenbad && rv == CKR_SIGNATURE_LEN_RANGE), id,
                          "CKM_EDDSA", "C_Verify: expected CKR_SIGNATURE_INVALID%s, got %s",
                          lenbad ? " or CKR_SIGNATURE_LEN_RANGE" : "", kat_rv(rv));
        } else if (strcmp(res, "acceptable") == 0) {
            t->acceptable++;
        } else {
            tally_valid(t, rv == CKR_OK, id, "CKM_EDDSA", "C_Verify: expected CKR_OK, got %s", kat_rv(rv));
        }
        free(msg);
        free(sig);
    }
    kat_destroy(h);
}

static void run_eddsa(const struct curve *cv)
{
    struct tally t = {.file = cv->file};
    struct json *j = kat_load(t.file);
    if (j == NULL)
        return;
    for (size_t g = 0; g < json_get(j, "testGroups")->n; g++)
        eddsa_group(&t, cv, json_get(j, "testGroups")->items[g]);
    json_free(j);
    tally_done(&t);
}

/* RFC 8032 section 7.1 TEST 1-3: sign with the imported private key, compare, verify. */
static void run_rfc8032(void)
{
    static const struct {
        const char *sk, *pk, *msg, *sig;
    } v[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
         "655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aee"
         "b00d291612bb0c00"},
        {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28d"
         "c027beceea1ec40a"},
    };
    struct tally t = {.file = "RFC 8032 7.1 Ed25519 TEST 1-3"};
    CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
    for (size_t i = 0; i < 3; i++) {
        size_t skn, pkn, mn, sn, on = 0;
        uint8_t *sk = hexdup(v[i].sk, &skn), *pk = hexdup(v[i].pk, &pkn), *msg = hexdup(v[i].msg, &mn);
        uint8_t *sig = hexdup(v[i].sig, &sn), *out = NULL;
        CK_OBJECT_HANDLE hs = CK_INVALID_HANDLE, hp = CK_INVALID_HANDLE;
        CK_RV rv = kat_ec_priv(CKK_EC_EDWARDS, oid_ed25519, sizeof oid_ed25519, sk, skn, &hs);
        CK_RV rvp = kat_ec_pub(CKK_EC_EDWARDS, oid_ed25519, sizeof oid_ed25519, pk, pkn, &hp);
        CK_RV rvs = CKR_GENERAL_ERROR, rvv = CKR_GENERAL_ERROR;
        if (rv == CKR_OK)
            rvs = op_sign(&m, hs, msg, mn, &out, &on);
        if (rvp == CKR_OK)
            rvv = op_verify(&m, hp, msg, mn, sig, sn);
        char g[140];
        hexstr(g, sizeof g, out, on);
        tally_valid(&t, rv == CKR_OK && rvp == CKR_OK && rvs == CKR_OK && on == sn && memcmp(out, sig, sn) == 0 &&
                            rvv == CKR_OK,
                    (long)i + 1, "CKM_EDDSA",
                    "create priv %s, create pub %s, C_Sign %s (got %s, want %s), C_Verify %s", kat_rv(rv),
                    kat_rv(rvp), kat_rv(rvs), g, v[i].sig, kat_rv(rvv));
        kat_destroy(hs), kat_destroy(hp);
        free(sk), free(pk), free(msg), free(sig), free(out);
    }
    tally_done(&t);
}

int main(int argc, char **argv)
{
    if (!kat_open(argc, argv))
        return kat_finish();
    static const struct curve ecdsa[] = {
        {"ecdsa_secp256r1_sha256_p1363_test.json", oid_p256, sizeof oid_p256, 32, CKM_ECDSA_SHA256,
         "CKM_ECDSA_SHA256", CKM_SHA256},
        {"ecdsa_secp384r1_sha384_p1363_test.json", oid_p384, sizeof oid_p384, 48, CKM_ECDSA_SHA384,
         "CKM_ECDSA_SHA384", CKM_SHA384},
        {"ecdsa_secp521r1_sha512_p1363_test.json", oid_p521, sizeof oid_p521, 66, CKM_ECDSA_SHA512,
         "CKM_ECDSA_SHA512", CKM_SHA512},
    };
    static const struct curve ecdh[] = {
        {"ecdh_secp256r1_test.json", oid_p256, sizeof oid_p256, 32, CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE", 0},
        {"ecdh_secp384r1_test.json", oid_p384, sizeof oid_p384, 48, CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE", 0},
        {"ecdh_secp521r1_test.json", oid_p521, sizeof oid_p521, 66, CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE", 0},
    };
    static const struct curve ed[] = {
        {"ed25519_test.json", oid_ed25519, sizeof oid_ed25519, 32, CKM_EDDSA, "CKM_EDDSA", 0},
        {"ed448_test.json", oid_ed448, sizeof oid_ed448, 57, CKM_EDDSA, "CKM_EDDSA", 0},
    };
    for (int i = 0; i < 3; i++)
        run_ecdsa(&ecdsa[i]);
    for (int i = 0; i < 3; i++)
        run_ecdh(&ecdh[i]);
    for (int i = 0; i < 2; i++)
        run_eddsa(&ed[i]);
    run_rfc8032();
    return kat_finish();
}
