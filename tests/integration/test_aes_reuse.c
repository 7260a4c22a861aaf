/*
 * AES operations on one key, back to back, through the real ABI: the module
 * may keep a finished operation's cipher context with its key object and
 * re-arm it for the next Init (as it does for HMAC), and none of that may be
 * visible. Every ciphertext||tag is compared with OpenSSL's EVP computed here;
 * every decryption must give back the plaintext that reference encrypted.
 * Covered: long GCM sequences with changing IV/AAD/tag length/size, encrypt
 * and decrypt alternating (one-shot and multi-part), operations ended by an
 * error, mechanism switches, the size-query convention, abandoned multi-part
 * operations, alternating keys, a destroyed key's successor, and four
 * threads on one shared key.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_util.h"

static struct p11 P;
#define F (P.f)
#define SLOT 0
#define MAXMSG 4096
#define BUF (MAXMSG + 64)

static CK_SESSION_HANDLE g_s;
static uint8_t g_pt[MAXMSG + 64]; /* plaintext pool; messages are slices of it at offsets < 64 */

struct key {
    CK_OBJECT_HANDLE h;
    uint8_t v[32];
    size_t len;
};

/* A mechanism and the parameter storage it points into (never copied after mk()). */
struct mech {
    CK_MECHANISM m;
    CK_GCM_PARAMS g;
    CK_AES_CTR_PARAMS c;
    uint8_t iv[16], aad[40];
    size_t ivlen, aadlen, tag; /* tag in bytes */
};

static void make_key(CK_SESSION_HANDLE s, struct key *k, size_t len, unsigned seed)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL t = CK_TRUE, f = CK_FALSE;
    for (size_t i = 0; i < len; i++)
        k->v[i] = (uint8_t)(seed * 29u + i * 13u + 5u);
    k->len = len;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt},
                        {CKA_TOKEN, &f, sizeof f},     {CKA_VALUE, k->v, len},
                        {CKA_ENCRYPT, &t, sizeof t},   {CKA_DECRYPT, &t, sizeof t}};
    k->h = CK_INVALID_HANDLE;
    CHECK_RV(F->C_CreateObject(s, a, 6, &k->h), CKR_OK);
}

/* IV and AAD derived from seed (its low 32 bits lead the IV, so distinct seeds give distinct IVs). */
static void mk(struct mech *x, CK_MECHANISM_TYPE t, unsigned seed, size_t ivlen, size_t aadlen, CK_ULONG tagbits)
{
    memset(x, 0, sizeof *x);
    for (size_t i = 0; i < sizeof x->iv; i++)
        x->iv[i] = (uint8_t)(i < 4 ? seed >> (8 * i) : seed * 131u + i * 7u + 1u);
    for (size_t i = 0; i < sizeof x->aad; i++)
        x->aad[i] = (uint8_t)(seed * 17u + i * 3u + 9u);
    x->m.mechanism = t;
    if (t == CKM_AES_GCM) {
        x->ivlen = ivlen, x->aadlen = aadlen, x->tag = tagbits / 8;
        x->g = (CK_GCM_PARAMS){.pIv = x->iv, .ulIvLen = ivlen, .ulIvBits = ivlen * 8,
                               .pAAD = aadlen ? x->aad : NULL, .ulAADLen = aadlen, .ulTagBits = tagbits};
        x->m.pParameter = &x->g, x->m.ulParameterLen = sizeof x->g;
    } else if (t == CKM_AES_CTR) {
        x->ivlen = 16, x->c.ulCounterBits = 128;
        memcpy(x->c.cb, x->iv, 16);
        x->m.pParameter = &x->c, x->m.ulParameterLen = sizeof x->c;
    } else if (t == CKM_AES_CBC || t == CKM_AES_CBC_PAD) {
        x->ivlen = 16;
        x->m.pParameter = x->iv, x->m.ulParameterLen = 16;
    }
}

static const EVP_CIPHER *evp_of(CK_MECHANISM_TYPE t, size_t klen)
{
    bool k32 = klen == 32;
    switch (t) {
    case CKM_AES_GCM: return k32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
    case CKM_AES_CTR: return k32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
    case CKM_AES_ECB: return k32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb();
    default: return k32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
    }
}

