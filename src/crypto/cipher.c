/*
 * Streaming AES (ECB, CBC, CBC-PAD, CTR, GCM). Output sizes are computed
 * from our own count of bytes OpenSSL is holding, so size queries are exact
 * and never touch the OpenSSL context.
 */
#include <openssl/core_names.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/secbuf.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/gcm_long.h"
#include "crypto/internal.h"

/* OpenSSL 3.0 caps GCM IVs at GCM_IV_MAX_SIZE (1024 bits); longer ones, up to
 * the 256 bytes CK_GCM_PARAMS allows, go through gcm_long.c. */
#define CHSM_GCM_OSSL_MAX_IV 128
#define CHSM_GCM_MAX_IV 256

enum mode { M_ECB, M_CBC, M_CBC_PAD, M_CTR, M_GCM };

struct chsm_cipher {
    enum mode mode;
    bool enc, finished;
    EVP_CIPHER_CTX *ctx;
    size_t held;           /* bytes OpenSSL buffers internally (block modes) */
    uint64_t ctr_left;     /* CTR: blocks left before the counter would wrap (UINT64_MAX: unlimited) */
    size_t ctr_partial;    /* CTR: bytes used of the current block */
    size_t tag_len;        /* GCM */
    size_t iv_len;         /* GCM: the IV length OpenSSL's context is set up for */
    struct chsm_buf gcm_in;/* GCM decrypt: ciphertext||tag buffered until final */
    struct chsm_gcm_long *lg; /* GCM with an IV of 129..256 bytes (then ctx is unused) */
    uint8_t pending[16];   /* CBC-PAD decrypt: unpadded last block, kept for a retry after BUFFER_TOO_SMALL */
    size_t pending_len;
    bool pending_ready;
};

CHSM_MUST_CHECK static CK_RV ctr_params(struct chsm_cipher *c, const void *param, size_t len, const uint8_t **iv)
{
    CK_AES_CTR_PARAMS p;
    if (param == NULL || len != sizeof(p))
        return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "CTR needs CK_AES_CTR_PARAMS");
    memcpy(&p, param, sizeof(p));
    if (p.ulCounterBits < 1 || p.ulCounterBits > 128)
        return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "counter bits %lu", p.ulCounterBits);
    /* Blocks left = 2^bits - counter (low bits of cb); unlimited when that exceeds 2^64. */
    c->ctr_left = UINT64_MAX;
    if (p.ulCounterBits < 64) {
        uint64_t v = 0;
        for (size_t i = 8; i < 16; i++)
            v = (v << 8) | p.cb[i];
        v &= (UINT64_C(1) << p.ulCounterBits) - 1;
        c->ctr_left = (UINT64_C(1) << p.ulCounterBits) - v;
    }
    *iv = (const uint8_t *)param + offsetof(CK_AES_CTR_PARAMS, cb);
    return CKR_OK;
}

