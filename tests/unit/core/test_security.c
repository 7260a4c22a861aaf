/* Security regressions of the core (review of 2024-11-27): C1 CKA_TRUSTED is the SO's alone on every
 * creation path; H3 a token key's secrets serve only an application that is itself logged in, however many
 * other applications of the process are. chsm_core_* on a volatile store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "crypto/crypto.h"

#define SO_PIN "so-pin-1234"
#define USER_PIN "user-1234"
#define U(s) (CK_UTF8CHAR_PTR)(s)
#define L(s) (CK_ULONG)strlen(s)

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS sec_cls = CKO_SECRET_KEY;
static CK_KEY_TYPE aes_kt = CKK_AES;
static const CK_BYTE P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE KEY_A[16] = {0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static struct chsm_app *A;

static CK_SESSION_HANDLE open_rw(struct chsm_app *app)
{
    CK_SESSION_HANDLE h = 0;
    assert_int_equal(chsm_core_OpenSession(app, 0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h), CKR_OK);
    return h;
}

static int setup(void **state)
{
    (void)state;
    struct chsm_config c;
    assert_int_equal(chsm_config_defaults(&c), CKR_OK);
    free(c.token.storage_path);
    c.token.storage_path = strdup(":memory:");
    c.security.pbkdf2_iterations = 100000;
    c.audit.enabled = false;
    struct chsm_core_options o = {.config = &c};
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    chsm_config_free(&c);
    A = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    assert_int_equal(chsm_core_InitToken(A, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    CK_SESSION_HANDLE h = open_rw(A);
    assert_int_equal(chsm_core_Login(A, h, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(A, h, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_CloseSession(A, h), CKR_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(chsm_core_finalize(), CKR_OK);
    return 0;
}

/* AES key from KEY_A: class, key type and value, then the caller's extra attributes. */
static CK_RV create_aes(struct chsm_app *app, CK_SESSION_HANDLE h, const CK_ATTRIBUTE *extra, CK_ULONG n,
                        CK_OBJECT_HANDLE *out)
{
    CK_ATTRIBUTE t[16] = {{CKA_CLASS, &sec_cls, sizeof(sec_cls)},
                          {CKA_KEY_TYPE, &aes_kt, sizeof(aes_kt)},
                          {CKA_VALUE, (void *)(uintptr_t)KEY_A, sizeof(KEY_A)}};
    assert_true(n <= 13);
    if (n > 0)
        memcpy(t + 3, extra, n * sizeof(*extra));
    return chsm_core_CreateObject(app, h, t, 3 + n, out);
}

static CK_RV gen_aes(struct chsm_app *app, CK_SESSION_HANDLE h, const CK_ATTRIBUTE *extra, CK_ULONG n,
                     CK_OBJECT_HANDLE *out)
{
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 16;
    CK_ATTRIBUTE t[16] = {{CKA_VALUE_LEN, &len, sizeof(len)}};
    assert_true(n <= 15);
    if (n > 0)
        memcpy(t + 1, extra, n * sizeof(*extra));
    return chsm_core_GenerateKey(app, h, &m, t, 1 + n, out);
}

static CK_RV gen_ec(struct chsm_app *app, CK_SESSION_HANDLE h, const CK_ATTRIBUTE *pub_extra, CK_ULONG np,
                    const CK_ATTRIBUTE *priv_extra, CK_ULONG nv, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[8] = {{CKA_EC_PARAMS, (void *)(uintptr_t)P256, sizeof(P256)}};
    assert_true(np <= 7);
    if (np > 0)
        memcpy(pt + 1, pub_extra, np * sizeof(*pub_extra));
    return chsm_core_GenerateKeyPair(app, h, &m, pt, 1 + np, (CK_ATTRIBUTE_PTR)(uintptr_t)priv_extra, nv, pub,
                                     priv);
}

/* ECDH of priv with its own public point (pub) into a 16-byte AES key; extra joins the template. */
static CK_RV derive(struct chsm_app *app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
                    const CK_ATTRIBUTE *extra, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    CK_BYTE q[100];
    CK_ATTRIBUTE ga = {CKA_EC_POINT, q, sizeof(q)};
    assert_int_equal(chsm_core_GetAttributeValue(app, h, pub, &ga, 1), CKR_OK);
    CK_ULONG len = 16;
    CK_ATTRIBUTE t[8] = {{CKA_CLASS, &sec_cls, sizeof(sec_cls)},
                         {CKA_KEY_TYPE, &aes_kt, sizeof(aes_kt)},
                         {CKA_VALUE_LEN, &len, sizeof(len)}};
    assert_true(n <= 5);
    if (n > 0)
        memcpy(t + 3, extra, n * sizeof(*extra));
    CK_ECDH1_DERIVE_PARAMS p = {CKD_SHA256_KDF, 0, NULL, ga.ulValueLen, q};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    return chsm_core_DeriveKey(app, h, &m, priv, t, 3 + n, out);
}

