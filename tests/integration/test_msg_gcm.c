/*
 * The PKCS#11 3.0 message-based API with CKM_AES_GCM, through the real ABI
 * (the 3.0 table from C_GetInterface): known answer, module-generated IVs
 * (random and counter: distinct, incrementing from a random start per
 * context, fixed bits kept, counter exhaustion), round trips, cross-checks against single-part C_Encrypt /
 * C_Decrypt with CK_GCM_PARAMS, IVs up to 256 bytes, multi-part Begin/Next with
 * CKF_END_OF_MESSAGE, tag mismatch (no plaintext released), every bad
 * parameter with its exact CKR, the state rules (Init/Final/SessionCancel/
 * CloseSession), and the audit entries. After each error the session is
 * shown to still work.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_util.h"

static struct p11 P;
#define F (P.f)
#define F3 (P.f3)
#define SLOT 0

static CK_SESSION_HANDLE g_s;
static CK_OBJECT_HANDLE g_key;     /* AES-256, encrypt+decrypt */
static CK_OBJECT_HANDLE g_key0;    /* AES-128 of zeros, for the known answer */
static CK_MECHANISM g_msg = {CKM_AES_GCM, NULL, 0};

static const CK_BYTE k_aad[] = "header bytes";
static const CK_BYTE k_pt[] = "message-based GCM, module-generated IVs, 3.0 semantics";
#define PT_LEN ((CK_ULONG)(sizeof(k_pt) - 1))
#define AAD_LEN ((CK_ULONG)(sizeof(k_aad) - 1))

static CK_OBJECT_HANDLE make_key(const CK_BYTE *val, CK_ULONG n, CK_KEY_TYPE kt, CK_BBOOL enc, CK_BBOOL dec,
                                 const CK_MECHANISM_TYPE *allowed, CK_ULONG nallowed)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL f = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},     {CKA_KEY_TYPE, &kt, sizeof kt},
                        {CKA_TOKEN, &f, sizeof f},         {CKA_VALUE, (void *)val, n},
                        {CKA_ENCRYPT, &enc, sizeof enc},   {CKA_DECRYPT, &dec, sizeof dec},
                        {CKA_ALLOWED_MECHANISMS, (void *)allowed, nallowed * sizeof(CK_MECHANISM_TYPE)}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CHECK_RV(F->C_CreateObject(g_s, t, allowed != NULL ? 7 : 6, &h), CKR_OK);
    return h;
}

static CK_GCM_MESSAGE_PARAMS mp(CK_BYTE *iv, CK_ULONG ivlen, CK_ULONG fixed, CK_GENERATOR_FUNCTION gen, CK_BYTE *tag,
                                CK_ULONG tagbits)
{
    CK_GCM_MESSAGE_PARAMS p = {iv, ivlen, fixed, gen, tag, tagbits};
    return p;
}

/* One message through C_EncryptMessage; returns the CKR. */
static CK_RV enc(CK_GCM_MESSAGE_PARAMS *p, CK_BYTE *ct, CK_ULONG *ctlen)
{
    return F3->C_EncryptMessage(g_s, p, sizeof *p, (CK_BYTE *)k_aad, AAD_LEN, (CK_BYTE *)k_pt, PT_LEN, ct, ctlen);
}

static CK_RV dec(CK_GCM_MESSAGE_PARAMS *p, CK_BYTE *ct, CK_ULONG ctlen, CK_BYTE *pt, CK_ULONG *ptlen)
{
    return F3->C_DecryptMessage(g_s, p, sizeof *p, (CK_BYTE *)k_aad, AAD_LEN, ct, ctlen, pt, ptlen);
}

/* The encrypt context still works: one fresh random-IV message round-trips. */
static bool enc_usable(void)
{
    CK_BYTE iv[12] = {0}, tag[16], ct[128], out[128];
    CK_ULONG n = sizeof ct, m = sizeof out;
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 12, 0, CKG_GENERATE_RANDOM, tag, 128);
    if (enc(&p, ct, &n) != CKR_OK || n != PT_LEN)
        return false;
    if (F3->C_MessageDecryptInit(g_s, &g_msg, g_key) != CKR_OK)
        return false;
    p.ivGenerator = CKG_NO_GENERATE;
    CK_RV rv = dec(&p, ct, n, out, &m);
    CK_RV rv2 = F3->C_MessageDecryptFinal(g_s);
    return rv == CKR_OK && rv2 == CKR_OK && m == PT_LEN && memcmp(out, k_pt, PT_LEN) == 0;
}

static void test_mechanism_info(void)
{
    CK_MECHANISM_INFO mi;
    CHECK_RV(F->C_GetMechanismInfo(SLOT, CKM_AES_GCM, &mi), CKR_OK);
    CHECK((mi.flags & (CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE)) ==
          (CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE));
    CHECK((mi.flags & (CKF_ENCRYPT | CKF_DECRYPT)) == (CKF_ENCRYPT | CKF_DECRYPT));
    CHECK_RV(F->C_GetMechanismInfo(SLOT, CKM_AES_CBC, &mi), CKR_OK);
    CHECK((mi.flags & CKF_MESSAGE_ENCRYPT) == 0);
}

