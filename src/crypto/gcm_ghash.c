/*
 * GHASH through OpenSSL's AES-GCM AAD path plus one correcting multiply
 * (the reasoning is in gcm_ghash.h). A table-free bitwise multiply is used for
 * the correction: it runs once per message, so its ~128 iterations cost
 * nothing next to the bulk GHASH, and it has no secret-dependent memory
 * access or branch (H is key-derived).
 */
#include <string.h>

#include "common/secbuf.h"
#include "crypto/gcm_ghash.h"

/* The fixed 96-bit IV of the GHASH context; any value works, zero is simplest. */
static const uint8_t g_iv0[12];

/* Largest single OpenSSL update (its lengths are int). */
#define GHASH_CHUNK ((size_t)1 << 30)

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* SP 800-38D 6.3 Algorithm 1; bit 0 of a block is the most significant bit of byte 0. */
void chsm_gcm_gf_mul(const uint8_t x[16], const uint8_t y[16], uint8_t z[16])
{
    uint64_t xh = load_be64(x), xl = load_be64(x + 8);
    uint64_t vh = load_be64(y), vl = load_be64(y + 8);
    uint64_t zh = 0, zl = 0;
    for (unsigned i = 0; i < 128; i++) {
        uint64_t xbit = i < 64 ? xh >> (63 - i) : xl >> (127 - i);
        uint64_t take = (uint64_t)0 - (xbit & 1);
        uint64_t reduce = (uint64_t)0 - (vl & 1);
        zh ^= vh & take;
        zl ^= vl & take;
        vl = (vl >> 1) | (vh << 63);
        vh = (vh >> 1) ^ (UINT64_C(0xe100000000000000) & reduce); /* R = 11100001 || 0^120 */
    }
    store_be64(z, zh);
    store_be64(z + 8, zl);
}

CK_RV chsm_gcm_ghash_init(struct chsm_gcm_ghash *g, EVP_CIPHER_CTX *ecb, const uint8_t *key, size_t key_len)
{
    CK_RV rv = CKR_OK;
    uint8_t j0[16] = {0};
    int n = 0;
    const EVP_CIPHER *gcm = chsm_aes_cipher(CHSM_C_AES_GCM, key_len);
    memset(g, 0, sizeof(*g));
    CHSM_ENSURE(gcm != NULL, CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "AES key length %zu", key_len));
    g->ctx = EVP_CIPHER_CTX_new();
    CHSM_ENSURE(g->ctx != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "GHASH ctx"));
    CHSM_ENSURE(EVP_CipherInit_ex2(g->ctx, gcm, key, g_iv0, 1, NULL) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GHASH init"));
    j0[15] = 1; /* J0' = IV0 || 0^31 || 1 (SP 800-38D 7.1 step 2, 96-bit IV) */
    CHSM_ENSURE(EVP_CipherUpdate(ecb, g->mask, &n, j0, 16) == 1 && n == 16,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GHASH mask"));
out:
    return rv;
}

CK_RV chsm_gcm_ghash_reset(struct chsm_gcm_ghash *g)
{
    /* Re-setting the IV makes OpenSSL restart its GHASH state (lengths, partial block, Xi). */
    g->fed = 0;
    if (EVP_CipherInit_ex2(g->ctx, NULL, NULL, g_iv0, 1, NULL) != 1)
        return CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GHASH reset");
    return CKR_OK;
}

CK_RV chsm_gcm_ghash_feed(struct chsm_gcm_ghash *g, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t part = n < GHASH_CHUNK ? n : GHASH_CHUNK;
        int got = 0;
        if (EVP_CipherUpdate(g->ctx, NULL, &got, p, (int)part) != 1)
            return CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GHASH feed");
        g->fed += part;
        p += part;
        n -= part;
    }
    return CKR_OK;
}

CK_RV chsm_gcm_ghash_pad(struct chsm_gcm_ghash *g)
{
    static const uint8_t zero[16];
    size_t rem = (size_t)(g->fed % 16);
    return rem == 0 ? CKR_OK : chsm_gcm_ghash_feed(g, zero, 16 - rem);
}

CK_RV chsm_gcm_ghash_finish(struct chsm_gcm_ghash *g, const uint8_t h[16], const uint8_t last[16], uint8_t out[16])
{
    CK_RV rv = CKR_OK;
    uint8_t tag[16], delta[16] = {0}, fix[16];
    int n = 0;
    CHSM_ENSURE(EVP_CipherFinal_ex(g->ctx, tag, &n) == 1 && n == 0, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GHASH final"));
    CHSM_ENSURE(EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GHASH tag"));
    /* OpenSSL's last block L' = [8|S|]_64 || 0^64; swap it for `last`. */
    store_be64(delta, g->fed * 8);
    for (size_t i = 0; i < 16; i++)
        delta[i] ^= last[i];
    chsm_gcm_gf_mul(delta, h, fix);
    for (size_t i = 0; i < 16; i++)
        out[i] = (uint8_t)(tag[i] ^ g->mask[i] ^ fix[i]);
out:
    chsm_wipe(tag, sizeof(tag));
    chsm_wipe(fix, sizeof(fix));
    chsm_wipe(delta, sizeof(delta));
    return rv;
}

void chsm_gcm_ghash_free(struct chsm_gcm_ghash *g)
{
    EVP_CIPHER_CTX_free(g->ctx); /* cleanses the key schedule */
    chsm_wipe(g, sizeof(*g));
}
