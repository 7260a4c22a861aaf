/*
 * Signature mechanisms (see sign.h for the table). Hashing mechanisms hash
 * with a pre-fetched EVP_MD and then sign the digest with one EVP_PKEY_CTX
 * per operation; raw mechanisms buffer their (short) input; EdDSA buffers
 * the message because OpenSSL's pure EdDSA is one-shot only.
 */
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/ecdsa_sig.h"
#include "crypto/pkey_internal.h"
#include "crypto/sign.h"

enum fam { F_RSA_PKCS_RAW, F_RSA_X509, F_RSA_PKCS, F_RSA_PSS_RAW, F_RSA_PSS, F_ECDSA_RAW, F_ECDSA, F_EDDSA };

struct chsm_sign {
    enum fam fam;
    bool verify, finished;
    struct chsm_pkey *key;
    const EVP_MD *md;     /* message digest (hashing mechs) or PSS hashAlg */
    const EVP_MD *mgf_md; /* PSS MGF1 hash */
    int salt_len;
    EVP_MD_CTX *mdctx;    /* hashing mechs */
    struct chsm_buf in;   /* raw mechs and EdDSA */
};

struct mech_row {
    CK_MECHANISM_TYPE mech;
    enum fam fam;
    CK_MECHANISM_TYPE hash;
};

static const struct mech_row rows[] = {
    {CKM_RSA_PKCS, F_RSA_PKCS_RAW, 0},          {CKM_RSA_X_509, F_RSA_X509, 0},
    {CKM_SHA1_RSA_PKCS, F_RSA_PKCS, CKM_SHA_1}, {CKM_SHA224_RSA_PKCS, F_RSA_PKCS, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS, F_RSA_PKCS, CKM_SHA256}, {CKM_SHA384_RSA_PKCS, F_RSA_PKCS, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS, F_RSA_PKCS, CKM_SHA512}, {CKM_RSA_PKCS_PSS, F_RSA_PSS_RAW, 0},
    {CKM_SHA1_RSA_PKCS_PSS, F_RSA_PSS, CKM_SHA_1}, {CKM_SHA224_RSA_PKCS_PSS, F_RSA_PSS, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS_PSS, F_RSA_PSS, CKM_SHA256}, {CKM_SHA384_RSA_PKCS_PSS, F_RSA_PSS, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS_PSS, F_RSA_PSS, CKM_SHA512}, {CKM_ECDSA, F_ECDSA_RAW, 0},
    {CKM_ECDSA_SHA1, F_ECDSA, CKM_SHA_1},       {CKM_ECDSA_SHA224, F_ECDSA, CKM_SHA224},
    {CKM_ECDSA_SHA256, F_ECDSA, CKM_SHA256},    {CKM_ECDSA_SHA384, F_ECDSA, CKM_SHA384},
    {CKM_ECDSA_SHA512, F_ECDSA, CKM_SHA512},    {CKM_EDDSA, F_EDDSA, 0},
};

static const struct mech_row *row_for(CK_MECHANISM_TYPE mech)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(rows); i++)
        if (rows[i].mech == mech)
            return &rows[i];
    return NULL;
}

bool chsm_sign_is_multipart(CK_MECHANISM_TYPE mech)
{
    const struct mech_row *r = row_for(mech);
    return r != NULL && (r->fam == F_RSA_PKCS || r->fam == F_RSA_PSS || r->fam == F_ECDSA || r->fam == F_EDDSA);
}

CHSM_MUST_CHECK static CK_RV parse_pss(struct chsm_sign *s, CK_MECHANISM_TYPE hash, const void *param,
                                       size_t param_len)
{
    CK_RV rv = CKR_OK;
    CK_RSA_PKCS_PSS_PARAMS pss;
    size_t max_salt;
    CHSM_ENSURE(param != NULL && param_len == sizeof(pss),
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "PSS needs CK_RSA_PKCS_PSS_PARAMS"));
    memcpy(&pss, param, sizeof(pss));
    s->md = chsm_digest_size(pss.hashAlg) != 0 && pss.hashAlg < CKM_SHA3_256 ? chsm_md_for_mech(pss.hashAlg) : NULL;
    s->mgf_md = chsm_md_for_mgf(pss.mgf);
    CHSM_ENSURE(s->md != NULL && s->mgf_md != NULL && (hash == 0 || hash == pss.hashAlg),
                CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "PSS hashAlg/mgf"));
    /* emLen - hLen - 2 bounds the salt (RFC 8017 9.1.1). */
    max_salt = (size_t)EVP_PKEY_get_size(s->key->pkey) - (size_t)EVP_MD_get_size(s->md) - 2;
    CHSM_ENSURE(pss.sLen <= max_salt, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "PSS sLen"));
    s->salt_len = (int)pss.sLen;