/* McGrew-Viega GCM test cases 1 and 2: AES-128 zero key, zero 96-bit IV. */
static void test_known_answer(void)
{
    CK_BYTE iv[12] = {0}, tag[16], ct[16], zero[16] = {0}, pt[16];
    CK_ULONG n = sizeof ct;
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 12, 0, CKG_NO_GENERATE, tag, 128);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key0), CKR_OK);
    CHECK_RV(F3->C_EncryptMessage(g_s, &p, sizeof p, NULL, 0, zero, 16, ct, &n), CKR_OK);
    CHECK(n == 16 && p11t_hex_eq(ct, 16, "0388dace60b6a392f328c2b971b2fe78"));
    CHECK(p11t_hex_eq(tag, 16, "ab6e47d42cec13bdf53a67b21257bddf"));
    CHECK(p11t_hex_eq(iv, 12, "000000000000000000000000")); /* NO_GENERATE leaves the IV alone */
    n = 0;
    CHECK_RV(F3->C_EncryptMessage(g_s, &p, sizeof p, NULL, 0, zero, 0, ct, &n), CKR_OK);
    CHECK(n == 0 && p11t_hex_eq(tag, 16, "58e2fccefa7e3061367f1d57a4e7455a"));
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
    /* and back */
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key0), CKR_OK);
    n = sizeof pt;
    CHECK(p11t_hex_eq(tag, 16, "58e2fccefa7e3061367f1d57a4e7455a"));
    static const CK_BYTE t2[16] = {0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd,
                                   0xf5, 0x3a, 0x67, 0xb2, 0x12, 0x57, 0xbd, 0xdf};
    static const CK_BYTE c2[16] = {0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92,
                                   0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78};
    memcpy(tag, t2, 16);
    CHECK_RV(F3->C_DecryptMessage(g_s, &p, sizeof p, NULL, 0, (CK_BYTE *)c2, 16, pt, &n), CKR_OK);
    CHECK(n == 16 && memcmp(pt, zero, 16) == 0);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
}

static void test_random_iv(void)
{
    CK_BYTE iv1[12], iv2[12], tag1[16], tag2[16], ct1[128], ct2[128], pt[128];
    CK_ULONG n1 = sizeof ct1, n2 = sizeof ct2, m = sizeof pt;
    memset(iv1, 0, 12), memset(iv2, 0, 12);
    memcpy(iv1, "\xA1\xB2\xC3\xD4", 4), memcpy(iv2, "\xA1\xB2\xC3\xD4", 4);
    CK_GCM_MESSAGE_PARAMS p1 = mp(iv1, 12, 32, CKG_GENERATE_RANDOM, tag1, 128);
    CK_GCM_MESSAGE_PARAMS p2 = mp(iv2, 12, 32, CKG_GENERATE, tag2, 128);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(enc(&p1, ct1, &n1), CKR_OK);
    CHECK_RV(enc(&p2, ct2, &n2), CKR_OK);
    CHECK(n1 == PT_LEN && n2 == PT_LEN);
    CHECK(memcmp(iv1, "\xA1\xB2\xC3\xD4", 4) == 0 && memcmp(iv2, "\xA1\xB2\xC3\xD4", 4) == 0);
    static const CK_BYTE zero8[8] = {0};
    CHECK(memcmp(iv1 + 4, zero8, 8) != 0 && memcmp(iv1 + 4, iv2 + 4, 8) != 0); /* 2^-64 false failure */
    CHECK(memcmp(ct1, ct2, PT_LEN) != 0);
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    p1.ivGenerator = CKG_NO_GENERATE;
    p2.ivGenerator = CKG_NO_GENERATE;
    CHECK_RV(dec(&p1, ct1, n1, pt, &m), CKR_OK);
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    m = sizeof pt;
    CHECK_RV(dec(&p2, ct2, n2, pt, &m), CKR_OK);
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
}

/* Low 32 bits of a 12-byte IV, big-endian. */
static uint32_t iv_low32(const CK_BYTE *iv)
{
    return (uint32_t)iv[8] << 24 | (uint32_t)iv[9] << 16 | (uint32_t)iv[10] << 8 | iv[11];
}

