/*
 * Known-answer tests of the RSA mechanisms through a PKCS#11 module:
 * Wycheproof PKCS#1 v1.5 verify (CKM_SHA{256,384,512}_RSA_PKCS), PSS verify
 * (CKM_SHA256_RSA_PKCS_PSS, MGF1-SHA256, sLen 32), OAEP decrypt
 * (CKM_RSA_PKCS_OAEP with label) and PKCS#1 v1.5 decrypt (CKM_RSA_PKCS) with
 * imported private keys, plus a fixed deterministic PKCS#1 v1.5 signature
 * compared byte for byte. Keys are imported once per group.
 * Usage: kat_rsa MODULE.so [VECTOR_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kat_ops.h"

static size_t modulus_bytes(const struct json *pk)
{
    size_t n;
    uint8_t *m = hexdup(json_str(pk, "modulus"), &n);
    const uint8_t *p = m;
    bn_trim(&p, &n);
    free(m);
    return n;
}

struct sigfile {
    const char *file, *mech_name;
    CK_MECHANISM_TYPE mech;
    bool pss;
};

static void run_verify(const struct sigfile *sf)
{
    struct tally t = {.file = sf->file};
    struct json *j = kat_load(t.file);
    if (j == NULL)
        return;
    for (size_t g = 0; g < json_get(j, "testGroups")->n; g++) {
        const struct json *grp = json_get(j, "testGroups")->items[g], *tests = json_get(grp, "tests");
        const struct json *pk = json_get(grp, "publicKey");
        CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, (CK_ULONG)json_int(grp, "sLen", 32)};
        CK_MECHANISM m = {sf->mech, sf->pss ? &pss : NULL, sf->pss ? sizeof pss : 0};
        CK_OBJECT_HANDLE h;
        CK_RV rv = kat_rsa_pub(pk, &h);
        if (rv != CKR_OK) {
            tally_fail(&t, -1, sf->mech_name, "C_CreateObject(RSA public key, group of %zu) -> %s", tests->n,
                       kat_rv(rv));
            continue;
        }
        size_t modn = modulus_bytes(pk);
        for (size_t i = 0; i < tests->n; i++) {
            const struct json *tc = tests->items[i];
            long id = json_int(tc, "tcId", -1);
            size_t mn, sn;
            uint8_t *msg = hexdup(json_str(tc, "msg"), &mn), *sig = hexdup(json_str(tc, "sig"), &sn);
            const char *res = vres(tc);
            rv = op_verify(&m, h, msg, mn, sig, sn);
            if (strcmp(res, "invalid") == 0) {
                bool lenbad = sn != modn;
                tally_invalid(&t, rv == CKR_SIGNATURE_INVALID || (lenbad && rv == CKR_SIGNATURE_LEN_RANGE), id,
                              sf->mech_name, "C_Verify: expected CKR_SIGNATURE_INVALID%s, got %s",
                              lenbad ? " or CKR_SIGNATURE_LEN_RANGE" : "", kat_rv(rv));
            } else if (strcmp(res, "acceptable") == 0) {
                t.acceptable++;
            } else {
                CK_RV rv2 = op_verify_mp(&m, h, msg, mn, mn / 2, sig, sn);
                tally_valid(&t, rv == CKR_OK && rv2 == CKR_OK, id, sf->mech_name,
                            "C_Verify: expected CKR_OK, got %s; C_VerifyUpdate/Final got %s", kat_rv(rv),
                            kat_rv(rv2));
            }
            free(msg);
            free(sig);
        }
        kat_destroy(h);
    }
    json_free(j);
    tally_done(&t);
}

static CK_MECHANISM_TYPE hash_mech(const char *sha)
{
    if (sha == NULL || strcmp(sha, "SHA-1") == 0)
        return CKM_SHA_1;
    if (strcmp(sha, "SHA-224") == 0)
        return CKM_SHA224;
    if (strcmp(sha, "SHA-256") == 0)
        return CKM_SHA256;
    if (strcmp(sha, "SHA-384") == 0)
        return CKM_SHA384;
    return CKM_SHA512;
}

static CK_RSA_PKCS_MGF_TYPE mgf_of(CK_MECHANISM_TYPE h)
{
    switch (h) {
    case CKM_SHA_1: return CKG_MGF1_SHA1;
    case CKM_SHA224: return CKG_MGF1_SHA224;
    case CKM_SHA256: return CKG_MGF1_SHA256;
    case CKM_SHA384: return CKG_MGF1_SHA384;
    default: return CKG_MGF1_SHA512;
    }
}

static void run_decrypt(const char *file, bool oaep)
{
    const char *mech = oaep ? "CKM_RSA_PKCS_OAEP" : "CKM_RSA_PKCS";
    struct tally t = {.file = file};
    struct json *j = kat_load(t.file);
    if (j == NULL)
        return;
    for (size_t g = 0; g < json_get(j, "testGroups")->n; g++) {
        const struct json *grp = json_get(j, "testGroups")->items[g], *tests = json_get(grp, "tests");
        const struct json *pk = json_get(grp, "privateKey");
        CK_OBJECT_HANDLE h;
        CK_RV rv = kat_rsa_priv(pk, &h);
        if (rv != CKR_OK) {
            tally_fail(&t, -1, mech, "C_CreateObject(RSA private key, group of %zu) -> %s", tests->n, kat_rv(rv));
            continue;
        }
        size_t modn = modulus_bytes(pk);
        CK_MECHANISM_TYPE hm = hash_mech(json_str(grp, "sha"));
        for (size_t i = 0; i < tests->n; i++) {
            const struct json *tc = tests->items[i];
            long id = json_int(tc, "tcId", -1);
            size_t mn, cn, ln = 0, on = 0;
            uint8_t *msg = hexdup(json_str(tc, "msg"), &mn), *ct = hexdup(json_str(tc, "ct"), &cn), *out = NULL;
            uint8_t *label = hexdup(json_str(tc, "label") ? json_str(tc, "label") : "", &ln);
            CK_RSA_PKCS_OAEP_PARAMS op = {hm, mgf_of(hash_mech(json_str(grp, "mgfSha"))), CKZ_DATA_SPECIFIED,
                                          ln ? label : NULL, (CK_ULONG)ln};
            CK_MECHANISM m = {oaep ? CKM_RSA_PKCS_OAEP : CKM_RSA_PKCS, oaep ? &op : NULL, oaep ? sizeof op : 0};
            const char *res = vres(tc);
            rv = op_decrypt(&m, h, ct, cn, &out, &on);
            if (strcmp(res, "invalid") == 0) {
                bool lenbad = cn != modn;
                tally_invalid(&t,
                              rv == CKR_ENCRYPTED_DATA_INVALID || (lenbad && rv == CKR_ENCRYPTED_DATA_LEN_RANGE), id,
                              mech, "C_Decrypt: expected CKR_ENCRYPTED_DATA_INVALID%s, got %s",
                              lenbad ? " or CKR_ENCRYPTED_DATA_LEN_RANGE" : "", kat_rv(rv));
            } else if (strcmp(res, "acceptable") == 0) {
                t.acceptable++;
            } else {
                char gx[40];
                hexstr(gx, sizeof gx, out, on);
                tally_valid(&t, rv == CKR_OK && on == mn && (mn == 0 || memcmp(out, msg, mn) == 0), id, mech,
                            "C_Decrypt: expected CKR_OK and %zu bytes, got %s and %zu bytes %s..", mn, kat_rv(rv),
                            on, gx);
            }
            free(msg), free(ct), free(label), free(out);
        }
        kat_destroy(h);
    }
    json_free(j);
    tally_done(&t);
}

/*
 * A fixed PKCS#1 v1.5 signature: the 2048-bit key of the Wycheproof OAEP
 * SHA-256 group (its privateKeyPem), SHA-256 over "abc", made with
 *   openssl dgst -sha256 -sign key.pem abc
 * PKCS#1 v1.5 is deterministic, so the module must produce these bytes.
 */
