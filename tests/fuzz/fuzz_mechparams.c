/*
 * libFuzzer harness over mechanism parameters: fuzzed CK_GCM_PARAMS,
 * CK_AES_CTR_PARAMS, CBC IVs, CK_RSA_PKCS_PSS_PARAMS, CK_RSA_PKCS_OAEP_PARAMS,
 * CK_ECDH1_DERIVE_PARAMS, CK_EDDSA_PARAMS and CK_MAC_GENERAL_PARAMS (values,
 * struct lengths, and pointers into the input with fuzzed lengths) go to
 * C_EncryptInit/C_DecryptInit/C_SignInit/C_VerifyInit/C_DeriveKey/
 * C_WrapKey/C_UnwrapKey of libcraton_hsm.so (linked, so libFuzzer sees its
 * coverage) on a volatile token with pre-made keys. Every buffer handed to
 * the module is its own heap block of exactly the advertised length, so a
 * read past a declared length is an ASan report. Any crash, sanitizer report
 * or abort() below is a finding; any CKR_* is an acceptable answer, but an
 * accepted Init must lead to an operation that finishes (the session never
 * stays stuck with an active operation).
 *
 * Input: [mech:1] [op:1] [key:1] [lenmode:1] then field bytes taken as the
 * struct is filled; the rest of the input is the pool pointers point into.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "craton_hsm/pkcs11.h"
#include "fuzz_module_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cursor {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct cursor *c)
{
    if (c->n == 0)
        return 0;
    c->n--;
    return *c->p++;
}

/* Small values mostly, sometimes the edges: lengths and bit counts live here. */
static CK_ULONG take_ulong(struct cursor *c)
{
    uint8_t sel = take8(c);
    switch (sel >> 6) {
    case 0: return sel & 0x3f;
    case 1: return (CK_ULONG)(sel & 0x3f) * 8;
    case 2: return (CK_ULONG)take8(c) | (CK_ULONG)take8(c) << 8;
    default: {
        static const CK_ULONG edge[] = {0, 1, 12, 16, 32, 96, 128, 256, 257, 0xffffffffUL, (CK_ULONG)-1,
                                        (CK_ULONG)-1 / 8 + 1, 0x80000000UL};
        return edge[(sel & 0x3f) % (sizeof edge / sizeof edge[0])];
    }
    }
}

/* A heap block of exactly len bytes copied from the input (NULL when asked, or len 0 half the time). */
struct blk {
    uint8_t *p[8];
    int n;
};

static void *take_buf(struct cursor *c, struct blk *b, CK_ULONG *len_out)
{
    uint8_t mode = take8(c);
    size_t len = take8(c);
    if (mode % 8 == 0) { /* NULL pointer with whatever length the fuzzer says */
        *len_out = len;
        return NULL;
    }
    if (len > c->n)
        len = c->n;
    uint8_t *p = malloc(len ? len : 1);
    if (p == NULL || b->n == 8) {
        free(p);
        *len_out = 0;
        return NULL;
    }
    memcpy(p, c->p, len);
    c->p += len, c->n -= len;
    b->p[b->n++] = p;
    *len_out = (CK_ULONG)len;
    return p;
}

static CK_SESSION_HANDLE g_s;
static CK_OBJECT_HANDLE g_aes, g_gen, g_rsa_pub, g_rsa_priv, g_ec_pub, g_ec_priv, g_ed_pub, g_ed_priv;
static const CK_UTF8CHAR g_so[] = "so-pin-1", g_user[] = "user-pin";

