/*
 * p11bench: loads any PKCS#11 module by path and measures operations the way
 * real consumers call them — each iteration is C_xxxInit + C_xxx — with one
 * session per thread. Prints RESULT lines (see bench_common.h).
 *
 *   p11bench --module PATH --impl NAME --pin USERPIN [--token-label L | --slot N]
 *            [--init SOPIN] [--threads 1,2] [--seconds S] [--slices N] [--ops op1,op2,...]
 *            [--turn-in F --turn-out F --ready F]   (bench_common.h, struct bench_plan)
 *
 * --init initialises the token in the chosen slot with SOPIN and sets the
 * user PIN first (for modules whose token is not yet set up).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "craton_hsm/pkcs11.h"

static CK_FUNCTION_LIST_PTR p11;
static CK_SLOT_ID slot;
static const char *user_pin;

#define CK(call)                                                                                             \
    do {                                                                                                     \
        CK_RV rv_ = (call);                                                                                  \
        if (rv_ != CKR_OK) {                                                                                 \
            fprintf(stderr, "p11bench: %s failed: 0x%lx\n", #call, (unsigned long)rv_);                     \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

/* Keys shared by all threads (session objects of this application). */
static CK_OBJECT_HANDLE rsa_pub, rsa_priv, p256_pub, p256_priv, p384_pub, p384_priv, ed_pub, ed_priv, aes_key,
    hmac_key;
static int have_ed;

static uint8_t data4k[4096], data64[64], hash32[32], hash48[48];
static uint8_t sig_rsa_pkcs[256], sig_rsa_pss[256], sig_p256[64], sig_p384[96], sig_ed[64];
static CK_ULONG sig_rsa_pkcs_len, sig_rsa_pss_len, sig_p256_len, sig_p384_len, sig_ed_len;
static uint8_t gcm_ct4k[4096 + 16];
static CK_ULONG gcm_ct4k_len;
static uint8_t gcm_iv[12];
static CK_GCM_PARAMS gcm_params;
static CK_RSA_PKCS_PSS_PARAMS pss_params = {CKM_SHA256, CKG_MGF1_SHA256, 32};

struct tctx {
    _Alignas(64) CK_SESSION_HANDLE s; /* threads' contexts on separate cache lines */
    uint8_t out[8192];
};

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

static CK_RV gen_pair(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mt, const uint8_t *params, size_t plen, CK_ULONG bits,
                      CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {mt, NULL, 0};
    CK_BYTE exp[] = {1, 0, 1};
    CK_ATTRIBUTE pubt[4], privt[4];
    int np = 0, nv = 0;
    pubt[np++] = (CK_ATTRIBUTE){CKA_TOKEN, &no, sizeof(no)};
    pubt[np++] = (CK_ATTRIBUTE){CKA_VERIFY, &yes, sizeof(yes)};
    if (mt == CKM_RSA_PKCS_KEY_PAIR_GEN) {
        pubt[np++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
        pubt[np++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, exp, sizeof(exp)};
    } else {
        pubt[np++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)params, (CK_ULONG)plen};
    }
    privt[nv++] = (CK_ATTRIBUTE){CKA_TOKEN, &no, sizeof(no)};
    privt[nv++] = (CK_ATTRIBUTE){CKA_SIGN, &yes, sizeof(yes)};
    privt[nv++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &yes, sizeof(yes)};
    privt[nv++] = (CK_ATTRIBUTE){CKA_PRIVATE, &yes, sizeof(yes)};
    return p11->C_GenerateKeyPair(s, &m, pubt, (CK_ULONG)np, privt, (CK_ULONG)nv, pub, priv);
}

