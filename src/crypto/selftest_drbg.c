/*
 * DRBG health test: instantiate a fresh CTR-DRBG (AES-256, df) from the OS
 * seed source, generate twice and require the outputs to differ (the SP
 * 800-90B/FIPS 140 continuous test idea), then the same on the live
 * per-thread DRBG. A fixed-entropy known-answer test needs the TEST-RAND
 * seed source; see the report for its status.
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

bool chsm_st_drbg(void)
{
    uint8_t a[32], b[32];
    bool ok = false;
    OSSL_PARAM p[3];
    char cipher[] = "AES-256-CTR";
    int use_df = 1;
    EVP_RAND_CTX *c;
    ERR_set_mark();
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
    chsm_wipe(a, sizeof(a));
    chsm_wipe(b, sizeof(b));
    chsm_ossl_clear();
    return ok;
}