CHSM_MUST_CHECK static CK_RV gcm_setup(struct chsm_cipher *c, const EVP_CIPHER *ci, const uint8_t *key,
                                       size_t key_len, const void *param, size_t len)
{
    CK_RV rv = CKR_OK;
    CK_GCM_PARAMS p;
    int n = 0;
    OSSL_PARAM op[2];
    size_t ivlen;
    CHSM_ENSURE(param != NULL && len == sizeof(p),
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "GCM needs CK_GCM_PARAMS"));
    memcpy(&p, param, sizeof(p));
    CHSM_ENSURE(p.ulIvLen >= 1 && p.ulIvLen <= CHSM_GCM_MAX_IV && p.pIv != NULL && (p.pAAD != NULL || p.ulAADLen == 0) &&
                    p.ulAADLen <= INT32_MAX,
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "GCM IV length %lu", p.ulIvLen));
    /*
     * 0..128 bits in whole bytes. A 0-bit tag (PKCS#11 allows it) authenticates nothing: the
     * ciphertext is plain CTR output and decryption checks no tag. Tags that are not whole
     * bytes are refused: the output length (ciphertext || tag) would be ambiguous.
     */
    CHSM_ENSURE(p.ulTagBits <= 128 && p.ulTagBits % 8 == 0,
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "GCM tag bits %lu", p.ulTagBits));
    c->tag_len = p.ulTagBits / 8;
    c->iv_len = p.ulIvLen;
    if (p.ulIvLen > CHSM_GCM_OSSL_MAX_IV) {
        CHSM_GUARD(chsm_gcm_long_new(key, key_len, p.pIv, p.ulIvLen, p.pAAD, p.ulAADLen, &c->lg));
        goto out;
    }
    if (p.ulIvLen == 12) {
        /* GCM's native IV length: one init, no parameter round trip (a third of a 4 KiB message's time). */
        CHSM_ENSURE(EVP_CipherInit_ex2(c->ctx, ci, key, p.pIv, c->enc, NULL) == 1,
                    CHSM_OSSL_ERR(CKR_MECHANISM_PARAM_INVALID, "GCM init"));
    } else {
        ivlen = p.ulIvLen;
        op[0] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen);
        op[1] = OSSL_PARAM_construct_end();
        CHSM_ENSURE(EVP_CipherInit_ex2(c->ctx, ci, NULL, NULL, c->enc, op) == 1 &&
                        EVP_CipherInit_ex2(c->ctx, NULL, key, p.pIv, c->enc, NULL) == 1,
                    CHSM_OSSL_ERR(CKR_MECHANISM_PARAM_INVALID, "GCM init"));
    }
    if (p.ulAADLen > 0)
        CHSM_ENSURE(EVP_CipherUpdate(c->ctx, NULL, &n, p.pAAD, (int)p.ulAADLen) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM AAD"));
out:
    return rv;
}

static bool mode_of(CK_MECHANISM_TYPE mech, enum mode *m, enum chsm_cipher_id *base)
{
    switch (mech) {
    case CKM_AES_ECB: *m = M_ECB, *base = CHSM_C_AES_ECB; return true;
    case CKM_AES_CBC: *m = M_CBC, *base = CHSM_C_AES_CBC; return true;
    case CKM_AES_CBC_PAD: *m = M_CBC_PAD, *base = CHSM_C_AES_CBC; return true;
    case CKM_AES_CTR: *m = M_CTR, *base = CHSM_C_AES_CTR; return true;
    case CKM_AES_GCM: *m = M_GCM, *base = CHSM_C_AES_GCM; return true;
    default: return false;
    }
}

CHSM_MUST_CHECK static CK_RV mode_for(CK_MECHANISM_TYPE mech, enum mode *m, enum chsm_cipher_id *base)
{
    if (!mode_of(mech, m, base))
        return CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "not a streaming cipher 0x%lx", mech);
    return CKR_OK;
}

CK_RV chsm_cipher_new(CK_MECHANISM_TYPE mech, const void *param, size_t param_len, const uint8_t *key,
                      size_t key_len, bool encrypt, struct chsm_cipher **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_cipher *c = NULL;
    enum chsm_cipher_id base;
    const EVP_CIPHER *ci;
    const uint8_t *iv = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(key != NULL && out != NULL && (param != NULL || param_len == 0), CKR_ARGUMENTS_BAD);
    c = calloc(1, sizeof(*c));
    CHSM_ENSURE(c != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "cipher ctx"));
    chsm_buf_init(&c->gcm_in, 0); /* ciphertext||tag is public */
    c->enc = encrypt;
    CHSM_GUARD(mode_for(mech, &c->mode, &base));
    ci = chsm_aes_cipher(base, key_len);
    CHSM_ENSURE(ci != NULL, CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "AES key length %zu", key_len));
    c->ctx = EVP_CIPHER_CTX_new();
    CHSM_ENSURE(c->ctx != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "CIPHER_CTX"));
    if (c->mode == M_GCM) {
        CHSM_GUARD(gcm_setup(c, ci, key, key_len, param, param_len));
    } else {
        if (c->mode == M_CTR)
            CHSM_GUARD(ctr_params(c, param, param_len, &iv));
        else if (c->mode != M_ECB)
            CHSM_ENSURE(param_len == 16, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "CBC IV must be 16 bytes"));
        else
            CHSM_ENSURE(param_len == 0, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "ECB takes no IV"));
        CHSM_ENSURE(EVP_CipherInit_ex2(c->ctx, ci, key, c->mode == M_CTR ? iv : param, encrypt, NULL) == 1 &&
                        EVP_CIPHER_CTX_set_padding(c->ctx, c->mode == M_CBC_PAD) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "cipher init"));
    }
    *out = c;
    c = NULL;