static void test_counter_iv(void)
{
    CK_BYTE iv[12], tag[16], ct[128], first_iv[12];
    CK_ULONG n;
    uint32_t c0 = 0;
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    /* 64 fixed bits: the counter fills the last 4 bytes, from a random start, +1 per message */
    for (unsigned i = 0; i < 3; i++) {
        memset(iv, 0x5A, 12);
        CK_GCM_MESSAGE_PARAMS p = mp(iv, 12, 64, CKG_GENERATE_COUNTER, tag, 128);
        n = sizeof ct;
        CHECK_RV(enc(&p, ct, &n), CKR_OK);
        CK_BYTE want[8];
        memset(want, 0x5A, 8);
        CHECK(memcmp(iv, want, 8) == 0);
        if (i == 0)
            c0 = iv_low32(iv);
        CHECK(iv_low32(iv) == c0 + i);
    }
    /* a size query consumes no counter value: next is start + 3 */
    memset(iv, 0x5A, 12);
    CK_GCM_MESSAGE_PARAMS q = mp(iv, 12, 64, CKG_GENERATE_COUNTER, tag, 128);
    n = 0;
    CHECK_RV(enc(&q, NULL, &n), CKR_OK);
    CHECK(n == PT_LEN);
    n = 1;
    CHECK_RV(enc(&q, ct, &n), CKR_BUFFER_TOO_SMALL);
    CHECK(n == PT_LEN && iv[11] == 0x5A);
    CHECK_RV(enc(&q, ct, &n), CKR_OK);
    CHECK(iv_low32(iv) == c0 + 3 && iv[7] == 0x5A);
    /* fixed bits not on a byte boundary: 90 fixed, 6 free bits in the last byte carry start + 4 */
    memset(iv, 0xFF, 12);
    CK_GCM_MESSAGE_PARAMS r = mp(iv, 12, 90, CKG_GENERATE_COUNTER, tag, 128);
    n = sizeof ct;
    CHECK_RV(enc(&r, ct, &n), CKR_OK);
    CHECK(iv[10] == 0xFF && iv[11] == (CK_BYTE)(0xC0 | ((c0 + 4) & 0x3F)));
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);

    /*
     * A second context under the same key with the same (here: empty) fixed field must not
     * repeat the first one's IVs: the counter starts at a fresh random value per context.
     */
    memset(iv, 0, 12);
    CK_GCM_MESSAGE_PARAMS z = mp(iv, 12, 0, CKG_GENERATE_COUNTER, tag, 128);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    n = sizeof ct;
    CHECK_RV(enc(&z, ct, &n), CKR_OK);
    memcpy(first_iv, iv, 12);
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
    memset(iv, 0, 12);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    n = sizeof ct;
    CHECK_RV(enc(&z, ct, &n), CKR_OK);
    CHECK(memcmp(first_iv, iv, 12) != 0); /* equal with probability 2^-64 */
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);

    /* exhaustion: 2 free bits give 4 IVs, the fifth is refused (never wraps) */
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CK_BYTE seen[4] = {0};
    for (unsigned i = 0; i < 4; i++) {
        memset(iv, 0xA8, 12); /* last byte 101010|00 */
        CK_GCM_MESSAGE_PARAMS e = mp(iv, 12, 94, CKG_GENERATE_COUNTER, tag, 128);
        n = sizeof ct;
        CHECK_RV(enc(&e, ct, &n), CKR_OK);
        CHECK((iv[11] & 0xFC) == 0xA8);
        seen[iv[11] & 3]++;
    }
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
    memset(iv, 0xA8, 12);
    CK_GCM_MESSAGE_PARAMS e = mp(iv, 12, 94, CKG_GENERATE_COUNTER, tag, 128);
    n = sizeof ct;
    CHECK_RV(enc(&e, ct, &n), CKR_MECHANISM_PARAM_INVALID);
    CHECK(iv[11] == 0xA8);
    CHECK(enc_usable()); /* other generators still work in the same context */
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
}

/* Message API ciphertext opens with C_Decrypt, and C_Encrypt output opens with C_DecryptMessage. */
static void test_cross_check(void)
{
    CK_BYTE iv[16] = {0}, tag[12], ct[160], pt[160];
    CK_ULONG n = sizeof ct, m = sizeof pt;
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 16, 0, CKG_GENERATE_RANDOM, tag, 96);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(enc(&p, ct, &n), CKR_OK);
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
    memcpy(ct + n, tag, 12);
    CK_GCM_PARAMS gp = {iv, 16, 128, (CK_BYTE *)k_aad, AAD_LEN, 96};
    CK_MECHANISM gm = {CKM_AES_GCM, &gp, sizeof gp};
    CHECK_RV(F->C_DecryptInit(g_s, &gm, g_key), CKR_OK);
    CHECK_RV(F->C_Decrypt(g_s, ct, n + 12, pt, &m), CKR_OK);
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);

    CK_BYTE iv2[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
    CK_GCM_PARAMS gp2 = {iv2, 12, 96, (CK_BYTE *)k_aad, AAD_LEN, 128};
    CK_MECHANISM gm2 = {CKM_AES_GCM, &gp2, sizeof gp2};
    n = sizeof ct;
    CHECK_RV(F->C_EncryptInit(g_s, &gm2, g_key), CKR_OK);
    CHECK_RV(F->C_Encrypt(g_s, (CK_BYTE *)k_pt, PT_LEN, ct, &n), CKR_OK);
    CHECK(n == PT_LEN + 16);
    CK_BYTE tag2[16];
    memcpy(tag2, ct + PT_LEN, 16);
    CK_GCM_MESSAGE_PARAMS q = mp(iv2, 12, 0, CKG_NO_GENERATE, tag2, 128);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    m = sizeof pt;
    CHECK_RV(dec(&q, ct, PT_LEN, pt, &m), CKR_OK);
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
}

