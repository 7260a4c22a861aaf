/* Unit tests of the core, calling chsm_core_* directly on a volatile (or temp-dir) store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "crypto/crypto.h"

#define SO_PIN "so-pin-1234"
#define USER_PIN "user-1234"
#define U(s) (CK_UTF8CHAR_PTR)(s)
#define L(s) (CK_ULONG)strlen(s)

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static void make_config(struct chsm_config *c, const char *storage)
{
    assert_int_equal(chsm_config_defaults(c), CKR_OK);
    free(c->token.storage_path);
    c->token.storage_path = strdup(storage);
    c->security.pbkdf2_iterations = 100000;
    c->security.max_failed_logins = 3;
    c->token.slot_count = 2;
    c->token.max_sessions = 8;
    c->token.max_rw_sessions = 4;
    c->audit.enabled = false;
}

static void core_up(const char *storage)
{
    struct chsm_config c;
    make_config(&c, storage);
    struct chsm_core_options o = {.config = &c};
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    chsm_config_free(&c);
}

static CK_SESSION_HANDLE open_s(struct chsm_app *app, CK_FLAGS extra)
{
    CK_SESSION_HANDLE h = 0;
    assert_int_equal(chsm_core_OpenSession(app, 0, CKF_SERIAL_SESSION | extra, NULL, NULL, &h), CKR_OK);
    return h;
}

/* Fresh volatile core with an initialised token and user PIN. */
static int setup(void **state)
{
    (void)state;
    core_up(":memory:");
    struct chsm_app *a = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    memcpy(label, "unit", 4);
    assert_int_equal(chsm_core_InitToken(a, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    CK_SESSION_HANDLE h = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, h, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(a, h, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_CloseSession(a, h), CKR_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    return 0;
}

static CK_STATE state_of(struct chsm_app *a, CK_SESSION_HANDLE h)
{
    CK_SESSION_INFO si;
    assert_int_equal(chsm_core_GetSessionInfo(a, h, &si), CKR_OK);
    return si.state;
}

static CK_FLAGS token_flags(void)
{
    CK_TOKEN_INFO ti;
    assert_int_equal(chsm_core_GetTokenInfo(chsm_core_default_app(), 0, &ti), CKR_OK);
    return ti.flags;
}

static void test_lifecycle(void **state)
{
    (void)state;
    assert_int_equal(chsm_core_initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    CK_ULONG n = 0;
    assert_int_equal(chsm_core_GetSlotList(chsm_core_default_app(), CK_TRUE, NULL, &n), CKR_OK);
    assert_int_equal(n, 2);
    CK_SLOT_ID ids[1];
    n = 1;
    assert_int_equal(chsm_core_GetSlotList(chsm_core_default_app(), CK_TRUE, ids, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 2);
    CK_TOKEN_INFO t0, t1;
    assert_int_equal(chsm_core_GetTokenInfo(chsm_core_default_app(), 0, &t0), CKR_OK);
    assert_int_equal(chsm_core_GetTokenInfo(chsm_core_default_app(), 1, &t1), CKR_OK);
    assert_memory_not_equal(t0.serialNumber, t1.serialNumber, 16);
    assert_true(t0.flags & CKF_TOKEN_INITIALIZED);
    assert_true(t0.flags & CKF_USER_PIN_INITIALIZED);
    assert_false(t1.flags & CKF_TOKEN_INITIALIZED);
    assert_int_equal(chsm_core_GetTokenInfo(chsm_core_default_app(), 2, &t1), CKR_SLOT_ID_INVALID);
    CK_MECHANISM_INFO mi;
    assert_int_equal(chsm_core_GetMechanismInfo(chsm_core_default_app(), 0, CKM_SHA256, &mi), CKR_OK);
    assert_true(mi.flags & CKF_DIGEST);
    assert_int_equal(chsm_core_GetMechanismInfo(chsm_core_default_app(), 0, CKM_MD5, &mi), CKR_MECHANISM_INVALID);
    assert_int_equal(chsm_core_GetMechanismList(chsm_core_default_app(), 0, NULL, &n), CKR_OK);
    assert_true(n > 8); /* digests plus the mechanism rows (test_mech checks them) */
    assert_string_equal(chsm_mech_name(CKM_SHA256), "CKM_SHA256");
    CK_MECHANISM_TYPE m;
    assert_true(chsm_mech_from_name("CKM_SHA3_256", &m));
    assert_int_equal(m, CKM_SHA3_256);
    assert_false(chsm_mech_from_name("CKM_NOPE", &m));
    /* Every listed mechanism has a name, and the name leads back to it (the binary search over the
     * sorted index agrees with the table); an unknown one is printed by value. */
    CK_MECHANISM_TYPE list[128];
    CK_ULONG cnt = CHSM_ARRAY_LEN(list);
    assert_int_equal(chsm_core_GetMechanismList(chsm_core_default_app(), 0, list, &cnt), CKR_OK);
    for (CK_ULONG i = 0; i < cnt; i++) {
        const char *name = chsm_mech_name(list[i]);
        assert_int_equal(strncmp(name, "CKM_0x", 6) != 0, 1);
        assert_true(chsm_mech_from_name(name, &m));
        assert_int_equal(m, list[i]);
    }
    const CK_MECHANISM_TYPE ends[] = {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256_KEY_DERIVATION, CKM_AES_KEY_WRAP_KWP};
    for (size_t i = 0; i < CHSM_ARRAY_LEN(ends); i++) {
        assert_true(chsm_mech_from_name(chsm_mech_name(ends[i]), &m));
        assert_int_equal(m, ends[i]);
    }
    assert_string_equal(chsm_mech_name(CKM_MD5), "CKM_0x00000210");
    assert_string_equal(chsm_mech_name(CKM_VENDOR_DEFINED | 7), "CKM_0x80000007");
}

static void test_session_states(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app();
    CK_SESSION_HANDLE h;
    assert_int_equal(chsm_core_OpenSession(a, 0, CKF_RW_SESSION, NULL, NULL, &h), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    CK_SESSION_HANDLE ro = open_s(a, 0), rw = open_s(a, CKF_RW_SESSION);
    assert_int_equal(state_of(a, ro), CKS_RO_PUBLIC_SESSION);
    assert_int_equal(state_of(a, rw), CKS_RW_PUBLIC_SESSION);
    /* SO login refused while an RO session exists */
    assert_int_equal(chsm_core_Login(a, rw, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_SESSION_READ_ONLY_EXISTS);
    assert_int_equal(chsm_core_Login(a, ro, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(state_of(a, ro), CKS_RO_USER_FUNCTIONS);
    assert_int_equal(state_of(a, rw), CKS_RW_USER_FUNCTIONS);
    assert_int_equal(chsm_core_Login(a, ro, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_USER_ALREADY_LOGGED_IN);
    assert_int_equal(chsm_core_Login(a, ro, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    assert_int_equal(chsm_core_Logout(a, rw), CKR_OK);
    assert_int_equal(chsm_core_Logout(a, rw), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(state_of(a, ro), CKS_RO_PUBLIC_SESSION);
    assert_int_equal(chsm_core_CloseSession(a, ro), CKR_OK);
    assert_int_equal(chsm_core_CloseSession(a, ro), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(chsm_core_Login(a, rw, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(state_of(a, rw), CKS_RW_SO_FUNCTIONS);
    assert_int_equal(chsm_core_OpenSession(a, 0, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_SESSION_READ_WRITE_SO_EXISTS);
    /* Closing the app's last session logs it out. */
    assert_int_equal(chsm_core_CloseSession(a, rw), CKR_OK);
    rw = open_s(a, CKF_RW_SESSION);
    assert_int_equal(state_of(a, rw), CKS_RW_PUBLIC_SESSION);
    /* counts: max_rw_sessions 4, max_sessions 8 */
    CK_SESSION_HANDLE more[8];
    for (int i = 0; i < 3; i++)
        more[i] = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_OpenSession(a, 0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h), CKR_SESSION_COUNT);
    for (int i = 3; i < 7; i++)
        more[i] = open_s(a, 0);
    assert_int_equal(chsm_core_OpenSession(a, 0, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_SESSION_COUNT);
    CK_TOKEN_INFO ti;
    assert_int_equal(chsm_core_GetTokenInfo(a, 0, &ti), CKR_OK);
    assert_int_equal(ti.ulSessionCount, 8);
    assert_int_equal(ti.ulRwSessionCount, 4);
    (void)more;
    assert_int_equal(chsm_core_CloseAllSessions(a, 0), CKR_OK);
    assert_int_equal(chsm_core_GetSessionInfo(a, rw, &(CK_SESSION_INFO){0}), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(chsm_core_GetTokenInfo(a, 0, &ti), CKR_OK);
    assert_int_equal(ti.ulSessionCount, 0);
    assert_int_equal(chsm_core_GetSessionInfo(a, 0xdead, &(CK_SESSION_INFO){0}), CKR_SESSION_HANDLE_INVALID);
}

static CK_OBJECT_HANDLE make_data(struct chsm_app *a, CK_SESSION_HANDLE h, const char *label, CK_BBOOL token,
                                  CK_BBOOL priv)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)label, L(label)},
                        {CKA_TOKEN, &token, 1},
                        {CKA_PRIVATE, &priv, 1},
                        {CKA_VALUE, "hello", 5}};
    CK_OBJECT_HANDLE o = 0;
    assert_int_equal(chsm_core_CreateObject(a, h, t, 5, &o), CKR_OK);
    return o;
}

static CK_OBJECT_HANDLE make_aes(struct chsm_app *a, CK_SESSION_HANDLE h, CK_BBOOL token, CK_BBOOL sensitive,
                                 CK_BBOOL extractable)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},    {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &token, 1},            {CKA_SENSITIVE, &sensitive, 1},
                        {CKA_EXTRACTABLE, &extractable, 1}, {CKA_VALUE, (void *)key, sizeof(key)},
                        {CKA_LABEL, "aes", 3}};
    CK_OBJECT_HANDLE o = 0;
    assert_int_equal(chsm_core_CreateObject(a, h, t, 7, &o), CKR_OK);
    return o;
}

static void test_pin_lockout(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app();
    CK_SESSION_HANDLE h = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_OBJECT_HANDLE keep = make_data(a, h, "keep", CK_TRUE, CK_TRUE);
    assert_int_equal(chsm_core_Logout(a, h), CKR_OK);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U("abc"), 3), CKR_PIN_LEN_RANGE);
    assert_int_equal(token_flags() & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED), 0);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U("wrong-pin"), 9), CKR_PIN_INCORRECT);
    assert_true(token_flags() & CKF_USER_PIN_COUNT_LOW);
    assert_false(token_flags() & CKF_USER_PIN_FINAL_TRY);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U("wrong-pin"), 9), CKR_PIN_INCORRECT);
    assert_true(token_flags() & CKF_USER_PIN_FINAL_TRY);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U("wrong-pin"), 9), CKR_PIN_INCORRECT);
    assert_true(token_flags() & CKF_USER_PIN_LOCKED);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_PIN_LOCKED);
    /* The SO resets the locked PIN; objects survive. */
    assert_int_equal(chsm_core_Login(a, h, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(a, h, U("new-user-pin"), 12), CKR_OK);
    assert_int_equal(chsm_core_Logout(a, h), CKR_OK);
    assert_false(token_flags() & CKF_USER_PIN_LOCKED);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U("new-user-pin"), 12), CKR_OK);
    CK_BYTE buf[16];
    CK_ATTRIBUTE g = {CKA_VALUE, buf, sizeof(buf)};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, keep, &g, 1), CKR_OK);
    assert_int_equal(g.ulValueLen, 5);
    assert_memory_equal(buf, "hello", 5);
    /* C_SetPIN in a user session: old PIN checked, new length checked */
    assert_int_equal(chsm_core_SetPIN(a, h, U("bad-old-pin"), 11, U("another-1"), 9), CKR_PIN_INCORRECT);
    assert_int_equal(chsm_core_SetPIN(a, h, U("new-user-pin"), 12, U("x"), 1), CKR_PIN_LEN_RANGE);
    assert_int_equal(chsm_core_SetPIN(a, h, U("new-user-pin"), 12, U("another-1"), 9), CKR_OK);
    assert_int_equal(chsm_core_Logout(a, h), CKR_OK);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U("another-1"), 9), CKR_OK);
    CK_SESSION_HANDLE ro = open_s(a, 0);
    assert_int_equal(chsm_core_SetPIN(a, ro, U("another-1"), 9, U("another-2"), 9), CKR_SESSION_READ_ONLY);
    assert_int_equal(chsm_core_InitPIN(a, h, U("another-2"), 9), CKR_USER_NOT_LOGGED_IN);
}