out:
    chsm_cipher_free(c);
    chsm_ossl_clear();
    return rv;
}

/* A context worth keeping: finished (not abandoned half way), GCM with OpenSSL's context set up
 * for a 12-byte IV (all rearm accepts). Only GCM: the block modes' provider buffer keeps the last
 * plaintext block after an operation, and GCM's holds only the tag. */
static bool reusable(const struct chsm_cipher *c)
{
    return c != NULL && c->finished && c->mode == M_GCM && c->iv_len == 12 && c->lg == NULL && c->ctx != NULL;
}

bool chsm_cipher_park_ready(struct chsm_cipher *c)
{
    if (!reusable(c))
        return false;
    /* A multi-part decryption's buffered ciphertext||tag is public, but its capacity is not
     * kept for as long as the key lives. */
    chsm_buf_free(&c->gcm_in);
    chsm_buf_init(&c->gcm_in, 0);
    return true;
}

bool chsm_cipher_encrypts(const struct chsm_cipher *c)
{
    return c->enc;
}

/* The GCM parameters re-arming takes: valid, with GCM's native 12-byte IV (other lengths need the
 * IV length set before the IV, which the fresh path does). */
static bool rearm_gcm_params(const void *param, size_t len, CK_GCM_PARAMS *p)
{
    if (param == NULL || len != sizeof(*p))
        return false;
    memcpy(p, param, sizeof(*p));
    return p->ulIvLen == 12 && p->pIv != NULL && (p->pAAD != NULL || p->ulAADLen == 0) && p->ulAADLen <= INT32_MAX &&
           p->ulTagBits <= 128 && p->ulTagBits % 8 == 0;
}

bool chsm_cipher_rearm(struct chsm_cipher *c, CK_MECHANISM_TYPE mech, const void *param, size_t param_len,
                       bool encrypt)
{
    CK_GCM_PARAMS gp;
    int n = 0;
    if (!reusable(c) || c->enc != encrypt || mech != CKM_AES_GCM || !rearm_gcm_params(param, param_len, &gp))
        return false;
    /*
     * Same cipher, same key (the object's value cannot change), a context set up for 12-byte
     * IVs (OpenSSL takes as many IV bytes as the context expects): only the IV is new. The GCM
     * provider resets its per-message state (GHASH, counters, lengths) when the new IV is
     * applied; the cipher object is not fetched or referenced again, which is the point: two
     * threads doing that per operation fight over its reference count.
     */
    ERR_set_mark();
    bool ok = EVP_CipherInit_ex2(c->ctx, NULL, NULL, gp.pIv, c->enc, NULL) == 1;
    if (ok && gp.ulAADLen > 0)
        ok = EVP_CipherUpdate(c->ctx, NULL, &n, gp.pAAD, (int)gp.ulAADLen) == 1;
    chsm_ossl_clear();
    if (!ok)
        return false;
    c->finished = false;
    c->tag_len = gp.ulTagBits / 8;
    c->gcm_in.len = 0;
    return true;
}

