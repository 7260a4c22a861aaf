/*
 * audit_client: drives the real libcraton_hsm.so (dlopen + C_GetFunctionList,
 * config from CRATON_HSM_CONFIG) for the audit acceptance tests. It states,
 * next to each PKCS#11 call, the audit entry that call must produce, as lines
 * the Python checker compares with the log:
 *
 *   EV <event> session=<h|-> user=<so|user|public|-> uid=<hex|-> label=<l|-> mech=<CKM_|-> result=<CKR_>
 *   KU <operation> session=.. user=.. uid=.. label=.. mech=.. result=..   (key use: "each" line or summary count)
 *   MISSING <capability> <CKR_>      an audited operation the module cannot perform yet
 *   INFO <key>=<value>                PINs and key bytes used (for the no-secrets scan), pid, counts
 *
 * Modes (argv[2]):
 *   scenario               one of each audited operation (fresh store)
 *   setup                  C_InitToken + C_InitPIN only
 *   traffic N              N rounds of: open, login, create+destroy an object, a key use, close
 *   loop SECONDS           traffic until SECONDS elapse; prints INFO rounds=N
 *   heavy                  key uses and object creates forever (killed by the test); prints READY,
 *                          then DONE <key uses returned> every 1000
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "craton_hsm/pkcs11.h"

#define SO_PIN "so-secret-7391"
#define USER_PIN "usr-secret-4822"
#define USER_PIN2 "usr-secret-NEW-5510"
#define USER_PIN3 "usr-secret-RST-6603"
#define BAD_PIN "wrong-pin-0000"

static CK_FUNCTION_LIST *f;
static const CK_SLOT_ID SLOT = 0;
static int missing;

/* 32 known key bytes: the no-secrets scan looks for them raw, hex and base64. */
static const CK_BYTE aes_value[32] = {0xc7, 0x3a, 0x91, 0x5e, 0x02, 0xbb, 0x4f, 0xd8, 0x66, 0x1d, 0xe9,
                                      0x70, 0x28, 0xa5, 0x3c, 0xf4, 0x8b, 0x17, 0xd2, 0x5a, 0x0e, 0x93,
                                      0xc1, 0x6f, 0xb4, 0x29, 0x7d, 0xe0, 0x45, 0x88, 0x3b, 0xa6};

static const char *rvname(CK_RV rv)
{
    static char buf[32];
    switch (rv) {
    case CKR_OK: return "CKR_OK";
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_FUNCTION_NOT_SUPPORTED: return "CKR_FUNCTION_NOT_SUPPORTED";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    default: snprintf(buf, sizeof buf, "CKR_0x%08lx", (unsigned long)rv); return buf;
    }
}

static void die(const char *what, CK_RV rv)
{
    printf("FATAL %s %s\n", what, rvname(rv));
    fflush(stdout);
    exit(3);
}
#define MUST(call)                                                                                          \
    do {                                                                                                    \
        CK_RV r_ = (call);                                                                                  \
        if (r_ != CKR_OK)                                                                                   \
            die(#call, r_);                                                                                 \
    } while (0)

static void ev(const char *kind, const char *event, CK_SESSION_HANDLE s, const char *user, const char *uid,
               const char *label, const char *mech, CK_RV result)
{
    char sess[32] = "-";
    if (s != 0)
        snprintf(sess, sizeof sess, "%lu", (unsigned long)s);
    printf("%s %s session=%s user=%s uid=%s label=%s mech=%s result=%s\n", kind, event, sess, user ? user : "-",
           uid ? uid : "-", label ? label : "-", mech ? mech : "-", rvname(result));
    fflush(stdout);
}
#define EV(...) ev("EV", __VA_ARGS__)
#define KU(...) ev("KU", __VA_ARGS__)

static void miss(const char *cap, CK_RV rv)
{
    printf("MISSING %s %s\n", cap, rvname(rv));
    fflush(stdout);
    missing++;
}

static void load(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        printf("FATAL dlopen %s\n", dlerror());
        exit(3);
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
    if (gfl == NULL || gfl(&f) != CKR_OK)
        die("C_GetFunctionList", CKR_GENERAL_ERROR);
}

static void initialize(void)
{
    CK_C_INITIALIZE_ARGS ia = {0};
    ia.flags = CKF_OS_LOCKING_OK;
    MUST(f->C_Initialize(&ia));
}

static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE u, const char *pin)
{
    return f->C_Login(s, u, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
}

static void uid_of(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, char out[129])
{
    CK_ATTRIBUTE a = {CKA_UNIQUE_ID, out, 128};
    MUST(f->C_GetAttributeValue(s, o, &a, 1));
    out[a.ulValueLen] = '\0';
}

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static CK_RV create_aes(CK_SESSION_HANDLE s, const char *label, CK_BBOOL token, CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof cls},       {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &token, sizeof token},   {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},   {CKA_EXTRACTABLE, &yes, sizeof yes},
        {CKA_ENCRYPT, &yes, sizeof yes},     {CKA_DECRYPT, &yes, sizeof yes},
        {CKA_WRAP, &yes, sizeof yes},        {CKA_UNWRAP, &yes, sizeof yes},
        {CKA_SIGN, &yes, sizeof yes},        {CKA_VERIFY, &yes, sizeof yes},
        {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_VALUE, (void *)aes_value, sizeof aes_value},
    };
    return f->C_CreateObject(s, t, sizeof t / sizeof t[0], h);
}