static void test_reinit(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    CK_SESSION_HANDLE h = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    make_data(a, h, "gone", CK_TRUE, CK_FALSE);
    assert_int_equal(chsm_core_InitToken(a, 0, U(SO_PIN), L(SO_PIN), label), CKR_SESSION_EXISTS);
    assert_int_equal(chsm_core_CloseSession(a, h), CKR_OK);
    assert_int_equal(chsm_core_InitToken(a, 0, U("wrong-so-pin"), 12, label), CKR_PIN_INCORRECT);
    assert_true(token_flags() & CKF_SO_PIN_COUNT_LOW);
    assert_true(token_flags() & CKF_USER_PIN_INITIALIZED); /* untouched */
    assert_int_equal(chsm_core_InitToken(a, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    assert_false(token_flags() & CKF_USER_PIN_INITIALIZED);
    h = open_s(a, 0);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE found[4];
    CK_ULONG n = 9;
    assert_int_equal(chsm_core_FindObjectsInit(a, h, &t, 1), CKR_OK);
    assert_int_equal(chsm_core_FindObjects(a, h, found, 4, &n), CKR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(chsm_core_FindObjectsFinal(a, h), CKR_OK);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_USER_PIN_NOT_INITIALIZED);
}

static void test_attribute_policy(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app();
    CK_SESSION_HANDLE ro = open_s(a, 0), h = open_s(a, CKF_RW_SESSION);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_OBJECT_HANDLE o = 0;
    /* private objects need a user login; token objects need an RW session */
    CK_ATTRIBUTE priv[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_PRIVATE, &yes, 1}};
    assert_int_equal(chsm_core_CreateObject(a, h, priv, 2, &o), CKR_USER_NOT_LOGGED_IN);
    CK_ATTRIBUTE tok[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_TOKEN, &yes, 1}};
    assert_int_equal(chsm_core_CreateObject(a, ro, tok, 2, &o), CKR_SESSION_READ_ONLY);
    /* unknown type, bad lengths, read-only attributes, missing class */
    CK_ATTRIBUTE unk[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_VENDOR_DEFINED + 77, "x", 1}};
    assert_int_equal(chsm_core_CreateObject(a, h, unk, 2, &o), CKR_ATTRIBUTE_TYPE_INVALID);
    CK_ULONG bad = 1;
    CK_ATTRIBUTE badb[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_TOKEN, &bad, sizeof(bad)}};
    assert_int_equal(chsm_core_CreateObject(a, h, badb, 2, &o), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE badu[] = {{CKA_CLASS, &cls, 2}};
    assert_int_equal(chsm_core_CreateObject(a, h, badu, 1, &o), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE uid[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_UNIQUE_ID, "00", 2}};
    assert_int_equal(chsm_core_CreateObject(a, h, uid, 2, &o), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE nocls[] = {{CKA_LABEL, "x", 1}};
    assert_int_equal(chsm_core_CreateObject(a, h, nocls, 1, &o), CKR_TEMPLATE_INCOMPLETE);
    CK_ATTRIBUTE notfor[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_SENSITIVE, &yes, 1}};
    assert_int_equal(chsm_core_CreateObject(a, h, notfor, 2, &o), CKR_ATTRIBUTE_TYPE_INVALID);

    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_OBJECT_HANDLE k = make_aes(a, h, CK_TRUE, CK_TRUE, CK_FALSE);
    /* GetAttributeValue: sensitive value unavailable, the rest still filled */
    CK_BYTE v[32], lab[8];
    CK_ULONG vl = 0;
    CK_ATTRIBUTE g[] = {{CKA_VALUE, v, sizeof(v)}, {CKA_LABEL, lab, sizeof(lab)}, {CKA_VALUE_LEN, &vl, sizeof(vl)}};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, k, g, 3), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(g[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(g[1].ulValueLen, 3);
    assert_memory_equal(lab, "aes", 3);
    assert_int_equal(vl, 16);
    CK_BBOOL as = CK_TRUE, ne = CK_TRUE, local = CK_TRUE;
    CK_ATTRIBUTE g2[] = {{CKA_ALWAYS_SENSITIVE, &as, 1}, {CKA_NEVER_EXTRACTABLE, &ne, 1}, {CKA_LOCAL, &local, 1}};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, k, g2, 3), CKR_OK);
    assert_false(as); /* imported keys were seen in clear */
    assert_false(ne);
    assert_false(local);
    /* latches */
    CK_ATTRIBUTE unsens = {CKA_SENSITIVE, &no, 1};
    assert_int_equal(chsm_core_SetAttributeValue(a, h, k, &unsens, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE mkext = {CKA_EXTRACTABLE, &yes, 1};
    assert_int_equal(chsm_core_SetAttributeValue(a, h, k, &mkext, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_OBJECT_HANDLE k2 = make_aes(a, h, CK_FALSE, CK_FALSE, CK_TRUE);
    CK_ATTRIBUTE g3 = {CKA_VALUE, v, sizeof(v)};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, k2, &g3, 1), CKR_OK);
    assert_int_equal(g3.ulValueLen, 16);
    CK_ATTRIBUTE sens = {CKA_SENSITIVE, &yes, 1};
    assert_int_equal(chsm_core_SetAttributeValue(a, h, k2, &sens, 1), CKR_OK);
    g3.ulValueLen = sizeof(v);
    assert_int_equal(chsm_core_GetAttributeValue(a, h, k2, &g3, 1), CKR_ATTRIBUTE_SENSITIVE);
    CK_ATTRIBUTE ro_attr = {CKA_CLASS, &cls, sizeof(cls)};
    assert_int_equal(chsm_core_SetAttributeValue(a, h, k2, &ro_attr, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE vlen = {CKA_VALUE_LEN, &vl, sizeof(vl)};
    assert_int_equal(chsm_core_SetAttributeValue(a, h, k2, &vlen, 1), CKR_ATTRIBUTE_READ_ONLY);

    /* modifiable / copyable / destroyable */
    CK_ATTRIBUTE fixed[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_MODIFIABLE, &no, 1}, {CKA_COPYABLE, &no, 1},
                            {CKA_DESTROYABLE, &no, 1}};
    assert_int_equal(chsm_core_CreateObject(a, h, fixed, 4, &o), CKR_OK);
    CK_ATTRIBUTE rel = {CKA_LABEL, "new", 3};
    assert_int_equal(chsm_core_SetAttributeValue(a, h, o, &rel, 1), CKR_ACTION_PROHIBITED);
    CK_OBJECT_HANDLE c = 0;
    assert_int_equal(chsm_core_CopyObject(a, h, o, NULL, 0, &c), CKR_ACTION_PROHIBITED);
    assert_int_equal(chsm_core_DestroyObject(a, h, o), CKR_ACTION_PROHIBITED);
    /* copy with a template; the copy gets its own CKA_UNIQUE_ID */
    CK_OBJECT_HANDLE d = make_data(a, h, "orig", CK_FALSE, CK_FALSE);
    CK_ATTRIBUTE ct[] = {{CKA_LABEL, "copy", 4}, {CKA_TOKEN, &yes, 1}};
    assert_int_equal(chsm_core_CopyObject(a, h, d, ct, 2, &c), CKR_OK);
    char u1[33] = {0}, u2[33] = {0};
    CK_ATTRIBUTE gu = {CKA_UNIQUE_ID, u1, 32};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, d, &gu, 1), CKR_OK);
    assert_int_equal(gu.ulValueLen, 32);
    gu.pValue = u2;
    assert_int_equal(chsm_core_GetAttributeValue(a, h, c, &gu, 1), CKR_OK);
    assert_string_not_equal(u1, u2);
    CK_ATTRIBUTE ctro = {CKA_CLASS, &cls, sizeof(cls)};
    assert_int_equal(chsm_core_CopyObject(a, h, d, &ctro, 1, &o), CKR_ATTRIBUTE_READ_ONLY);
    /* size query and too-small buffers */
    CK_ATTRIBUTE q = {CKA_LABEL, NULL, 0};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, c, &q, 1), CKR_OK);
    assert_int_equal(q.ulValueLen, 4);
    CK_BYTE small[2];
    CK_ATTRIBUTE sm[] = {{CKA_LABEL, small, 2}, {CKA_SENSITIVE, small, 1}};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, c, sm, 2), CKR_ATTRIBUTE_TYPE_INVALID);
    assert_int_equal(sm[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(sm[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    sm[0].ulValueLen = 2;
    assert_int_equal(chsm_core_GetAttributeValue(a, h, c, sm, 1), CKR_BUFFER_TOO_SMALL);
    /* private visibility by login state */
    CK_OBJECT_HANDLE p = make_data(a, h, "secret-data", CK_TRUE, CK_TRUE);
    assert_int_equal(chsm_core_GetAttributeValue(a, h, p, &q, 1), CKR_OK);
    assert_int_equal(chsm_core_Logout(a, h), CKR_OK);
    assert_int_equal(chsm_core_GetAttributeValue(a, h, p, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(chsm_core_GetAttributeValue(a, h, k, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(chsm_core_GetAttributeValue(a, h, c, &q, 1), CKR_OK); /* public token copy still there */
    assert_int_equal(chsm_core_DestroyObject(a, ro, c), CKR_SESSION_READ_ONLY);
    assert_int_equal(chsm_core_DestroyObject(a, h, c), CKR_OK);
    assert_int_equal(chsm_core_DestroyObject(a, h, c), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_GetAttributeValue(a, h, p, &q, 1), CKR_OK);
    assert_int_equal(chsm_core_DestroyObject(a, h, 0xbad0bad), CKR_OBJECT_HANDLE_INVALID);
}

static CK_ULONG find_count(struct chsm_app *a, CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_OBJECT_HANDLE out[64];
    CK_ULONG got = 0, total = 0;
    assert_int_equal(chsm_core_FindObjectsInit(a, h, t, n), CKR_OK);
    do {
        assert_int_equal(chsm_core_FindObjects(a, h, out, 3, &got), CKR_OK);
        total += got;
    } while (got > 0);
    assert_int_equal(chsm_core_FindObjectsFinal(a, h), CKR_OK);
    return total;
}

static void test_find(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app();
    CK_SESSION_HANDLE h = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    for (int i = 0; i < 5; i++)
        make_data(a, h, i % 2 ? "odd" : "even", i < 3 ? CK_TRUE : CK_FALSE, CK_FALSE);
    make_aes(a, h, CK_TRUE, CK_TRUE, CK_FALSE);
    CK_ATTRIBUTE byl = {CKA_LABEL, "even", 4};
    assert_int_equal(find_count(a, h, &byl, 1), 3);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE byc = {CKA_CLASS, &cls, sizeof(cls)};
    assert_int_equal(find_count(a, h, &byc, 1), 1);
    assert_int_equal(find_count(a, h, NULL, 0), 6);
    CK_ATTRIBUTE two[] = {{CKA_LABEL, "odd", 3}, {CKA_TOKEN, &yes, 1}};
    assert_int_equal(find_count(a, h, two, 2), 1);
    /* a sensitive value never matches (no oracle) */
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CK_ATTRIBUTE byv = {CKA_VALUE, (void *)key, sizeof(key)};
    assert_int_equal(find_count(a, h, &byv, 1), 0);
    CK_ATTRIBUTE unk = {CKA_VENDOR_DEFINED + 5, "x", 1};
    assert_int_equal(find_count(a, h, &unk, 1), 0);
    CK_ULONG got;
    CK_OBJECT_HANDLE out[2];
    assert_int_equal(chsm_core_FindObjects(a, h, out, 2, &got), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(chsm_core_FindObjectsInit(a, h, NULL, 0), CKR_OK);
    assert_int_equal(chsm_core_FindObjectsInit(a, h, NULL, 0), CKR_OPERATION_ACTIVE);
    assert_int_equal(chsm_core_FindObjectsFinal(a, h), CKR_OK);
    assert_int_equal(chsm_core_FindObjectsFinal(a, h), CKR_OPERATION_NOT_INITIALIZED);
    /* session objects go with their session */
    CK_SESSION_HANDLE h2 = open_s(a, 0);
    make_data(a, h2, "temp", CK_FALSE, CK_FALSE);
    CK_ATTRIBUTE byt = {CKA_LABEL, "temp", 4};
    assert_int_equal(find_count(a, h, &byt, 1), 1);
    assert_int_equal(chsm_core_CloseSession(a, h2), CKR_OK);
    assert_int_equal(find_count(a, h, &byt, 1), 0);
}

static void test_two_apps(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app(), *b = NULL;
    assert_int_equal(chsm_app_new("client-b", &b), CKR_OK);
    CK_SESSION_HANDLE ha = open_s(a, CKF_RW_SESSION), hb = open_s(b, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, ha, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(state_of(a, ha), CKS_RW_USER_FUNCTIONS);
    assert_int_equal(state_of(b, hb), CKS_RW_PUBLIC_SESSION);
    CK_SESSION_INFO si;
    assert_int_equal(chsm_core_GetSessionInfo(b, ha, &si), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(chsm_core_CloseSession(b, ha), CKR_SESSION_HANDLE_INVALID);
    CK_OBJECT_HANDLE p = make_data(a, ha, "a-private", CK_TRUE, CK_TRUE);
    CK_OBJECT_HANDLE s = make_data(a, ha, "a-session", CK_FALSE, CK_FALSE);
    CK_ATTRIBUTE q = {CKA_LABEL, NULL, 0};
    assert_int_equal(chsm_core_GetAttributeValue(b, hb, p, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(chsm_core_GetAttributeValue(b, hb, s, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(chsm_core_Login(b, hb, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_GetAttributeValue(b, hb, p, &q, 1), CKR_OK);
    assert_int_equal(chsm_core_Logout(b, hb), CKR_OK);
    /* b's logout keeps a logged in */
    assert_int_equal(chsm_core_GetAttributeValue(a, ha, p, &q, 1), CKR_OK);
    chsm_app_free(b);
    assert_int_equal(state_of(a, ha), CKS_RW_USER_FUNCTIONS);
}

static void test_digest(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app();
    CK_SESSION_HANDLE h = open_s(a, 0);
    static const uint8_t abc_sha256[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                           0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                           0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    CK_MECHANISM m = {CKM_SHA256, NULL, 0};
    CK_BYTE out[64];
    CK_ULONG n = 0;
    assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR) "abc", 3, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OK);
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OPERATION_ACTIVE);
    assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR) "abc", 3, NULL, &n), CKR_OK);
    assert_int_equal(n, 32);
    n = 31;
    assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR) "abc", 3, out, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 32);
    n = sizeof(out);
    assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR) "abc", 3, out, &n), CKR_OK);
    assert_int_equal(n, 32);
    assert_memory_equal(out, abc_sha256, 32);
    assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR) "abc", 3, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* multi-part equals single-part */
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OK);
    assert_int_equal(chsm_core_DigestUpdate(a, h, (CK_BYTE_PTR) "a", 1), CKR_OK);
    assert_int_equal(chsm_core_DigestUpdate(a, h, (CK_BYTE_PTR) "bc", 2), CKR_OK);
    assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR) "x", 1, out, &n), CKR_OPERATION_ACTIVE);
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OK);
    assert_int_equal(chsm_core_DigestUpdate(a, h, (CK_BYTE_PTR) "a", 1), CKR_OK);
    assert_int_equal(chsm_core_DigestUpdate(a, h, (CK_BYTE_PTR) "bc", 2), CKR_OK);
    n = 0;
    assert_int_equal(chsm_core_DigestFinal(a, h, NULL, &n), CKR_OK);
    assert_int_equal(n, 32);
    assert_int_equal(chsm_core_DigestFinal(a, h, out, &n), CKR_OK);
    assert_memory_equal(out, abc_sha256, 32);
    /* every digest row works and has its size */
    static const CK_MECHANISM_TYPE all[] = {CKM_SHA_1,  CKM_SHA224,   CKM_SHA256,   CKM_SHA384,
                                            CKM_SHA512, CKM_SHA3_256, CKM_SHA3_384, CKM_SHA3_512};
    static const CK_ULONG sizes[] = {20, 28, 32, 48, 64, 32, 48, 64};
    for (size_t i = 0; i < 8; i++) {
        CK_MECHANISM mm = {all[i], NULL, 0};
        assert_int_equal(chsm_core_DigestInit(a, h, &mm), CKR_OK);
        n = sizeof(out);
        assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR) "abc", 3, out, &n), CKR_OK);
        assert_int_equal(n, sizes[i]);
    }
    CK_MECHANISM bad = {CKM_MD5, NULL, 0};
    assert_int_equal(chsm_core_DigestInit(a, h, &bad), CKR_MECHANISM_INVALID);
    assert_int_equal(chsm_core_DigestInit(a, h, NULL), CKR_ARGUMENTS_BAD);
    /* DigestKey: secret keys only */
    CK_SESSION_HANDLE rw = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, rw, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_OBJECT_HANDLE k = make_aes(a, rw, CK_FALSE, CK_TRUE, CK_FALSE);
    CK_OBJECT_HANDLE d = make_data(a, rw, "d", CK_FALSE, CK_FALSE);
    assert_int_equal(chsm_core_DigestKey(a, h, k), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OK);
    assert_int_equal(chsm_core_DigestKey(a, h, d), CKR_KEY_INDIGESTIBLE);
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OK);
    assert_int_equal(chsm_core_DigestKey(a, h, k), CKR_OK);
    n = sizeof(out);
    assert_int_equal(chsm_core_DigestFinal(a, h, out, &n), CKR_OK);
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CK_BYTE ref[32];
    CK_ULONG rn = sizeof(ref);
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OK);
    assert_int_equal(chsm_core_Digest(a, h, (CK_BYTE_PTR)key, 16, ref, &rn), CKR_OK);
    assert_memory_equal(out, ref, 32);
    /* cancel */
    assert_int_equal(chsm_core_DigestInit(a, h, &m), CKR_OK);
    assert_int_equal(chsm_core_SessionCancel(a, h, CKF_DIGEST), CKR_OK);
    assert_int_equal(chsm_core_DigestFinal(a, h, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* an AES key cannot serve ECDSA; the failed Init leaves nothing active */
    CK_MECHANISM sm = {CKM_ECDSA, NULL, 0};
    assert_int_equal(chsm_core_SignInit(a, rw, &sm, k), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(chsm_core_Sign(a, rw, out, 1, out, &n), CKR_OPERATION_NOT_INITIALIZED);
}

static void test_random(void **state)
{
    (void)state;
    struct chsm_app *a = chsm_core_default_app();
    CK_SESSION_HANDLE h = open_s(a, 0);
    CK_BYTE r1[32] = {0}, r2[32] = {0}, zero[32] = {0};
    assert_int_equal(chsm_core_GenerateRandom(a, h, r1, sizeof(r1)), CKR_OK);
    assert_int_equal(chsm_core_SeedRandom(a, h, (CK_BYTE_PTR) "seed", 4), CKR_OK);
    assert_int_equal(chsm_core_GenerateRandom(a, h, r2, sizeof(r2)), CKR_OK);
    assert_memory_not_equal(r1, zero, 32);
    assert_memory_not_equal(r1, r2, 32);
    assert_int_equal(chsm_core_GenerateRandom(a, h, NULL, 4), CKR_ARGUMENTS_BAD);
    assert_int_equal(chsm_core_GenerateRandom(a, 0x7777, r1, 4), CKR_SESSION_HANDLE_INVALID);
}

static void test_persistence(void **state)
{
    (void)state;
    char dir[] = "/tmp/chsm-core-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char store[300];
    (void)snprintf(store, sizeof(store), "%s/store", dir);
    core_up(store);
    struct chsm_app *a = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    assert_int_equal(chsm_core_InitToken(a, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    CK_SESSION_HANDLE h = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, h, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(a, h, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_Logout(a, h), CKR_OK);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    make_data(a, h, "public-data", CK_TRUE, CK_FALSE);
    make_data(a, h, "private-data", CK_TRUE, CK_TRUE);
    make_aes(a, h, CK_TRUE, CK_FALSE, CK_TRUE);
    make_data(a, h, "session-only", CK_FALSE, CK_FALSE);
    assert_int_equal(chsm_core_finalize(), CKR_OK);

    core_up(store);
    a = chsm_core_default_app();
    h = open_s(a, CKF_RW_SESSION);
    CK_ATTRIBUTE pub = {CKA_LABEL, "public-data", 11}, prv = {CKA_LABEL, "private-data", 12},
                 ses = {CKA_LABEL, "session-only", 12};
    assert_int_equal(find_count(a, h, &pub, 1), 1);
    assert_int_equal(find_count(a, h, &prv, 1), 0);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(find_count(a, h, &prv, 1), 1);
    assert_int_equal(find_count(a, h, &ses, 1), 0);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE byc = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE k = 0;
    CK_ULONG n = 0;
    assert_int_equal(chsm_core_FindObjectsInit(a, h, &byc, 1), CKR_OK);
    assert_int_equal(chsm_core_FindObjects(a, h, &k, 1, &n), CKR_OK);
    assert_int_equal(chsm_core_FindObjectsFinal(a, h), CKR_OK);
    assert_int_equal(n, 1);
    CK_BYTE v[16];
    CK_ATTRIBUTE g = {CKA_VALUE, v, sizeof(v)};
    assert_int_equal(chsm_core_GetAttributeValue(a, h, k, &g, 1), CKR_OK);
    assert_int_equal(v[15], 16);
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    char cmd[400];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_audit_trail(void **state)
{
    (void)state;
    char dir[] = "/tmp/chsm-core-audit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char logp[300];
    (void)snprintf(logp, sizeof(logp), "%s/audit.jsonl", dir);
    struct chsm_config c;
    make_config(&c, ":memory:");
    c.audit.enabled = true;
    free(c.audit.log_path);
    c.audit.log_path = strdup(logp);
    struct chsm_core_options o = {.config = &c, .actor = "unit-test"};
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    chsm_config_free(&c);
    struct chsm_app *a = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    assert_int_equal(chsm_core_InitToken(a, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    CK_SESSION_HANDLE h = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, h, CKU_SO, U("wrong-so-pin"), 12), CKR_PIN_INCORRECT);
    assert_int_equal(chsm_core_Login(a, h, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(a, h, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_Logout(a, h), CKR_OK);
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_OBJECT_HANDLE d = make_data(a, h, "audited", CK_TRUE, CK_TRUE);
    CK_ATTRIBUTE rel = {CKA_LABEL, "relabelled", 10};
    assert_int_equal(chsm_core_SetAttributeValue(a, h, d, &rel, 1), CKR_OK);
    assert_int_equal(chsm_core_DestroyObject(a, h, d), CKR_OK);
    assert_int_equal(chsm_core_CloseSession(a, h), CKR_OK);
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    FILE *f = fopen(logp, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    static const char *const order[] = {"initialize", "token_init", "session_open", "login_failed", "login",
                                        "pin_init", "logout", "login", "object_create", "attribute_change",
                                        "object_destroy", "session_close", "finalize"};
    const char *p = text;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        char key[64];
        (void)snprintf(key, sizeof(key), "\"event\":\"%s\"", order[i]);
        p = strstr(p, key);
        if (p == NULL)
            fail_msg("audit event %s missing or out of order", order[i]);
        p += strlen(key);
    }
    assert_non_null(strstr(text, "\"label\":\"audited\"") ? text : strstr(text, "audited"));
    assert_null(strstr(text, SO_PIN));
    assert_null(strstr(text, USER_PIN));
    char cmd[400];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A second process on the same store: its object and its failed logins are seen here (change feed, fresh counters). */
static void test_two_processes(void **state)
{
    (void)state;
    char dir[] = "/tmp/chsm-core-mp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char store[300];
    (void)snprintf(store, sizeof(store), "%s/store", dir);
    core_up(store);
    struct chsm_app *a = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    assert_int_equal(chsm_core_InitToken(a, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    CK_SESSION_HANDLE h = open_s(a, CKF_RW_SESSION);
    assert_int_equal(chsm_core_Login(a, h, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(a, h, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_Logout(a, h), CKR_OK);
    CK_ATTRIBUTE byl = {CKA_LABEL, "from-child", 10};
    assert_int_equal(find_count(a, h, &byl, 1), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child forgets the parent's core (never closing its sqlite handle) and starts its own. */
        chsm_core_forget_after_fork();
        CK_INFO info;
        if (chsm_core_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED)
            _exit(10);
        struct chsm_config c;
        make_config(&c, store);
        struct chsm_core_options o = {.config = &c};
        if (chsm_core_initialize(&o) != CKR_OK)
            _exit(11);
        struct chsm_app *ca = chsm_core_default_app();
        CK_SESSION_HANDLE ch = 0;
        if (chsm_core_OpenSession(ca, 0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &ch) != CKR_OK)
            _exit(12);
        if (chsm_core_Login(ca, ch, CKU_USER, U("wrong-pin"), 9) != CKR_PIN_INCORRECT)
            _exit(13);
        if (chsm_core_Login(ca, ch, CKU_USER, U(USER_PIN), L(USER_PIN)) != CKR_OK)
            _exit(14);
        CK_OBJECT_CLASS cls = CKO_DATA;
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, "from-child", 10}, {CKA_TOKEN, &yes, 1}};
        CK_OBJECT_HANDLE o2;
        if (chsm_core_CreateObject(ca, ch, t, 3, &o2) != CKR_OK)
            _exit(15);
        if (chsm_core_Login(ca, ch, CKU_USER, U(USER_PIN), L(USER_PIN)) != CKR_USER_ALREADY_LOGGED_IN)
            _exit(16);
        if (chsm_core_Logout(ca, ch) != CKR_OK || chsm_core_Login(ca, ch, CKU_USER, U("wrong-pin"), 9) != CKR_PIN_INCORRECT)
            _exit(17);
        _exit(chsm_core_finalize() == CKR_OK ? 0 : 18);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(find_count(a, h, &byl, 1), 1);
    assert_true(token_flags() & CKF_USER_PIN_COUNT_LOW); /* the child's failed attempt counts here */
    /* context-specific login without an operation that needs it */
    assert_int_equal(chsm_core_Login(a, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_Login(a, h, CKU_CONTEXT_SPECIFIC, U(USER_PIN), L(USER_PIN)),
                     CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(chsm_core_Login(a, h, 77, U(USER_PIN), L(USER_PIN)), CKR_USER_TYPE_INVALID);
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    char cmd[400];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_not_initialized(void **state)
{
    (void)state;
    CK_INFO info;
    assert_int_equal(chsm_core_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(chsm_core_finalize(), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_null(chsm_core_default_app());
    struct chsm_config c;
    make_config(&c, ":memory:");
    struct chsm_core_options o = {.config = &c};
    chsm_selftest_force_failure("SHA-256");
    CK_RV rv = chsm_core_initialize(&o);
    chsm_selftest_force_failure(NULL);
    assert_int_equal(rv, CKR_FUNCTION_FAILED);
    {
        assert_int_equal(rv, CKR_FUNCTION_FAILED);
        assert_int_equal(chsm_core_GetInfo(&info), CKR_DEVICE_ERROR);
        assert_int_equal(chsm_core_finalize(), CKR_OK);
    }
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    assert_int_equal(chsm_core_GetInfo(&info), CKR_OK);
    assert_int_equal(info.cryptokiVersion.major, 3);
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    chsm_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_initialized),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reinit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attribute_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_apps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_audit_trail),
        cmocka_unit_test(test_two_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