void chsm_cipher_free(struct chsm_cipher *c)
{
    if (c == NULL)
        return;
    EVP_CIPHER_CTX_free(c->ctx);
    chsm_gcm_long_free(c->lg);
    chsm_buf_free(&c->gcm_in);
    chsm_wipe(c->pending, sizeof(c->pending));
    free(c);
}

/* Bytes OpenSSL keeps back after seeing `total` buffered+new bytes (block modes). */
static size_t held_after(const struct chsm_cipher *c, size_t total)
{
    if (c->mode == M_CBC_PAD && !c->enc) /* the last full block waits for final (padding check) */
        return total == 0 ? 0 : (total % 16 == 0 ? 16 : total % 16);
    return total % 16;
}

size_t chsm_cipher_update_len(const struct chsm_cipher *c, size_t n)
{
    if (c->mode == M_CTR || (c->mode == M_GCM && c->enc))
        return n;
    if (c->mode == M_GCM)
        return 0;
    return c->held + n - held_after(c, c->held + n);
}

size_t chsm_cipher_final_len(const struct chsm_cipher *c)
{
    switch (c->mode) {
    case M_GCM: return c->enc ? c->tag_len : (c->gcm_in.len > c->tag_len ? c->gcm_in.len - c->tag_len : 0);
    case M_CBC_PAD: return c->enc ? 16 : c->pending_ready ? c->pending_len : c->held; /* decrypt: bound until known */
    default: return 0;
    }
}

CHSM_MUST_CHECK static CK_RV ctr_account(struct chsm_cipher *c, size_t n)
{
    uint64_t blocks;
    if (c->ctr_left == UINT64_MAX)
        return CKR_OK;
    /* Blocks started by these bytes, counting the partially used current block once. */
    blocks = (uint64_t)((c->ctr_partial + n + 15) / 16) - (c->ctr_partial ? 1 : 0);
    if (blocks > c->ctr_left)
        return CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "CTR counter would wrap");
    c->ctr_left -= blocks;
    c->ctr_partial = (c->ctr_partial + n) % 16;
    return CKR_OK;
}

CK_RV chsm_cipher_update(struct chsm_cipher *c, const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    size_t want;
    int got = 0;
    ERR_set_mark();
    CHSM_ENSURE(c != NULL && out_len != NULL && (in != NULL || n == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!c->finished, CKR_OPERATION_NOT_INITIALIZED);
    CHSM_ENSURE(n <= INT32_MAX - 32, CKR_DATA_LEN_RANGE);
    want = chsm_cipher_update_len(c, n);
    if (out == NULL || *out_len < want) {
        *out_len = want;
        CHSM_ENSURE(out == NULL, CKR_BUFFER_TOO_SMALL);
        goto out;
    }
    if (c->mode == M_GCM && !c->enc) {
        CHSM_GUARD(chsm_buf_put(&c->gcm_in, in, n));
        *out_len = 0;
        goto out;
    }
    if (c->lg != NULL) {
        CHSM_GUARD(chsm_gcm_long_seal(c->lg, in, n, out));
        *out_len = n;
        goto out;
    }
    if (c->mode == M_CTR)
        CHSM_GUARD(ctr_account(c, n));
    if (n > 0)
        CHSM_ENSURE(EVP_CipherUpdate(c->ctx, out, &got, in, (int)n) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "update"));
    CHSM_ENSURE((size_t)got == want, CHSM_ERR(CKR_GENERAL_ERROR, CHSM_LAYER_CRYPTO, "cipher size model %d != %zu", got, want));
    if (c->mode <= M_CBC_PAD)
        c->held = held_after(c, c->held + n);
    *out_len = want;
out:
    chsm_ossl_clear();
    return rv;
}