/* C_DigestInit(SHA256) + C_DigestKey: the key use every build offers. */
static CK_RV digest_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k)
{
    CK_MECHANISM m = {CKM_SHA256, NULL, 0};
    CK_BYTE out[32];
    CK_ULONG n = sizeof out;
    CK_RV rv = f->C_DigestInit(s, &m);
    if (rv == CKR_OK)
        rv = f->C_DigestKey(s, k);
    if (rv == CKR_OK)
        rv = f->C_DigestFinal(s, out, &n);
    return rv;
}

/* ---- scenario ---- */
struct sc {
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE aes, copy, gen, pub, priv;
    char aes_uid[129], copy_uid[129], gen_uid[129], pub_uid[129], priv_uid[129];
    int gcm_ok, ec_ok;
};

static const char *const EC_P256 = "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07";

static void scenario_keys(struct sc *c)
{
    CK_RV rv;
    /* key generation */
    CK_MECHANISM kg = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    const char *glab = "audit-genkey";
    CK_ATTRIBUTE gt[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_TOKEN, &yes, sizeof yes},
                         {CKA_LABEL, (void *)glab, (CK_ULONG)strlen(glab)}, {CKA_EXTRACTABLE, &yes, sizeof yes},
                         {CKA_ENCRYPT, &yes, sizeof yes}, {CKA_DECRYPT, &yes, sizeof yes}};
    rv = f->C_GenerateKey(c->s, &kg, gt, 6, &c->gen);
    if (rv == CKR_OK) {
        uid_of(c->s, c->gen, c->gen_uid);
        EV("key_generate", c->s, "user", c->gen_uid, glab, "CKM_AES_KEY_GEN", CKR_OK);
    } else
        miss("C_GenerateKey(CKM_AES_KEY_GEN)", rv);

    CK_MECHANISM kp = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    const char *plab = "audit-ec";
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)EC_P256, 10}, {CKA_TOKEN, &yes, sizeof yes},
                         {CKA_VERIFY, &yes, sizeof yes}, {CKA_DERIVE, &yes, sizeof yes},
                         {CKA_LABEL, (void *)plab, (CK_ULONG)strlen(plab)}};
    CK_ATTRIBUTE vt[] = {{CKA_TOKEN, &yes, sizeof yes}, {CKA_SIGN, &yes, sizeof yes},
                         {CKA_DERIVE, &yes, sizeof yes}, {CKA_SENSITIVE, &yes, sizeof yes},
                         {CKA_LABEL, (void *)plab, (CK_ULONG)strlen(plab)}};
    rv = f->C_GenerateKeyPair(c->s, &kp, pt, 5, vt, 5, &c->pub, &c->priv);
    if (rv == CKR_OK) {
        c->ec_ok = 1;
        uid_of(c->s, c->priv, c->priv_uid);
        uid_of(c->s, c->pub, c->pub_uid);
        /* One entry per object created, public key first, so each object's id is on record. */
        EV("keypair_generate", c->s, "user", c->pub_uid, plab, "CKM_EC_KEY_PAIR_GEN", CKR_OK);
        EV("keypair_generate", c->s, "user", c->priv_uid, plab, "CKM_EC_KEY_PAIR_GEN", CKR_OK);
    } else
        miss("C_GenerateKeyPair(CKM_EC_KEY_PAIR_GEN)", rv);
}

