/*
 * The "chsm-shim" built-in provider: the default provider's asymmetric
 * implementations under key-management names no NID maps to, so OpenSSL 3.0
 * never consults the host's ENGINE tables for our keys (see shim.h for the
 * pmeth_lib.c int_ctx_new() walk-through). Registered with
 * OSSL_PROVIDER_add_builtin() on the private OSSL_LIB_CTX only.
 */
#include <openssl/core_dispatch.h>
#include <openssl/provider.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/shim.h"

#define SHIM_NAME "chsm-shim"
#define SHIM_OPS 4

static const int shim_ops[SHIM_OPS] = {OSSL_OP_KEYMGMT, OSSL_OP_SIGNATURE, OSSL_OP_KEYEXCH, OSSL_OP_ASYM_CIPHER};
/* First names (default provider) of the implementations re-exported. */
static const char *const shim_algs[] = {"RSA", "EC", "ED25519", "ED448", "X25519", "ECDSA", "ECDH"};
/* Engine-proof key types: {standard, shim first name}. */
static const char *const shim_types[][2] = {
    {"RSA", "CHSM-RSA"}, {"EC", "CHSM-EC"}, {"ED25519", "CHSM-ED25519"}, {"ED448", "CHSM-ED448"}, {"X25519", "CHSM-X25519"},
};

static OSSL_ALGORITHM *shim_tab[SHIM_OPS];
static void *shim_provctx; /* the default provider's context: the re-exported functions expect it */
static OSSL_PROVIDER *shim_prov;

static bool wanted(const char *names)
{
    size_t n = strcspn(names, ":");
    for (size_t i = 0; i < CHSM_ARRAY_LEN(shim_algs); i++)
        if (strlen(shim_algs[i]) == n && strncmp(names, shim_algs[i], n) == 0)
            return true;
    return false;
}

/* "CHSM-EC:EC:..." for key management (new first name), the same names otherwise. */
static char *shim_names(int op, const char *names)
{
    size_t fl = strcspn(names, ":"), len = strlen(names) + (op == OSSL_OP_KEYMGMT ? fl + 7 : 1);
    char *s = malloc(len);
    if (s != NULL && op == OSSL_OP_KEYMGMT)
        (void)snprintf(s, len, "CHSM-%.*s:%s", (int)fl, names, names);
    else if (s != NULL)
        memcpy(s, names, len);
    return s;
}

/* The default provider's property definition with provider=default replaced. */
static char *shim_props(const char *p)
{
    const char *d = p != NULL ? strstr(p, "provider=default") : NULL;
    size_t len = (p != NULL ? strlen(p) : 0) + sizeof(SHIM_NAME) + 16;
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    if (d == NULL)
        (void)snprintf(s, len, "provider=" SHIM_NAME "%s%s", p != NULL && *p ? "," : "", p != NULL ? p : "");
    else
        (void)snprintf(s, len, "%.*sprovider=" SHIM_NAME "%s", (int)(d - p), p, d + strlen("provider=default"));
    return s;
}

CHSM_MUST_CHECK static CK_RV build_op(OSSL_PROVIDER *deflt, size_t oi)
{
    CK_RV rv = CKR_OK;
    int no_cache = 0;
    size_t n = 0, k = 0;
    const OSSL_ALGORITHM *a = OSSL_PROVIDER_query_operation(deflt, shim_ops[oi], &no_cache);
    for (const OSSL_ALGORITHM *p = a; p != NULL && p->algorithm_names != NULL; p++)
        n++;
    shim_tab[oi] = calloc(n + 1, sizeof(OSSL_ALGORITHM)); /* zeroed terminator */
    CHSM_ENSURE(shim_tab[oi] != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "shim table"));
    for (const OSSL_ALGORITHM *p = a; p != NULL && p->algorithm_names != NULL; p++) {
        if (!wanted(p->algorithm_names))
            continue;
        shim_tab[oi][k] = *p;
        shim_tab[oi][k].algorithm_names = shim_names(shim_ops[oi], p->algorithm_names);
        shim_tab[oi][k].property_definition = shim_props(p->property_definition);
        CHSM_ENSURE(shim_tab[oi][k].algorithm_names != NULL && shim_tab[oi][k].property_definition != NULL,
                    CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "shim names"));
        k++;
    }