/* IVs of 129..256 bytes (issue 4): generated bits beyond the counter's 64 are zero, C_Decrypt agrees. */
static void test_long_iv(void)
{
    CK_BYTE iv[256], tag[16], ct[160], pt[160];
    CK_ULONG n = sizeof ct, m = sizeof pt;
    memset(iv, 0xC3, sizeof iv);
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 256, 8, CKG_GENERATE_COUNTER, tag, 128);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(enc(&p, ct, &n), CKR_OK);
    CK_BYTE prev[8];
    memcpy(prev, iv + 248, 8); /* the 64 counter bits, right-aligned */
    n = sizeof ct;
    CHECK_RV(enc(&p, ct, &n), CKR_OK); /* counter start + 1 */
    CHECK(iv[0] == 0xC3 && iv[1] == 0 && iv[247] == 0);
    uint64_t c_prev = 0, c_now = 0;
    for (int i = 0; i < 8; i++)
        c_prev = c_prev << 8 | prev[i], c_now = c_now << 8 | iv[248 + i];
    CHECK(c_now == c_prev + 1);
    CK_GCM_PARAMS gp = {iv, 256, 2048, (CK_BYTE *)k_aad, AAD_LEN, 128};
    CK_MECHANISM gm = {CKM_AES_GCM, &gp, sizeof gp};
    memcpy(ct + n, tag, 16);
    CHECK_RV(F->C_DecryptInit(g_s, &gm, g_key), CKR_OK);
    CHECK_RV(F->C_Decrypt(g_s, ct, n + 16, pt, &m), CKR_OK);
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    /* random fill of a 200-byte IV keeps 100 fixed bits (12 bytes + 4 bits) */
    CK_BYTE iv2[200];
    memset(iv2, 0x0F, sizeof iv2);
    CK_GCM_MESSAGE_PARAMS q = mp(iv2, 200, 100, CKG_GENERATE_RANDOM, tag, 128);
    n = sizeof ct;
    CHECK_RV(enc(&q, ct, &n), CKR_OK);
    static const CK_BYTE fixed[12] = {0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F};
    CHECK(memcmp(iv2, fixed, 12) == 0 && (iv2[12] & 0xF0) == 0x00);
    unsigned changed = 0;
    for (size_t i = 13; i < sizeof iv2; i++)
        changed += iv2[i] != 0x0F;
    CHECK(changed > 100); /* 187 random bytes: each equals 0x0F with probability 1/256 */
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    q.ivGenerator = CKG_NO_GENERATE;
    m = sizeof pt;
    CHECK_RV(dec(&q, ct, n, pt, &m), CKR_OK);
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
}

/* A 0-bit tag (no authentication) is accepted as by C_EncryptInit, and agrees with it. */
static void test_zero_tag(void)
{
    CK_BYTE iv[12] = {0}, tag[1] = {0x77}, ct[128], ct2[128], pt[128];
    CK_ULONG n = sizeof ct, m = sizeof pt;
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 12, 0, CKG_GENERATE_RANDOM, tag, 0);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(enc(&p, ct, &n), CKR_OK);
    CHECK(n == PT_LEN && tag[0] == 0x77); /* nothing written to pTag */
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
    CK_GCM_PARAMS gp = {iv, 12, 96, (CK_BYTE *)k_aad, AAD_LEN, 0};
    CK_MECHANISM gm = {CKM_AES_GCM, &gp, sizeof gp};
    CK_ULONG n2 = sizeof ct2;
    CHECK_RV(F->C_EncryptInit(g_s, &gm, g_key), CKR_OK);
    CHECK_RV(F->C_Encrypt(g_s, (CK_BYTE *)k_pt, PT_LEN, ct2, &n2), CKR_OK);
    CHECK(n2 == PT_LEN && memcmp(ct, ct2, PT_LEN) == 0);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    p.ivGenerator = CKG_NO_GENERATE;
    CHECK_RV(dec(&p, ct, n, pt, &m), CKR_OK);
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
}