static void scenario_crypto(struct sc *c)
{
    CK_RV rv;
    CK_BYTE hash[32], sig[128], ct[128], pt[128];
    CK_ULONG sl = sizeof sig, cl = sizeof ct, pl = sizeof pt;
    memset(hash, 0x42, sizeof hash);
    if (c->ec_ok) {
        CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
        rv = f->C_SignInit(c->s, &m, c->priv);
        if (rv == CKR_OK)
            rv = f->C_Sign(c->s, hash, 32, sig, &sl);
        if (rv == CKR_OK) {
            KU("sign", c->s, "user", c->priv_uid, "audit-ec", "CKM_ECDSA", CKR_OK);
            rv = f->C_VerifyInit(c->s, &m, c->pub);
            if (rv == CKR_OK)
                rv = f->C_Verify(c->s, hash, 32, sig, sl);
            if (rv == CKR_OK)
                KU("verify", c->s, "user", c->pub_uid, "audit-ec", "CKM_ECDSA", CKR_OK);
            else
                miss("C_Verify(CKM_ECDSA)", rv);
        } else
            miss("C_Sign(CKM_ECDSA)", rv);
    } else
        miss("C_Sign/C_Verify(CKM_ECDSA) (no EC key pair)", CKR_MECHANISM_INVALID);

    CK_BYTE iv[12] = {0};
    CK_GCM_PARAMS gp = {iv, sizeof iv, 96, NULL, 0, 128};
    CK_MECHANISM gm = {CKM_AES_GCM, &gp, sizeof gp};
    rv = f->C_EncryptInit(c->s, &gm, c->aes);
    if (rv == CKR_OK)
        rv = f->C_Encrypt(c->s, hash, 32, ct, &cl);
    if (rv == CKR_OK) {
        KU("encrypt", c->s, "user", c->aes_uid, "audit-aes", "CKM_AES_GCM", CKR_OK);
        rv = f->C_DecryptInit(c->s, &gm, c->aes);
        if (rv == CKR_OK)
            rv = f->C_Decrypt(c->s, ct, cl, pt, &pl);
        if (rv == CKR_OK)
            KU("decrypt", c->s, "user", c->aes_uid, "audit-aes", "CKM_AES_GCM", CKR_OK);
        else
            miss("C_Decrypt(CKM_AES_GCM)", rv);
    } else
        miss("C_Encrypt(CKM_AES_GCM)", rv);
}

static void scenario_wrap(struct sc *c)
{
    CK_RV rv;
    CK_BYTE wrapped[256];
    CK_ULONG wl = sizeof wrapped;
    CK_MECHANISM wm = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    if (c->gen == 0) {
        miss("C_WrapKey/C_UnwrapKey (no generated key to wrap)", CKR_MECHANISM_INVALID);
    } else {
        rv = f->C_WrapKey(c->s, &wm, c->aes, c->gen, wrapped, &wl);
        if (rv == CKR_OK) {
            EV("wrap", c->s, "user", c->gen_uid, "audit-genkey", "CKM_AES_KEY_WRAP_PAD", CKR_OK);
            CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
            CK_KEY_TYPE kt = CKK_AES;
            const char *ul = "audit-unwrapped";
            CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt},
                                {CKA_TOKEN, &no, sizeof no}, {CKA_LABEL, (void *)ul, (CK_ULONG)strlen(ul)}};
            CK_OBJECT_HANDLE u = 0;
            char uuid[129];
            rv = f->C_UnwrapKey(c->s, &wm, c->aes, wrapped, wl, t, 4, &u);
            if (rv == CKR_OK) {
                uid_of(c->s, u, uuid);
                EV("unwrap", c->s, "user", uuid, ul, "CKM_AES_KEY_WRAP_PAD", CKR_OK);
            } else
                miss("C_UnwrapKey(CKM_AES_KEY_WRAP_PAD)", rv);
        } else
            miss("C_WrapKey(CKM_AES_KEY_WRAP_PAD)", rv);
    }
    if (!c->ec_ok) {
        miss("C_DeriveKey(CKM_ECDH1_DERIVE) (no EC key pair)", CKR_MECHANISM_INVALID);
        return;
    }
    CK_BYTE point[80];
    CK_ATTRIBUTE pa = {CKA_EC_POINT, point, sizeof point};
    MUST(f->C_GetAttributeValue(c->s, c->pub, &pa, 1));
    CK_ECDH1_DERIVE_PARAMS dp = {CKD_NULL, 0, NULL, pa.ulValueLen, point};
    CK_MECHANISM dm = {CKM_ECDH1_DERIVE, &dp, sizeof dp};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ULONG vl = 32;
    const char *dl = "audit-derived";
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_VALUE_LEN, &vl, sizeof vl},
                        {CKA_TOKEN, &no, sizeof no}, {CKA_LABEL, (void *)dl, (CK_ULONG)strlen(dl)}};
    CK_OBJECT_HANDLE d = 0;
    char duid[129];
    rv = f->C_DeriveKey(c->s, &dm, c->priv, t, 5, &d);
    if (rv == CKR_OK) {
        uid_of(c->s, d, duid);
        EV("derive", c->s, "user", duid, dl, "CKM_ECDH1_DERIVE", CKR_OK);
    } else
        miss("C_DeriveKey(CKM_ECDH1_DERIVE)", rv);
}

