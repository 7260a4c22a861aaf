/*
 * struct chsm_pkey: construction from PKCS#11 components, reference
 * counting, and the curve table (CKA_EC_PARAMS <-> OpenSSL group).
 */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/pkey_internal.h"
#include "crypto/shim.h"

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};

static const struct chsm_curve curves[] = {
    {CHSM_PKEY_EC, "P-256", oid_p256, sizeof(oid_p256), 32, 256},
    {CHSM_PKEY_EC, "P-384", oid_p384, sizeof(oid_p384), 48, 384},
    {CHSM_PKEY_EC, "P-521", oid_p521, sizeof(oid_p521), 66, 521},
    {CHSM_PKEY_ED25519, "ED25519", oid_ed25519, sizeof(oid_ed25519), 32, 255},
    {CHSM_PKEY_ED448, "ED448", oid_ed448, sizeof(oid_ed448), 57, 448},
};

_Static_assert(CHSM_ARRAY_LEN(curves) == CHSM_CURVE_COUNT, "curve table size");

size_t chsm_curve_index(const struct chsm_curve *c)
{
    return (size_t)(c - curves);
}

const struct chsm_curve *chsm_curve_from_params(const uint8_t *p, size_t len)
{
    /* PKCS#11 3.0 2.3.4: Edwards curves may be named by a PrintableString. */
    static const char *const printable[] = {"edwards25519", "edwards448"};
    for (size_t i = 0; p != NULL && i < CHSM_ARRAY_LEN(curves); i++)
        if (len == curves[i].oid_len && memcmp(p, curves[i].oid, len) == 0)
            return &curves[i];
    for (size_t i = 0; p != NULL && i < 2; i++) {
        size_t n = strlen(printable[i]);
        if (len == n + 2 && p[0] == 0x13 && p[1] == n && memcmp(p + 2, printable[i], n) == 0)
            return &curves[3 + i];
    }
    return NULL;
}

CK_RV chsm_pkey_wrap(EVP_PKEY *pkey, bool is_private, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_pkey *k = NULL;
    const struct chsm_curve *c = NULL;
    enum chsm_pkey_kind kind;
    char group[32] = "";
    CHSM_GUARD(chsm_shim_adopt(&pkey, is_private)); /* decoded keys: into the engine-proof keymgmt */
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        kind = CHSM_PKEY_RSA;
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        kind = CHSM_PKEY_ED25519, c = &curves[3];
    } else if (EVP_PKEY_is_a(pkey, "ED448")) {
        kind = CHSM_PKEY_ED448, c = &curves[4];
    } else if (EVP_PKEY_is_a(pkey, "EC") &&
               EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1) {
        char enc[32] = "";
        kind = CHSM_PKEY_EC;
        /* Only named curves: explicit parameters (even ones equal to a named curve) are an
         * invalid-curve risk and cannot be expressed as the CKA_EC_PARAMS OID we export. */
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc), NULL) == 1 &&
            strcmp(enc, OSSL_PKEY_EC_ENCODING_EXPLICIT) == 0)
            CHSM_BAIL(CHSM_ERR(CKR_CURVE_NOT_SUPPORTED, CHSM_LAYER_CRYPTO, "explicit EC parameters"));
        for (size_t i = 0; i < 3; i++)
            if (strcmp(group, curves[i].name) == 0 || (i == 0 && strcmp(group, "prime256v1") == 0) ||
                (i == 1 && strcmp(group, "secp384r1") == 0) || (i == 2 && strcmp(group, "secp521r1") == 0))
                c = &curves[i];
        CHSM_ENSURE(c != NULL, CHSM_ERR(CKR_CURVE_NOT_SUPPORTED, CHSM_LAYER_CRYPTO, "curve %s", group));
    } else {
        CHSM_BAIL(CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, CHSM_LAYER_CRYPTO, "unsupported key type"));
    }
    k = calloc(1, sizeof(*k));
    CHSM_ENSURE(k != NULL, CHSM_ERR(CKR_HOST_MEMORY, CHSM_LAYER_CRYPTO, "pkey"));
    atomic_init(&k->refs, 1);
    atomic_init(&k->op_ctx[0], NULL);
    atomic_init(&k->op_ctx[1], NULL);
    k->pkey = pkey;
    pkey = NULL;
    k->kind = kind;
    k->curve = c;
    k->is_private = is_private;
    *out = k;
out:
    EVP_PKEY_free(pkey);
    return rv;
}