static CK_RV keys(void)
{
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG l32 = 32, bits = 2048;
    CK_BYTE e[] = {1, 0, 1}, p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07},
            ed[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
    CK_ATTRIBUTE sec[] = {{CKA_TOKEN, &no, 1},   {CKA_VALUE_LEN, &l32, sizeof l32}, {CKA_ENCRYPT, &yes, 1},
                          {CKA_DECRYPT, &yes, 1}, {CKA_SIGN, &yes, 1}, {CKA_VERIFY, &yes, 1}, {CKA_WRAP, &yes, 1},
                          {CKA_UNWRAP, &yes, 1},  {CKA_EXTRACTABLE, &yes, 1}, {CKA_SENSITIVE, &no, 1}};
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &no, 1}, {CKA_VERIFY, &yes, 1}, {CKA_ENCRYPT, &yes, 1}, {CKA_WRAP, &yes, 1},
                          {CKA_MODULUS_BITS, &bits, sizeof bits}, {CKA_PUBLIC_EXPONENT, e, sizeof e}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &no, 1}, {CKA_SIGN, &yes, 1}, {CKA_DECRYPT, &yes, 1}, {CKA_UNWRAP, &yes, 1},
                           {CKA_DERIVE, &yes, 1}};
    CK_ATTRIBUTE ecpub[] = {{CKA_TOKEN, &no, 1}, {CKA_VERIFY, &yes, 1}, {CKA_EC_PARAMS, p256, sizeof p256}};
    CK_ATTRIBUTE edpub[] = {{CKA_TOKEN, &no, 1}, {CKA_VERIFY, &yes, 1}, {CKA_EC_PARAMS, ed, sizeof ed}};
    CK_MECHANISM ka = {CKM_AES_KEY_GEN, NULL, 0}, kg = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
    CK_MECHANISM kr = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0}, ke = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_MECHANISM kd = {CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0};
    CK_RV rv;
    if ((rv = C_GenerateKey(g_s, &ka, sec, 10, &g_aes)) != CKR_OK ||
        (rv = C_GenerateKey(g_s, &kg, sec, 10, &g_gen)) != CKR_OK ||
        (rv = C_GenerateKeyPair(g_s, &kr, pub, 6, priv, 5, &g_rsa_pub, &g_rsa_priv)) != CKR_OK ||
        (rv = C_GenerateKeyPair(g_s, &ke, ecpub, 3, priv, 5, &g_ec_pub, &g_ec_priv)) != CKR_OK)
        return rv;
    /* CKA_DERIVE is meaningless on an Edwards key; a module may refuse it, so leave it out */
    return C_GenerateKeyPair(g_s, &kd, edpub, 3, priv, 2, &g_ed_pub, &g_ed_priv);
}

static bool setup(void)
{
    static int state;
    if (state != 0)
        return state == 1;
    state = -1;
    if (!chsm_fuzz_module_env("mech"))
        return false;
    CK_UTF8CHAR label[32];
    CK_SESSION_HANDLE so;
    CK_RV rv;
    memset(label, ' ', sizeof label);
    if ((rv = C_Initialize(NULL)) != CKR_OK || (rv = C_InitToken(0, (CK_UTF8CHAR *)g_so, 8, label)) != CKR_OK ||
        (rv = C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &so)) != CKR_OK ||
        (rv = C_Login(so, CKU_SO, (CK_UTF8CHAR *)g_so, 8)) != CKR_OK ||
        (rv = C_InitPIN(so, (CK_UTF8CHAR *)g_user, 8)) != CKR_OK || (rv = C_CloseSession(so)) != CKR_OK ||
        (rv = C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g_s)) != CKR_OK ||
        (rv = C_Login(g_s, CKU_USER, (CK_UTF8CHAR *)g_user, 8)) != CKR_OK || (rv = keys()) != CKR_OK) {
        fprintf(stderr, "fuzz_mechparams: module setup failed: 0x%lx\n", rv);
        abort(); /* a harness that cannot reach the code is a broken harness */
    }
    state = 1;
    return true;
}

static const CK_MECHANISM_TYPE g_mechs[] = {
    CKM_AES_GCM,        CKM_AES_CTR,         CKM_AES_CBC,       CKM_AES_CBC_PAD,         CKM_AES_ECB,
    CKM_RSA_PKCS_PSS,   CKM_SHA256_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS, CKM_RSA_PKCS_OAEP, CKM_RSA_PKCS,
    CKM_ECDH1_DERIVE,   CKM_EDDSA,           CKM_ECDSA,         CKM_ECDSA_SHA256,        CKM_SHA256_HMAC_GENERAL,
    CKM_SHA512_HMAC,    CKM_AES_CMAC,        CKM_AES_CMAC_GENERAL, CKM_AES_KEY_WRAP,     CKM_AES_KEY_WRAP_KWP,
};