static int scenario(void)
{
    struct sc c;
    memset(&c, 0, sizeof c);
    printf("INFO pid=%ld\nINFO pin=%s\nINFO pin=%s\nINFO pin=%s\nINFO pin=%s\nINFO pin=%s\nINFO key=", (long)getpid(),
           SO_PIN, USER_PIN, USER_PIN2, USER_PIN3, BAD_PIN);
    for (size_t i = 0; i < sizeof aes_value; i++)
        printf("%02x", aes_value[i]);
    printf("\n");
    initialize();
    EV("config_load", 0, "public", NULL, NULL, NULL, CKR_OK);
    EV("selftest", 0, "public", NULL, NULL, NULL, CKR_OK);
    EV("initialize", 0, "public", NULL, NULL, NULL, CKR_OK);
    CK_UTF8CHAR lab[32];
    memset(lab, ' ', 32);
    memcpy(lab, "audit-token", 11);
    MUST(f->C_InitToken(SLOT, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), lab));
    EV("token_init", 0, "so", NULL, NULL, NULL, CKR_OK);

    MUST(f->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &c.s));
    EV("session_open", c.s, "public", NULL, NULL, NULL, CKR_OK);
    MUST(login(c.s, CKU_SO, SO_PIN));
    EV("login", c.s, "so", NULL, NULL, NULL, CKR_OK);
    MUST(f->C_InitPIN(c.s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)));
    EV("pin_init", c.s, "so", NULL, NULL, NULL, CKR_OK);
    MUST(f->C_Logout(c.s));
    EV("logout", c.s, "so", NULL, NULL, NULL, CKR_OK);

    CK_RV rv = login(c.s, CKU_USER, BAD_PIN);
    if (rv != CKR_PIN_INCORRECT)
        die("C_Login(bad PIN) should be CKR_PIN_INCORRECT", rv);
    EV("login_failed", c.s, "user", NULL, NULL, NULL, CKR_PIN_INCORRECT);
    MUST(login(c.s, CKU_USER, USER_PIN));
    EV("login", c.s, "user", NULL, NULL, NULL, CKR_OK);
    MUST(f->C_SetPIN(c.s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN), (CK_UTF8CHAR_PTR)USER_PIN2,
                     strlen(USER_PIN2)));
    EV("pin_change", c.s, "user", NULL, NULL, NULL, CKR_OK);

    MUST(create_aes(c.s, "audit-aes", CK_TRUE, &c.aes));
    uid_of(c.s, c.aes, c.aes_uid);
    EV("object_create", c.s, "user", c.aes_uid, "audit-aes", NULL, CKR_OK);
    const char *cl = "audit-copy";
    CK_ATTRIBUTE ct[] = {{CKA_LABEL, (void *)cl, (CK_ULONG)strlen(cl)}};
    MUST(f->C_CopyObject(c.s, c.aes, ct, 1, &c.copy));
    uid_of(c.s, c.copy, c.copy_uid);
    EV("object_copy", c.s, "user", c.copy_uid, cl, NULL, CKR_OK);
    const char *nl = "audit-copy-renamed";
    CK_ATTRIBUTE na[] = {{CKA_LABEL, (void *)nl, (CK_ULONG)strlen(nl)}};
    MUST(f->C_SetAttributeValue(c.s, c.copy, na, 1));
    EV("attribute_change", c.s, "user", c.copy_uid, nl, NULL, CKR_OK);
    MUST(digest_key(c.s, c.aes));
    KU("digest_key", c.s, "user", c.aes_uid, "audit-aes", "CKM_SHA256", CKR_OK);

    scenario_keys(&c);
    scenario_crypto(&c);
    scenario_wrap(&c);

    MUST(f->C_DestroyObject(c.s, c.copy));
    EV("object_destroy", c.s, "user", c.copy_uid, nl, NULL, CKR_OK);
    MUST(f->C_Logout(c.s));
    EV("logout", c.s, "user", NULL, NULL, NULL, CKR_OK);

    /* Lockout: max_failed_logins = 3 in the test config; one failure is already counted? No: success reset it. */
    for (int i = 0; i < 3; i++) {
        rv = login(c.s, CKU_USER, BAD_PIN);
        if (rv != CKR_PIN_INCORRECT && rv != CKR_PIN_LOCKED)
            die("C_Login(bad PIN) in lockout loop", rv);
        EV("login_failed", c.s, "user", NULL, NULL, NULL, rv);
        if (i == 2)
            EV("lockout", c.s, "user", NULL, NULL, NULL, CKR_PIN_LOCKED);
    }
    rv = login(c.s, CKU_USER, USER_PIN2);
    if (rv != CKR_PIN_LOCKED)
        die("C_Login(right PIN) after lockout should be CKR_PIN_LOCKED", rv);
    EV("login_failed", c.s, "user", NULL, NULL, NULL, CKR_PIN_LOCKED);

    /* PIN reset: the SO sets a new user PIN (C_InitPIN on an initialised user PIN). */
    MUST(login(c.s, CKU_SO, SO_PIN));
    EV("login", c.s, "so", NULL, NULL, NULL, CKR_OK);
    MUST(f->C_InitPIN(c.s, (CK_UTF8CHAR_PTR)USER_PIN3, strlen(USER_PIN3)));
    EV("pin_init", c.s, "so", NULL, NULL, NULL, CKR_OK);
    MUST(f->C_Logout(c.s));
    EV("logout", c.s, "so", NULL, NULL, NULL, CKR_OK);
    MUST(login(c.s, CKU_USER, USER_PIN3));
    EV("login", c.s, "user", NULL, NULL, NULL, CKR_OK);

    MUST(f->C_CloseSession(c.s));
    EV("session_close", c.s, "user", NULL, NULL, NULL, CKR_OK);
    MUST(f->C_Finalize(NULL));
    EV("finalize", 0, "public", NULL, NULL, NULL, CKR_OK);
    printf("INFO missing=%d\n", missing);
    return 0;
}