void chsm_pkey_up_ref(struct chsm_pkey *key)
{
    atomic_fetch_add(&key->refs, 1);
}

void chsm_pkey_free(struct chsm_pkey *key)
{
    if (key == NULL || atomic_fetch_sub(&key->refs, 1) != 1)
        return;
    EVP_PKEY_CTX_free(atomic_load(&key->op_ctx[0]));
    EVP_PKEY_CTX_free(atomic_load(&key->op_ctx[1]));
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private bignums on free */
    free(key);
}

enum chsm_pkey_kind chsm_pkey_kind(const struct chsm_pkey *key) { return key->kind; }
bool chsm_pkey_is_private(const struct chsm_pkey *key) { return key->is_private; }

size_t chsm_pkey_bits(const struct chsm_pkey *key)
{
    return key->curve != NULL ? key->curve->bits : (size_t)EVP_PKEY_get_bits(key->pkey);
}

size_t chsm_pkey_sig_len(const struct chsm_pkey *key)
{
    switch (key->kind) {
    case CHSM_PKEY_RSA: return (size_t)EVP_PKEY_get_size(key->pkey);
    case CHSM_PKEY_EC: return 2 * key->curve->field_bytes;
    case CHSM_PKEY_ED25519: return 64;
    case CHSM_PKEY_ED448: return 114;
    }
    return 0;
}

EVP_PKEY_CTX *chsm_pkey_ctx(const struct chsm_pkey *key)
{
    /* The key's shim keymgmt keeps the context off the host's ENGINE tables (shim.h); the
     * optional query keeps the operation in the shim too (digests still come from default). */
    return EVP_PKEY_CTX_new_from_pkey(chsm_crypto_g.lib, key->pkey, CHSM_SHIM_PREFER);
}

CK_RV chsm_ec_point_raw(const struct chsm_curve *c, const uint8_t *in, size_t len, const uint8_t **raw,
                        size_t *raw_len)
{
    CK_RV rv = CKR_OK;
    size_t uncompressed = c->kind == CHSM_PKEY_EC ? 2 * c->field_bytes + 1 : c->field_bytes;
    size_t compressed = c->kind == CHSM_PKEY_EC ? c->field_bytes + 1 : c->field_bytes;
    size_t hdr = 0, body = 0;
    /* Raw first when the size says so; else a DER OCTET STRING (short or 0x81 long form). */
    if (len == uncompressed || len == compressed) {
        *raw = in, *raw_len = len;
        goto out;
    }
    CHSM_ENSURE(len >= 2 && in[0] == 0x04, CHSM_ERR(CKR_ATTRIBUTE_VALUE_INVALID, CHSM_LAYER_CRYPTO, "EC point"));
    if (in[1] < 0x80)
        hdr = 2, body = in[1];
    else if (in[1] == 0x81 && len >= 3 && in[2] >= 0x80)
        hdr = 3, body = in[2];
    CHSM_ENSURE(hdr != 0 && hdr + body == len && (body == uncompressed || body == compressed),
                CHSM_ERR(CKR_ATTRIBUTE_VALUE_INVALID, CHSM_LAYER_CRYPTO, "EC point encoding (len %zu)", len));
    *raw = in + hdr, *raw_len = body;
out:
    return rv;
}

CHSM_MUST_CHECK static CK_RV push_bn(OSSL_PARAM_BLD *b, const char *name, struct chsm_bytes v, BIGNUM **bn)
{
    *bn = BN_secure_new();
    if (*bn == NULL || BN_bin2bn(v.data, (int)v.len, *bn) == NULL || OSSL_PARAM_BLD_push_BN(b, name, *bn) != 1)
        return CHSM_OSSL_ERR(CKR_HOST_MEMORY, "RSA component");
    return CKR_OK;
}

CHSM_MUST_CHECK static CK_RV fromdata_params(const char *type, OSSL_PARAM *p, int selection, EVP_PKEY **out)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY_CTX *c = chsm_shim_ctx(type); /* not EVP_PKEY_CTX_new_from_name(type): host ENGINEs (shim.h) */
    CHSM_ENSURE(p != NULL && c != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "fromdata"));
    CHSM_ENSURE(EVP_PKEY_fromdata_init(c) == 1 && EVP_PKEY_fromdata(c, out, selection, p) == 1,
                CHSM_OSSL_ERR(CKR_ATTRIBUTE_VALUE_INVALID, "key components rejected"));