CHSM_MUST_CHECK static CK_RV gcm_open_final(struct chsm_cipher *c, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    size_t ct_len;
    int got = 0, fin = 0;
    CHSM_ENSURE(c->gcm_in.len >= c->tag_len,
                CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "GCM input shorter than its tag"));
    ct_len = c->gcm_in.len - c->tag_len;
    if (c->lg != NULL) {
        CHSM_GUARD(chsm_gcm_long_open(c->lg, c->gcm_in.data, ct_len, c->gcm_in.data + ct_len, c->tag_len, out));
        *out_len = ct_len;
        goto out;
    }
    if (c->tag_len > 0)
        CHSM_ENSURE(EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, (int)c->tag_len, c->gcm_in.data + ct_len) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM tag"));
    if (ct_len > 0)
        CHSM_ENSURE(EVP_CipherUpdate(c->ctx, out, &got, c->gcm_in.data, (int)ct_len) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM decrypt"));
    /* A 0-bit tag has nothing to check (OpenSSL's final would insist on a tag). */
    if (c->tag_len > 0 && EVP_CipherFinal_ex(c->ctx, out + got, &fin) != 1) {
        chsm_wipe(out, ct_len); /* never release unauthenticated plaintext */
        CHSM_BAIL(CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, CHSM_LAYER_CRYPTO, "GCM tag mismatch"));
    }
    *out_len = ct_len;
out:
    return rv;
}

/* CBC-PAD decrypt: the plaintext length is known only after unpadding, so the
 * last block is decrypted once into the context and handed out when it fits. */
CHSM_MUST_CHECK static CK_RV cbc_pad_open_final(struct chsm_cipher *c, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    int got = 0;
    if (!c->pending_ready) {
        if (out == NULL) { /* pure size query: upper bound, state untouched */
            *out_len = c->held;
            goto out;
        }
        c->finished = true; /* a failure below ends the operation */
        CHSM_ENSURE(c->held == 16, CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "CBC-PAD length"));
        CHSM_ENSURE(EVP_CipherFinal_ex(c->ctx, c->pending, &got) == 1,
                    CHSM_OSSL_ERR(CKR_ENCRYPTED_DATA_INVALID, "CBC-PAD padding"));
        c->finished = false;
        c->pending_len = (size_t)got;
        c->pending_ready = true;
    }
    if (out == NULL || *out_len < c->pending_len) {
        bool query = out == NULL;
        *out_len = c->pending_len;
        CHSM_ENSURE(query, CKR_BUFFER_TOO_SMALL);
        goto out;
    }
    memcpy(out, c->pending, c->pending_len);
    *out_len = c->pending_len;
    c->finished = true;
out:
    return rv;
}

CK_RV chsm_cipher_final(struct chsm_cipher *c, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    size_t want;
    int got = 0;
    ERR_set_mark();
    CHSM_ENSURE(c != NULL && out_len != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!c->finished, CKR_OPERATION_NOT_INITIALIZED);
    if (c->mode == M_CBC_PAD && !c->enc) {
        CHSM_GUARD(cbc_pad_open_final(c, out, out_len));
        goto out;
    }
    want = chsm_cipher_final_len(c);
    if (out == NULL || *out_len < want) {
        *out_len = want;
        CHSM_ENSURE(out == NULL, CKR_BUFFER_TOO_SMALL);
        goto out;
    }
    c->finished = true;
    if ((c->mode == M_ECB || c->mode == M_CBC) && c->held != 0)
        CHSM_BAIL(CHSM_ERR(c->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO,
                           "input is not a multiple of the block size"));
    if (c->mode == M_GCM && !c->enc) {
        CHSM_GUARD(gcm_open_final(c, out, out_len));
        goto out;
    }
    if (c->lg != NULL) {
        CHSM_GUARD(chsm_gcm_long_tag(c->lg, out, c->tag_len));
        *out_len = c->tag_len;
        goto out;
    }
    CHSM_ENSURE(EVP_CipherFinal_ex(c->ctx, out, &got) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "final"));
    if (c->mode == M_GCM && c->tag_len > 0)
        CHSM_ENSURE(EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_GET_TAG, (int)c->tag_len, out + got) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM tag"));
    *out_len = (size_t)got + (c->mode == M_GCM ? c->tag_len : 0);
