/*
 * The issue-2 acceptance flow through the real module in one process:
 * token init, user PIN init, login, object create/find/get/set/copy/destroy,
 * random, digests, wrong-PIN counting with the token flags and lockout at
 * max_failed_logins (3 in the test config), re-init refused with a wrong SO
 * PIN and accepted with the right one (destroying every object).
 */
#include <stdio.h>
#include <string.h>

#include "p11_util.h"

static struct p11 P;
#define F (P.f)
#define SLOT ((CK_SLOT_ID)0)

static CK_FLAGS token_flags(void)
{
    CK_TOKEN_INFO ti;
    memset(&ti, 0, sizeof ti);
    CHECK_RV(F->C_GetTokenInfo(SLOT, &ti), CKR_OK);
    return ti.flags;
}

static CK_ULONG find_count(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *first)
{
    CK_OBJECT_HANDLE h[16];
    CK_ULONG got = 0;
    CHECK_RV(F->C_FindObjectsInit(s, t, n), CKR_OK);
    CHECK_RV(F->C_FindObjects(s, h, 16, &got), CKR_OK);
    CHECK_RV(F->C_FindObjectsFinal(s), CKR_OK);
    if (first != NULL && got > 0)
        *first = h[0];
    return got;
}

static void test_token_info_after_init(void)
{
    CK_TOKEN_INFO ti;
    CHECK_RV(F->C_GetTokenInfo(SLOT, &ti), CKR_OK);
    CHECK((ti.flags & CKF_TOKEN_INITIALIZED) != 0);
    CHECK((ti.flags & CKF_USER_PIN_INITIALIZED) != 0);
    CHECK((ti.flags & CKF_LOGIN_REQUIRED) != 0);
    CK_UTF8CHAR want[32];
    p11t_pad(want, 32, "it-token");
    CHECK(memcmp(ti.label, want, 32) == 0);
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8;
    CHECK_RV(F->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    CHECK(n == 2 && slots[0] == 0 && slots[1] == 1); /* stable ids 0..slot_count-1 */
}

static void test_objects(CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    char label[] = "it-data", app[] = "it-app", value[] = "hello, token";
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},       {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},     {CKA_LABEL, label, sizeof label - 1},
        {CKA_APPLICATION, app, sizeof app - 1}, {CKA_VALUE, value, sizeof value - 1},
    };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, h2 = CK_INVALID_HANDLE, found = CK_INVALID_HANDLE;
    CHECK_RV(F->C_CreateObject(s, tmpl, 6, &h), CKR_OK);
    CHECK(h != CK_INVALID_HANDLE);

    CK_ATTRIBUTE by_label = {CKA_LABEL, label, sizeof label - 1};
    CHECK(find_count(s, &by_label, 1, &found) == 1);
    CHECK(found == h);

    /* get: size query then value */
    CK_ATTRIBUTE get = {CKA_VALUE, NULL, 0};
    CHECK_RV(F->C_GetAttributeValue(s, h, &get, 1), CKR_OK);
    CHECK(get.ulValueLen == sizeof value - 1);
    char buf[64] = {0};
    get.pValue = buf;
    get.ulValueLen = sizeof buf;
    CHECK_RV(F->C_GetAttributeValue(s, h, &get, 1), CKR_OK);
    CHECK(get.ulValueLen == sizeof value - 1 && memcmp(buf, value, get.ulValueLen) == 0);

    /* set: new label, then found by it */
    char label2[] = "it-data-renamed";
    CK_ATTRIBUTE set = {CKA_LABEL, label2, sizeof label2 - 1};
    CHECK_RV(F->C_SetAttributeValue(s, h, &set, 1), CKR_OK);
    CHECK(find_count(s, &set, 1, NULL) == 1);
    CHECK(find_count(s, &by_label, 1, NULL) == 0);

    /* copy with a changed label: both share CKA_APPLICATION, unique ids differ */
    char label3[] = "it-copy";
    CK_ATTRIBUTE copy_t[] = {{CKA_LABEL, label3, sizeof label3 - 1}};
    CHECK_RV(F->C_CopyObject(s, h, copy_t, 1, &h2), CKR_OK);
    CHECK(h2 != CK_INVALID_HANDLE && h2 != h);
    CK_ATTRIBUTE by_app = {CKA_APPLICATION, app, sizeof app - 1};
    CHECK(find_count(s, &by_app, 1, NULL) == 2);
    char u1[64] = {0}, u2[64] = {0};
    CK_ATTRIBUTE uid1 = {CKA_UNIQUE_ID, u1, sizeof u1}, uid2 = {CKA_UNIQUE_ID, u2, sizeof u2};
    CHECK_RV(F->C_GetAttributeValue(s, h, &uid1, 1), CKR_OK);
    CHECK_RV(F->C_GetAttributeValue(s, h2, &uid2, 1), CKR_OK);
    CHECK(uid1.ulValueLen > 0 && (uid1.ulValueLen != uid2.ulValueLen || memcmp(u1, u2, uid1.ulValueLen) != 0));
    /* CKA_UNIQUE_ID is read-only */
    CHECK_RV(F->C_SetAttributeValue(s, h, &uid2, 1), CKR_ATTRIBUTE_READ_ONLY);

    /* session objects: ids are 32 hex digits and differ (prefix per C_Initialize + counter) */
    {
        CK_OBJECT_CLASS dcls = CKO_DATA;
        CK_BBOOL ff = CK_FALSE;
        CK_ATTRIBUTE dt[] = {{CKA_CLASS, &dcls, sizeof dcls}, {CKA_TOKEN, &ff, sizeof ff}};
        CK_OBJECT_HANDLE sh[3];
        char su[3][64];
        for (int i = 0; i < 3; i++) {
            CK_ATTRIBUTE q = {CKA_UNIQUE_ID, su[i], sizeof su[i]};
            memset(su[i], 0, sizeof su[i]);
            CHECK_RV(F->C_CreateObject(s, dt, 2, &sh[i]), CKR_OK);
            CHECK_RV(F->C_GetAttributeValue(s, sh[i], &q, 1), CKR_OK);
            CHECK(q.ulValueLen == 32 && strspn(su[i], "0123456789abcdef") == 32);
        }
        CHECK(strcmp(su[0], su[1]) != 0 && strcmp(su[1], su[2]) != 0 && strcmp(su[0], su[2]) != 0);
        for (int i = 0; i < 3; i++)
            CHECK_RV(F->C_DestroyObject(s, sh[i]), CKR_OK);
    }

    /* destroy the copy */
    CHECK_RV(F->C_DestroyObject(s, h2), CKR_OK);
    CHECK(find_count(s, &by_app, 1, NULL) == 1);
    CHECK_RV(F->C_DestroyObject(s, h2), CKR_OBJECT_HANDLE_INVALID);

    /* non-modifiable object refuses SetAttributeValue */
    CK_ATTRIBUTE ro_t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_MODIFIABLE, &no, sizeof no},
                           {CKA_LABEL, label3, sizeof label3 - 1}};
    CK_OBJECT_HANDLE h3 = CK_INVALID_HANDLE;
    CHECK_RV(F->C_CreateObject(s, ro_t, 3, &h3), CKR_OK);
    CHECK_RV(F->C_SetAttributeValue(s, h3, &set, 1), CKR_ACTION_PROHIBITED);
    CHECK_RV(F->C_DestroyObject(s, h3), CKR_OK);

    /* sensitive secret: value never readable */
    CK_OBJECT_CLASS sk = CKO_SECRET_KEY;
    CK_KEY_TYPE gk = CKK_GENERIC_SECRET;
    CK_BYTE key[32];
    memset(key, 0x5a, sizeof key);
    CK_ATTRIBUTE sk_t[] = {{CKA_CLASS, &sk, sizeof sk}, {CKA_KEY_TYPE, &gk, sizeof gk},
                           {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_VALUE, key, sizeof key}};
    CK_OBJECT_HANDLE hk = CK_INVALID_HANDLE;
    CHECK_RV(F->C_CreateObject(s, sk_t, 4, &hk), CKR_OK);
    CK_ATTRIBUTE kv = {CKA_VALUE, buf, sizeof buf};
    CHECK_RV(F->C_GetAttributeValue(s, hk, &kv, 1), CKR_ATTRIBUTE_SENSITIVE);
    CHECK(kv.ulValueLen == CK_UNAVAILABLE_INFORMATION);
    CK_ATTRIBUTE unsens = {CKA_SENSITIVE, &no, sizeof no};
    CHECK_RV(F->C_SetAttributeValue(s, hk, &unsens, 1), CKR_ATTRIBUTE_READ_ONLY);
}