/* Begin/Next/END gives the same ciphertext and tag as the one-shot call with that IV. */
static void test_multipart(void)
{
    CK_BYTE iv[12], tag[16], ct[128], ct1[128], tag1[16], pt[128];
    CK_ULONG n, off = 0, cut = 20;
    memset(iv, 0x11, 12);
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 12, 32, CKG_GENERATE_COUNTER, tag, 128);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    n = sizeof ct;
    CHECK_RV(F3->C_EncryptMessageNext(g_s, &p, sizeof p, (CK_BYTE *)k_pt, 1, ct, &n, 0),
             CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(F3->C_EncryptMessageBegin(g_s, &p, sizeof p, (CK_BYTE *)k_aad, AAD_LEN), CKR_OK);
    CHECK(iv[0] == 0x11 && iv[3] == 0x11 && memcmp(iv + 4, "\x11\x11\x11\x11\x11\x11\x11\x11", 8) != 0); /* counter written back at Begin */
    CHECK_RV(F3->C_EncryptMessageBegin(g_s, &p, sizeof p, NULL, 0), CKR_OPERATION_ACTIVE);
    n = sizeof ct;
    CHECK_RV(enc(&p, ct, &n), CKR_OPERATION_ACTIVE);
    n = 0;
    CHECK_RV(F3->C_EncryptMessageNext(g_s, NULL, 0, (CK_BYTE *)k_pt, cut, NULL, &n, 0), CKR_OK); /* size query */
    CHECK(n == cut);
    n = sizeof ct;
    CHECK_RV(F3->C_EncryptMessageNext(g_s, NULL, 0, (CK_BYTE *)k_pt, cut, ct, &n, 0), CKR_OK);
    CHECK(n == cut);
    off = n;
    n = sizeof ct - off;
    CHECK_RV(F3->C_EncryptMessageNext(g_s, &p, sizeof p, (CK_BYTE *)k_pt + cut, PT_LEN - cut, ct + off, &n,
                                      CKF_END_OF_MESSAGE),
             CKR_OK);
    CHECK(off + n == PT_LEN);
    /* the same message in one call, IV as returned */
    CK_GCM_MESSAGE_PARAMS q = mp(iv, 12, 0, CKG_NO_GENERATE, tag1, 128);
    n = sizeof ct1;
    CHECK_RV(enc(&q, ct1, &n), CKR_OK);
    CHECK(n == PT_LEN && memcmp(ct, ct1, PT_LEN) == 0 && memcmp(tag, tag1, 16) == 0);
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);

    /* decrypt in parts: nothing before END, then everything */
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(F3->C_DecryptMessageBegin(g_s, &q, sizeof q, (CK_BYTE *)k_aad, AAD_LEN), CKR_OK);
    n = sizeof pt;
    memset(pt, 0xEE, sizeof pt);
    CHECK_RV(F3->C_DecryptMessageNext(g_s, NULL, 0, ct, cut, pt, &n, 0), CKR_OK);
    CHECK(n == 0 && pt[0] == 0xEE);
    n = 0;
    CHECK_RV(F3->C_DecryptMessageNext(g_s, &q, sizeof q, ct + cut, PT_LEN - cut, NULL, &n, CKF_END_OF_MESSAGE),
             CKR_OK);
    CHECK(n == PT_LEN);
    n = 3;
    CHECK_RV(F3->C_DecryptMessageNext(g_s, &q, sizeof q, ct + cut, PT_LEN - cut, pt, &n, CKF_END_OF_MESSAGE),
             CKR_BUFFER_TOO_SMALL);
    CHECK(n == PT_LEN);
    n = sizeof pt;
    CHECK_RV(F3->C_DecryptMessageNext(g_s, &q, sizeof q, ct + cut, PT_LEN - cut, pt, &n, CKF_END_OF_MESSAGE),
             CKR_OK);
    CHECK(n == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    /* the message is over: Next needs a new Begin */
    CHECK_RV(F3->C_DecryptMessageNext(g_s, &q, sizeof q, ct, 1, pt, &n, 0), CKR_OPERATION_NOT_INITIALIZED);
    /* multi-part tag mismatch: no plaintext, message ended, context usable */
    tag1[0] ^= 1;
    CHECK_RV(F3->C_DecryptMessageBegin(g_s, &q, sizeof q, (CK_BYTE *)k_aad, AAD_LEN), CKR_OK);
    n = sizeof pt;
    CHECK_RV(F3->C_DecryptMessageNext(g_s, NULL, 0, ct, cut, pt, &n, 0), CKR_OK);
    memset(pt, 0xEE, sizeof pt);
    n = sizeof pt;
    CHECK_RV(F3->C_DecryptMessageNext(g_s, &q, sizeof q, ct + cut, PT_LEN - cut, pt, &n, CKF_END_OF_MESSAGE),
             CKR_ENCRYPTED_DATA_INVALID);
    CHECK(memcmp(pt, k_pt, 8) != 0);
    tag1[0] ^= 1;
    n = sizeof pt;
    CHECK_RV(dec(&q, ct, PT_LEN, pt, &n), CKR_OK);
    CHECK(n == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    /* a different tag length at END than at Begin */
    CHECK_RV(F3->C_DecryptMessageBegin(g_s, &q, sizeof q, (CK_BYTE *)k_aad, AAD_LEN), CKR_OK);
    CK_GCM_MESSAGE_PARAMS q96 = q;
    q96.ulTagBits = 96;
    n = sizeof pt;
    CHECK_RV(F3->C_DecryptMessageNext(g_s, &q96, sizeof q96, ct, PT_LEN, pt, &n, CKF_END_OF_MESSAGE),
             CKR_MECHANISM_PARAM_INVALID);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
}

static void test_tag_mismatch(void)
{
    CK_BYTE iv[12] = {0}, tag[16], ct[128], pt[128];
    CK_ULONG n = sizeof ct, m;
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 12, 0, CKG_GENERATE_RANDOM, tag, 128);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(enc(&p, ct, &n), CKR_OK);
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    p.ivGenerator = CKG_NO_GENERATE;
    CK_BYTE *flip[] = {&tag[15], &ct[0], &iv[5]};
    for (size_t i = 0; i < sizeof flip / sizeof flip[0]; i++) {
        *flip[i] ^= 0x80;
        memset(pt, 0xEE, sizeof pt);
        m = sizeof pt;
        CHECK_RV(dec(&p, ct, n, pt, &m), CKR_ENCRYPTED_DATA_INVALID);
        CHECK(memcmp(pt, k_pt, 8) != 0); /* no plaintext released */
        *flip[i] ^= 0x80;
    }
    /* other AAD */
    m = sizeof pt;
    CHECK_RV(F3->C_DecryptMessage(g_s, &p, sizeof p, (CK_BYTE *)"x", 1, ct, n, pt, &m), CKR_ENCRYPTED_DATA_INVALID);
    m = sizeof pt;
    CHECK_RV(dec(&p, ct, n, pt, &m), CKR_OK); /* still usable */
    CHECK(m == PT_LEN && memcmp(pt, k_pt, PT_LEN) == 0);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
}