out:
    chsm_ossl_clear();
    return rv;
}

/* One-shot GCM decrypt straight from the caller's buffer (no copy into gcm_in);
 * the plaintext is wiped when the tag does not verify. Finishes the context. */
CHSM_MUST_CHECK static CK_RV gcm_open_direct(struct chsm_cipher *c, const uint8_t *in, size_t n, uint8_t *out,
                                             size_t *out_len)
{
    CK_RV rv = CKR_OK;
    size_t ct_len;
    int got = 0, fin = 0;
    ERR_set_mark();
    c->finished = true;
    CHSM_ENSURE(n >= c->tag_len && n <= INT32_MAX,
                CHSM_ERR(CKR_ENCRYPTED_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "GCM input shorter than its tag"));
    ct_len = n - c->tag_len;
    if (c->lg != NULL) { /* checks the tag before producing any plaintext */
        CHSM_GUARD(chsm_gcm_long_open(c->lg, in, ct_len, in + ct_len, c->tag_len, out));
        *out_len = ct_len;
        goto out;
    }
    /* OpenSSL's API takes a writable tag pointer but only reads it. */
    if (c->tag_len > 0)
        CHSM_ENSURE(EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, (int)c->tag_len,
                                        (void *)(uintptr_t)(in + ct_len)) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM tag"));
    if (ct_len > 0)
        CHSM_ENSURE(EVP_CipherUpdate(c->ctx, out, &got, in, (int)ct_len) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "GCM decrypt"));
    if (c->tag_len > 0 && EVP_CipherFinal_ex(c->ctx, out + got, &fin) != 1) {
        chsm_wipe(out, ct_len); /* never release unauthenticated plaintext */
        CHSM_BAIL(CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, CHSM_LAYER_CRYPTO, "GCM tag mismatch"));
    }
    *out_len = ct_len;
out:
    chsm_ossl_clear();
    return rv;
}

/* Final's output after n more input bytes (upper bound for CBC-PAD decrypt). */
static size_t final_after(const struct chsm_cipher *c, size_t n)
{
    if (c->mode == M_GCM && !c->enc)
        return c->gcm_in.len + n >= c->tag_len ? c->gcm_in.len + n - c->tag_len : 0;
    if (c->mode == M_CBC_PAD)
        return c->enc ? 16 : held_after(c, c->held + n); /* encrypt final is always one block */
    return c->mode == M_GCM ? c->tag_len : 0;
}

size_t chsm_cipher_oneshot_len(const struct chsm_cipher *c, size_t n)
{
    return chsm_cipher_update_len(c, n) + final_after(c, n);
}

CK_RV chsm_cipher_oneshot(struct chsm_cipher *c, const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    size_t first, second, cap;
    CHSM_ENSURE(c != NULL && out_len != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!c->finished, CKR_OPERATION_NOT_INITIALIZED);
    /* Predicted total: update output plus what final will add after this input. */
    first = chsm_cipher_update_len(c, n);
    second = final_after(c, n);
    if (out == NULL || *out_len < first + second) {
        bool query = out == NULL;
        *out_len = first + second;
        CHSM_ENSURE(query, CKR_BUFFER_TOO_SMALL);
        goto out;
    }
    if (c->mode == M_GCM && !c->enc && c->gcm_in.len == 0) {
        CHSM_GUARD(gcm_open_direct(c, in, n, out, out_len));
        goto out;
    }
    cap = *out_len;
    first = cap;
    CHSM_GUARD(chsm_cipher_update(c, in, n, out, &first));
    second = cap - first;
    CHSM_GUARD(chsm_cipher_final(c, out + first, &second));
    *out_len = first + second;
out:
    return rv;
}