out:
    EVP_PKEY_CTX_free(c);
    return rv;
}

CHSM_MUST_CHECK static CK_RV fromdata(const char *type, OSSL_PARAM_BLD *b, int selection, EVP_PKEY **out)
{
    OSSL_PARAM *p = OSSL_PARAM_BLD_to_param(b);
    CK_RV rv = fromdata_params(type, p, selection, out);
    OSSL_PARAM_free(p); /* secure-heap BNs land in the secure heap */
    return rv;
}

CHSM_MUST_CHECK static CK_RV rsa_from_parts(const struct chsm_pkey_parts *pp, EVP_PKEY **out)
{
    CK_RV rv = CKR_OK;
    static const char *const names[8] = {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
                                         OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
                                         OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
                                         OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    const struct chsm_bytes v[8] = {pp->n, pp->e, pp->d, pp->p, pp->q, pp->dp, pp->dq, pp->qinv};
    BIGNUM *bn[8] = {0};
    size_t count = 2;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    CHSM_ENSURE(b != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "param bld"));
    CHSM_ENSURE(pp->n.len > 0 && pp->e.len > 0 && pp->n.len <= 2048 && pp->e.len <= 2048,
                CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, CHSM_LAYER_CRYPTO, "RSA needs modulus and exponent"));
    if (pp->is_private) {
        CHSM_ENSURE(pp->d.len > 0 && pp->d.len <= 2048,
                    CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, CHSM_LAYER_CRYPTO, "RSA private exponent"));
        count = 3;
        /* CRT parts all or nothing: OpenSSL would otherwise mis-sign with half a set. */
        bool all = true, none = true;
        for (size_t i = 3; i < 8; i++)
            all = all && v[i].len > 0 && v[i].len <= 2048, none = none && v[i].len == 0;
        CHSM_ENSURE(all || none, CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, CHSM_LAYER_CRYPTO, "partial RSA CRT set"));
        if (all)
            count = 8;
    }
    for (size_t i = 0; i < count; i++)
        CHSM_GUARD(push_bn(b, names[i], v[i], &bn[i]));
    CHSM_GUARD(fromdata("RSA", b, pp->is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, out));
out:
    for (size_t i = 0; i < 8; i++)
        BN_clear_free(bn[i]);
    OSSL_PARAM_BLD_free(b);
    return rv;
}

/* EC public point from a private scalar (PKCS#11 private objects need not carry CKA_EC_POINT). */
CHSM_MUST_CHECK static CK_RV ec_pub_from_priv(const struct chsm_curve *c, const BIGNUM *d, uint8_t *pub,
                                              size_t *pub_len)
{
    CK_RV rv = CKR_OK;
    EC_GROUP *g = EC_GROUP_new_by_curve_name_ex(chsm_crypto_g.lib, NULL, EC_curve_nist2nid(c->name));
    EC_POINT *pt = g != NULL ? EC_POINT_new(g) : NULL;
    CHSM_ENSURE(pt != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "EC group"));
    CHSM_ENSURE(!BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0,
                CHSM_ERR(CKR_ATTRIBUTE_VALUE_INVALID, CHSM_LAYER_CRYPTO, "EC private scalar out of range"));
    CHSM_ENSURE(EC_POINT_mul(g, pt, d, NULL, NULL, NULL) == 1 &&
                    (*pub_len = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub, 133, NULL)) != 0,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "EC public from private"));
out:
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return rv;
}

CHSM_MUST_CHECK static CK_RV ec_from_parts(const struct chsm_curve *c, const struct chsm_pkey_parts *pp,
                                           EVP_PKEY **out)
{
    CK_RV rv = CKR_OK;
    BIGNUM *d = NULL;
    uint8_t pub[133];
    const uint8_t *raw = NULL;
    size_t raw_len = 0;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    CHSM_ENSURE(b != NULL && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, c->name, 0) == 1,
                CHSM_OSSL_ERR(CKR_HOST_MEMORY, "param bld"));
    if (pp->is_private) {
        CHSM_ENSURE(pp->value.len > 0 && pp->value.len <= c->field_bytes,
                    CHSM_ERR(pp->value.len ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_TEMPLATE_INCOMPLETE,
                             CHSM_LAYER_CRYPTO, "EC private value length %zu", pp->value.len));
        d = BN_secure_new();
        CHSM_ENSURE(d != NULL && BN_bin2bn(pp->value.data, (int)pp->value.len, d) != NULL,
                    CHSM_OSSL_ERR(CKR_HOST_MEMORY, "BN"));
        CHSM_GUARD(ec_pub_from_priv(c, d, pub, &raw_len));
        raw = pub;
        CHSM_ENSURE(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1,
                    CHSM_OSSL_ERR(CKR_HOST_MEMORY, "param bld"));
    } else {
        CHSM_ENSURE(pp->ec_point.len > 0, CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, CHSM_LAYER_CRYPTO, "CKA_EC_POINT"));
        CHSM_GUARD(chsm_ec_point_raw(c, pp->ec_point.data, pp->ec_point.len, &raw, &raw_len));
    }
    CHSM_ENSURE(OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, raw, raw_len) == 1,
                CHSM_OSSL_ERR(CKR_HOST_MEMORY, "param bld"));
    CHSM_GUARD(fromdata("EC", b, pp->is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, out));