/* Fill the parameter for m; *len is the true struct size (the caller may lie about it). */
static void *build_param(CK_MECHANISM_TYPE m, struct cursor *c, struct blk *b, CK_ULONG *len, void *store)
{
    switch (m) {
    case CKM_AES_GCM: {
        CK_GCM_PARAMS *p = store;
        p->pIv = take_buf(c, b, &p->ulIvLen);
        p->ulIvBits = take_ulong(c);
        p->pAAD = take_buf(c, b, &p->ulAADLen);
        p->ulTagBits = take_ulong(c);
        *len = sizeof *p;
        return p;
    }
    case CKM_AES_CTR: {
        CK_AES_CTR_PARAMS *p = store;
        p->ulCounterBits = take_ulong(c);
        for (int i = 0; i < 16; i++)
            p->cb[i] = take8(c);
        *len = sizeof *p;
        return p;
    }
    case CKM_RSA_PKCS_PSS: case CKM_SHA256_RSA_PKCS_PSS: case CKM_SHA512_RSA_PKCS_PSS: {
        static const CK_MECHANISM_TYPE h[] = {CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_MD5, 0};
        CK_RSA_PKCS_PSS_PARAMS *p = store;
        p->hashAlg = h[take8(c) % 7];
        p->mgf = take8(c) % 8;
        p->sLen = take_ulong(c);
        *len = sizeof *p;
        return p;
    }
    case CKM_RSA_PKCS_OAEP: {
        CK_RSA_PKCS_OAEP_PARAMS *p = store;
        p->hashAlg = take8(c) % 2 ? CKM_SHA256 : CKM_SHA_1;
        p->mgf = take8(c) % 8;
        p->source = take8(c) % 3;
        p->pSourceData = take_buf(c, b, &p->ulSourceDataLen);
        *len = sizeof *p;
        return p;
    }
    case CKM_ECDH1_DERIVE: {
        CK_ECDH1_DERIVE_PARAMS *p = store;
        p->kdf = take8(c) % 10;
        p->pSharedData = take_buf(c, b, &p->ulSharedDataLen);
        p->pPublicData = take_buf(c, b, &p->ulPublicDataLen);
        *len = sizeof *p;
        return p;
    }
    case CKM_EDDSA: {
        CK_EDDSA_PARAMS *p = store;
        p->phFlag = take8(c) % 3;
        p->pContextData = take_buf(c, b, &p->ulContextDataLen);
        *len = sizeof *p;
        return p;
    }
    case CKM_SHA256_HMAC_GENERAL: case CKM_AES_CMAC_GENERAL: {
        CK_ULONG *p = store;
        *p = take_ulong(c);
        *len = sizeof *p;
        return p;
    }
    default: /* IVs and everything else: raw bytes */
        return take_buf(c, b, len);
    }
}

static CK_OBJECT_HANDLE pick_key(CK_MECHANISM_TYPE m, uint8_t sel)
{
    static CK_OBJECT_HANDLE *all[] = {&g_aes, &g_gen, &g_rsa_pub, &g_rsa_priv, &g_ec_pub, &g_ec_priv, &g_ed_pub, &g_ed_priv};
    if (sel >= 0xC0) /* mostly the right family, sometimes any key */
        return *all[sel % 8];
    switch (m) {
    case CKM_RSA_PKCS_PSS: case CKM_SHA256_RSA_PKCS_PSS: case CKM_SHA512_RSA_PKCS_PSS: case CKM_RSA_PKCS_OAEP:
    case CKM_RSA_PKCS: return sel & 1 ? g_rsa_priv : g_rsa_pub;
    case CKM_ECDH1_DERIVE: return g_ec_priv;
    case CKM_ECDSA: case CKM_ECDSA_SHA256: return sel & 1 ? g_ec_priv : g_ec_pub;
    case CKM_EDDSA: return sel & 1 ? g_ed_priv : g_ed_pub;
    case CKM_SHA256_HMAC_GENERAL: case CKM_SHA512_HMAC: return g_gen;
    default: return g_aes;
    }
}

/* Run a single-part operation to its end (a refused buffer is retried once with the size asked for). */
static void finish(CK_RV (*fn)(CK_SESSION_HANDLE, CK_BYTE *, CK_ULONG, CK_BYTE *, CK_ULONG *), const uint8_t *in,
                   size_t n)
{
    CK_ULONG l = 0;
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, in, n);
    CK_RV rv = fn(g_s, copy, (CK_ULONG)n, NULL, &l);
    if (rv == CKR_OK) {
        if (l > (1u << 20))
            abort(); /* a size query that answers more than 1 MiB for tiny input */
        uint8_t *out = malloc(l ? l : 1);
        rv = fn(g_s, copy, (CK_ULONG)n, out, &l);
        if (rv == CKR_BUFFER_TOO_SMALL && l <= (1u << 20)) {
            free(out);
            out = malloc(l ? l : 1);
            (void)fn(g_s, copy, (CK_ULONG)n, out, &l);
        }
        free(out);
    }
    free(copy);
}