/* OpenSSL reference encryption (GCM: ciphertext||tag); SIZE_MAX on failure. */
static size_t ref_enc(const struct key *k, const struct mech *x, const uint8_t *in, size_t n, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    bool gcm = x->m.mechanism == CKM_AES_GCM;
    size_t r = SIZE_MAX;
    int l = 0, l2 = 0;
    if (ctx == NULL || EVP_EncryptInit_ex(ctx, evp_of(x->m.mechanism, k->len), NULL, NULL, NULL) != 1)
        goto out;
    if (gcm && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)x->ivlen, NULL) != 1)
        goto out;
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, k->v, x->ivlen ? x->iv : NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, x->m.mechanism == CKM_AES_CBC_PAD) != 1)
        goto out;
    if (gcm && x->aadlen && EVP_EncryptUpdate(ctx, NULL, &l, x->aad, (int)x->aadlen) != 1)
        goto out;
    if (EVP_EncryptUpdate(ctx, out, &l, in, (int)n) != 1 || EVP_EncryptFinal_ex(ctx, out + l, &l2) != 1)
        goto out;
    r = (size_t)l + (size_t)l2;
    if (gcm && x->tag) {
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)x->tag, out + r) != 1) {
            r = SIZE_MAX;
            goto out;
        }
        r += x->tag;
    }
out:
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

/* Init + one-shot (chunk 0) or Updates of `chunk` bytes + Final, through the ABI. */
static CK_RV p11_run(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, bool enc, struct mech *x, const uint8_t *in, size_t n,
                     size_t chunk, uint8_t *out, size_t *outlen)
{
    CK_ULONG cap = (CK_ULONG)*outlen, got = 0, ol = cap;
    CK_BYTE *pin = (CK_BYTE *)in;
    CK_RV rv = enc ? F->C_EncryptInit(s, &x->m, k) : F->C_DecryptInit(s, &x->m, k);
    if (rv != CKR_OK)
        return rv;
    if (chunk == 0) {
        rv = enc ? F->C_Encrypt(s, pin, n, out, &ol) : F->C_Decrypt(s, pin, n, out, &ol);
        *outlen = ol;
        return rv;
    }
    for (size_t off = 0; off < n; off += chunk) {
        CK_ULONG part = n - off < chunk ? n - off : chunk;
        ol = cap - got;
        rv = enc ? F->C_EncryptUpdate(s, pin + off, part, out + got, &ol)
                 : F->C_DecryptUpdate(s, pin + off, part, out + got, &ol);
        if (rv != CKR_OK)
            return rv;
        got += ol;
    }
    ol = cap - got;
    rv = enc ? F->C_EncryptFinal(s, out + got, &ol) : F->C_DecryptFinal(s, out + got, &ol);
    *outlen = got + ol;
    return rv;
}

static bool report(const char *what, const struct mech *x, size_t n, size_t chunk, CK_RV rv, size_t gl, size_t rl)
{
    fprintf(stderr, "  %s mech 0x%lx iv %zu tag %zu len %zu chunk %zu: %s, got %zu bytes, want %zu\n", what,
            x->m.mechanism, x->ivlen, x->tag, n, chunk, p11t_rv_name(rv), gl, rl);
    return false;
}

/* Module encryption of g_pt[off..off+n) equals OpenSSL's. */
static bool enc_ok(CK_SESSION_HANDLE s, const struct key *k, struct mech *x, size_t off, size_t n, size_t chunk)
{
    uint8_t ref[BUF], got[BUF];
    size_t rl = ref_enc(k, x, g_pt + off, n, ref), gl = sizeof got;
    CK_RV rv = p11_run(s, k->h, true, x, g_pt + off, n, chunk, got, &gl);
    if (rv != CKR_OK || rl == SIZE_MAX || gl != rl || memcmp(got, ref, rl) != 0)
        return report("encrypt", x, n, chunk, rv, gl, rl);
    return true;
}

/* Module decryption of OpenSSL's ciphertext gives back g_pt[off..off+n). */
static bool dec_ok(CK_SESSION_HANDLE s, const struct key *k, struct mech *x, size_t off, size_t n, size_t chunk)
{
    uint8_t ct[BUF], got[BUF];
    size_t cl = ref_enc(k, x, g_pt + off, n, ct), gl = sizeof got;
    if (cl == SIZE_MAX)
        return report("reference", x, n, chunk, CKR_OK, 0, 0);
    CK_RV rv = p11_run(s, k->h, false, x, ct, cl, chunk, got, &gl);
    if (rv != CKR_OK || gl != n || memcmp(got, g_pt + off, n) != 0)
        return report("decrypt", x, n, chunk, rv, gl, n);
    return true;
}