static void test_random(CK_SESSION_HANDLE s)
{
    CK_BYTE a[32], b[32], zero[32] = {0};
    CHECK_RV(F->C_GenerateRandom(s, a, sizeof a), CKR_OK);
    CHECK_RV(F->C_GenerateRandom(s, b, sizeof b), CKR_OK);
    CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(a, zero, sizeof a) != 0);
    CK_BYTE seed[16] = {1, 2, 3};
    CK_RV rv = F->C_SeedRandom(s, seed, sizeof seed);
    CHECK(rv == CKR_OK || rv == CKR_RANDOM_SEED_NOT_SUPPORTED);
}

static const struct {
    CK_MECHANISM_TYPE mech;
    const char *hex; /* digest of "abc" (FIPS 180-4 / FIPS 202 examples) */
} g_digests[] = {
    {CKM_SHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {CKM_SHA224, "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
    {CKM_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {CKM_SHA384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
    {CKM_SHA512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd4"
                 "54d4423643ce80e2a9ac94fa54ca49f"},
    {CKM_SHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
};

static void test_digests(CK_SESSION_HANDLE s)
{
    for (size_t i = 0; i < sizeof g_digests / sizeof g_digests[0]; i++) {
        CK_MECHANISM m = {g_digests[i].mech, NULL, 0};
        CK_BYTE out[64];
        CK_ULONG len = 0;
        /* single part with a size query first */
        CHECK_RV(F->C_DigestInit(s, &m), CKR_OK);
        CHECK_RV(F->C_Digest(s, (CK_BYTE *)"abc", 3, NULL, &len), CKR_OK);
        CHECK(len == strlen(g_digests[i].hex) / 2);
        len = sizeof out;
        CHECK_RV(F->C_Digest(s, (CK_BYTE *)"abc", 3, out, &len), CKR_OK);
        CHECK(p11t_hex_eq(out, len, g_digests[i].hex));
        /* multi part */
        CHECK_RV(F->C_DigestInit(s, &m), CKR_OK);
        CHECK_RV(F->C_DigestUpdate(s, (CK_BYTE *)"a", 1), CKR_OK);
        CHECK_RV(F->C_DigestUpdate(s, (CK_BYTE *)"bc", 2), CKR_OK);
        len = sizeof out;
        CHECK_RV(F->C_DigestFinal(s, out, &len), CKR_OK);
        CHECK(p11t_hex_eq(out, len, g_digests[i].hex));
    }
}

static void test_lockout(CK_SESSION_HANDLE s)
{
    CK_UTF8CHAR bad[] = "wrong-pin-0";
    CK_ULONG badlen = sizeof bad - 1;
    /* one failure, then a success resets the counter */
    CHECK_RV(F->C_Login(s, CKU_USER, bad, badlen), CKR_PIN_INCORRECT);
    CHECK((token_flags() & CKF_USER_PIN_COUNT_LOW) != 0);
    CHECK_RV(F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    CHECK((token_flags() & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY)) == 0);
    CHECK_RV(F->C_Logout(s), CKR_OK);

    CHECK_RV(F->C_Login(s, CKU_USER, bad, badlen), CKR_PIN_INCORRECT);
    CK_FLAGS fl = token_flags();
    CHECK((fl & CKF_USER_PIN_COUNT_LOW) != 0 && (fl & CKF_USER_PIN_FINAL_TRY) == 0);
    CHECK_RV(F->C_Login(s, CKU_USER, bad, badlen), CKR_PIN_INCORRECT);
    fl = token_flags();
    CHECK((fl & CKF_USER_PIN_FINAL_TRY) != 0 && (fl & CKF_USER_PIN_LOCKED) == 0);
    CK_RV rv = F->C_Login(s, CKU_USER, bad, badlen);
    CHECK(rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED);
    CHECK((token_flags() & CKF_USER_PIN_LOCKED) != 0);
    /* locked: even the right PIN is refused */
    CHECK_RV(F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_PIN_LOCKED);

    /* the SO resets the user PIN (C_InitPIN), which unlocks it */
    CHECK_RV(F->C_Login(s, CKU_SO, (CK_UTF8CHAR *)TEST_SO_PIN, strlen(TEST_SO_PIN)), CKR_OK);
    CHECK_RV(F->C_InitPIN(s, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    CHECK_RV(F->C_Logout(s), CKR_OK);
    CHECK((token_flags() & CKF_USER_PIN_LOCKED) == 0);
    CHECK_RV(F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    CHECK_RV(F->C_Logout(s), CKR_OK);
}

static void test_reinit(void)
{
    CK_UTF8CHAR label[32];
    p11t_pad(label, 32, "it-token-2");
    CK_UTF8CHAR bad[] = "not-the-so-pin";
    CHECK_RV(F->C_InitToken(SLOT, bad, sizeof bad - 1, label), CKR_PIN_INCORRECT);
    CK_TOKEN_INFO ti;
    CHECK_RV(F->C_GetTokenInfo(SLOT, &ti), CKR_OK);
    CK_UTF8CHAR old[32];
    p11t_pad(old, 32, "it-token");
    CHECK(memcmp(ti.label, old, 32) == 0); /* refused re-init changed nothing */

    CHECK_RV(F->C_InitToken(SLOT, (CK_UTF8CHAR *)TEST_SO_PIN, strlen(TEST_SO_PIN), label), CKR_OK);
    CHECK_RV(F->C_GetTokenInfo(SLOT, &ti), CKR_OK);
    CHECK(memcmp(ti.label, label, 32) == 0);
    CHECK((ti.flags & CKF_USER_PIN_INITIALIZED) == 0);
    /* every object is gone: set a user PIN again and search */
    CK_SESSION_HANDLE s;
    CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
    CHECK_RV(F->C_Login(s, CKU_SO, (CK_UTF8CHAR *)TEST_SO_PIN, strlen(TEST_SO_PIN)), CKR_OK);
    CHECK_RV(F->C_InitPIN(s, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    CHECK_RV(F->C_Logout(s), CKR_OK);
    CHECK_RV(F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    CHECK(find_count(s, NULL, 0, NULL) == 0);
    CHECK_RV(F->C_CloseSession(s), CKR_OK);
}

int main(int argc, char **argv)
{
    if (!p11t_setup(&P, argc, argv, NULL))
        return p11t_finish();
    REQUIRE_RV(F->C_Initialize(NULL), CKR_OK);
    CK_TOKEN_INFO ti;
    REQUIRE_RV(F->C_GetTokenInfo(SLOT, &ti), CKR_OK);
    CHECK((ti.flags & CKF_TOKEN_INITIALIZED) == 0);
    REQUIRE_RV(p11t_init_token(&P, SLOT), CKR_OK);
    test_token_info_after_init();

    CK_SESSION_HANDLE s;
    REQUIRE_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
    REQUIRE_RV(F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    CK_SESSION_INFO si;
    CHECK_RV(F->C_GetSessionInfo(s, &si), CKR_OK);
    CHECK(si.state == CKS_RW_USER_FUNCTIONS && si.slotID == SLOT);
    test_objects(s);
    test_random(s);
    test_digests(s);
    CHECK_RV(F->C_Logout(s), CKR_OK);
    test_lockout(s);
    CHECK_RV(F->C_CloseSession(s), CKR_OK);
    test_reinit();
    CHECK_RV(F->C_Finalize(NULL), CKR_OK);
    return p11t_finish();
}