out:
    OSSL_PROVIDER_unquery_operation(deflt, shim_ops[oi], a);
    return rv;
}

static const OSSL_ALGORITHM *shim_query(void *provctx, int op, int *no_cache)
{
    (void)provctx;
    *no_cache = 0;
    for (size_t i = 0; i < SHIM_OPS; i++)
        if (shim_ops[i] == op)
            return shim_tab[i];
    return NULL;
}

static const OSSL_DISPATCH shim_dispatch[] = {
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))shim_query},
    {0, NULL},
};

static int shim_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
                     void **provctx)
{
    (void)handle, (void)in;
    *out = shim_dispatch;
    *provctx = shim_provctx; /* no teardown: the default provider owns it */
    return 1;
}

CK_RV chsm_shim_load(OSSL_LIB_CTX *lib, OSSL_PROVIDER *deflt)
{
    CK_RV rv = CKR_OK;
    shim_provctx = OSSL_PROVIDER_get0_provider_ctx(deflt);
    for (size_t i = 0; i < SHIM_OPS; i++)
        CHSM_GUARD(build_op(deflt, i));
    CHSM_ENSURE(OSSL_PROVIDER_add_builtin(lib, SHIM_NAME, shim_init) == 1 &&
                    (shim_prov = OSSL_PROVIDER_load(lib, SHIM_NAME)) != NULL,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "load shim provider"));
out:
    return rv;
}

void chsm_shim_unload(void)
{
    if (shim_prov != NULL)
        (void)OSSL_PROVIDER_unload(shim_prov);
    shim_prov = NULL;
}

void chsm_shim_free(void)
{
    for (size_t i = 0; i < SHIM_OPS; i++) {
        for (OSSL_ALGORITHM *p = shim_tab[i]; p != NULL && p->algorithm_names != NULL; p++) {
            free((void *)(uintptr_t)p->algorithm_names);
            free((void *)(uintptr_t)p->property_definition);
        }
        free(shim_tab[i]);
        shim_tab[i] = NULL;
    }
    shim_provctx = NULL;
}

const char *chsm_shim_keytype(const char *type)
{
    for (size_t i = 0; type != NULL && i < CHSM_ARRAY_LEN(shim_types); i++)
        if (strcmp(type, shim_types[i][0]) == 0 || strcmp(type, shim_types[i][1]) == 0)
            return shim_types[i][1];
    return NULL;
}

EVP_PKEY_CTX *chsm_shim_ctx(const char *type)
{
    const char *name = chsm_shim_keytype(type);
    return name != NULL ? EVP_PKEY_CTX_new_from_name(chsm_crypto_g.lib, name, CHSM_SHIM_PROPQ) : NULL;
}

struct adopt_arg {
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *out;
    int selection;
};

static int adopt_cb(const OSSL_PARAM params[], void *arg)
{
    struct adopt_arg *a = arg;
    return EVP_PKEY_fromdata(a->ctx, &a->out, a->selection, (OSSL_PARAM *)(uintptr_t)params);
}

CK_RV chsm_shim_adopt(EVP_PKEY **pk, bool is_private)
{
    CK_RV rv = CKR_OK;
    struct adopt_arg a = {NULL, NULL, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY};
    if (EVP_PKEY_get0_provider(*pk) == shim_prov)
        goto out;
    /* The provider's own export hands its parameters straight to our import (no copy kept here). */
    a.ctx = chsm_shim_ctx(EVP_PKEY_get0_type_name(*pk));
    CHSM_ENSURE(a.ctx != NULL, CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, CHSM_LAYER_CRYPTO, "unsupported key type"));
    CHSM_ENSURE(EVP_PKEY_fromdata_init(a.ctx) == 1 && EVP_PKEY_export(*pk, a.selection, adopt_cb, &a) == 1 &&
                    a.out != NULL,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "adopt key"));
    EVP_PKEY_free(*pk);
    *pk = a.out;
    a.out = NULL;
out:
    if (rv != CKR_OK) {
        EVP_PKEY_free(*pk);
        *pk = NULL;
    }
    EVP_PKEY_free(a.out);
    EVP_PKEY_CTX_free(a.ctx);
    return rv;
}