static void gen_secret(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mt, CK_KEY_TYPE kt, CK_ULONG len,
                       CK_OBJECT_HANDLE *out)
{
    CK_MECHANISM m = {mt, NULL, 0};
    CK_ATTRIBUTE t[] = {
        {CKA_TOKEN, &no, sizeof(no)},       {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_DECRYPT, &yes, sizeof(yes)},   {CKA_SIGN, &yes, sizeof(yes)},      {CKA_VERIFY, &yes, sizeof(yes)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
    };
    CK(p11->C_GenerateKey(s, &m, t, sizeof(t) / sizeof(t[0]), out));
}

/* ---- iterations ---- */
static int do_sign(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k, uint8_t *in, CK_ULONG inlen,
                   uint8_t *out)
{
    CK_ULONG len = 1024;
    if (p11->C_SignInit(s, m, k) != CKR_OK)
        return 1;
    return p11->C_Sign(s, in, inlen, out, &len) != CKR_OK;
}

static int do_verify(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k, uint8_t *in, CK_ULONG inlen,
                     uint8_t *sig, CK_ULONG siglen)
{
    if (p11->C_VerifyInit(s, m, k) != CKR_OK)
        return 1;
    return p11->C_Verify(s, in, inlen, sig, siglen) != CKR_OK;
}

#define T(x) ((struct tctx *)(x))
static int it_rsa_pkcs_sign(void *c)
{
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    return do_sign(T(c)->s, &m, rsa_priv, data64, 32, T(c)->out);
}
static int it_rsa_pkcs_verify(void *c)
{
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    return do_verify(T(c)->s, &m, rsa_pub, data64, 32, sig_rsa_pkcs, sig_rsa_pkcs_len);
}
static int it_rsa_pss_sign(void *c)
{
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS_PSS, &pss_params, sizeof(pss_params)};
    return do_sign(T(c)->s, &m, rsa_priv, data64, 32, T(c)->out);
}
static int it_rsa_pss_verify(void *c)
{
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS_PSS, &pss_params, sizeof(pss_params)};
    return do_verify(T(c)->s, &m, rsa_pub, data64, 32, sig_rsa_pss, sig_rsa_pss_len);
}
static int it_p256_sign(void *c)
{
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    return do_sign(T(c)->s, &m, p256_priv, hash32, 32, T(c)->out);
}
static int it_p256_verify(void *c)
{
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    return do_verify(T(c)->s, &m, p256_pub, hash32, 32, sig_p256, sig_p256_len);
}
static int it_p384_sign(void *c)
{
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    return do_sign(T(c)->s, &m, p384_priv, hash48, 48, T(c)->out);
}
static int it_p384_verify(void *c)
{
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    return do_verify(T(c)->s, &m, p384_pub, hash48, 48, sig_p384, sig_p384_len);
}
static int it_ed_sign(void *c)
{
    CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
    return do_sign(T(c)->s, &m, ed_priv, data64, 32, T(c)->out);
}
static int it_ed_verify(void *c)
{
    CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
    return do_verify(T(c)->s, &m, ed_pub, data64, 32, sig_ed, sig_ed_len);
}
static int it_sha256_4k(void *c)
{
    CK_MECHANISM m = {CKM_SHA256, NULL, 0};
    CK_ULONG len = 64;
    if (p11->C_DigestInit(T(c)->s, &m) != CKR_OK)
        return 1;
    return p11->C_Digest(T(c)->s, data4k, sizeof(data4k), T(c)->out, &len) != CKR_OK;
}
static int gcm_enc(void *c, uint8_t *in, CK_ULONG inlen)
{
    CK_MECHANISM m = {CKM_AES_GCM, &gcm_params, sizeof(gcm_params)};
    CK_ULONG len = sizeof(T(c)->out);
    if (p11->C_EncryptInit(T(c)->s, &m, aes_key) != CKR_OK)
        return 1;
    return p11->C_Encrypt(T(c)->s, in, inlen, T(c)->out, &len) != CKR_OK;
}
static int it_gcm_enc_4k(void *c)
{
    return gcm_enc(c, data4k, sizeof(data4k));
}
static int it_gcm_enc_64(void *c)
{
    return gcm_enc(c, data64, sizeof(data64));
}
static int it_gcm_dec_4k(void *c)
{
    CK_MECHANISM m = {CKM_AES_GCM, &gcm_params, sizeof(gcm_params)};
    CK_ULONG len = sizeof(T(c)->out);
    if (p11->C_DecryptInit(T(c)->s, &m, aes_key) != CKR_OK)
        return 1;
    return p11->C_Decrypt(T(c)->s, gcm_ct4k, gcm_ct4k_len, T(c)->out, &len) != CKR_OK;
}
static int it_cbcpad_enc_4k(void *c)
{
    CK_MECHANISM m = {CKM_AES_CBC_PAD, gcm_iv, 16};
    static uint8_t iv16[16];
    m.pParameter = iv16;
    CK_ULONG len = sizeof(T(c)->out);
    if (p11->C_EncryptInit(T(c)->s, &m, aes_key) != CKR_OK)
        return 1;
    return p11->C_Encrypt(T(c)->s, data4k, sizeof(data4k), T(c)->out, &len) != CKR_OK;
}
static int it_hmac_64(void *c)
{
    CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
    return do_sign(T(c)->s, &m, hmac_key, data64, sizeof(data64), T(c)->out);
}
static int it_random_32(void *c)
{
    return p11->C_GenerateRandom(T(c)->s, T(c)->out, 32) != CKR_OK;
}
static int it_aes_keygen(void *c)
{
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_OBJECT_HANDLE h;
    CK_ATTRIBUTE t[] = {{CKA_TOKEN, &no, sizeof(no)}, {CKA_VALUE_LEN, &len, sizeof(len)}};
    if (p11->C_GenerateKey(T(c)->s, &m, t, 2, &h) != CKR_OK)
        return 1;
    return p11->C_DestroyObject(T(c)->s, h) != CKR_OK;
}
static int it_p256_keygen(void *c)
{
    CK_OBJECT_HANDLE pub, priv;
    if (gen_pair(T(c)->s, CKM_EC_KEY_PAIR_GEN, oid_p256, sizeof(oid_p256), 0, &pub, &priv) != CKR_OK)
        return 1;
    return (p11->C_DestroyObject(T(c)->s, pub) | p11->C_DestroyObject(T(c)->s, priv)) != CKR_OK;
}

