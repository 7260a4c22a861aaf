/*
 * rawbench: the same work as p11bench, in the same shape (a fresh operation
 * context per iteration, keys prepared once), straight on OpenSSL 3 with no
 * PKCS#11 in between. It is the baseline for the "ours ÷ raw" ratios.
 *
 *   rawbench [--threads 1,2] [--seconds S] [--slices N] [--ops a,b] [--turn-in F --turn-out F --ready F]
 * (options: bench_common.h, struct bench_plan)
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "bench_common.h"

static EVP_PKEY *rsa, *p256, *p384, *ed;
static uint8_t data4k[4096], data64[64], hash32[32], hash48[48], key32[32], iv12[12], iv16[16];
static uint8_t sig_rsa_pkcs[256], sig_rsa_pss[256], sig_p256[80], sig_p384[120], sig_ed[64], gcm_ct[4096],
    gcm_tag[16];
static size_t sig_rsa_pkcs_len, sig_rsa_pss_len, sig_p256_len, sig_p384_len, sig_ed_len;
static EVP_MAC *hmac;

struct tctx {
    _Alignas(64) uint8_t out[8192]; /* threads' buffers on separate cache lines */
};
#define T(x) ((struct tctx *)(x))

static int digest_sign(EVP_PKEY *k, const EVP_MD *md, int pss, const uint8_t *in, size_t inlen, uint8_t *out,
                       size_t *outlen)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    int ok = EVP_DigestSignInit(c, &pc, md, NULL, k) == 1;
    if (ok && pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1;
    ok = ok && EVP_DigestSign(c, out, outlen, in, inlen) == 1;
    EVP_MD_CTX_free(c);
    return !ok;
}

static int digest_verify(EVP_PKEY *k, const EVP_MD *md, int pss, const uint8_t *in, size_t inlen,
                         const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    int ok = EVP_DigestVerifyInit(c, &pc, md, NULL, k) == 1;
    if (ok && pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1;
    ok = ok && EVP_DigestVerify(c, sig, siglen, in, inlen) == 1;
    EVP_MD_CTX_free(c);
    return !ok;
}

static int pkey_sign(EVP_PKEY *k, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
    int ok = c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, out, outlen, in, inlen) == 1;
    EVP_PKEY_CTX_free(c);
    return !ok;
}

static int pkey_verify(EVP_PKEY *k, const uint8_t *in, size_t inlen, const uint8_t *sig, size_t siglen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
    int ok = c && EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_verify(c, sig, siglen, in, inlen) == 1;
    EVP_PKEY_CTX_free(c);
    return !ok;
}

static int it_rsa_pkcs_sign(void *c)
{
    size_t n = 256;
    return digest_sign(rsa, EVP_sha256(), 0, data64, 32, T(c)->out, &n);
}
static int it_rsa_pkcs_verify(void *c)
{
    (void)c;
    return digest_verify(rsa, EVP_sha256(), 0, data64, 32, sig_rsa_pkcs, sig_rsa_pkcs_len);
}
static int it_rsa_pss_sign(void *c)
{
    size_t n = 256;
    return digest_sign(rsa, EVP_sha256(), 1, data64, 32, T(c)->out, &n);
}
static int it_rsa_pss_verify(void *c)
{
    (void)c;
    return digest_verify(rsa, EVP_sha256(), 1, data64, 32, sig_rsa_pss, sig_rsa_pss_len);
}
static int it_p256_sign(void *c)
{
    size_t n = 80;
    return pkey_sign(p256, hash32, 32, T(c)->out, &n);
}
static int it_p256_verify(void *c)
{
    (void)c;
    return pkey_verify(p256, hash32, 32, sig_p256, sig_p256_len);
}
static int it_p384_sign(void *c)
{
    size_t n = 120;
    return pkey_sign(p384, hash48, 48, T(c)->out, &n);
}
static int it_p384_verify(void *c)
{
    (void)c;
    return pkey_verify(p384, hash48, 48, sig_p384, sig_p384_len);
}
static int it_ed_sign(void *c)
{
    size_t n = 64;
    return digest_sign(ed, NULL, 0, data64, 32, T(c)->out, &n);
}
static int it_ed_verify(void *c)
{
    (void)c;
    return digest_verify(ed, NULL, 0, data64, 32, sig_ed, sig_ed_len);
}
static int it_sha256_4k(void *c)
{
    EVP_MD_CTX *d = EVP_MD_CTX_new();
    unsigned n = 0;
    int ok = EVP_DigestInit_ex(d, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(d, data4k, sizeof(data4k)) == 1 &&
             EVP_DigestFinal_ex(d, T(c)->out, &n) == 1;
    EVP_MD_CTX_free(d);
    return !ok;
}
static int cipher_enc(const EVP_CIPHER *ci, const uint8_t *iv, const uint8_t *in, int inlen, uint8_t *out, int gcm)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    int ok = EVP_EncryptInit_ex(c, ci, NULL, key32, iv) == 1 && EVP_EncryptUpdate(c, out, &n1, in, inlen) == 1 &&
             EVP_EncryptFinal_ex(c, out + n1, &n2) == 1;
    if (ok && gcm)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n1 + n2) == 1;
    EVP_CIPHER_CTX_free(c);
    return !ok;
}
static int it_gcm_enc_4k(void *c)
{
    return cipher_enc(EVP_aes_256_gcm(), iv12, data4k, sizeof(data4k), T(c)->out, 1);
}
static int it_gcm_enc_64(void *c)
{
    return cipher_enc(EVP_aes_256_gcm(), iv12, data64, sizeof(data64), T(c)->out, 1);
}
static int it_cbcpad_enc_4k(void *c)
{
    return cipher_enc(EVP_aes_256_cbc(), iv16, data4k, sizeof(data4k), T(c)->out, 0);
}
static int it_gcm_dec_4k(void *c)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    int ok = EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key32, iv12) == 1 &&
             EVP_DecryptUpdate(x, T(c)->out, &n1, gcm_ct, sizeof(gcm_ct)) == 1 &&
             EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, gcm_tag) == 1 &&
             EVP_DecryptFinal_ex(x, T(c)->out + n1, &n2) == 1;
    EVP_CIPHER_CTX_free(x);
    return !ok;
}
static int it_hmac_64(void *c)
{
    EVP_MAC_CTX *m = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0), OSSL_PARAM_END};
    size_t n = 0;
    int ok = m && EVP_MAC_init(m, key32, sizeof(key32), p) == 1 && EVP_MAC_update(m, data64, sizeof(data64)) == 1 &&
             EVP_MAC_final(m, T(c)->out, &n, 64) == 1;
    EVP_MAC_CTX_free(m);
    return !ok;
}
static int it_random_32(void *c)
{
    return RAND_bytes(T(c)->out, 32) != 1;
}
static int it_aes_keygen(void *c)
{
    /* A generated AES key is 32 DRBG bytes held in a fresh allocation. */
    uint8_t *k = malloc(32);
    int ok = k && RAND_bytes(k, 32) == 1;
    memcpy(T(c)->out, k, 32);
    free(k);
    return !ok;
}
static int it_p256_keygen(void *c)
{
    (void)c;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY_free(k);
    return k == NULL;
}