static unsigned g_sec_failed, g_sec_passed;
static void section(const char *name)
{
    printf("%s %s (%u checks)\n", p11t_failed == g_sec_failed ? "ok  " : "FAIL", name, p11t_passed - g_sec_passed);
    g_sec_failed = p11t_failed, g_sec_passed = p11t_passed;
}

/* 1: fifty GCM encryptions on one key, IV/AAD/tag/length all changing. */
static void test_gcm_sequence(const struct key *k)
{
    static const size_t lens[] = {0, 1, 15, 16, MAXMSG};
    static const CK_ULONG tags[] = {128, 96, 64, 0};
    static const size_t aads[] = {0, 1, 13, 40};
    struct mech x;
    for (unsigned i = 0; i < 50; i++) {
        mk(&x, CKM_AES_GCM, 1000 + i + (unsigned)k->len * 100, 12, aads[i % 4], tags[(i / 4) % 4]);
        CHECK(enc_ok(g_s, k, &x, i % 7, lens[i % 5], i % 3 == 2 ? 7 : 0));
    }
}

/* 2: encrypt then decrypt, alternating, and operations ended by errors. */
static void test_alternate(const struct key *k)
{
    static const size_t lens[] = {0, 1, 15, 16, 17, 100, MAXMSG};
    struct mech x;
    uint8_t ct[BUF], out[BUF];
    size_t cl, ol;
    for (unsigned i = 0; i < 28; i++) {
        CK_MECHANISM_TYPE t = i % 2 ? CKM_AES_CBC_PAD : CKM_AES_GCM;
        size_t n = lens[i % 7], chunk = (i / 2) % 2 ? 5 : 0;
        mk(&x, t, 2000 + i, 12, i % 3 ? 20 : 0, 128);
        CHECK(enc_ok(g_s, k, &x, i, n, chunk));
        CHECK(dec_ok(g_s, k, &x, i, n, chunk ? 0 : 16));
    }
    /* A corrupted tag, one-shot and multi-part: refused, and the key's next operations are exact. */
    for (size_t chunk = 0; chunk <= 9; chunk += 9) {
        mk(&x, CKM_AES_GCM, 2100 + (unsigned)chunk, 12, 16, 128);
        cl = ref_enc(k, &x, g_pt, 64, ct);
        CHECK(cl == 80);
        ct[cl - 1] ^= 0x40;
        ol = sizeof out;
        CHECK_RV(p11_run(g_s, k->h, false, &x, ct, cl, chunk, out, &ol), CKR_ENCRYPTED_DATA_INVALID);
        CK_ULONG fl = sizeof out;
        CHECK_RV(F->C_DecryptFinal(g_s, out, &fl), CKR_OPERATION_NOT_INITIALIZED);
        mk(&x, CKM_AES_GCM, 2110 + (unsigned)chunk, 12, 16, 128);
        CHECK(enc_ok(g_s, k, &x, 3, 64, 0));
        CHECK(dec_ok(g_s, k, &x, 3, 64, 0));
        CHECK(dec_ok(g_s, k, &x, 5, 300, 11));
    }
    /* CBC-PAD with bad padding, and CBC ending on a partial block: both end in error, nothing left over. */
    mk(&x, CKM_AES_CBC_PAD, 2200, 0, 0, 0);
    cl = ref_enc(k, &x, g_pt, 40, ct);
    ct[cl - 17] ^= 0x01; /* flips the last plaintext byte = the pad length */
    ol = sizeof out;
    CHECK_RV(p11_run(g_s, k->h, false, &x, ct, cl, 0, out, &ol), CKR_ENCRYPTED_DATA_INVALID);
    mk(&x, CKM_AES_CBC_PAD, 2201, 0, 0, 0);
    CHECK(dec_ok(g_s, k, &x, 0, 40, 0));
    mk(&x, CKM_AES_CBC, 2202, 0, 0, 0);
    ol = sizeof out;
    CHECK_RV(p11_run(g_s, k->h, true, &x, g_pt, 37, 8, out, &ol), CKR_DATA_LEN_RANGE);
    mk(&x, CKM_AES_CBC, 2203, 0, 0, 0);
    CHECK(enc_ok(g_s, k, &x, 0, 48, 8));
    CHECK(dec_ok(g_s, k, &x, 0, 48, 0));
    mk(&x, CKM_AES_GCM, 2204, 12, 7, 96);
    CHECK(enc_ok(g_s, k, &x, 1, 33, 0));
    CHECK(dec_ok(g_s, k, &x, 1, 33, 4));
}

