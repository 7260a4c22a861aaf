/*
 * Library context lifetime: a private OSSL_LIB_CTX with the "default"
 * provider loaded into it, reference-counted so the module, the daemon and
 * the CLI can each init/fini. The host's default context is never used.
 */
#include <openssl/core_names.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/pkey_internal.h"
#include "crypto/shim.h"

struct chsm_crypto_state chsm_crypto_g;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_refs;
static atomic_int g_ready;

static const char *const md_names[CHSM_MD_COUNT] = {
    "SHA1", "SHA2-224", "SHA2-256", "SHA2-384", "SHA2-512", "SHA3-256", "SHA3-384", "SHA3-512",
};

static const char *const cipher_names[CHSM_C_COUNT] = {
    "AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "AES-128-CBC", "AES-192-CBC", "AES-256-CBC",
    "AES-128-CTR", "AES-192-CTR", "AES-256-CTR", "AES-128-GCM", "AES-192-GCM", "AES-256-GCM",
    "AES-128-WRAP", "AES-192-WRAP", "AES-256-WRAP", "AES-128-WRAP-PAD", "AES-192-WRAP-PAD", "AES-256-WRAP-PAD",
};

CK_RV chsm_ossl_fail(CK_RV rv, const char *file, int line, const char *what)
{
    const char *efile = NULL, *efunc = NULL, *edata = NULL;
    int eline = 0, eflags = 0;
    unsigned long code = ERR_peek_last_error_all(&efile, &eline, &efunc, &edata, &eflags);
    char reason[160] = "no OpenSSL detail";
    if (code != 0)
        ERR_error_string_n(code, reason, sizeof(reason));
    chsm_err_record(rv, CHSM_LAYER_CRYPTO, file, line, "%s: %s", what, reason);
    return rv;
}

void chsm_ossl_clear(void)
{
    /* Exactly one call per ERR_set_mark(). When the queue was empty at the mark
     * no mark exists and this empties the queue, which then holds only ours. */
    (void)ERR_pop_to_mark();
}

CK_RV chsm_crypto_ready(void)
{
    if (atomic_load_explicit(&g_ready, memory_order_acquire))
        return CKR_OK;
    return CHSM_ERR(CKR_CRYPTOKI_NOT_INITIALIZED, CHSM_LAYER_CRYPTO, "crypto adapter not initialised");
}

static void state_free(struct chsm_crypto_state *s)
{
    for (size_t i = 0; i < CHSM_MD_COUNT; i++)
        EVP_MD_free(s->md[i]);
    for (size_t i = 0; i < CHSM_C_COUNT; i++)
        EVP_CIPHER_free(s->cipher[i]);
    EVP_MAC_free(s->hmac);
    EVP_MAC_free(s->cmac);
    EVP_KDF_free(s->pbkdf2);
    EVP_KDF_free(s->hkdf);
    EVP_RAND_free(s->ctr_drbg);
    EVP_KDF_free(s->x963);
    for (size_t i = 0; i < 5; i++)
        EVP_MAC_CTX_free(s->hmac_tmpl[i]);
    chsm_pkey_gen_cache_free(); /* its contexts hold the shim's key management */
    chsm_shim_unload(); /* first: it runs on the default provider's context */
    if (s->prov != NULL)
        (void)OSSL_PROVIDER_unload(s->prov);
    OSSL_LIB_CTX_free(s->lib);
    chsm_shim_free();
    memset(s, 0, sizeof(*s));
}

/* One keyless HMAC EVP_MAC_CTX per digest, dup'ed per operation (no per-call fetch). */
CHSM_MUST_CHECK static CK_RV mac_templates(struct chsm_crypto_state *s)
{
    CK_RV rv = CKR_OK;
    OSSL_PARAM p[2];
    for (size_t i = 0; i < 5; i++) {
        s->hmac_tmpl[i] = EVP_MAC_CTX_new(s->hmac);
        p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)md_names[i], 0);
        p[1] = OSSL_PARAM_construct_end();
        CHSM_ENSURE(s->hmac_tmpl[i] != NULL && EVP_MAC_CTX_set_params(s->hmac_tmpl[i], p) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "HMAC template"));
    }
out:
    return rv;
}

const EVP_MAC_CTX *chsm_hmac_template(CK_MECHANISM_TYPE mech)
{
    const EVP_MD *md = chsm_md_for_mech(mech);
    for (size_t i = 0; md != NULL && i < 5; i++)
        if (chsm_crypto_g.md[i] == md)
            return chsm_crypto_g.hmac_tmpl[i];
    return NULL;
}

CHSM_MUST_CHECK static CK_RV fetch_all(struct chsm_crypto_state *s)
{
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < CHSM_MD_COUNT; i++) {
        s->md[i] = EVP_MD_fetch(s->lib, md_names[i], NULL);
        CHSM_ENSURE(s->md[i] != NULL, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, md_names[i]));
    }
    for (size_t i = 0; i < CHSM_C_COUNT; i++) {
        s->cipher[i] = EVP_CIPHER_fetch(s->lib, cipher_names[i], NULL);
        CHSM_ENSURE(s->cipher[i] != NULL, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, cipher_names[i]));
    }
    s->hmac = EVP_MAC_fetch(s->lib, "HMAC", NULL);
    s->cmac = EVP_MAC_fetch(s->lib, "CMAC", NULL);
    s->pbkdf2 = EVP_KDF_fetch(s->lib, "PBKDF2", NULL);
    s->hkdf = EVP_KDF_fetch(s->lib, "HKDF", NULL);
    s->ctr_drbg = EVP_RAND_fetch(s->lib, "CTR-DRBG", NULL);
    s->x963 = EVP_KDF_fetch(s->lib, "X963KDF", NULL);
    CHSM_ENSURE(s->hmac != NULL && s->cmac != NULL && s->pbkdf2 != NULL && s->hkdf != NULL &&
                    s->ctr_drbg != NULL && s->x963 != NULL,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "fetch MAC/KDF/RAND"));
    CHSM_GUARD(mac_templates(s));