static CK_RV unwrap(struct chsm_app *app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE kek, const CK_BYTE *w, CK_ULONG wl,
                    const CK_ATTRIBUTE *extra, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    CK_ATTRIBUTE t[8] = {{CKA_CLASS, &sec_cls, sizeof(sec_cls)}, {CKA_KEY_TYPE, &aes_kt, sizeof(aes_kt)}};
    assert_true(n <= 6);
    if (n > 0)
        memcpy(t + 2, extra, n * sizeof(*extra));
    return chsm_core_UnwrapKey(app, h, &kw, kek, (CK_BYTE_PTR)(uintptr_t)w, wl, t, 2 + n, out);
}

static CK_RV wrap(struct chsm_app *app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE kek, CK_OBJECT_HANDLE k, CK_BYTE *w,
                  CK_ULONG *wl)
{
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    *wl = 64;
    return chsm_core_WrapKey(app, h, &kw, kek, k, w, wl);
}

static bool is_trusted(struct chsm_app *app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o)
{
    CK_BBOOL t = CK_FALSE;
    CK_ATTRIBUTE a = {CKA_TRUSTED, &t, 1};
    assert_int_equal(chsm_core_GetAttributeValue(app, h, o, &a, 1), CKR_OK);
    return t == CK_TRUE;
}