out:
    return rv;
}

CHSM_MUST_CHECK static CK_RV check_eddsa_param(const void *param, size_t param_len)
{
    CK_EDDSA_PARAMS ep;
    if (param == NULL && param_len == 0)
        return CKR_OK;
    if (param == NULL || param_len != sizeof(ep))
        return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "CK_EDDSA_PARAMS size");
    memcpy(&ep, param, sizeof(ep));
    if (ep.phFlag || ep.ulContextDataLen != 0)
        return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO,
                        "only pure EdDSA without context is supported (Ed25519ph/ctx are not)");
    return CKR_OK;
}

CHSM_MUST_CHECK static CK_RV check_key(const struct chsm_sign *s)
{
    enum chsm_pkey_kind k = s->key->kind;
    bool ok = s->fam == F_EDDSA ? (k == CHSM_PKEY_ED25519 || k == CHSM_PKEY_ED448)
              : (s->fam == F_ECDSA || s->fam == F_ECDSA_RAW) ? k == CHSM_PKEY_EC
                                                             : k == CHSM_PKEY_RSA;
    if (!ok)
        return CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, CHSM_LAYER_CRYPTO, "key type does not fit mechanism");
    if (!s->verify && !s->key->is_private)
        return CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, CHSM_LAYER_CRYPTO, "signing needs a private key");
    return CKR_OK;
}

CK_RV chsm_sign_new(CK_MECHANISM_TYPE mech, const void *param, size_t param_len, struct chsm_pkey *key, bool verify,
                    struct chsm_sign **out)
{
    CK_RV rv = CKR_OK;
    const struct mech_row *r = row_for(mech);
    struct chsm_sign *s = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(key != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(r != NULL, CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "not a signature mech 0x%lx", mech));
    s = calloc(1, sizeof(*s));
    CHSM_ENSURE(s != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "sign ctx"));
    s->fam = r->fam, s->verify = verify, s->key = key;
    chsm_pkey_up_ref(key);
    chsm_buf_init(&s->in, 0); /* message bytes are not key material: plain heap, no mlock per op */
    CHSM_GUARD(check_key(s));
    if (r->fam == F_RSA_PSS || r->fam == F_RSA_PSS_RAW)
        CHSM_GUARD(parse_pss(s, r->hash, param, param_len));
    else if (r->fam == F_EDDSA)
        CHSM_GUARD(check_eddsa_param(param, param_len));
    else
        CHSM_ENSURE(param_len == 0, CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, CHSM_LAYER_CRYPTO, "unexpected param"));
    if (r->hash != 0) {
        s->md = chsm_md_for_mech(r->hash);
        s->mdctx = EVP_MD_CTX_new();
        CHSM_ENSURE(s->mdctx != NULL && EVP_DigestInit_ex2(s->mdctx, s->md, NULL) == 1,
                    CHSM_OSSL_ERR(CKR_HOST_MEMORY, "digest init"));
    }
    *out = s;
    s = NULL;
out:
    chsm_sign_free(s);
    chsm_ossl_clear();
    return rv;
}

void chsm_sign_free(struct chsm_sign *s)
{
    if (s == NULL)
        return;
    EVP_MD_CTX_free(s->mdctx);
    chsm_buf_free(&s->in);
    chsm_pkey_free(s->key);
    free(s);
}

size_t chsm_sign_len(const struct chsm_sign *s)
{
    return chsm_pkey_sig_len(s->key);
}

CK_RV chsm_sign_update(struct chsm_sign *s, const uint8_t *in, size_t n)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    CHSM_ENSURE(s != NULL && (in != NULL || n == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!s->finished, CKR_OPERATION_NOT_INITIALIZED);
    if (s->mdctx != NULL)
        CHSM_ENSURE(EVP_DigestUpdate(s->mdctx, in, n) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "digest"));
    else
        CHSM_GUARD(chsm_buf_put(&s->in, in, n));
