/*
 * HMAC keyed contexts parked with their key object and re-armed for the
 * next operation (src/core/keycache.c), through the real ABI: every result
 * is compared with OpenSSL's HMAC() or RFC 4231. Keys alternate, mechanisms
 * and _GENERAL lengths change between operations on one key, an operation
 * ended by an error in the middle of a multi-part MAC leaves nothing behind,
 * a destroyed key's successor with another value MACs with its own value,
 * and two threads MAC with one shared key at once.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_util.h"

static struct p11 P;
#define F (P.f)
#define SLOT 0

static CK_SESSION_HANDLE g_s;

static CK_OBJECT_HANDLE make_key(CK_SESSION_HANDLE s, const void *val, CK_ULONG n)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_BBOOL t = CK_TRUE, f = CK_FALSE;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_TOKEN, &f, sizeof f},
                        {CKA_VALUE, (void *)val, n},   {CKA_SIGN, &t, sizeof t},      {CKA_VERIFY, &t, sizeof t}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CHECK_RV(F->C_CreateObject(s, a, 6, &h), CKR_OK);
    return h;
}

static const EVP_MD *md_of(CK_MECHANISM_TYPE m)
{
    return m == CKM_SHA384_HMAC ? EVP_sha384() : m == CKM_SHA_1_HMAC ? EVP_sha1() : EVP_sha256();
}

/* C_SignInit + C_Sign on s; true when the MAC equals OpenSSL's HMAC (cut to `general` bytes if set). */
static bool mac_ok(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, CK_MECHANISM_TYPE mech, CK_ULONG general,
                   const void *key, size_t klen, const char *msg)
{
    CK_MECHANISM m = {mech, general ? &general : NULL, general ? sizeof general : 0};
    CK_MECHANISM_TYPE base = mech == CKM_SHA256_HMAC_GENERAL ? CKM_SHA256_HMAC : mech;
    unsigned char ref[64];
    unsigned int rl = 0;
    CK_BYTE out[64];
    CK_ULONG ol = sizeof out;
    if (HMAC(md_of(base), key, (int)klen, (const unsigned char *)msg, strlen(msg), ref, &rl) == NULL)
        return false;
    if (F->C_SignInit(s, &m, k) != CKR_OK || F->C_Sign(s, (CK_BYTE *)msg, strlen(msg), out, &ol) != CKR_OK)
        return false;
    CK_ULONG want = general ? general : rl;
    return ol == want && memcmp(out, ref, want) == 0;
}

