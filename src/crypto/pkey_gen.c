/*
 * Key-pair generation with a pairwise-consistency test before release.
 *
 * Which test: with [algorithms] fips_approved_only, every pair gets the
 * FIPS 140-3 IG 10.3.A test (sign, then verify, with the key's natural
 * mechanism). Otherwise RSA and Edwards pairs keep that test, while EC pairs
 * get the key-pair check OpenSSL's own EVP_PKEY_pairwise_check() performs
 * (SP 800-56A rev3 5.6.2.1.4: recompute Q = d*G from the private scalar and
 * compare it with the public point we are about to export): it proves the
 * same thing -- the public key we hand out belongs to the private key we
 * keep -- at a fifth of the cost of an ECDSA sign+verify, which otherwise
 * dominates EC key generation.
 *
 * Generation contexts are kept per curve in a small lock-free pool (taken
 * by atomic exchange, so fork and concurrent callers need no lock): creating
 * an EVP_PKEY_CTX and its EC group per call cost more than the generation.
 */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/pkey_internal.h"
#include "crypto/shim.h"
#include "crypto/sign.h"

#define GEN_POOL 4

/* One generation context with what the EC key-pair check needs; used by one thread at a time. */
struct gen_slot {
    EVP_PKEY_CTX *ctx;
    EC_GROUP *group; /* EC only */
    BN_CTX *bn;      /* EC only */
};

static _Atomic(struct gen_slot *) g_pool[CHSM_CURVE_COUNT][GEN_POOL];
static atomic_bool g_fips_pct;

void chsm_pkey_set_fips_pct(bool on)
{
    atomic_store(&g_fips_pct, on);
}

static void slot_free(struct gen_slot *g)
{
    if (g == NULL)
        return;
    EVP_PKEY_CTX_free(g->ctx);
    EC_GROUP_free(g->group);
    BN_CTX_free(g->bn);
    free(g);
}

void chsm_pkey_gen_cache_free(void)
{
    for (size_t c = 0; c < CHSM_CURVE_COUNT; c++)
        for (size_t i = 0; i < GEN_POOL; i++)
            slot_free(atomic_exchange(&g_pool[c][i], NULL));
}

CHSM_MUST_CHECK static CK_RV slot_new(const struct chsm_curve *cv, struct gen_slot **out)
{
    CK_RV rv = CKR_OK;
    struct gen_slot *g = calloc(1, sizeof(*g));
    CHSM_ENSURE(g != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "keygen slot"));
    g->ctx = chsm_shim_ctx(cv->kind == CHSM_PKEY_EC ? "EC" : cv->name);
    CHSM_ENSURE(g->ctx != NULL && EVP_PKEY_keygen_init(g->ctx) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "keygen init"));
    if (cv->kind == CHSM_PKEY_EC) {
        CHSM_ENSURE(EVP_PKEY_CTX_set_group_name(g->ctx, cv->name) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "group"));
        g->group = EC_GROUP_new_by_curve_name_ex(chsm_crypto_g.lib, NULL, EC_curve_nist2nid(cv->name));
        g->bn = BN_CTX_secure_new_ex(chsm_crypto_g.lib);
        CHSM_ENSURE(g->group != NULL && g->bn != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EC group"));
    }
    *out = g;
    g = NULL;
out:
    slot_free(g);
    return rv;
}

CHSM_MUST_CHECK static CK_RV slot_take(const struct chsm_curve *cv, struct gen_slot **out)
{
    size_t c = chsm_curve_index(cv);
    for (size_t i = 0; i < GEN_POOL; i++)
        if ((*out = atomic_exchange(&g_pool[c][i], NULL)) != NULL)
            return CKR_OK;
    return slot_new(cv, out);
}

static void slot_put(const struct chsm_curve *cv, struct gen_slot *g)
{
    size_t c = chsm_curve_index(cv);
    for (size_t i = 0; i < GEN_POOL && g != NULL; i++) {
        struct gen_slot *expect = NULL;
        if (atomic_compare_exchange_strong(&g_pool[c][i], &expect, g))
            g = NULL;
    }
    slot_free(g);
}

/*
 * Q == d*G for a freshly generated EC key. The public point is compared as a
 * point (EC_POINT_cmp works on the projective d*G, no inversion), after
 * decoding the exact bytes we will export as CKA_EC_POINT (which checks them
 * on the curve); d stays in BN secure memory.
 */
CHSM_MUST_CHECK static CK_RV ec_keypair_check(const EVP_PKEY *pk, struct gen_slot *g, uint8_t pub[2 * 66 + 1],
                                               size_t *pub_len_out)
{
    CK_RV rv = CKR_OK;
    BIGNUM *d = NULL;
    EC_POINT *q = NULL, *dg = NULL;
    size_t pub_len = 0;
    CHSM_ENSURE(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
                    EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pub, 2 * 66 + 1, &pub_len) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "pairwise: key components"));
    BN_set_flags(d, BN_FLG_CONSTTIME);
    q = EC_POINT_new(g->group);
    dg = EC_POINT_new(g->group);
    CHSM_ENSURE(q != NULL && dg != NULL && EC_POINT_mul(g->group, dg, d, NULL, NULL, g->bn) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "pairwise: d*G"));
    CHSM_ENSURE(pub_len > 0 && pub[0] == POINT_CONVERSION_UNCOMPRESSED &&
                    EC_POINT_oct2point(g->group, q, pub, pub_len, g->bn) == 1 &&
                    EC_POINT_cmp(g->group, q, dg, g->bn) == 0,
                CHSM_ERR(CKR_FUNCTION_FAILED, CHSM_LAYER_CRYPTO, "pairwise consistency test failed"));
    *pub_len_out = pub_len;