/* Every malformed CK_GCM_MESSAGE_PARAMS: CKR_MECHANISM_PARAM_INVALID, and the context goes on. */
static void test_bad_params(void)
{
    CK_BYTE iv[12] = {0}, tag[16], ct[128], pt[128];
    CK_ULONG n;
    struct {
        CK_GCM_MESSAGE_PARAMS p;
        CK_ULONG len;
        bool enc_only, dec_only;
    } rows[] = {
        {mp(iv, 12, 0, CKG_NO_GENERATE, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS) - 1, false, false},
        {mp(iv, 12, 0, CKG_NO_GENERATE, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS) + 8, false, false},
        {mp(NULL, 12, 0, CKG_NO_GENERATE, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 12, 0, CKG_NO_GENERATE, NULL, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 12, 97, CKG_GENERATE_RANDOM, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 12, 97, CKG_NO_GENERATE, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 0, 0, CKG_NO_GENERATE, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 257, 0, CKG_NO_GENERATE, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 12, 0, CKG_NO_GENERATE, tag, 7), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 12, 0, CKG_NO_GENERATE, tag, 100), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 12, 0, CKG_NO_GENERATE, tag, 136), sizeof(CK_GCM_MESSAGE_PARAMS), false, false},
        {mp(iv, 12, 96, CKG_GENERATE_COUNTER, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), true, false},
        {mp(iv, 12, 96, CKG_GENERATE_RANDOM, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), true, false},
        {mp(iv, 12, 0, CKG_GENERATE_COUNTER_XOR, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), true, false},
        {mp(iv, 12, 0, 77, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), true, false},
        {mp(iv, 12, 0, CKG_GENERATE_RANDOM, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, true},
        {mp(iv, 12, 32, CKG_GENERATE_COUNTER, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, true},
        {mp(iv, 12, 0, CKG_GENERATE, tag, 128), sizeof(CK_GCM_MESSAGE_PARAMS), false, true},
    };
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "bad param row %zu", i);
        if (!rows[i].dec_only) {
            n = sizeof ct;
            CK_RV rv = F3->C_EncryptMessage(g_s, &rows[i].p, rows[i].len, NULL, 0, (CK_BYTE *)k_pt, PT_LEN, ct, &n);
            p11t_check(rv == CKR_MECHANISM_PARAM_INVALID, __FILE__, __LINE__, what, p11t_rv_name(rv));
            rv = F3->C_EncryptMessageBegin(g_s, &rows[i].p, rows[i].len, NULL, 0);
            p11t_check(rv == CKR_MECHANISM_PARAM_INVALID, __FILE__, __LINE__, what, p11t_rv_name(rv));
        }
        if (!rows[i].enc_only) {
            n = sizeof pt;
            CK_RV rv = F3->C_DecryptMessage(g_s, &rows[i].p, rows[i].len, NULL, 0, ct, 16, pt, &n);
            p11t_check(rv == CKR_MECHANISM_PARAM_INVALID, __FILE__, __LINE__, what, p11t_rv_name(rv));
            rv = F3->C_DecryptMessageBegin(g_s, &rows[i].p, rows[i].len, NULL, 0);
            p11t_check(rv == CKR_MECHANISM_PARAM_INVALID, __FILE__, __LINE__, what, p11t_rv_name(rv));
        }
    }
    n = sizeof ct;
    CHECK_RV(F3->C_EncryptMessage(g_s, NULL, 0, NULL, 0, (CK_BYTE *)k_pt, PT_LEN, ct, &n),
             CKR_MECHANISM_PARAM_INVALID);
    /* pointer arguments */
    CK_GCM_MESSAGE_PARAMS ok = mp(iv, 12, 0, CKG_GENERATE_RANDOM, tag, 128);
    CHECK_RV(F3->C_EncryptMessage(g_s, &ok, sizeof ok, NULL, 0, (CK_BYTE *)k_pt, PT_LEN, ct, NULL), CKR_ARGUMENTS_BAD);
    n = sizeof ct;
    CHECK_RV(F3->C_EncryptMessage(g_s, &ok, sizeof ok, NULL, 4, (CK_BYTE *)k_pt, PT_LEN, ct, &n), CKR_ARGUMENTS_BAD);
    CHECK_RV(F3->C_EncryptMessage(g_s, &ok, sizeof ok, NULL, 0, NULL, PT_LEN, ct, &n), CKR_ARGUMENTS_BAD);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OK);
    CHECK(enc_usable());
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);
}