#define OP(name, fn) {#name, fn},
static const struct bench_op ops[] = {BENCH_OPS(OP)};
#undef OP

static void load_module(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "p11bench: dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
    if (gfl == NULL) {
        fprintf(stderr, "p11bench: %s has no C_GetFunctionList\n", path);
        exit(1);
    }
    CK(gfl(&p11));
}

static void pad(CK_UTF8CHAR *dst, const char *src, size_t n)
{
    memset(dst, ' ', n);
    memcpy(dst, src, strlen(src) < n ? strlen(src) : n);
}

static void find_slot(const char *label, long slot_arg)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = 64;
    CK(p11->C_GetSlotList(CK_TRUE, slots, &n));
    if (label == NULL) {
        slot = (CK_SLOT_ID)(slot_arg >= 0 ? slot_arg : (n > 0 ? (long)slots[0] : 0));
        return;
    }
    CK_UTF8CHAR want[32];
    pad(want, label, 32);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (p11->C_GetTokenInfo(slots[i], &ti) == CKR_OK && memcmp(ti.label, want, 32) == 0) {
            slot = slots[i];
            return;
        }
    }
    fprintf(stderr, "p11bench: no token labelled '%s'\n", label);
    exit(1);
}

static void setup_keys(CK_SESSION_HANDLE s)
{
    for (size_t i = 0; i < sizeof(data4k); i++)
        data4k[i] = (uint8_t)i;
    memset(data64, 0x5a, sizeof(data64));
    memset(hash32, 0x11, sizeof(hash32));
    memset(hash48, 0x22, sizeof(hash48));
    CK(gen_pair(s, CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0, 2048, &rsa_pub, &rsa_priv));
    CK(gen_pair(s, CKM_EC_KEY_PAIR_GEN, oid_p256, sizeof(oid_p256), 0, &p256_pub, &p256_priv));
    CK(gen_pair(s, CKM_EC_KEY_PAIR_GEN, oid_p384, sizeof(oid_p384), 0, &p384_pub, &p384_priv));
    have_ed = gen_pair(s, CKM_EC_EDWARDS_KEY_PAIR_GEN, oid_ed25519, sizeof(oid_ed25519), 0, &ed_pub, &ed_priv) ==
              CKR_OK;
    gen_secret(s, CKM_AES_KEY_GEN, CKK_AES, 32, &aes_key);
    gen_secret(s, CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, 32, &hmac_key);
    gcm_params = (CK_GCM_PARAMS){gcm_iv, sizeof(gcm_iv), 96, NULL, 0, 128};

    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    sig_rsa_pkcs_len = sizeof(sig_rsa_pkcs);
    CK(p11->C_SignInit(s, &m, rsa_priv));
    CK(p11->C_Sign(s, data64, 32, sig_rsa_pkcs, &sig_rsa_pkcs_len));
    m = (CK_MECHANISM){CKM_SHA256_RSA_PKCS_PSS, &pss_params, sizeof(pss_params)};
    sig_rsa_pss_len = sizeof(sig_rsa_pss);
    CK(p11->C_SignInit(s, &m, rsa_priv));
    CK(p11->C_Sign(s, data64, 32, sig_rsa_pss, &sig_rsa_pss_len));
    m = (CK_MECHANISM){CKM_ECDSA, NULL, 0};
    sig_p256_len = sizeof(sig_p256);
    CK(p11->C_SignInit(s, &m, p256_priv));
    CK(p11->C_Sign(s, hash32, 32, sig_p256, &sig_p256_len));
    sig_p384_len = sizeof(sig_p384);
    CK(p11->C_SignInit(s, &m, p384_priv));
    CK(p11->C_Sign(s, hash48, 48, sig_p384, &sig_p384_len));
    if (have_ed) {
        m = (CK_MECHANISM){CKM_EDDSA, NULL, 0};
        sig_ed_len = sizeof(sig_ed);
        CK(p11->C_SignInit(s, &m, ed_priv));
        CK(p11->C_Sign(s, data64, 32, sig_ed, &sig_ed_len));
    }
    m = (CK_MECHANISM){CKM_AES_GCM, &gcm_params, sizeof(gcm_params)};
    gcm_ct4k_len = sizeof(gcm_ct4k);
    CK(p11->C_EncryptInit(s, &m, aes_key));
    CK(p11->C_Encrypt(s, data4k, sizeof(data4k), gcm_ct4k, &gcm_ct4k_len));
}

