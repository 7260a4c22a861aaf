/*
 * Message digests keyed by CKM_*. EVP_MD objects are fetched once at init
 * (internal.h); a context is one EVP_MD_CTX. Ownership: chsm_digest_new and
 * chsm_digest_dup return a context the caller frees with chsm_digest_free.
 */
#include <stdlib.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"

struct chsm_digest {
    EVP_MD_CTX *ctx;
    size_t len;
    int finished;
};

size_t chsm_digest_size(CK_MECHANISM_TYPE mech)
{
    switch (mech) {
    case CKM_SHA_1: return 20;
    case CKM_SHA224: return 28;
    case CKM_SHA256: case CKM_SHA3_256: return 32;
    case CKM_SHA384: case CKM_SHA3_384: return 48;
    case CKM_SHA512: case CKM_SHA3_512: return 64;
    default: return 0;
    }
}

CK_RV chsm_digest_new(CK_MECHANISM_TYPE mech, struct chsm_digest **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_digest *d = NULL;
    const EVP_MD *md;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    md = chsm_digest_size(mech) != 0 ? chsm_md_for_mech(mech) : NULL;
    CHSM_ENSURE(md != NULL, CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "not a digest: 0x%lx", mech));
    d = calloc(1, sizeof(*d));
    CHSM_ENSURE(d != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "digest ctx"));
    d->ctx = EVP_MD_CTX_new();
    CHSM_ENSURE(d->ctx != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EVP_MD_CTX_new"));
    CHSM_ENSURE(EVP_DigestInit_ex2(d->ctx, md, NULL) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DigestInit"));
    d->len = chsm_digest_size(mech);
    *out = d;
    d = NULL;
out:
    chsm_digest_free(d);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_digest_update(struct chsm_digest *d, const void *in, size_t n)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_ENSURE(d != NULL && (in != NULL || n == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!d->finished, CHSM_ERR(CKR_OPERATION_NOT_INITIALIZED, CHSM_LAYER_CRYPTO, "digest finished"));
    CHSM_ENSURE(EVP_DigestUpdate(d->ctx, in, n) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DigestUpdate"));
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_digest_final(struct chsm_digest *d, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    unsigned int len = 0;
    ERR_set_mark();
    CHSM_ENSURE(d != NULL && out != NULL && out_len != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!d->finished, CHSM_ERR(CKR_OPERATION_NOT_INITIALIZED, CHSM_LAYER_CRYPTO, "digest finished"));
    d->finished = 1;
    CHSM_ENSURE(EVP_DigestFinal_ex(d->ctx, out, &len) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DigestFinal"));
    *out_len = len;
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_digest_dup(const struct chsm_digest *d, struct chsm_digest **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_digest *c = NULL;
    ERR_set_mark();
    CHSM_ENSURE(d != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!d->finished, CHSM_ERR(CKR_OPERATION_NOT_INITIALIZED, CHSM_LAYER_CRYPTO, "digest finished"));
    c = calloc(1, sizeof(*c));
    CHSM_ENSURE(c != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "digest ctx"));
    c->ctx = EVP_MD_CTX_new();
    CHSM_ENSURE(c->ctx != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EVP_MD_CTX_new"));
    CHSM_ENSURE(EVP_MD_CTX_copy_ex(c->ctx, d->ctx) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "MD_CTX_copy"));
    c->len = d->len;
    *out = c;
    c = NULL;
out:
    chsm_digest_free(c);
    chsm_ossl_clear();
    return rv;
}

void chsm_digest_free(struct chsm_digest *d)
{
    if (d == NULL)
        return;
    EVP_MD_CTX_free(d->ctx); /* cleanses its state */
    free(d);
}

CK_RV chsm_digest_oneshot(CK_MECHANISM_TYPE mech, const void *in, size_t n, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    const EVP_MD *md;
    unsigned int len = 0;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(out != NULL && out_len != NULL && (in != NULL || n == 0), CKR_ARGUMENTS_BAD);
    md = chsm_digest_size(mech) != 0 ? chsm_md_for_mech(mech) : NULL;
    CHSM_ENSURE(md != NULL, CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "not a digest: 0x%lx", mech));
    CHSM_ENSURE(EVP_Digest(in, n, out, &len, md, NULL) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "EVP_Digest"));
    *out_len = len;
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_sha256(const void *in, size_t n, uint8_t out[32])
{
    size_t len = 0;
    return chsm_digest_oneshot(CKM_SHA256, in, n, out, &len);
}