static void test_rfc4231(void)
{
    static const char jefe[] = "Jefe";
    static const CK_BYTE k1[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                   0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
    CK_OBJECT_HANDLE a = make_key(g_s, jefe, 4), b = make_key(g_s, k1, sizeof k1);
    CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
    CK_BYTE out[64];
    CK_ULONG ol;
    /* RFC 4231 cases 2 and 1, alternating keys, three rounds: the second and third re-arm parked contexts. */
    for (int round = 0; round < 3; round++) {
        ol = sizeof out;
        CHECK_RV(F->C_SignInit(g_s, &m, a), CKR_OK);
        CHECK_RV(F->C_Sign(g_s, (CK_BYTE *)"what do ya want for nothing?", 28, out, &ol), CKR_OK);
        CHECK(p11t_hex_eq(out, ol, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
        ol = sizeof out;
        CHECK_RV(F->C_SignInit(g_s, &m, b), CKR_OK);
        CHECK_RV(F->C_Sign(g_s, (CK_BYTE *)"Hi There", 8, out, &ol), CKR_OK);
        CHECK(p11t_hex_eq(out, ol, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
    }
    /* Verify re-arms the context the sign parked; a wrong MAC still fails. */
    CK_BYTE good[32];
    memcpy(good, out, 32);
    CHECK_RV(F->C_VerifyInit(g_s, &m, b), CKR_OK);
    CHECK_RV(F->C_Verify(g_s, (CK_BYTE *)"Hi There", 8, good, 32), CKR_OK);
    good[0] ^= 1;
    CHECK_RV(F->C_VerifyInit(g_s, &m, b), CKR_OK);
    CHECK_RV(F->C_Verify(g_s, (CK_BYTE *)"Hi There", 8, good, 32), CKR_SIGNATURE_INVALID);
    /* Same key, other mechanisms and _GENERAL lengths in turn. */
    CHECK(mac_ok(g_s, a, CKM_SHA384_HMAC, 0, jefe, 4, "sha-384 now"));
    CHECK(mac_ok(g_s, a, CKM_SHA256_HMAC_GENERAL, 16, jefe, 4, "general 16"));
    CHECK(mac_ok(g_s, a, CKM_SHA256_HMAC_GENERAL, 32, jefe, 4, "general 32"));
    CHECK(mac_ok(g_s, a, CKM_SHA256_HMAC, 0, jefe, 4, "plain again"));
    CK_ULONG bad = 33;
    CK_MECHANISM mb = {CKM_SHA256_HMAC_GENERAL, &bad, sizeof bad};
    CHECK_RV(F->C_SignInit(g_s, &mb, a), CKR_MECHANISM_PARAM_INVALID);
    CHECK(mac_ok(g_s, a, CKM_SHA256_HMAC, 0, jefe, 4, "after a refused init"));
    /* A multi-part MAC ended by an error after an update: the next operation starts clean. */
    CHECK_RV(F->C_SignInit(g_s, &m, a), CKR_OK);
    CHECK_RV(F->C_SignUpdate(g_s, (CK_BYTE *)"junk that must not leak", 23), CKR_OK);
    CHECK_RV(F->C_SignUpdate(g_s, NULL, 5), CKR_ARGUMENTS_BAD); /* ends the operation */
    CHECK_RV(F->C_SignFinal(g_s, out, &ol), CKR_OPERATION_NOT_INITIALIZED);
    CHECK(mac_ok(g_s, a, CKM_SHA256_HMAC, 0, jefe, 4, "clean start"));
    /* Multi-part on a re-armed context. */
    ol = sizeof out;
    CHECK_RV(F->C_SignInit(g_s, &m, a), CKR_OK);
    CHECK_RV(F->C_SignUpdate(g_s, (CK_BYTE *)"what do ya ", 11), CKR_OK);
    CHECK_RV(F->C_SignUpdate(g_s, (CK_BYTE *)"want for nothing?", 17), CKR_OK);
    CHECK_RV(F->C_SignFinal(g_s, out, &ol), CKR_OK);
    CHECK(p11t_hex_eq(out, ol, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    /* A destroyed key's parked contexts go with it: its successor MACs with its own value. */
    CHECK_RV(F->C_DestroyObject(g_s, a), CKR_OK);
    CHECK_RV(F->C_SignInit(g_s, &m, a), CKR_KEY_HANDLE_INVALID);
    static const char other[] = "Jeff";
    CK_OBJECT_HANDLE a2 = make_key(g_s, other, 4);
    CHECK(mac_ok(g_s, a2, CKM_SHA256_HMAC, 0, other, 4, "what do ya want for nothing?"));
    CHECK_RV(F->C_DestroyObject(g_s, a2), CKR_OK);
    CHECK_RV(F->C_DestroyObject(g_s, b), CKR_OK);
}

struct worker {
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE k;
    int id, bad;
};

static const CK_BYTE g_shared_key[32] = "shared key, two threads, 32 b.";

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 1500; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "thread %d message %d", w->id, i);
        CK_MECHANISM_TYPE mech = i % 7 == 0 ? CKM_SHA384_HMAC : CKM_SHA256_HMAC;
        if (!mac_ok(w->s, w->k, mech, 0, g_shared_key, sizeof g_shared_key, msg))
            w->bad++;
    }
    return NULL;
}

static void test_two_threads(void)
{
    CK_OBJECT_HANDLE k = make_key(g_s, g_shared_key, sizeof g_shared_key);
    struct worker w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){.k = k, .id = i};
        CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION, NULL, NULL, &w[i].s), CKR_OK);
    }
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].bad == 0);
        CHECK_RV(F->C_CloseSession(w[i].s), CKR_OK);
    }
    CHECK_RV(F->C_DestroyObject(g_s, k), CKR_OK);
}

int main(int argc, char **argv)
{
    if (!p11t_setup(&P, argc, argv, NULL))
        return p11t_finish();
    REQUIRE_RV(F->C_Initialize(NULL), CKR_OK);
    REQUIRE_RV(p11t_init_token(&P, SLOT), CKR_OK);
    REQUIRE_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g_s), CKR_OK);
    REQUIRE_RV(F->C_Login(g_s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    test_rfc4231();
    test_two_threads();
    CHECK_RV(F->C_CloseSession(g_s), CKR_OK);
    CHECK_RV(F->C_Finalize(NULL), CKR_OK);
    return p11t_finish();
}