out:
    return rv;
}

CHSM_MUST_CHECK static CK_RV state_new(void)
{
    CK_RV rv = CKR_OK;
    struct chsm_crypto_state *s = &chsm_crypto_g;
    s->lib = OSSL_LIB_CTX_new();
    CHSM_ENSURE(s->lib != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "OSSL_LIB_CTX_new"));
    s->prov = OSSL_PROVIDER_load(s->lib, "default");
    CHSM_ENSURE(s->prov != NULL, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "load default provider"));
    CHSM_GUARD(chsm_shim_load(s->lib, s->prov)); /* asymmetric keys never go through host ENGINEs */
    /* OpenSSL draws key-generation and signature nonces from the context's own DRBGs:
     * pin them to CTR-DRBG/AES-256 (its default today) so that stays true. */
    CHSM_ENSURE(RAND_set_DRBG_type(s->lib, "CTR-DRBG", NULL, "AES-256-CTR", NULL) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DRBG type"));
    CHSM_GUARD(fetch_all(s));
out:
    return rv;
}

CK_RV chsm_crypto_init(void)
{
    CK_RV rv = CKR_OK;
    ERR_set_mark();
    pthread_mutex_lock(&g_lock);
    if (g_refs > 0) {
        g_refs++;
        goto out;
    }
    CHSM_GUARD(state_new());
    atomic_store_explicit(&g_ready, 1, memory_order_release);
    rv = chsm_rand_start();
    if (rv != CKR_OK) {
        atomic_store_explicit(&g_ready, 0, memory_order_release);
        goto out;
    }
    g_refs = 1;
out:
    if (rv != CKR_OK && g_refs == 0)
        state_free(&chsm_crypto_g);
    pthread_mutex_unlock(&g_lock);
    chsm_ossl_clear();
    return rv;
}

void chsm_crypto_fini(void)
{
    pthread_mutex_lock(&g_lock);
    if (g_refs > 0 && --g_refs == 0) {
        atomic_store_explicit(&g_ready, 0, memory_order_release);
        chsm_rand_stop();
        state_free(&chsm_crypto_g);
    }
    pthread_mutex_unlock(&g_lock);
}

CK_RV chsm_crypto_after_fork(void)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_crypto_ready());
    ERR_set_mark();
    /* The child must never replay the parent's DRBG output: throw the DRBG
     * tree away and instantiate a fresh one from the OS seed source. */
    pthread_mutex_lock(&g_lock);
    chsm_rand_stop();
    rv = chsm_rand_start();
    pthread_mutex_unlock(&g_lock);
    chsm_ossl_clear();
out:
    return rv;
}

const EVP_MD *chsm_md_by_id(enum chsm_md_id id)
{
    return (unsigned)id < CHSM_MD_COUNT ? chsm_crypto_g.md[id] : NULL;
}

const EVP_MD *chsm_md_for_mech(CK_MECHANISM_TYPE mech)
{
    switch (mech) {
    case CKM_SHA_1:
    case CKM_SHA_1_HMAC:
    case CKM_SHA_1_HMAC_GENERAL:
        return chsm_crypto_g.md[CHSM_MD_SHA1];
    case CKM_SHA224:
    case CKM_SHA224_HMAC:
    case CKM_SHA224_HMAC_GENERAL:
        return chsm_crypto_g.md[CHSM_MD_SHA224];
    case CKM_SHA256:
    case CKM_SHA256_HMAC:
    case CKM_SHA256_HMAC_GENERAL:
        return chsm_crypto_g.md[CHSM_MD_SHA256];
    case CKM_SHA384:
    case CKM_SHA384_HMAC:
    case CKM_SHA384_HMAC_GENERAL:
        return chsm_crypto_g.md[CHSM_MD_SHA384];
    case CKM_SHA512:
    case CKM_SHA512_HMAC:
    case CKM_SHA512_HMAC_GENERAL:
        return chsm_crypto_g.md[CHSM_MD_SHA512];
    case CKM_SHA3_256:
        return chsm_crypto_g.md[CHSM_MD_SHA3_256];
    case CKM_SHA3_384:
        return chsm_crypto_g.md[CHSM_MD_SHA3_384];
    case CKM_SHA3_512:
        return chsm_crypto_g.md[CHSM_MD_SHA3_512];
    default:
        return NULL;
    }
}

const EVP_MD *chsm_md_for_mgf(CK_RSA_PKCS_MGF_TYPE mgf)
{
    switch (mgf) {
    case CKG_MGF1_SHA1: return chsm_crypto_g.md[CHSM_MD_SHA1];
    case CKG_MGF1_SHA224: return chsm_crypto_g.md[CHSM_MD_SHA224];
    case CKG_MGF1_SHA256: return chsm_crypto_g.md[CHSM_MD_SHA256];
    case CKG_MGF1_SHA384: return chsm_crypto_g.md[CHSM_MD_SHA384];
    case CKG_MGF1_SHA512: return chsm_crypto_g.md[CHSM_MD_SHA512];
    default: return NULL;
    }
}

const EVP_CIPHER *chsm_aes_cipher(enum chsm_cipher_id base, size_t key_len)
{
    size_t i;
    switch (key_len) {
    case 16: i = 0; break;
    case 24: i = 1; break;
    case 32: i = 2; break;
    default: return NULL;
    }
    return chsm_crypto_g.cipher[(size_t)base + i];
}