out:
    BN_clear_free(d);
    EC_POINT_free(q);
    EC_POINT_clear_free(dg);
    return rv;
}

CK_RV chsm_pkey_pairwise_test(const struct chsm_pkey *key)
{
    CK_RV rv = CKR_OK;
    static const uint8_t msg[] = "craton-hsm pairwise consistency";
    uint8_t sig[2048];
    size_t sig_len = sizeof(sig);
    struct chsm_sign *s = NULL, *v = NULL;
    CK_MECHANISM_TYPE mech = key->kind == CHSM_PKEY_RSA  ? CKM_SHA256_RSA_PKCS
                             : key->kind == CHSM_PKEY_EC ? CKM_ECDSA_SHA256
                                                         : CKM_EDDSA;
    struct chsm_pkey *k = (struct chsm_pkey *)(uintptr_t)key; /* the contexts only take references */
    CHSM_GUARD(chsm_sign_new(mech, NULL, 0, k, false, &s));
    CHSM_GUARD(chsm_sign_oneshot(s, msg, sizeof(msg), sig, &sig_len));
    CHSM_GUARD(chsm_sign_new(mech, NULL, 0, k, true, &v));
    rv = chsm_verify_oneshot(v, msg, sizeof(msg), sig, sig_len);
    if (rv != CKR_OK)
        rv = CHSM_ERR(CKR_FUNCTION_FAILED, CHSM_LAYER_CRYPTO, "pairwise consistency test failed");
out:
    chsm_sign_free(s);
    chsm_sign_free(v);
    return rv;
}

CHSM_MUST_CHECK static CK_RV finish(EVP_PKEY *pk, struct chsm_pkey **out)
{
    CK_RV rv = chsm_pkey_wrap(pk, true, out);
    if (rv == CKR_OK && (rv = chsm_pkey_pairwise_test(*out)) != CKR_OK) {
        chsm_pkey_free(*out);
        *out = NULL;
    }
    return rv;
}

CK_RV chsm_pkey_generate_rsa(CK_ULONG bits, const uint8_t *e, size_t e_len, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *c = NULL;
    BIGNUM *bn = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(out != NULL && (e != NULL || e_len == 0), CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(bits >= 1024 && bits <= 16384,
                CHSM_ERR(CKR_KEY_SIZE_RANGE, CHSM_LAYER_CRYPTO, "RSA modulus bits %lu", bits));
    bn = e_len ? BN_bin2bn(e, (int)(e_len > 64 ? 64 : e_len), NULL) : BN_new();
    CHSM_ENSURE(bn != NULL && (e_len != 0 || BN_set_word(bn, 65537) == 1), CHSM_OSSL_ERR(CKR_HOST_MEMORY, "BN"));
    /* Odd and > 1 (OpenSSL also caps the size); 3 is allowed by PKCS#11 but 65537 is the default. */
    CHSM_ENSURE(e_len <= 8 && BN_is_odd(bn) && !BN_is_one(bn),
                CHSM_ERR(CKR_ATTRIBUTE_VALUE_INVALID, CHSM_LAYER_CRYPTO, "CKA_PUBLIC_EXPONENT"));
    c = chsm_shim_ctx("RSA"); /* never EVP_PKEY_CTX_new_from_name: host ENGINEs (shim.h) */
    CHSM_ENSURE(c != NULL && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits) == 1 &&
                    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, bn) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "RSA keygen setup"));
    CHSM_ENSURE(EVP_PKEY_generate(c, &pk) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "RSA keygen"));
    rv = finish(pk, out);
out:
    BN_free(bn);
    EVP_PKEY_CTX_free(c);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_pkey_generate_ec(const uint8_t *ec_params, size_t len, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY *pk = NULL;
    struct gen_slot *g = NULL;
    const struct chsm_curve *cv;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(out != NULL, CKR_ARGUMENTS_BAD);
    cv = chsm_curve_from_params(ec_params, len);
    CHSM_ENSURE(cv != NULL, CHSM_ERR(CKR_CURVE_NOT_SUPPORTED, CHSM_LAYER_CRYPTO, "CKA_EC_PARAMS not supported"));
    CHSM_GUARD(slot_take(cv, &g));
    CHSM_ENSURE(EVP_PKEY_generate(g->ctx, &pk) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "EC keygen"));
    if (cv->kind == CHSM_PKEY_EC && !atomic_load(&g_fips_pct)) {
        uint8_t pub[2 * 66 + 1];
        size_t pub_len = 0;
        rv = ec_keypair_check(pk, g, pub, &pub_len);
        if (rv == CKR_OK)
            rv = chsm_pkey_wrap(pk, true, out);
        else
            EVP_PKEY_free(pk);
        pk = NULL;
        if (rv == CKR_OK) { /* not shared yet: the cached point is written once, before anyone reads it */
            memcpy((*out)->pub_point, pub, pub_len);
            (*out)->pub_point_len = pub_len;
        }
        goto out;
    }
    rv = finish(pk, out);
    pk = NULL;
out:
    EVP_PKEY_free(pk);
    if (rv == CKR_OK)
        slot_put(cv, g);
    else
        slot_free(g); /* a context that failed once is not trusted again */
    chsm_ossl_clear();
    return rv;
}