out:
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(b);
    return rv;
}

CHSM_MUST_CHECK static CK_RV ed_from_parts(const struct chsm_curve *c, const struct chsm_pkey_parts *pp,
                                           EVP_PKEY **out)
{
    CK_RV rv = CKR_OK;
    const uint8_t *raw = NULL;
    size_t raw_len = 0;
    OSSL_PARAM p[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
    /* Not EVP_PKEY_new_raw_*_key_ex: it consults ENGINE asn1/pkey tables first (shim.h). */
    if (pp->is_private) {
        CHSM_ENSURE(pp->value.len == c->field_bytes,
                    CHSM_ERR(pp->value.len ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_TEMPLATE_INCOMPLETE,
                             CHSM_LAYER_CRYPTO, "Edwards private key length %zu", pp->value.len));
        p[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)(uintptr_t)pp->value.data,
                                                 pp->value.len);
        CHSM_GUARD(fromdata_params(c->name, p, EVP_PKEY_KEYPAIR, out));
    } else {
        CHSM_ENSURE(pp->ec_point.len > 0, CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, CHSM_LAYER_CRYPTO, "CKA_EC_POINT"));
        CHSM_GUARD(chsm_ec_point_raw(c, pp->ec_point.data, pp->ec_point.len, &raw, &raw_len));
        CHSM_ENSURE(raw_len == c->field_bytes,
                    CHSM_ERR(CKR_ATTRIBUTE_VALUE_INVALID, CHSM_LAYER_CRYPTO, "Edwards public key length"));
        p[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)raw, raw_len);
        CHSM_GUARD(fromdata_params(c->name, p, EVP_PKEY_PUBLIC_KEY, out));
    }
    CHSM_ENSURE(*out != NULL, CHSM_OSSL_ERR(CKR_ATTRIBUTE_VALUE_INVALID, "Edwards key"));
out:
    return rv;
}

CK_RV chsm_pkey_from_parts(const struct chsm_pkey_parts *pp, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY *pk = NULL;
    const struct chsm_curve *c = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(pp != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    if (pp->key_type == CKK_RSA) {
        CHSM_GUARD(rsa_from_parts(pp, &pk));
    } else if (pp->key_type == CKK_EC || pp->key_type == CKK_EC_EDWARDS) {
        CHSM_ENSURE(pp->ec_params.len > 0, CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, CHSM_LAYER_CRYPTO, "CKA_EC_PARAMS"));
        c = chsm_curve_from_params(pp->ec_params.data, pp->ec_params.len);
        CHSM_ENSURE(c != NULL, CHSM_ERR(CKR_CURVE_NOT_SUPPORTED, CHSM_LAYER_CRYPTO, "CKA_EC_PARAMS not supported"));
        CHSM_ENSURE((c->kind == CHSM_PKEY_EC) == (pp->key_type == CKK_EC),
                    CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, CHSM_LAYER_CRYPTO, "curve does not match key type"));
        if (c->kind == CHSM_PKEY_EC)
            CHSM_GUARD(ec_from_parts(c, pp, &pk));
        else
            CHSM_GUARD(ed_from_parts(c, pp, &pk));
    } else {
        CHSM_BAIL(CHSM_ERR(CKR_KEY_TYPE_INCONSISTENT, CHSM_LAYER_CRYPTO, "key type 0x%lx", pp->key_type));
    }
    rv = chsm_pkey_wrap(pk, pp->is_private, out); /* owns pk from here, even on failure */
    pk = NULL;
out:
    EVP_PKEY_free(pk);
    chsm_ossl_clear();
    return rv;
}