/* 3: the mechanism changes from one operation to the next on one key. */
static void test_switch(const struct key *k)
{
    struct mech x;
    for (unsigned round = 0; round < 2; round++) {
        unsigned b = 3000 + round * 100;
        mk(&x, CKM_AES_GCM, b + 0, 12, 8, 128), CHECK(enc_ok(g_s, k, &x, 0, 100, 0));
        mk(&x, CKM_AES_CBC, b + 1, 0, 0, 0), CHECK(enc_ok(g_s, k, &x, 0, 64, 0));
        mk(&x, CKM_AES_CBC_PAD, b + 2, 0, 0, 0), CHECK(enc_ok(g_s, k, &x, 0, 100, round ? 7 : 0));
        mk(&x, CKM_AES_ECB, b + 3, 0, 0, 0), CHECK(enc_ok(g_s, k, &x, 0, 64, round ? 5 : 0));
        mk(&x, CKM_AES_CTR, b + 4, 0, 0, 0), CHECK(enc_ok(g_s, k, &x, 0, 100, round ? 3 : 0));
        mk(&x, CKM_AES_GCM, b + 5, 16, 8, 128), CHECK(enc_ok(g_s, k, &x, 0, 100, 0));
        mk(&x, CKM_AES_GCM, b + 6, 1, 0, 96), CHECK(enc_ok(g_s, k, &x, 0, 100, 0));
        mk(&x, CKM_AES_GCM, b + 7, 12, 0, 128), CHECK(enc_ok(g_s, k, &x, 0, 100, round ? 9 : 0));
        mk(&x, CKM_AES_CTR, b + 8, 0, 0, 0), CHECK(dec_ok(g_s, k, &x, 0, 100, 0));
        mk(&x, CKM_AES_ECB, b + 9, 0, 0, 0), CHECK(dec_ok(g_s, k, &x, 0, 32, 0));
        mk(&x, CKM_AES_GCM, b + 10, 16, 0, 64), CHECK(dec_ok(g_s, k, &x, 0, 50, 0));
        mk(&x, CKM_AES_GCM, b + 11, 12, 3, 128), CHECK(dec_ok(g_s, k, &x, 0, 50, 6));
    }
}

/* 4: length query, a too-small buffer, then completion; then the next operation. */
static void test_size_query(const struct key *k)
{
    static const CK_MECHANISM_TYPE ts[] = {CKM_AES_GCM, CKM_AES_CBC_PAD, CKM_AES_CTR};
    struct mech x;
    uint8_t ref[BUF], out[BUF];
    for (unsigned i = 0; i < 3; i++) {
        mk(&x, ts[i], 4000 + i, 12, 5, 128);
        size_t rl = ref_enc(k, &x, g_pt, 45, ref);
        CK_ULONG ol = 0;
        CHECK_RV(F->C_EncryptInit(g_s, &x.m, k->h), CKR_OK);
        CHECK_RV(F->C_Encrypt(g_s, g_pt, 45, NULL, &ol), CKR_OK);
        CHECK(ol >= rl && rl != SIZE_MAX);
        ol = 4;
        CHECK_RV(F->C_Encrypt(g_s, g_pt, 45, out, &ol), CKR_BUFFER_TOO_SMALL);
        CHECK(ol >= rl);
        ol = sizeof out;
        CHECK_RV(F->C_Encrypt(g_s, g_pt, 45, out, &ol), CKR_OK);
        CHECK(ol == rl && memcmp(out, ref, rl) == 0);
        mk(&x, ts[i], 4010 + i, 12, 0, 96);
        CHECK(enc_ok(g_s, k, &x, 2, 45, 0));
        /* The same convention on decryption. */
        mk(&x, ts[i], 4020 + i, 12, 9, 128);
        size_t cl = ref_enc(k, &x, g_pt, 45, ref);
        CHECK_RV(F->C_DecryptInit(g_s, &x.m, k->h), CKR_OK);
        ol = 0;
        CHECK_RV(F->C_Decrypt(g_s, ref, cl, NULL, &ol), CKR_OK);
        CHECK(ol >= 45);
        ol = 3;
        CHECK_RV(F->C_Decrypt(g_s, ref, cl, out, &ol), CKR_BUFFER_TOO_SMALL);
        ol = sizeof out;
        CHECK_RV(F->C_Decrypt(g_s, ref, cl, out, &ol), CKR_OK);
        CHECK(ol == 45 && memcmp(out, g_pt, 45) == 0);
        mk(&x, ts[i], 4030 + i, 12, 0, 128);
        CHECK(dec_ok(g_s, k, &x, 1, 45, 0));
    }
}

