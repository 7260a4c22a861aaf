/*
 * DRBG self-test, two parts:
 *  1. Known answer: CTR-DRBG (AES-256, df, no prediction resistance) fed
 *     fixed entropy/nonce through OpenSSL's TEST-RAND seed source, NIST CAVP
 *     "CTR_DRBG no reseed" AES-256 use df COUNT 0 (as carried in OpenSSL's
 *     evprand.txt): instantiate, generate 512 bits twice, compare the second.
 *  2. Health: a fresh OS-seeded DRBG and the live per-thread DRBG each give
 *     two different, non-zero outputs (continuous-test idea).
 */
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/selftest_internal.h"

static bool two_differ(const uint8_t a[32], const uint8_t b[32])
{
    static const uint8_t zero[32];
    return !chsm_ct_equal(a, b, 32) && !chsm_ct_equal(a, zero, 32);
}

static bool drbg_kat(void)
{
    uint8_t entropy[32], nonce[16], out[64];
    size_t el = 0, nl = 0;
    unsigned int strength = 256;
    char cipher[] = "AES-256-CTR";
    int use_df = 1;
    bool ok = false;
    OSSL_PARAM tp[4], dp[3];
    EVP_RAND *test = EVP_RAND_fetch(chsm_crypto_g.lib, "TEST-RAND", NULL);
    EVP_RAND_CTX *parent = test != NULL ? EVP_RAND_CTX_new(test, NULL) : NULL;
    EVP_RAND_CTX *drbg = parent != NULL ? EVP_RAND_CTX_new(chsm_crypto_g.ctr_drbg, parent) : NULL;
    if (drbg == NULL || !chsm_st_hex("36401940fa8b1fba91a1661f211d78a0b9389a74e5bccfece8d766af1a6d3b14", entropy,
                                     sizeof(entropy), &el) ||
        !chsm_st_hex("496f25b0f1301b4f501be30380a137eb", nonce, sizeof(nonce), &nl))
        goto out;
    tp[0] = OSSL_PARAM_construct_uint(OSSL_RAND_PARAM_STRENGTH, &strength);
    tp[1] = OSSL_PARAM_construct_octet_string(OSSL_RAND_PARAM_TEST_ENTROPY, entropy, el);
    tp[2] = OSSL_PARAM_construct_octet_string(OSSL_RAND_PARAM_TEST_NONCE, nonce, nl);
    tp[3] = OSSL_PARAM_construct_end();
    dp[0] = OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_CIPHER, cipher, 0);
    dp[1] = OSSL_PARAM_construct_int(OSSL_DRBG_PARAM_USE_DF, &use_df);
    dp[2] = OSSL_PARAM_construct_end();
    ok = EVP_RAND_CTX_set_params(parent, tp) == 1 && EVP_RAND_instantiate(parent, strength, 0, NULL, 0, NULL) == 1 &&
         /* "" not NULL: a NULL personalisation string makes OpenSSL use its built-in one. */
         EVP_RAND_instantiate(drbg, strength, 0, (const unsigned char *)"", 0, dp) == 1 &&
         EVP_RAND_generate(drbg, out, sizeof(out), strength, 0, NULL, 0) == 1 &&
         EVP_RAND_generate(drbg, out, sizeof(out), strength, 0, NULL, 0) == 1 &&
         chsm_st_equal_hex(out, sizeof(out), "5862eb38bd558dd978a696e6df164782ddd887e7e9a6c9f3f1fbafb78941b535"
                                             "a64912dfd224c6dc7454e5250b3d97165e16260c2faf1cc7735cb75fb4f07e1d");
out:
    EVP_RAND_CTX_free(drbg);
    EVP_RAND_CTX_free(parent);
    EVP_RAND_free(test);
    return ok;
}

bool chsm_st_drbg(void)
{
    uint8_t a[32], b[32];
    bool ok = false;
    OSSL_PARAM p[3];
    char cipher[] = "AES-256-CTR";
    int use_df = 1;
    EVP_RAND_CTX *c;
    ERR_set_mark();
    if (!drbg_kat())
        goto out;
    c = EVP_RAND_CTX_new(chsm_crypto_g.ctr_drbg, NULL);
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_CIPHER, cipher, 0);
    p[1] = OSSL_PARAM_construct_int(OSSL_DRBG_PARAM_USE_DF, &use_df);
    p[2] = OSSL_PARAM_construct_end();
    if (c != NULL && EVP_RAND_instantiate(c, 256, 0, NULL, 0, p) == 1 &&
        EVP_RAND_generate(c, a, sizeof(a), 256, 0, NULL, 0) == 1 &&
        EVP_RAND_generate(c, b, sizeof(b), 256, 0, NULL, 0) == 1)
        ok = two_differ(a, b);
    EVP_RAND_CTX_free(c);
    ok = ok && chsm_rand_bytes(a, sizeof(a)) == CKR_OK && chsm_rand_bytes(b, sizeof(b)) == CKR_OK &&
         two_differ(a, b);
out:
    chsm_wipe(a, sizeof(a));
    chsm_wipe(b, sizeof(b));
    chsm_ossl_clear();
    return ok;
}