/* Init checks are C_EncryptInit's; state rules; SessionCancel and CloseSession end the contexts. */
static void test_state_rules(void)
{
    CK_BYTE iv[12] = {0}, tag[16], ct[128], pt[128];
    CK_ULONG n = sizeof ct;
    CK_GCM_MESSAGE_PARAMS p = mp(iv, 12, 0, CKG_GENERATE_RANDOM, tag, 128);
    CHECK_RV(enc(&p, ct, &n), CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(F3->C_MessageDecryptFinal(g_s), CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(F3->C_EncryptMessageBegin(g_s, &p, sizeof p, NULL, 0), CKR_OPERATION_NOT_INITIALIZED);
    CK_GCM_PARAMS gp = {iv, 12, 96, NULL, 0, 128};
    CK_MECHANISM with_param = {CKM_AES_GCM, &gp, sizeof gp};
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &with_param, g_key), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM cbc = {CKM_AES_CBC, NULL, 0};
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &cbc, g_key), CKR_MECHANISM_INVALID);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, NULL, g_key), CKR_ARGUMENTS_BAD);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, (CK_OBJECT_HANDLE)0x7ffffff2UL), CKR_KEY_HANDLE_INVALID);
    CHECK_RV(F3->C_MessageEncryptInit((CK_SESSION_HANDLE)0x7ffffff1UL, &g_msg, g_key), CKR_SESSION_HANDLE_INVALID);
    static const CK_BYTE v32[32] = {1, 2, 3};
    CK_OBJECT_HANDLE enc_only = make_key(v32, 32, CKK_AES, CK_TRUE, CK_FALSE, NULL, 0);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, enc_only), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_OBJECT_HANDLE dec_only = make_key(v32, 32, CKK_AES, CK_FALSE, CK_TRUE, NULL, 0);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, dec_only), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_MECHANISM_TYPE only_cbc = CKM_AES_CBC;
    CK_OBJECT_HANDLE cbc_key = make_key(v32, 32, CKK_AES, CK_TRUE, CK_TRUE, &only_cbc, 1);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, cbc_key), CKR_MECHANISM_INVALID);
    CK_OBJECT_HANDLE gen = make_key(v32, 32, CKK_GENERIC_SECRET, CK_TRUE, CK_TRUE, NULL, 0);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, gen), CKR_KEY_TYPE_INCONSISTENT);

    /* one active context per direction; the single-part API is independent */
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OPERATION_ACTIVE);
    CK_MECHANISM gm = {CKM_AES_GCM, &gp, sizeof gp};
    CHECK_RV(F->C_EncryptInit(g_s, &gm, g_key), CKR_OK);
    n = sizeof ct;
    CHECK_RV(F->C_Encrypt(g_s, (CK_BYTE *)k_pt, PT_LEN, ct, &n), CKR_OK);
    /* C_SessionCancel(CKF_MESSAGE_ENCRYPT) ends it, also with a multi-part message open */
    CHECK_RV(F3->C_EncryptMessageBegin(g_s, &p, sizeof p, NULL, 0), CKR_OK);
    CHECK_RV(F3->C_SessionCancel(g_s, CKF_MESSAGE_ENCRYPT), CKR_OK);
    n = sizeof ct;
    CHECK_RV(F3->C_EncryptMessageNext(g_s, &p, sizeof p, (CK_BYTE *)k_pt, 4, ct, &n, CKF_END_OF_MESSAGE),
             CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(F3->C_MessageDecryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK_RV(F3->C_SessionCancel(g_s, CKF_MESSAGE_DECRYPT), CKR_OK);
    n = sizeof pt;
    CHECK_RV(dec(&p, ct, 16, pt, &n), CKR_OPERATION_NOT_INITIALIZED);
    CHECK(enc_usable() == false); /* no encrypt context */
    CHECK_RV(F3->C_MessageEncryptInit(g_s, &g_msg, g_key), CKR_OK);
    CHECK(enc_usable());
    CHECK_RV(F3->C_MessageEncryptFinal(g_s), CKR_OK);

    /* message sign/verify stay unsupported */
    CHECK_RV(F3->C_MessageSignInit(g_s, &g_msg, g_key), CKR_FUNCTION_NOT_SUPPORTED);
    CHECK_RV(F3->C_MessageVerifyInit(g_s, &g_msg, g_key), CKR_FUNCTION_NOT_SUPPORTED);

    /* C_CloseSession frees open contexts (ASan would report a leak) */
    CK_SESSION_HANDLE s2;
    CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s2), CKR_OK);
    CHECK_RV(F3->C_MessageEncryptInit(s2, &g_msg, g_key), CKR_OK);
    CHECK_RV(F3->C_MessageDecryptInit(s2, &g_msg, g_key), CKR_OK);
    CHECK_RV(F3->C_EncryptMessageBegin(s2, &p, sizeof p, NULL, 0), CKR_OK);
    CHECK_RV(F3->C_DecryptMessageBegin(s2, &(CK_GCM_MESSAGE_PARAMS){iv, 12, 0, CKG_NO_GENERATE, tag, 128},
                                       sizeof(CK_GCM_MESSAGE_PARAMS), NULL, 0),
             CKR_OK);
    CHECK_RV(F->C_CloseSession(s2), CKR_OK);
    CHECK_RV(F3->C_MessageEncryptFinal(s2), CKR_SESSION_HANDLE_INVALID);
}