#define OP(name, fn) {#name, fn},
static const struct bench_op ops[] = {BENCH_OPS(OP)};
#undef OP

int main(int argc, char **argv)
{
    struct bench_plan plan = BENCH_PLAN_DEFAULTS;
    plan.impl = "raw";
    static const struct option lo[] = {BENCH_PLAN_OPTIONS, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        default:
            if (bench_plan_opt(&plan, c, optarg) != 1) {
                fprintf(stderr, "usage: rawbench " BENCH_PLAN_USAGE "\n");
                return 2;
            }
        }
    }
    for (size_t i = 0; i < sizeof(data4k); i++)
        data4k[i] = (uint8_t)i;
    memset(data64, 0x5a, sizeof(data64));
    memset(hash32, 0x11, sizeof(hash32));
    memset(hash48, 0x22, sizeof(hash48));
    RAND_bytes(key32, sizeof(key32));
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!rsa || !p256 || !p384 || !ed || !hmac) {
        fprintf(stderr, "rawbench: key setup failed\n");
        return 1;
    }
    sig_rsa_pkcs_len = sizeof(sig_rsa_pkcs);
    sig_rsa_pss_len = sizeof(sig_rsa_pss);
    sig_p256_len = sizeof(sig_p256);
    sig_p384_len = sizeof(sig_p384);
    sig_ed_len = sizeof(sig_ed);
    if (digest_sign(rsa, EVP_sha256(), 0, data64, 32, sig_rsa_pkcs, &sig_rsa_pkcs_len) ||
        digest_sign(rsa, EVP_sha256(), 1, data64, 32, sig_rsa_pss, &sig_rsa_pss_len) ||
        pkey_sign(p256, hash32, 32, sig_p256, &sig_p256_len) || pkey_sign(p384, hash48, 48, sig_p384, &sig_p384_len) ||
        digest_sign(ed, NULL, 0, data64, 32, sig_ed, &sig_ed_len)) {
        fprintf(stderr, "rawbench: signature setup failed\n");
        return 1;
    }
    {
        EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
        int n1 = 0, n2 = 0;
        EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key32, iv12);
        EVP_EncryptUpdate(x, gcm_ct, &n1, data4k, sizeof(data4k));
        EVP_EncryptFinal_ex(x, gcm_ct + n1, &n2);
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, gcm_tag);
        EVP_CIPHER_CTX_free(x);
    }
    struct tctx tc[64];
    void *ctxs[64];
    for (int i = 0; i < 64; i++)
        ctxs[i] = &tc[i];
    int rc = bench_run_plan(&plan, ops, NULL, sizeof(ops) / sizeof(ops[0]), ctxs, NULL, NULL);
    return rc;
}