static void run(CK_MECHANISM *mech, uint8_t op, CK_OBJECT_HANDLE key, struct cursor *c)
{
    static const uint8_t msg[48] = "fuzz mechanism parameters, 48 bytes of input..";
    size_t mn = take8(c) % sizeof msg;
    CK_RV rv;
    switch (op % 7) {
    case 0:
        if (C_EncryptInit(g_s, mech, key) == CKR_OK)
            finish(C_Encrypt, msg, mn);
        break;
    case 1:
        if (C_DecryptInit(g_s, mech, key) == CKR_OK)
            finish(C_Decrypt, msg, mn);
        break;
    case 2:
        if (C_SignInit(g_s, mech, key) == CKR_OK)
            finish(C_Sign, msg, mn);
        break;
    case 3:
        if (C_VerifyInit(g_s, mech, key) == CKR_OK) {
            uint8_t *sig = malloc(64);
            memcpy(sig, msg, 48), memset(sig + 48, 0, 16);
            (void)C_Verify(g_s, (CK_BYTE *)msg, (CK_ULONG)mn, sig, take8(c) % 65);
            free(sig);
        }
        break;
    case 4: {
        CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
        CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
        CK_ULONG vl = take8(c) % 80;
        CK_BBOOL no = CK_FALSE;
        CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt},
                            {CKA_VALUE_LEN, &vl, sizeof vl}, {CKA_TOKEN, &no, 1}};
        CK_OBJECT_HANDLE h;
        if (C_DeriveKey(g_s, mech, key, a, 4, &h) == CKR_OK && C_DestroyObject(g_s, h) != CKR_OK)
            abort();
        break;
    }
    case 5: {
        CK_ULONG l = 0;
        if (C_WrapKey(g_s, mech, key, g_gen, NULL, &l) == CKR_OK && l <= (1u << 20)) {
            uint8_t *w = malloc(l ? l : 1);
            (void)C_WrapKey(g_s, mech, key, g_gen, w, &l);
            free(w);
        }
        break;
    }
    default: {
        CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
        CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
        CK_BBOOL no = CK_FALSE;
        CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_TOKEN, &no, 1}};
        CK_OBJECT_HANDLE h;
        CK_ULONG wl = take8(c) % 48;
        uint8_t *w = malloc(wl ? wl : 1);
        for (CK_ULONG i = 0; i < wl; i++)
            w[i] = take8(c);
        if (C_UnwrapKey(g_s, mech, key, w, wl, a, 3, &h) == CKR_OK && C_DestroyObject(g_s, h) != CKR_OK)
            abort();
        free(w);
        break;
    }
    }
    /* Nothing may be left active: a well-formed Init of each kind must now succeed and finish. */
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    if ((rv = C_EncryptInit(g_s, &ecb, g_aes)) != CKR_OK) {
        fprintf(stderr, "encrypt op left active or broken: 0x%lx\n", rv);
        abort();
    }
    finish(C_Encrypt, msg, 16);
    if ((rv = C_DecryptInit(g_s, &ecb, g_aes)) != CKR_OK) {
        fprintf(stderr, "decrypt op left active or broken: 0x%lx\n", rv);
        abort();
    }
    finish(C_Decrypt, msg, 16);
    CK_MECHANISM hm = {CKM_SHA256_HMAC, NULL, 0};
    if ((rv = C_SignInit(g_s, &hm, g_gen)) != CKR_OK) {
        fprintf(stderr, "sign op left active or broken: 0x%lx\n", rv);
        abort();
    }
    finish(C_Sign, msg, 3);
    if ((rv = C_VerifyInit(g_s, &hm, g_gen)) != CKR_OK) {
        fprintf(stderr, "verify op left active or broken: 0x%lx\n", rv);
        abort();
    }
    (void)C_Verify(g_s, (CK_BYTE *)msg, 3, (CK_BYTE *)msg, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!setup())
        return 0;
    struct cursor c = {data, size};
    uint8_t msel = take8(&c), op = take8(&c), ksel = take8(&c), lenmode = take8(&c);
    CK_MECHANISM_TYPE m = g_mechs[msel % (sizeof g_mechs / sizeof g_mechs[0])];
    union {
        CK_GCM_PARAMS gcm;
        CK_AES_CTR_PARAMS ctr;
        CK_RSA_PKCS_PSS_PARAMS pss;
        CK_RSA_PKCS_OAEP_PARAMS oaep;
        CK_ECDH1_DERIVE_PARAMS ecdh;
        CK_EDDSA_PARAMS ed;
        CK_ULONG ul;
    } st;
    memset(&st, 0, sizeof st);
    struct blk b = {{0}, 0};
    CK_ULONG len = 0;
    void *p = build_param(m, &c, &b, &len, &st);
    /*
     * The struct goes to the module in a heap block of the length we claim:
     * exact, shorter (the module must not read the missing tail), longer
     * (padding), or a NULL pointer with a length.
     */
    CK_ULONG claim = len;
    switch (lenmode % 5) {
    case 1: claim = len ? len - 1 - (lenmode >> 3) % len : 0; break;
    case 2: claim = len + 1 + (lenmode >> 3); break;
    case 3: claim = lenmode >> 3; break;
    default: break;
    }
    uint8_t *heap = NULL;
    CK_MECHANISM mech = {m, NULL, claim};
    if (lenmode % 5 != 4 && p != NULL) {
        heap = malloc(claim ? claim : 1);
        memset(heap, 0xA5, claim);
        memcpy(heap, p, claim < len ? claim : len);
        mech.pParameter = heap;
    } else if (lenmode % 5 == 4) {
        mech.ulParameterLen = len; /* NULL with the true length */
    }
    run(&mech, op, pick_key(m, ksel), &c);
    free(heap);
    for (int i = 0; i < b.n; i++)
        free(b.p[i]);
    return 0;
}