/* Starts a multi-part operation and feeds it part of a message, leaving it unfinished. */
static void start_op(CK_SESSION_HANDLE s, const struct key *k, bool enc, struct mech *x)
{
    uint8_t out[BUF];
    CK_ULONG ol = sizeof out;
    CHECK_RV(enc ? F->C_EncryptInit(s, &x->m, k->h) : F->C_DecryptInit(s, &x->m, k->h), CKR_OK);
    CHECK_RV(enc ? F->C_EncryptUpdate(s, g_pt + 100, 23, out, &ol) : F->C_DecryptUpdate(s, g_pt + 100, 23, out, &ol),
             CKR_OK);
}

/* 5: multi-part operations abandoned mid-way (session closed, or left open in another session). */
static void test_abandoned(const struct key *k)
{
    static const CK_MECHANISM_TYPE ts[] = {CKM_AES_GCM, CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTR};
    struct mech a, b, x;
    for (unsigned i = 0; i < 4; i++) {
        CK_SESSION_HANDLE s1 = 0, s2 = 0;
        CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION, NULL, NULL, &s1), CKR_OK);
        mk(&a, ts[i], 5000 + i, 12, 30, 128);
        mk(&b, ts[i], 5010 + i, 12, 11, 64);
        start_op(s1, k, true, &a);
        CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION, NULL, NULL, &s2), CKR_OK);
        start_op(s2, k, false, &b);
        /* Same key and mechanism in g_s while both are still open. */
        mk(&x, ts[i], 5020 + i, 12, 0, 128);
        CHECK(enc_ok(g_s, k, &x, 0, 64, i % 2 ? 0 : 16));
        CHECK(dec_ok(g_s, k, &x, 0, 64, 0));
        CHECK_RV(F->C_CloseSession(s1), CKR_OK);
        CHECK_RV(F->C_CloseSession(s2), CKR_OK);
        CK_SESSION_HANDLE s3 = 0;
        CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION, NULL, NULL, &s3), CKR_OK);
        mk(&x, ts[i], 5030 + i, 12, 0, 128);
        CHECK(enc_ok(s3, k, &x, 0, 64, 0));
        CHECK(dec_ok(s3, k, &x, 0, 64, 0));
        mk(&x, ts[i], 5040 + i, 12, 30, 128);
        CHECK(enc_ok(s3, k, &x, 0, 64, 10));
        CHECK(dec_ok(s3, k, &x, 0, 64, 10));
        CHECK_RV(F->C_CloseSession(s3), CKR_OK);
    }
    /* An op in g_s left active: a second Init is refused; closing its session frees it. */
    CK_SESSION_HANDLE s4 = 0;
    CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION, NULL, NULL, &s4), CKR_OK);
    mk(&a, CKM_AES_GCM, 5100, 12, 0, 128);
    start_op(s4, k, true, &a);
    CHECK_RV(F->C_EncryptInit(s4, &a.m, k->h), CKR_OPERATION_ACTIVE);
    CHECK_RV(F->C_CloseSession(s4), CKR_OK);
    mk(&x, CKM_AES_GCM, 5101, 12, 0, 128);
    CHECK(enc_ok(g_s, k, &x, 0, 23, 0));
}

