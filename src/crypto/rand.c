/*
 * SP 800-90A CTR-DRBG (AES-256, derivation function) in the private library
 * context. One parent DRBG is seeded from the OS; every thread gets its own
 * child DRBG seeded from the parent, so threads never contend on a lock in
 * the generate path. Children are registered in a list so fini/fork can free
 * them all; a generation counter tells a thread its cached child is gone.
 * The pthread key is deleted at fini so no destructor can point into an
 * unloaded module (dlclose of the PKCS#11 module).
 */
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"

struct drbg_node {
    EVP_RAND_CTX *ctx;
    struct drbg_node *next;
};

static pthread_mutex_t r_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_RAND_CTX *r_parent;
static struct drbg_node *r_nodes;
static pthread_key_t r_key;
static int r_key_live;
static atomic_uint_fast64_t r_gen = 1;

static _Thread_local struct drbg_node *tls_node;
static _Thread_local uint_fast64_t tls_gen;

static void drbg_params(OSSL_PARAM p[3])
{
    static char cipher[] = "AES-256-CTR";
    static int use_df = 1;
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_CIPHER, cipher, 0);
    p[1] = OSSL_PARAM_construct_int(OSSL_DRBG_PARAM_USE_DF, &use_df);
    p[2] = OSSL_PARAM_construct_end();
}

/* Instantiate a CTR-DRBG under parent (NULL parent: seeded from the OS). */
CHSM_MUST_CHECK static CK_RV drbg_new(EVP_RAND_CTX *parent, EVP_RAND_CTX **out)
{
    CK_RV rv = CKR_OK;
    OSSL_PARAM p[3];
    static const unsigned char pers[] = "craton-hsm ctr-drbg";
    EVP_RAND_CTX *c = EVP_RAND_CTX_new(chsm_crypto_g.ctr_drbg, parent);
    CHSM_ENSURE(c != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EVP_RAND_CTX_new"));
    drbg_params(p);
    CHSM_ENSURE(EVP_RAND_instantiate(c, 256, 0, pers, sizeof(pers) - 1, p) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DRBG instantiate"));
    *out = c;
    c = NULL;
out:
    EVP_RAND_CTX_free(c);
    return rv;
}

static void node_unlink_free(struct drbg_node *n)
{
    for (struct drbg_node **pp = &r_nodes; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            EVP_RAND_CTX_free(n->ctx);
            free(n);
            return;
        }
    }
}

static void thread_exit(void *v)
{
    pthread_mutex_lock(&r_lock);
    node_unlink_free(v); /* no-op when fini/fork already freed it */
    pthread_mutex_unlock(&r_lock);
}

CK_RV chsm_rand_start(void)
{
    CK_RV rv = CKR_OK;
    EVP_RAND_CTX *p = NULL;
    CHSM_GUARD(drbg_new(NULL, &p));
    CHSM_ENSURE(EVP_RAND_enable_locking(p) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DRBG locking"));
    pthread_mutex_lock(&r_lock);
    if (!r_key_live && pthread_key_create(&r_key, thread_exit) != 0) {
        pthread_mutex_unlock(&r_lock);
        CHSM_BAIL(CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "pthread_key_create"));
    }
    r_key_live = 1;
    r_parent = p;
    p = NULL;
    pthread_mutex_unlock(&r_lock);
out:
    EVP_RAND_CTX_free(p);
    return rv;
}

void chsm_rand_stop(void)
{
    pthread_mutex_lock(&r_lock);
    atomic_fetch_add(&r_gen, 1);
    while (r_nodes != NULL)
        node_unlink_free(r_nodes);
    EVP_RAND_CTX_free(r_parent);
    r_parent = NULL;
    if (r_key_live)
        (void)pthread_key_delete(r_key);
    r_key_live = 0;
    pthread_mutex_unlock(&r_lock);
}

/* This thread's child DRBG, created on first use (or after fini/fork). */
CHSM_MUST_CHECK static CK_RV thread_drbg(EVP_RAND_CTX **out)
{
    CK_RV rv = CKR_OK;
    struct drbg_node *n = NULL;
    uint_fast64_t gen = atomic_load(&r_gen);
    if (tls_node != NULL && tls_gen == gen) {
        *out = tls_node->ctx;
        return CKR_OK;
    }
    n = calloc(1, sizeof(*n));
    CHSM_ENSURE(n != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "drbg node"));
    pthread_mutex_lock(&r_lock);
    if (r_parent == NULL) {
        pthread_mutex_unlock(&r_lock);
        CHSM_BAIL(CHSM_ERR(CKR_CRYPTOKI_NOT_INITIALIZED, CHSM_LAYER_CRYPTO, "DRBG not running"));
    }
    rv = drbg_new(r_parent, &n->ctx);
    if (rv == CKR_OK) {
        n->next = r_nodes;
        r_nodes = n;
        (void)pthread_setspecific(r_key, n);
        tls_node = n;
        tls_gen = atomic_load(&r_gen);
        *out = n->ctx;
        n = NULL;
    }
    pthread_mutex_unlock(&r_lock);
out:
    free(n);
    return rv;
}

CK_RV chsm_rand_bytes(void *out, size_t n)
{
    CK_RV rv = CKR_OK;
    EVP_RAND_CTX *c = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    if (n > 0) {
        CHSM_GUARD(thread_drbg(&c));
        CHSM_ENSURE(EVP_RAND_generate(c, out, n, 0, 0, NULL, 0) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DRBG generate"));
    }
out:
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_rand_seed(const void *in, size_t n)
{
    CK_RV rv = CKR_OK;
    EVP_RAND_CTX *c = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_GUARD(thread_drbg(&c));
    /* Caller bytes are additional input only: they can add but never replace entropy. */
    CHSM_ENSURE(EVP_RAND_reseed(c, 0, NULL, 0, in, n) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "DRBG reseed"));
out:
    chsm_ossl_clear();
    return rv;
}