/* Sessions for the measurement's threads are opened once and kept. */
static int open_sessions(int threads, void *arg)
{
    struct tctx *tc = arg;
    for (int i = 0; i < threads; i++)
        if (tc[i].s == CK_INVALID_HANDLE && p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                                                &tc[i].s) != CKR_OK)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *module = NULL, *label = NULL, *init_so = NULL;
    struct bench_plan plan = BENCH_PLAN_DEFAULTS;
    long slot_arg = -1;
    static const struct option lo[] = {
        {"module", 1, 0, 'm'}, {"impl", 1, 0, 'i'},    {"pin", 1, 0, 'p'},     {"token-label", 1, 0, 'l'},
        {"slot", 1, 0, 's'},   {"init", 1, 0, 'I'},    BENCH_PLAN_OPTIONS,     {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'm': module = optarg; break;
        case 'i': plan.impl = optarg; break;
        case 'p': user_pin = optarg; break;
        case 'l': label = optarg; break;
        case 's': slot_arg = atol(optarg); break;
        case 'I': init_so = optarg; break;
        default:
            if (bench_plan_opt(&plan, c, optarg) != 1)
                return 2;
        }
    }
    if (module == NULL || user_pin == NULL) {
        fprintf(stderr, "usage: p11bench --module PATH --pin USERPIN [--impl NAME] [--token-label L|--slot N] "
                        "[--init SOPIN] " BENCH_PLAN_USAGE "\n");
        return 2;
    }
    load_module(module);
    CK_C_INITIALIZE_ARGS ia = {0};
    ia.flags = CKF_OS_LOCKING_OK;
    CK(p11->C_Initialize(&ia));
    find_slot(init_so ? NULL : label, slot_arg);
    CK_SESSION_HANDLE main_s;
    if (init_so != NULL) {
        CK_UTF8CHAR lab[32];
        pad(lab, label ? label : "bench", 32);
        CK(p11->C_InitToken(slot, (CK_UTF8CHAR_PTR)init_so, strlen(init_so), lab));
        CK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &main_s));
        CK(p11->C_Login(main_s, CKU_SO, (CK_UTF8CHAR_PTR)init_so, strlen(init_so)));
        CK(p11->C_InitPIN(main_s, (CK_UTF8CHAR_PTR)user_pin, strlen(user_pin)));
        CK(p11->C_Logout(main_s));
    } else {
        CK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &main_s));
    }
    CK(p11->C_Login(main_s, CKU_USER, (CK_UTF8CHAR_PTR)user_pin, strlen(user_pin)));
    setup_keys(main_s);

    struct tctx tc[64];
    void *ctxs[64];
    for (int i = 0; i < 64; i++) {
        tc[i].s = CK_INVALID_HANDLE;
        ctxs[i] = &tc[i];
    }
    int unavailable[sizeof(ops) / sizeof(ops[0])];
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
        unavailable[o] = strncmp(ops[o].name, "ed25519", 7) == 0 && !have_ed;
    int rc = bench_run_plan(&plan, ops, unavailable, sizeof(ops) / sizeof(ops[0]), ctxs, open_sessions, tc);
    p11->C_Finalize(NULL);
    return rc;
}
