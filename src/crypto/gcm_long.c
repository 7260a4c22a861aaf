/*
 * AES-GCM with IVs longer than OpenSSL accepts (SP 800-38D section 7; see
 * gcm_long.h). Keystream: OpenSSL AES-CTR, whose counter is a 128-bit
 * big-endian integer, while GCM's inc32 wraps only the low 32 bits; the
 * stream is therefore split at the wrap point and CTR restarted at
 * J0[0..11] || 0^32. (Whether a message crosses the wrap shows in its timing,
 * as it does in OpenSSL's own ctr32-based GCM; the result never depends on
 * it.) GHASH: gcm_ghash.c (OpenSSL's GHASH plus one multiply).
 */
#include <stdbool.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/gcm_ghash.h"
#include "crypto/gcm_long.h"
#include "crypto/internal.h"

/* SP 800-38D 5.2.1.1: len(P) <= 2^39 - 256 bits, i.e. 2^32 - 2 blocks. */
#define GCM_MAX_BYTES ((UINT64_C(1) << 36) - 32)
/* Largest single OpenSSL update (its lengths are int). */
#define CTR_CHUNK ((size_t)1 << 30)

struct chsm_gcm_long {
    EVP_CIPHER_CTX *ctr;
    struct chsm_gcm_ghash gh;
    uint8_t h[16];     /* E_K(0^128) */
    uint8_t ekj0[16];  /* E_K(J0) */
    uint8_t j0[16];
    uint64_t to_wrap;  /* keystream bytes left before the low 32 counter bits wrap */
    uint64_t done;     /* message bytes processed */
    uint64_t aad_len;
    bool closed;       /* tag given, open done, or a step failed half-way: the context serves nothing more */
};

static void store_be64(uint8_t *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* One AES block under the ECB context. */
CHSM_MUST_CHECK static CK_RV ecb_block(EVP_CIPHER_CTX *ecb, const uint8_t in[16], uint8_t out[16])
{
    int n = 0;
    if (EVP_CipherUpdate(ecb, out, &n, in, 16) != 1 || n != 16)
        return CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "AES block");
    return CKR_OK;
}

/* ECB context, H and the GHASH context: everything that depends on the key alone. */
CHSM_MUST_CHECK static CK_RV key_setup(struct chsm_gcm_long *g, const uint8_t *key, size_t key_len,
                                       EVP_CIPHER_CTX **ecb)
{
    CK_RV rv = CKR_OK;
    static const uint8_t zero[16];
    const EVP_CIPHER *e = chsm_aes_cipher(CHSM_C_AES_ECB, key_len), *ctr = chsm_aes_cipher(CHSM_C_AES_CTR, key_len);
    CHSM_ENSURE(e != NULL && ctr != NULL, CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "AES key length %zu", key_len));
    *ecb = EVP_CIPHER_CTX_new();
    g->ctr = EVP_CIPHER_CTX_new();
    CHSM_ENSURE(*ecb != NULL && g->ctr != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "GCM contexts"));
    CHSM_ENSURE(EVP_CipherInit_ex2(*ecb, e, key, NULL, 1, NULL) == 1 && EVP_CIPHER_CTX_set_padding(*ecb, 0) == 1 &&
                    EVP_CipherInit_ex2(g->ctr, ctr, key, NULL, 1, NULL) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM key setup"));
    CHSM_GUARD(ecb_block(*ecb, zero, g->h));
    CHSM_GUARD(chsm_gcm_ghash_init(&g->gh, *ecb, key, key_len));
out:
    return rv;
}

/* SP 800-38D 7.1 step 2: J0 = IV || 0^31 || 1 for a 96-bit IV, else GHASH_H(IV || 0pad || 0^64 || [8|IV|]_64). */
CHSM_MUST_CHECK static CK_RV derive_j0(struct chsm_gcm_long *g, const uint8_t *iv, size_t iv_len)
{
    CK_RV rv = CKR_OK;
    uint8_t last[16] = {0};
    if (iv_len == 12) {
        memcpy(g->j0, iv, 12);
        g->j0[15] = 1;
        goto out;
    }
    store_be64(last + 8, (uint64_t)iv_len * 8);
    CHSM_GUARD(chsm_gcm_ghash_feed(&g->gh, iv, iv_len));
    CHSM_GUARD(chsm_gcm_ghash_finish(&g->gh, g->h, last, g->j0));
    CHSM_GUARD(chsm_gcm_ghash_reset(&g->gh));
out:
    return rv;
}