out:
    chsm_ossl_clear();
    return rv;
}

/* The bytes the primitive signs: the digest for hashing mechs, else the buffered input. */
CHSM_MUST_CHECK static CK_RV tbs(struct chsm_sign *s, uint8_t *hash, const uint8_t **p, size_t *len)
{
    unsigned int hl = 0;
    if (s->mdctx == NULL) {
        *p = s->in.data != NULL ? s->in.data : (const uint8_t *)"";
        *len = s->in.len;
        return CKR_OK;
    }
    if (EVP_DigestFinal_ex(s->mdctx, hash, &hl) != 1)
        return CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "digest final");
    *p = hash, *len = hl;
    return CKR_OK;
}

/*
 * A sign or verify context for the key. A fresh EVP_PKEY_CTX plus *_init fetches the
 * signature implementation and checks the key's provider export (~17k instructions, and a
 * shared method-store lock); EVP_PKEY_CTX_dup of one prepared per key and kept with it is
 * a copy (~3k). The prepared context is set once and only read after (dup leaves its
 * source untouched but for atomic reference counts), so threads may share it.
 */
static EVP_PKEY_CTX *fresh_ctx(struct chsm_sign *s, int recover)
{
    EVP_PKEY_CTX *pc = chsm_pkey_ctx(s->key);
    int ok = pc == NULL  ? 0
             : recover   ? EVP_PKEY_verify_recover_init(pc)
             : s->verify ? EVP_PKEY_verify_init(pc)
                         : EVP_PKEY_sign_init(pc);
    if (ok != 1) {
        EVP_PKEY_CTX_free(pc);
        pc = NULL;
    }
    return pc;
}

static EVP_PKEY_CTX *prepared_ctx(struct chsm_sign *s)
{
    _Atomic(EVP_PKEY_CTX *) *slot = &s->key->op_ctx[s->verify ? 1 : 0];
    EVP_PKEY_CTX *t = atomic_load_explicit(slot, memory_order_acquire), *expect = NULL;
    if (t != NULL)
        return t;
    t = fresh_ctx(s, 0);
    if (t != NULL && !atomic_compare_exchange_strong(slot, &expect, t)) {
        EVP_PKEY_CTX_free(t); /* another thread prepared it first */
        t = expect;
    }
    return t;
}

static EVP_PKEY_CTX *op_ctx(struct chsm_sign *s, int recover)
{
    if (!recover) {
        EVP_PKEY_CTX *t = prepared_ctx(s);
        EVP_PKEY_CTX *pc = t != NULL ? EVP_PKEY_CTX_dup(t) : NULL;
        if (pc != NULL)
            return pc;
    }
    return fresh_ctx(s, recover);
}

/* Configure an initialised sign/verify EVP_PKEY_CTX for the RSA/ECDSA families; validates raw input length. */
CHSM_MUST_CHECK static CK_RV pkey_setup(struct chsm_sign *s, EVP_PKEY_CTX *pc, size_t in_len)
{
    CK_RV rv = CKR_OK;
    size_t k = (size_t)EVP_PKEY_get_size(s->key->pkey);
    int ok;
    switch (s->fam) {
    case F_RSA_PKCS_RAW:
        /* PKCS#1 v1.5 type 1 needs 11 bytes of padding (PKCS#11 2.1.6). */
        CHSM_ENSURE(in_len + 11 <= k, CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "RSA_PKCS input too long"));
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
        break;
    case F_RSA_X509:
        CHSM_ENSURE(in_len <= k, CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "RSA_X_509 input too long"));
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING);
        break;
    case F_RSA_PKCS:
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 && EVP_PKEY_CTX_set_signature_md(pc, s->md) == 1;
        break;
    case F_RSA_PSS_RAW:
    case F_RSA_PSS:
        CHSM_ENSURE(in_len == (size_t)EVP_MD_get_size(s->md),
                    CHSM_ERR(CKR_DATA_LEN_RANGE, CHSM_LAYER_CRYPTO, "PSS input is not a %s hash", EVP_MD_get0_name(s->md)));
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(pc, s->md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, s->mgf_md) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, s->salt_len) == 1;
        break;
    default:
        ok = 1;
        break;
    }
    CHSM_ENSURE(ok == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "signature parameters"));