static const char fixed_sig[] =
    "485a79470c145bce2d3e40c64a583e79f5697dc362bc916db830b95b71b6d0fbf34cc2a15eb705ab1df59cfd7d9f65ba6190307f5a63a8c7"
    "a11672257d542971db3f53e2eebd91526759f31776a52dc85021c27fcc10b48e54978fd95d1f0a745bc5ae939c1dd25bdb670d2f8dc96d3b"
    "3055374358de0fde977d1049f762c91da426bdadf05bbddd745b28b9032977564f65be790aeb60e173398aa0ebaceec7293a88744cb6cbfc"
    "a7d1becb283e3879ae3840bc162bcad40a51bd75bbf035a4de880108c0559ab02b63a30db0328169234c4a4960534ab452c283f392c24722"
    "18fc9586cde1af9ed268ddcabd5979b02be4fccab8b01dee18c49a67d216e49c";

static void run_fixed_sign(void)
{
    struct tally t = {.file = "fixed RSA-2048 PKCS#1 v1.5 SHA-256 signature"};
    struct json *j = kat_load("rsa_oaep_2048_sha256_mgf1sha256_test.json");
    if (j == NULL)
        return;
    const struct json *pk = json_get(json_get(j, "testGroups")->items[0], "privateKey");
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0}, raw = {CKM_RSA_PKCS, NULL, 0};
    CK_OBJECT_HANDLE hs, hp;
    uint8_t *out = NULL, *out2 = NULL, *out3 = NULL;
    size_t on = 0, on2 = 0, on3 = 0;
    CK_RV rv = kat_rsa_priv(pk, &hs), rvp = kat_rsa_pub(pk, &hp), rvs = CKR_GENERAL_ERROR, rvm = CKR_GENERAL_ERROR,
          rvv = CKR_GENERAL_ERROR, rvr = CKR_GENERAL_ERROR;
    /* DigestInfo(SHA-256, "abc") for the raw CKM_RSA_PKCS path */
    static const char di[] = "3031300d060960864801650304020105000420"
                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    size_t din, sn;
    uint8_t *dib = hexdup(di, &din), *sig = hexdup(fixed_sig, &sn);
    if (rv == CKR_OK) {
        rvs = op_sign(&m, hs, (const uint8_t *)"abc", 3, &out, &on);
        rvm = op_sign_mp(&m, hs, (const uint8_t *)"abc", 3, 1, &out2, &on2);
        rvr = op_sign(&raw, hs, dib, din, &out3, &on3);
    }
    if (rvp == CKR_OK)
        rvv = op_verify(&m, hp, (const uint8_t *)"abc", 3, sig, sn);
    char g[40];
    hexstr(g, sizeof g, out, on);
    tally_valid(&t,
                rv == CKR_OK && rvs == CKR_OK && hexeq(out, on, fixed_sig) && rvm == CKR_OK &&
                    hexeq(out2, on2, fixed_sig) && rvr == CKR_OK && hexeq(out3, on3, fixed_sig),
                1, "CKM_SHA256_RSA_PKCS",
                "create %s; C_Sign %s (%s..); C_SignUpdate/Final %s (%s); CKM_RSA_PKCS over DigestInfo %s (%s)",
                kat_rv(rv), kat_rv(rvs), g, kat_rv(rvm), hexeq(out2, on2, fixed_sig) ? "same" : "differs",
                kat_rv(rvr), hexeq(out3, on3, fixed_sig) ? "same" : "differs");
    tally_valid(&t, rvp == CKR_OK && rvv == CKR_OK, 2, "CKM_SHA256_RSA_PKCS", "create pub %s, C_Verify %s",
                kat_rv(rvp), kat_rv(rvv));
    kat_destroy(hs), kat_destroy(hp);
    free(out), free(out2), free(out3), free(dib), free(sig);
    json_free(j);
    tally_done(&t);
}

int main(int argc, char **argv)
{
    if (!kat_open(argc, argv))
        return kat_finish();
    static const struct sigfile sigs[] = {
        {"rsa_signature_2048_sha256_test.json", "CKM_SHA256_RSA_PKCS", CKM_SHA256_RSA_PKCS, false},
        {"rsa_signature_3072_sha384_test.json", "CKM_SHA384_RSA_PKCS", CKM_SHA384_RSA_PKCS, false},
        {"rsa_signature_4096_sha512_test.json", "CKM_SHA512_RSA_PKCS", CKM_SHA512_RSA_PKCS, false},
        {"rsa_pss_2048_sha256_mgf1_32_test.json", "CKM_SHA256_RSA_PKCS_PSS", CKM_SHA256_RSA_PKCS_PSS, true},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        run_verify(&sigs[i]);
    run_decrypt("rsa_oaep_2048_sha256_mgf1sha256_test.json", true);
    run_decrypt("rsa_oaep_2048_sha1_mgf1sha1_test.json", true);
    run_decrypt("rsa_pkcs1_2048_test.json", false);
    run_fixed_sign();
    return kat_finish();
}