/* The log names each message like C_Encrypt/C_Decrypt: operation, mechanism, result. */
static void test_audit(const char *log_path)
{
    FILE *fp = fopen(log_path, "r");
    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    char line[4096];
    unsigned enc_ok = 0, dec_bad = 0;
    while (fgets(line, sizeof line, fp) != NULL) {
        if (strstr(line, "CKM_AES_GCM") == NULL)
            continue;
        if (strstr(line, "\"encrypt\"") != NULL && strstr(line, "CKR_OK") != NULL)
            enc_ok++;
        if (strstr(line, "\"decrypt\"") != NULL && strstr(line, "CKR_ENCRYPTED_DATA_INVALID") != NULL)
            dec_bad++;
    }
    fclose(fp);
    CHECK(enc_ok >= 10);
    CHECK(dec_bad >= 5);
}

int main(int argc, char **argv)
{
    if (!p11t_setup(&P, argc, argv, NULL))
        return p11t_finish();
    char cfg[2048], log_path[400];
    snprintf(log_path, sizeof log_path, "%s/audit.jsonl", P.tmpdir);
    snprintf(cfg, sizeof cfg,
             "[token]\nlabel = \"Craton Test\"\nserial_number = \"TEST0001\"\nstorage_path = \":memory:\"\n"
             "[security]\npbkdf2_iterations = 100000\npin_min_length = 4\n"
             "[audit]\nenabled = true\nlog_path = \"%s\"\nkey_use = \"each\"\n",
             log_path);
    if (!p11t_write_config(&P, cfg))
        return p11t_finish();
    REQUIRE_RV(F->C_Initialize(NULL), CKR_OK);
    REQUIRE_RV(p11t_init_token(&P, SLOT), CKR_OK);
    REQUIRE_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g_s), CKR_OK);
    REQUIRE_RV(F->C_Login(g_s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    static const CK_BYTE k256[32] = {0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae,
                                     0xf0, 0x85, 0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61,
                                     0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4};
    static const CK_BYTE k128[16] = {0};
    g_key = make_key(k256, 32, CKK_AES, CK_TRUE, CK_TRUE, NULL, 0);
    g_key0 = make_key(k128, 16, CKK_AES, CK_TRUE, CK_TRUE, NULL, 0);
    if (g_key == CK_INVALID_HANDLE || g_key0 == CK_INVALID_HANDLE)
        return p11t_finish();

    test_mechanism_info();
    test_known_answer();
    test_random_iv();
    test_counter_iv();
    test_cross_check();
    test_long_iv();
    test_zero_tag();
    test_multipart();
    test_tag_mismatch();
    test_bad_params();
    test_state_rules();

    CHECK_RV(F->C_CloseSession(g_s), CKR_OK);
    CHECK_RV(F->C_Finalize(NULL), CKR_OK);
    test_audit(log_path);
    return p11t_finish();
}