out:
    return rv;
}

/* RSA_X_509 works on modulus-sized blocks: left-pad the input with zeros (PKCS#11 2.1.8). */
static const uint8_t *x509_block(const struct chsm_sign *s, const uint8_t *in, size_t *len, uint8_t *block)
{
    size_t k = (size_t)EVP_PKEY_get_size(s->key->pkey);
    memset(block, 0, k - *len);
    memcpy(block + (k - *len), in, *len);
    *len = k;
    return block;
}

CHSM_MUST_CHECK static CK_RV eddsa_run(struct chsm_sign *s, uint8_t *sig, size_t *sig_len, const uint8_t *vsig,
                                       size_t vsig_len)
{
    CK_RV rv = CKR_OK;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    const uint8_t *msg = s->in.data != NULL ? s->in.data : (const uint8_t *)"";
    int ok;
    CHSM_ENSURE(m != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "MD_CTX"));
    ok = s->verify ? EVP_DigestVerifyInit_ex(m, NULL, NULL, chsm_crypto_g.lib, NULL, s->key->pkey, NULL)
                   : EVP_DigestSignInit_ex(m, NULL, NULL, chsm_crypto_g.lib, NULL, s->key->pkey, NULL);
    CHSM_ENSURE(ok == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "EdDSA init"));
    if (s->verify)
        CHSM_ENSURE(EVP_DigestVerify(m, vsig, vsig_len, msg, s->in.len) == 1,
                    CHSM_OSSL_ERR(CKR_SIGNATURE_INVALID, "EdDSA verify"));
    else
        CHSM_ENSURE(EVP_DigestSign(m, sig, sig_len, msg, s->in.len) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "EdDSA sign"));
out:
    EVP_MD_CTX_free(m);
    return rv;
}

CK_RV chsm_sign_final(struct chsm_sign *s, uint8_t *sig, size_t *sig_len)
{
    CK_RV rv = CKR_OK;
    uint8_t hash[64], block[2048], der[160];
    const uint8_t *p = NULL;
    size_t len = 0, outl;
    EVP_PKEY_CTX *pc = NULL;
    ERR_set_mark();
    CHSM_ENSURE(s != NULL && sig_len != NULL && !s->verify, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!s->finished, CKR_OPERATION_NOT_INITIALIZED);
    if (sig == NULL) { /* size query: state untouched */
        *sig_len = chsm_sign_len(s);
        goto out;
    }
    CHSM_ENSURE(*sig_len >= chsm_sign_len(s), CKR_BUFFER_TOO_SMALL);
    s->finished = true;
    outl = *sig_len;
    if (s->fam == F_EDDSA) {
        CHSM_GUARD(eddsa_run(s, sig, &outl, NULL, 0));
        *sig_len = outl;
        goto out;
    }
    CHSM_GUARD(tbs(s, hash, &p, &len));
    pc = op_ctx(s, 0);
    CHSM_ENSURE(pc != NULL, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "sign init"));
    CHSM_GUARD(pkey_setup(s, pc, len));
    if (s->fam == F_RSA_X509)
        p = x509_block(s, p, &len, block);
    if (s->fam == F_ECDSA || s->fam == F_ECDSA_RAW) {
        outl = sizeof(der);
        CHSM_ENSURE(EVP_PKEY_sign(pc, der, &outl, p, len) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "ECDSA sign"));
        CHSM_GUARD(chsm_ecdsa_der_to_raw(der, outl, s->key->curve->field_bytes, sig));
        *sig_len = 2 * s->key->curve->field_bytes;
    } else {
        /* RSA_X_509 input >= n is the caller's error, not ours. */
        CHSM_ENSURE(EVP_PKEY_sign(pc, sig, &outl, p, len) == 1,
                    CHSM_OSSL_ERR(s->fam == F_RSA_X509 ? CKR_DATA_INVALID : CKR_FUNCTION_FAILED, "RSA sign"));
        *sig_len = outl;
    }