/* E_K(J0), CTR at inc32(J0), and A || 0pad into the message GHASH. */
CHSM_MUST_CHECK static CK_RV message_setup(struct chsm_gcm_long *g, EVP_CIPHER_CTX *ecb, const uint8_t *aad,
                                           size_t aad_len)
{
    CK_RV rv = CKR_OK;
    uint8_t cb[16];
    uint32_t low;
    memcpy(cb, g->j0, 16);
    low = ((uint32_t)cb[12] << 24 | (uint32_t)cb[13] << 16 | (uint32_t)cb[14] << 8 | cb[15]) + 1u;
    cb[12] = (uint8_t)(low >> 24), cb[13] = (uint8_t)(low >> 16), cb[14] = (uint8_t)(low >> 8), cb[15] = (uint8_t)low;
    g->to_wrap = ((UINT64_C(1) << 32) - low) * 16;
    CHSM_GUARD(ecb_block(ecb, g->j0, g->ekj0));
    CHSM_ENSURE(EVP_CipherInit_ex2(g->ctr, NULL, NULL, cb, 1, NULL) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM CTR"));
    g->aad_len = aad_len;
    if (aad_len > 0)
        CHSM_GUARD(chsm_gcm_ghash_feed(&g->gh, aad, aad_len));
    CHSM_GUARD(chsm_gcm_ghash_pad(&g->gh));
out:
    chsm_wipe(cb, sizeof(cb));
    return rv;
}

/* Common body of both constructors; j0 == NULL derives J0 from the IV. */
CHSM_MUST_CHECK static CK_RV create(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
                                    const uint8_t *j0, const uint8_t *aad, size_t aad_len, struct chsm_gcm_long **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_gcm_long *g = NULL;
    EVP_CIPHER_CTX *ecb = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(key != NULL && out != NULL && (j0 != NULL || (iv != NULL && iv_len > 0)) &&
                    (aad != NULL || aad_len == 0) && aad_len <= INT32_MAX,
                CHSM_ERR(CKR_ARGUMENTS_BAD, CHSM_LAYER_CRYPTO, "GCM arguments"));
    g = chsm_secure_malloc(sizeof(*g));
    CHSM_ENSURE(g != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "GCM state"));
    CHSM_GUARD(key_setup(g, key, key_len, &ecb));
    if (j0 != NULL)
        memcpy(g->j0, j0, 16);
    else
        CHSM_GUARD(derive_j0(g, iv, iv_len));
    CHSM_GUARD(message_setup(g, ecb, aad, aad_len));
    *out = g;
    g = NULL;
out:
    EVP_CIPHER_CTX_free(ecb);
    chsm_gcm_long_free(g);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_gcm_long_new(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len, const uint8_t *aad,
                        size_t aad_len, struct chsm_gcm_long **out)
{
    return create(key, key_len, iv, iv_len, NULL, aad, aad_len, out);
}

CK_RV chsm_gcm_long_new_j0(const uint8_t *key, size_t key_len, const uint8_t j0[16], const uint8_t *aad,
                           size_t aad_len, struct chsm_gcm_long **out)
{
    if (j0 == NULL)
        return CHSM_ERR(CKR_ARGUMENTS_BAD, CHSM_LAYER_CRYPTO, "GCM J0");
    return create(key, key_len, NULL, 0, j0, aad, aad_len, out);
}

void chsm_gcm_long_free(struct chsm_gcm_long *g)
{
    if (g == NULL)
        return;
    EVP_CIPHER_CTX_free(g->ctr);
    if (g->gh.ctx != NULL)
        chsm_gcm_ghash_free(&g->gh);
    chsm_secure_free(g, sizeof(*g));
}

/* XOR n bytes with the keystream, restarting CTR where inc32 wraps. */
CHSM_MUST_CHECK static CK_RV ctr_xor(struct chsm_gcm_long *g, const uint8_t *in, size_t n, uint8_t *out)
{
    CK_RV rv = CKR_OK;
    uint8_t cb[16];
    memcpy(cb, g->j0, 12);
    memset(cb + 12, 0, 4);
    while (n > 0) {
        size_t part = n < CTR_CHUNK ? n : CTR_CHUNK;
        int got = 0;
        if (g->to_wrap == 0) { /* at a block boundary: the next counter is J0[0..11] || 0^32 */
            CHSM_ENSURE(EVP_CipherInit_ex2(g->ctr, NULL, NULL, cb, 1, NULL) == 1,
                        CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM CTR wrap"));
            g->to_wrap = UINT64_C(1) << 36; /* a full 2^32 blocks: more than GCM allows */
        }
        if (part > g->to_wrap)
            part = (size_t)g->to_wrap;
        CHSM_ENSURE(EVP_CipherUpdate(g->ctr, out, &got, in, (int)part) == 1 && (size_t)got == part,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM CTR"));
        g->to_wrap -= part;
        in += part, out += part, n -= part;
    }
out:
    chsm_wipe(cb, sizeof(cb));
    return rv;
}

CK_RV chsm_gcm_long_seal(struct chsm_gcm_long *g, const uint8_t *in, size_t n, uint8_t *out)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_ENSURE(g != NULL && (n == 0 || (in != NULL && out != NULL)), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!g->closed, CKR_OPERATION_NOT_INITIALIZED);
    CHSM_ENSURE(n <= GCM_MAX_BYTES - g->done,
                CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "GCM message longer than 2^36-32 bytes"));
    g->closed = true; /* until both halves below succeed: CTR and GHASH must not drift apart */
    CHSM_GUARD(ctr_xor(g, in, n, out));
    CHSM_GUARD(chsm_gcm_ghash_feed(&g->gh, out, n));
    g->done += n;
    g->closed = false;
out:
    chsm_ossl_clear();
    return rv;
}

/* Full 16-byte tag E_K(J0) XOR GHASH_H(A || 0pad || C || 0pad || [8|A|]_64 || [8|C|]_64). */
CHSM_MUST_CHECK static CK_RV full_tag(struct chsm_gcm_long *g, uint8_t tag[16])
{
    CK_RV rv = CKR_OK;
    uint8_t last[16];
    store_be64(last, g->aad_len * 8);
    store_be64(last + 8, g->done * 8);
    CHSM_GUARD(chsm_gcm_ghash_pad(&g->gh));
    CHSM_GUARD(chsm_gcm_ghash_finish(&g->gh, g->h, last, tag));
    for (size_t i = 0; i < 16; i++)
        tag[i] ^= g->ekj0[i];
out:
    return rv;
}

CK_RV chsm_gcm_long_tag(struct chsm_gcm_long *g, uint8_t *tag, size_t tag_len)
{
    CK_RV rv = CKR_OK;
    uint8_t t[16];
    ERR_set_mark();
    CHSM_ENSURE(g != NULL && (tag != NULL || tag_len == 0) && tag_len <= 16, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!g->closed, CKR_OPERATION_NOT_INITIALIZED);
    g->closed = true;
    CHSM_GUARD(full_tag(g, t));
    if (tag_len > 0)
        memcpy(tag, t, tag_len);
out:
    chsm_wipe(t, sizeof(t));
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_gcm_long_open(struct chsm_gcm_long *g, const uint8_t *ct, size_t n, const uint8_t *tag, size_t tag_len,
                         uint8_t *out)
{
    CK_RV rv = CKR_OK;
    uint8_t t[16];
    ERR_set_mark();
    CHSM_ENSURE(g != NULL && (tag != NULL || tag_len == 0) && tag_len <= 16 && (n == 0 || (ct != NULL && out != NULL)),
                CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!g->closed && g->done == 0,
                CHSM_ERR(CKR_OPERATION_NOT_INITIALIZED, CHSM_LAYER_CRYPTO, "GCM context already used"));
    CHSM_ENSURE(n <= GCM_MAX_BYTES,
                CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "GCM ciphertext longer than 2^36-32 bytes"));
    g->closed = true;
    CHSM_GUARD(chsm_gcm_ghash_feed(&g->gh, ct, n));
    g->done = n;
    CHSM_GUARD(full_tag(g, t));
    CHSM_ENSURE(chsm_ct_equal(t, tag, tag_len), CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, CHSM_LAYER_CRYPTO, "GCM tag mismatch"));
    CHSM_GUARD(ctr_xor(g, ct, n, out));
out:
    chsm_wipe(t, sizeof(t));
    chsm_ossl_clear();
    return rv;
}