/* C1: a normal user gets CKR_ATTRIBUTE_READ_ONLY for CKA_TRUSTED=TRUE on every creation path. */
static void test_trusted_user_refused(void **state)
{
    (void)state;
    CK_SESSION_HANDLE h = open_rw(A);
    assert_int_equal(chsm_core_Login(A, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_ATTRIBUTE tr = {CKA_TRUSTED, &yes, 1};
    CK_OBJECT_HANDLE o = 0, pub = 0, priv = 0;

    /* C_CreateObject, C_GenerateKey, C_GenerateKeyPair (CKA_TRUSTED is a public-key attribute) */
    CK_ATTRIBUTE wrapper[] = {{CKA_WRAP, &yes, 1}, {CKA_TRUSTED, &yes, 1}};
    assert_int_equal(create_aes(A, h, wrapper, 2, &o), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE poc[] = {{CKA_SENSITIVE, &no, 1}, {CKA_EXTRACTABLE, &yes, 1}, {CKA_WRAP, &yes, 1},
                          {CKA_TRUSTED, &yes, 1}};
    assert_int_equal(gen_aes(A, h, poc, 4, &o), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(gen_aes(A, h, poc, 3, &o), CKR_OK); /* the same without CKA_TRUSTED */
    assert_false(is_trusted(A, h, o));
    assert_int_equal(gen_ec(A, h, &tr, 1, NULL, 0, &pub, &priv), CKR_ATTRIBUTE_READ_ONLY);

    /* C_UnwrapKey: a known value wrapped under the user's own KEK cannot come back trusted */
    CK_ATTRIBUTE kek_t[] = {{CKA_WRAP, &yes, 1}, {CKA_UNWRAP, &yes, 1}};
    CK_OBJECT_HANDLE kek = 0, plain = 0;
    assert_int_equal(gen_aes(A, h, kek_t, 2, &kek), CKR_OK);
    CK_ATTRIBUTE ext = {CKA_EXTRACTABLE, &yes, 1};
    assert_int_equal(create_aes(A, h, &ext, 1, &plain), CKR_OK);
    CK_BYTE w[64];
    CK_ULONG wl = 0;
    assert_int_equal(wrap(A, h, kek, plain, w, &wl), CKR_OK);
    assert_int_equal(unwrap(A, h, kek, w, wl, &tr, 1, &o), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(unwrap(A, h, kek, w, wl, NULL, 0, &o), CKR_OK);

    /* C_DeriveKey */
    CK_ATTRIBUTE der = {CKA_DERIVE, &yes, 1};
    assert_int_equal(gen_ec(A, h, NULL, 0, &der, 1, &pub, &priv), CKR_OK);
    assert_int_equal(derive(A, h, pub, priv, &tr, 1, &o), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(derive(A, h, pub, priv, NULL, 0, &o), CKR_OK);
    assert_false(is_trusted(A, h, o));

    /* C_CopyObject and C_SetAttributeValue of an ordinary key */
    assert_int_equal(chsm_core_CopyObject(A, h, kek, &tr, 1, &o), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(chsm_core_SetAttributeValue(A, h, kek, &tr, 1), CKR_ATTRIBUTE_READ_ONLY);
    assert_false(is_trusted(A, h, kek));
}

/* The SO makes trusted keys; users wrap with them but cannot clone their trust. */
static void test_trusted_so(void **state)
{
    (void)state;
    CK_SESSION_HANDLE h = open_rw(A);
    assert_int_equal(chsm_core_Login(A, h, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    CK_ATTRIBUTE so_kek[] = {{CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &no, 1}, {CKA_WRAP, &yes, 1},
                             {CKA_TRUSTED, &yes, 1}, {CKA_LABEL, "so-kek", 6}};
    CK_OBJECT_HANDLE tk = 0, tg = 0, o = 0;
    assert_int_equal(create_aes(A, h, so_kek, 5, &tk), CKR_OK);
    assert_int_equal(gen_aes(A, h, &so_kek[1], 3, &tg), CKR_OK); /* a session key */
    assert_true(is_trusted(A, h, tk));
    assert_true(is_trusted(A, h, tg));
    /* CKA_TRUSTED is not modifiable afterwards, for the SO either */
    CK_ATTRIBUTE off = {CKA_TRUSTED, &no, 1};
    assert_int_equal(chsm_core_SetAttributeValue(A, h, tk, &off, 1), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(chsm_core_Logout(A, h), CKR_OK);

    assert_int_equal(chsm_core_Login(A, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_ATTRIBUTE victim_t[] = {{CKA_EXTRACTABLE, &yes, 1}, {CKA_WRAP_WITH_TRUSTED, &yes, 1}};
    CK_ATTRIBUTE own_t = {CKA_WRAP, &yes, 1};
    CK_OBJECT_HANDLE victim = 0, own = 0;
    assert_int_equal(gen_aes(A, h, victim_t, 2, &victim), CKR_OK);
    assert_int_equal(gen_aes(A, h, &own_t, 1, &own), CKR_OK);
    CK_BYTE w[64];
    CK_ULONG wl = 0;
    assert_int_equal(wrap(A, h, own, victim, w, &wl), CKR_KEY_NOT_WRAPPABLE);
    assert_int_equal(wrap(A, h, tk, victim, w, &wl), CKR_OK);
    assert_int_equal(wl, 24);
    /* a user's copy of the SO's trusted key would carry the trust: refused; relabelling is fine */
    assert_int_equal(chsm_core_CopyObject(A, h, tk, NULL, 0, &o), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE lab = {CKA_LABEL, "renamed", 7};
    assert_int_equal(chsm_core_SetAttributeValue(A, h, tk, &lab, 1), CKR_OK);
    assert_true(is_trusted(A, h, tk));
}

/* H3 fixture: A (logged in as user) owns PRIVATE=FALSE token keys that B can see. */
struct h3 {
    struct chsm_app *b;
    CK_SESSION_HANDLE ha, hb;
    CK_OBJECT_HANDLE aes, hmac, ec_pub, ec_priv, target;
};

static void h3_make(struct h3 *x)
{
    x->ha = open_rw(A);
    assert_int_equal(chsm_core_Login(A, x->ha, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_ATTRIBUTE pub_tok[] = {{CKA_TOKEN, &yes, 1},   {CKA_PRIVATE, &no, 1},    {CKA_SENSITIVE, &no, 1},
                              {CKA_EXTRACTABLE, &yes, 1}, {CKA_ENCRYPT, &yes, 1}, {CKA_WRAP, &yes, 1},
                              {CKA_UNWRAP, &yes, 1},  {CKA_SIGN, &yes, 1}};
    assert_int_equal(create_aes(A, x->ha, pub_tok, 8, &x->aes), CKR_OK);
    CK_MECHANISM gm = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_ATTRIBUTE ht[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &no, 1},
                         {CKA_SIGN, &yes, 1}};
    assert_int_equal(chsm_core_GenerateKey(A, x->ha, &gm, ht, 4, &x->hmac), CKR_OK);
    CK_ATTRIBUTE pt[] = {{CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1}};
    CK_ATTRIBUTE vt[] = {{CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &no, 1}, {CKA_DERIVE, &yes, 1}, {CKA_SIGN, &yes, 1}};
    assert_int_equal(gen_ec(A, x->ha, pt, 2, vt, 4, &x->ec_pub, &x->ec_priv), CKR_OK);
    assert_int_equal(gen_aes(A, x->ha, pub_tok, 4, &x->target), CKR_OK);
    assert_int_equal(chsm_app_new("client-b", &x->b), CKR_OK);
    x->hb = open_rw(x->b);
}

/* B's results with each of A's keys: refused while B is not logged in (want_ok false), fine once it is. */
static void h3_uses(struct h3 *x, bool want_ok)
{
    struct chsm_app *b = x->b;
    CK_SESSION_HANDLE hb = x->hb;
    CK_RV want = want_ok ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
    CK_BYTE data[32] = "sixteen byte blk", out[128], w[64];
    CK_ULONG ol = sizeof(out), wl = 0;
    CK_OBJECT_HANDLE o = 0;
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0}, hm = {CKM_SHA256_HMAC, NULL, 0}, es = {CKM_ECDSA, NULL, 0};
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};

    assert_int_equal(chsm_core_EncryptInit(b, hb, &ecb, x->aes), want);
    if (want_ok)
        assert_int_equal(chsm_core_Encrypt(b, hb, data, 16, out, &ol), CKR_OK);
    assert_int_equal(chsm_core_SignInit(b, hb, &hm, x->hmac), want);
    ol = sizeof(out);
    if (want_ok)
        assert_int_equal(chsm_core_Sign(b, hb, data, 16, out, &ol), CKR_OK);
    assert_int_equal(chsm_core_SignInit(b, hb, &es, x->ec_priv), want);
    if (want_ok) {
        ol = sizeof(out);
        assert_int_equal(chsm_core_Sign(b, hb, data, 32, out, &ol), CKR_OK);
    }
    assert_int_equal(wrap(b, hb, x->aes, x->target, w, &wl), want);
    assert_int_equal(derive(b, hb, x->ec_pub, x->ec_priv, NULL, 0, &o), want);
    assert_int_equal(chsm_core_DigestInit(b, hb, &sha), CKR_OK);
    assert_int_equal(chsm_core_DigestKey(b, hb, x->aes), want);
    ol = sizeof(out);
    if (want_ok)
        assert_int_equal(chsm_core_DigestFinal(b, hb, out, &ol), CKR_OK);
    assert_int_equal(chsm_core_CopyObject(b, hb, x->aes, NULL, 0, &o), want);
    CK_ATTRIBUTE lab = {CKA_LABEL, "b-was-here", 10};
    assert_int_equal(chsm_core_SetAttributeValue(b, hb, x->hmac, &lab, 1), want);

    /* CKA_VALUE of a non-sensitive extractable key; the non-secret attributes stay readable */
    CK_BYTE v[32];
    CK_ULONG vl = 0;
    CK_ATTRIBUTE g[] = {{CKA_VALUE, v, sizeof(v)}, {CKA_VALUE_LEN, &vl, sizeof(vl)}};
    assert_int_equal(chsm_core_GetAttributeValue(b, hb, x->aes, g, 2), want_ok ? CKR_OK : CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(vl, 16);
    if (want_ok) {
        assert_int_equal(g[0].ulValueLen, 16);
        assert_memory_equal(v, KEY_A, 16);
    } else {
        assert_int_equal(g[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    }
}

static void test_h3_other_app_login(void **state)
{
    (void)state;
    struct h3 x;
    h3_make(&x);
    CK_BYTE w[64], out[64];
    CK_ULONG wl = 0, ol = sizeof(out);
    CK_OBJECT_HANDLE o = 0;

    h3_uses(&x, false);
    /* B's own session key (no login) encrypts, but cannot take A's key out as the wrapped key either */
    CK_ATTRIBUTE own_t[] = {{CKA_WRAP, &yes, 1}, {CKA_UNWRAP, &yes, 1}, {CKA_ENCRYPT, &yes, 1},
                            {CKA_PRIVATE, &no, 1}};
    CK_OBJECT_HANDLE own = 0;
    assert_int_equal(gen_aes(x.b, x.hb, own_t, 4, &own), CKR_OK);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    assert_int_equal(chsm_core_EncryptInit(x.b, x.hb, &ecb, own), CKR_OK);
    assert_int_equal(chsm_core_Encrypt(x.b, x.hb, (CK_BYTE_PTR) "sixteen byte blk", 16, out, &ol), CKR_OK);
    assert_int_equal(wrap(x.b, x.hb, own, x.target, w, &wl), CKR_USER_NOT_LOGGED_IN);
    /* ... nor unwrap with A's key as the KEK */
    assert_int_equal(wrap(A, x.ha, x.aes, x.target, w, &wl), CKR_OK);
    assert_int_equal(unwrap(x.b, x.hb, x.aes, w, wl, NULL, 0, &o), CKR_USER_NOT_LOGGED_IN);
    /* public-key operations need no login */
    CK_MECHANISM es = {CKM_ECDSA, NULL, 0};
    assert_int_equal(chsm_core_VerifyInit(x.b, x.hb, &es, x.ec_pub), CKR_OK);

    assert_int_equal(chsm_core_Login(x.b, x.hb, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    h3_uses(&x, true);
    assert_int_equal(unwrap(x.b, x.hb, x.aes, w, wl, NULL, 0, &o), CKR_OK);
    /* B's logout takes the secrets away from B again, while A still has them */
    assert_int_equal(chsm_core_Logout(x.b, x.hb), CKR_OK);
    CK_MECHANISM hm = {CKM_SHA256_HMAC, NULL, 0};
    assert_int_equal(chsm_core_SignInit(x.b, x.hb, &hm, x.hmac), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(chsm_core_SignInit(A, x.ha, &hm, x.hmac), CKR_OK);
    chsm_app_free(x.b);
}

/* A token record written without the MK (here: created while logged out) is not verified under it, so it
 * may be forged in the store file: it wraps nothing until a logged-in rewrite verifies it (store.h). */
static void test_unverified_kek(void **state)
{
    (void)state;
    CK_SESSION_HANDLE h = open_rw(A);
    assert_int_equal(chsm_core_Login(A, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_MECHANISM rg = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = 2048;
    CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}, {CKA_TOKEN, &yes, 1}, {CKA_WRAP, &yes, 1}};
    CK_OBJECT_HANDLE pub = 0, priv = 0, victim = 0, forged = 0;
    assert_int_equal(chsm_core_GenerateKeyPair(A, h, &rg, pt, 3, NULL, 0, &pub, &priv), CKR_OK);
    CK_BYTE n[256], e[8];
    CK_ATTRIBUTE ga[] = {{CKA_MODULUS, n, sizeof(n)}, {CKA_PUBLIC_EXPONENT, e, sizeof(e)}};
    assert_int_equal(chsm_core_GetAttributeValue(A, h, pub, ga, 2), CKR_OK);
    CK_ATTRIBUTE ext[] = {{CKA_EXTRACTABLE, &yes, 1}, {CKA_TOKEN, &yes, 1}};
    assert_int_equal(gen_aes(A, h, ext, 2, &victim), CKR_OK);
    assert_int_equal(chsm_core_Logout(A, h), CKR_OK);

    /* the same public key with CKA_WRAP, put on the token while nobody is logged in */
    CK_OBJECT_CLASS pc = CKO_PUBLIC_KEY;
    CK_KEY_TYPE rsa = CKK_RSA;
    CK_ATTRIBUTE ft[] = {{CKA_CLASS, &pc, sizeof(pc)}, {CKA_KEY_TYPE, &rsa, sizeof(rsa)}, ga[0], ga[1],
                         {CKA_TOKEN, &yes, 1}, {CKA_WRAP, &yes, 1}};
    assert_int_equal(chsm_core_CreateObject(A, h, ft, 6, &forged), CKR_OK);
    assert_int_equal(chsm_core_Login(A, h, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_RSA_PKCS_OAEP_PARAMS op = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM mo = {CKM_RSA_PKCS_OAEP, &op, sizeof(op)};
    CK_BYTE w[256];
    CK_ULONG wl = sizeof(w);
    assert_int_equal(chsm_core_WrapKey(A, h, &mo, forged, victim, w, &wl), CKR_KEY_FUNCTION_NOT_PERMITTED);
    wl = sizeof(w);
    assert_int_equal(chsm_core_WrapKey(A, h, &mo, pub, victim, w, &wl), CKR_OK); /* written with the MK */
    /* rewritten while logged in: now sealed and MACed under the MK */
    CK_ATTRIBUTE lab = {CKA_LABEL, "checked", 7};
    assert_int_equal(chsm_core_SetAttributeValue(A, h, forged, &lab, 1), CKR_OK);
    wl = sizeof(w);
    assert_int_equal(chsm_core_WrapKey(A, h, &mo, forged, victim, w, &wl), CKR_OK);
    assert_int_equal(wl, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trusted_user_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trusted_so, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h3_other_app_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unverified_kek, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