out:
    chsm_wipe(block, sizeof(block));
    EVP_PKEY_CTX_free(pc);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_verify_final(struct chsm_sign *s, const uint8_t *sig, size_t sig_len)
{
    CK_RV rv = CKR_OK;
    uint8_t hash[64], block[2048], der[160];
    const uint8_t *p = NULL;
    size_t len = 0, derl = 0;
    EVP_PKEY_CTX *pc = NULL;
    ERR_set_mark();
    CHSM_ENSURE(s != NULL && s->verify && (sig != NULL || sig_len == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(!s->finished, CKR_OPERATION_NOT_INITIALIZED);
    s->finished = true;
    CHSM_ENSURE(sig_len == chsm_sign_len(s), CHSM_ERR(CKR_SIGNATURE_LEN_RANGE, CHSM_LAYER_CRYPTO,
                                                      "signature is %zu bytes, expected %zu", sig_len, chsm_sign_len(s)));
    if (s->fam == F_EDDSA) {
        CHSM_GUARD(eddsa_run(s, NULL, NULL, sig, sig_len));
        goto out;
    }
    CHSM_GUARD(tbs(s, hash, &p, &len));
    pc = op_ctx(s, 0);
    CHSM_ENSURE(pc != NULL, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "sign init"));
    CHSM_GUARD(pkey_setup(s, pc, len));
    if (s->fam == F_RSA_X509)
        p = x509_block(s, p, &len, block);
    if (s->fam == F_ECDSA || s->fam == F_ECDSA_RAW) {
        CHSM_GUARD(chsm_ecdsa_raw_to_der(sig, s->key->curve->field_bytes, der, sizeof(der), &derl));
        sig = der, sig_len = derl;
    }
    CHSM_ENSURE(EVP_PKEY_verify(pc, sig, sig_len, p, len) == 1, CHSM_OSSL_ERR(CKR_SIGNATURE_INVALID, "verify"));
out:
    EVP_PKEY_CTX_free(pc);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_sign_oneshot(struct chsm_sign *s, const uint8_t *in, size_t n, uint8_t *sig, size_t *sig_len)
{
    CK_RV rv = CKR_OK;
    if (sig == NULL && s != NULL && sig_len != NULL) { /* size query before consuming input */
        *sig_len = chsm_sign_len(s);
        return CKR_OK;
    }
    CHSM_GUARD(chsm_sign_update(s, in, n));
    CHSM_GUARD(chsm_sign_final(s, sig, sig_len));
out:
    return rv;
}

CK_RV chsm_verify_oneshot(struct chsm_sign *s, const uint8_t *in, size_t n, const uint8_t *sig, size_t sig_len)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_sign_update(s, in, n));
    CHSM_GUARD(chsm_verify_final(s, sig, sig_len));
out:
    return rv;
}

CK_RV chsm_verify_recover(struct chsm_sign *s, const uint8_t *sig, size_t sig_len, uint8_t *out, size_t *out_len)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY_CTX *pc = NULL;
    size_t outl;
    ERR_set_mark();
    CHSM_ENSURE(s != NULL && s->verify && sig != NULL && out_len != NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(s->fam == F_RSA_PKCS_RAW || s->fam == F_RSA_X509,
                CHSM_ERR(CKR_MECHANISM_INVALID, CHSM_LAYER_CRYPTO, "verify-recover needs RSA_PKCS or RSA_X_509"));
    CHSM_ENSURE(!s->finished, CKR_OPERATION_NOT_INITIALIZED);
    if (out == NULL) {
        *out_len = chsm_sign_len(s);
        goto out;
    }
    CHSM_ENSURE(*out_len >= chsm_sign_len(s), CKR_BUFFER_TOO_SMALL);
    s->finished = true;
    CHSM_ENSURE(sig_len == chsm_sign_len(s), CKR_SIGNATURE_LEN_RANGE);
    pc = op_ctx(s, 1);
    CHSM_ENSURE(pc != NULL, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "sign init"));
    CHSM_GUARD(pkey_setup(s, pc, 0));
    outl = *out_len;
    CHSM_ENSURE(EVP_PKEY_verify_recover(pc, out, &outl, sig, sig_len) == 1,
                CHSM_OSSL_ERR(CKR_SIGNATURE_INVALID, "verify recover"));
    *out_len = outl;
out:
    EVP_PKEY_CTX_free(pc);
    chsm_ossl_clear();
    return rv;
}