/* 6: two keys alternately; a destroyed key's successor encrypts with its own value. */
static void test_two_keys(void)
{
    struct key k1, k2, k3;
    struct mech x;
    make_key(g_s, &k1, 16, 61);
    make_key(g_s, &k2, 16, 62);
    for (unsigned i = 0; i < 20; i++) {
        const struct key *k = i % 2 ? &k2 : &k1;
        mk(&x, i % 4 < 2 ? CKM_AES_GCM : CKM_AES_CBC_PAD, 6000 + i / 2, 12, 4, 128); /* same params on both */
        CHECK(enc_ok(g_s, k, &x, i, 77, 0));
        CHECK(dec_ok(g_s, k, &x, i, 77, i % 3 == 0 ? 8 : 0));
    }
    CHECK_RV(F->C_DestroyObject(g_s, k1.h), CKR_OK);
    mk(&x, CKM_AES_GCM, 6100, 12, 0, 128);
    CHECK_RV(F->C_EncryptInit(g_s, &x.m, k1.h), CKR_KEY_HANDLE_INVALID);
    make_key(g_s, &k3, 16, 63);
    CHECK(enc_ok(g_s, &k3, &x, 0, 64, 0));
    CHECK(dec_ok(g_s, &k3, &x, 0, 64, 0));
    mk(&x, CKM_AES_CBC_PAD, 6101, 0, 0, 0);
    CHECK(enc_ok(g_s, &k3, &x, 0, 64, 0));
    CHECK(enc_ok(g_s, &k2, &x, 0, 64, 0));
    CHECK_RV(F->C_DestroyObject(g_s, k2.h), CKR_OK);
    CHECK_RV(F->C_DestroyObject(g_s, k3.h), CKR_OK);
}

struct worker {
    CK_SESSION_HANDLE s;
    const struct key *k;
    unsigned id;
    int bad;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct mech x;
    for (unsigned i = 0; i < 1000; i++) {
        unsigned seed = 0x100000u * (w->id + 1) + i; /* distinct IV per thread and operation */
        CK_MECHANISM_TYPE t = i % 5 == 4 ? CKM_AES_CBC_PAD : i % 11 == 3 ? CKM_AES_CTR : CKM_AES_GCM;
        mk(&x, t, seed, i % 13 == 0 ? 16 : 12, i % 3 * 8, i % 7 == 0 ? 96 : 128);
        size_t n = (i * 37u + w->id) % 200, chunk = i % 4 == 1 ? 9 : 0;
        if (!enc_ok(w->s, w->k, &x, i % 50, n, chunk) || !dec_ok(w->s, w->k, &x, i % 50, n, chunk))
            w->bad++;
    }
    return NULL;
}

/* 7: four threads, each in its own session, on one shared key. */
static void test_threads(const struct key *k)
{
    struct worker w[4];
    pthread_t t[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){.k = k, .id = i};
        CHECK_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION, NULL, NULL, &w[i].s), CKR_OK);
    }
    for (unsigned i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].bad == 0);
        CHECK_RV(F->C_CloseSession(w[i].s), CKR_OK);
    }
    struct mech x;
    mk(&x, CKM_AES_GCM, 7000, 12, 0, 128);
    CHECK(enc_ok(g_s, k, &x, 0, 64, 0));
}

int main(int argc, char **argv)
{
    if (!p11t_setup(&P, argc, argv, NULL))
        return p11t_finish();
    for (size_t i = 0; i < sizeof g_pt; i++)
        g_pt[i] = (uint8_t)(i * 7u + (i >> 8) + 3u);
    REQUIRE_RV(F->C_Initialize(NULL), CKR_OK);
    REQUIRE_RV(p11t_init_token(&P, SLOT), CKR_OK);
    REQUIRE_RV(F->C_OpenSession(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g_s), CKR_OK);
    REQUIRE_RV(F->C_Login(g_s, CKU_USER, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN)), CKR_OK);
    for (size_t klen = 16; klen <= 32; klen += 16) {
        struct key k;
        char name[64];
        make_key(g_s, &k, klen, (unsigned)klen);
        printf("AES-%zu key\n", klen * 8);
        test_gcm_sequence(&k), section("1 GCM sequence on one key");
        test_alternate(&k), section("2 encrypt/decrypt alternating, failed ops leave nothing");
        test_switch(&k), section("3 mechanism switch on one key");
        test_size_query(&k), section("4 size query and too-small buffer");
        test_abandoned(&k), section("5 abandoned multi-part operations");
        snprintf(name, sizeof name, "7 four threads on one AES-%zu key", klen * 8);
        test_threads(&k), section(name);
        CHECK_RV(F->C_DestroyObject(g_s, k.h), CKR_OK);
    }
    test_two_keys(), section("6 two keys alternating, destroyed key's successor");
    CHECK_RV(F->C_CloseSession(g_s), CKR_OK);
    CHECK_RV(F->C_Finalize(NULL), CKR_OK);
    return p11t_finish();
}