/* ---- load generators ---- */
static void setup_token(void)
{
    CK_UTF8CHAR lab[32];
    CK_SESSION_HANDLE s;
    memset(lab, ' ', 32);
    memcpy(lab, "audit-token", 11);
    initialize();
    MUST(f->C_InitToken(SLOT, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), lab));
    MUST(f->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    MUST(login(s, CKU_SO, SO_PIN));
    MUST(f->C_InitPIN(s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)));
    MUST(f->C_CloseSession(s));
    MUST(f->C_Finalize(NULL));
}

/* One round: open, login, create + key use + destroy, close. Module already initialised. */
static void round_trip(void)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE o;
    MUST(f->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    CK_RV rv = login(s, CKU_USER, USER_PIN);
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        die("C_Login", rv);
    MUST(create_aes(s, "traffic", CK_FALSE, &o));
    MUST(digest_key(s, o));
    MUST(f->C_DestroyObject(s, o));
    MUST(f->C_CloseSession(s));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void heavy(void)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE k, o;
    initialize();
    MUST(f->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    MUST(login(s, CKU_USER, USER_PIN));
    MUST(create_aes(s, "heavy", CK_FALSE, &k));
    for (unsigned long i = 0;; i++) {
        MUST(digest_key(s, k));
        if (i % 16 == 0) {
            MUST(create_aes(s, "heavy-obj", CK_FALSE, &o));
            MUST(f->C_DestroyObject(s, o));
        }
        if (i == 2000)
            printf("READY\n");
        else if (i % 1000 == 999)
            printf("DONE %lu\n", i + 2); /* key uses returned so far (the setup one included) */
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: audit_client MODULE scenario|setup|traffic N|loop SECONDS|heavy\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    load(argv[1]);
    const char *mode = argv[2];
    if (strcmp(mode, "scenario") == 0)
        return scenario();
    if (strcmp(mode, "setup") == 0) {
        setup_token();
        return 0;
    }
    if (strcmp(mode, "heavy") == 0)
        heavy();
    if ((strcmp(mode, "traffic") == 0 || strcmp(mode, "loop") == 0) && argc > 3) {
        double lim = atof(argv[3]), t0 = now();
        unsigned long n = 0;
        initialize();
        while (strcmp(mode, "traffic") == 0 ? n < (unsigned long)lim : now() - t0 < lim) {
            round_trip();
            n++;
        }
        MUST(f->C_Finalize(NULL));
        printf("INFO rounds=%lu\n", n);
        return 0;
    }
    fprintf(stderr, "audit_client: unknown mode %s\n", mode);
    return 2;
}
