/*
 * chsm_pkey <-> external encodings: PKCS#11 components, SubjectPublicKeyInfo,
 * PKCS#8, and PEM/DER import for the CLI. All encoders and decoders run in
 * the private library context.
 */
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <openssl/encoder.h>
#include <string.h>

#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "crypto/pkey_internal.h"

CHSM_MUST_CHECK static CK_RV put_bn(const struct chsm_pkey *k, const char *name, size_t pad, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    BIGNUM *bn = NULL;
    int n;
    CHSM_ENSURE(EVP_PKEY_get_bn_param(k->pkey, name, &bn) == 1,
                CHSM_ERR(CKR_KEY_UNEXTRACTABLE, CHSM_LAYER_CRYPTO, "component %s absent", name));
    n = BN_num_bytes(bn);
    CHSM_ENSURE(n >= 0 && (pad == 0 || (size_t)n <= pad), CKR_GENERAL_ERROR);
    CHSM_GUARD(chsm_buf_reserve(out, pad ? pad : (size_t)n));
    CHSM_ENSURE(BN_bn2binpad(bn, out->data, pad ? (int)pad : n) >= 0, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "bn2bin"));
    out->len = pad ? pad : (size_t)n;
out:
    BN_clear_free(bn);
    return rv;
}

CK_RV chsm_pkey_ec_point(const struct chsm_pkey *k, uint8_t *raw, size_t cap, size_t *len)
{
    if (k->pub_point_len != 0 && k->pub_point_len <= cap) {
        memcpy(raw, k->pub_point, k->pub_point_len);
        *len = k->pub_point_len;
        return CKR_OK;
    }
    if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw, cap, len) != 1)
        return CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "EC point");
    return CKR_OK;
}

/* DER OCTET STRING around the raw public point (CKA_EC_POINT, PKCS#11 3.0 2.3.3). */
CHSM_MUST_CHECK static CK_RV put_point(const struct chsm_pkey *k, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    uint8_t raw[160];
    size_t len = 0;
    if (k->kind == CHSM_PKEY_EC)
        CHSM_GUARD(chsm_pkey_ec_point(k, raw, sizeof(raw), &len));
    else if ((len = sizeof(raw)) != 0)
        CHSM_ENSURE(EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "Edwards public key"));
    CHSM_GUARD(chsm_buf_put_u8(out, 0x04));
    if (len >= 0x80)
        CHSM_GUARD(chsm_buf_put_u8(out, 0x81));
    CHSM_GUARD(chsm_buf_put_u8(out, (uint8_t)len));
    CHSM_GUARD(chsm_buf_put(out, raw, len));
out:
    return rv;
}

CHSM_MUST_CHECK static CK_RV put_ed_private(const struct chsm_pkey *k, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    size_t len = k->curve->field_bytes;
    CHSM_GUARD(chsm_buf_reserve(out, len));
    CHSM_ENSURE(EVP_PKEY_get_raw_private_key(k->pkey, out->data, &len) == 1,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "Edwards private key"));
    out->len = len;
out:
    return rv;
}

CK_RV chsm_pkey_get_component(const struct chsm_pkey *k, CK_ATTRIBUTE_TYPE type, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    bool rsa = k != NULL && k->kind == CHSM_PKEY_RSA;
    bool secret = type != CKA_MODULUS && type != CKA_PUBLIC_EXPONENT && type != CKA_EC_PARAMS && type != CKA_EC_POINT;
    ERR_set_mark();
    CHSM_ENSURE(k != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    chsm_buf_init(out, secret);
    CHSM_ENSURE(!secret || k->is_private,
                CHSM_ERR(CKR_KEY_UNEXTRACTABLE, CHSM_LAYER_CRYPTO, "private component of a public key"));
    switch (type) {
    case CKA_MODULUS: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_N, 0, out)); break;
    case CKA_PUBLIC_EXPONENT: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_E, 0, out)); break;
    case CKA_PRIVATE_EXPONENT: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_D, 0, out)); break;
    case CKA_PRIME_1: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_FACTOR1, 0, out)); break;
    case CKA_PRIME_2: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_FACTOR2, 0, out)); break;
    case CKA_EXPONENT_1: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_EXPONENT1, 0, out)); break;
    case CKA_EXPONENT_2: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_EXPONENT2, 0, out)); break;
    case CKA_COEFFICIENT: CHSM_ENSURE(rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0, out)); break;
    case CKA_EC_PARAMS:
        CHSM_ENSURE(!rsa, CKR_ATTRIBUTE_TYPE_INVALID);
        CHSM_GUARD(chsm_buf_put(out, k->curve->oid, k->curve->oid_len));
        break;
    case CKA_EC_POINT: CHSM_ENSURE(!rsa, CKR_ATTRIBUTE_TYPE_INVALID); CHSM_GUARD(put_point(k, out)); break;
    case CKA_VALUE:
        CHSM_ENSURE(!rsa, CKR_ATTRIBUTE_TYPE_INVALID);
        if (k->kind == CHSM_PKEY_EC)
            CHSM_GUARD(put_bn(k, OSSL_PKEY_PARAM_PRIV_KEY, k->curve->field_bytes, out));
        else
            CHSM_GUARD(put_ed_private(k, out));
        break;
    default: CHSM_BAIL(CKR_ATTRIBUTE_TYPE_INVALID);
    }
out:
    if (rv != CKR_OK && out != NULL)
        chsm_buf_free(out);
    chsm_ossl_clear();
    return rv;
}

CHSM_MUST_CHECK static CK_RV encode(const struct chsm_pkey *k, int selection, const char *structure, bool secret,
                                    struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    unsigned char *der = NULL;
    size_t len = 0;
    OSSL_ENCODER_CTX *e = NULL;
    ERR_set_mark();
    CHSM_ENSURE(k != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    chsm_buf_init(out, secret);
    e = OSSL_ENCODER_CTX_new_for_pkey(k->pkey, selection, "DER", structure, NULL);
    CHSM_ENSURE(e != NULL && OSSL_ENCODER_CTX_get_num_encoders(e) > 0,
                CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "no encoder"));
    CHSM_ENSURE(OSSL_ENCODER_to_data(e, &der, &len) == 1, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "encode"));
    CHSM_GUARD(chsm_buf_put(out, der, len));
out:
    if (der != NULL)
        OPENSSL_clear_free(der, len);
    OSSL_ENCODER_CTX_free(e);
    chsm_ossl_clear();
    return rv;
}

/* DER tag + definite length (short form or 0x81/0x82: our structures stay below 64 KiB). */
CHSM_MUST_CHECK static CK_RV put_tl(struct chsm_buf *out, uint8_t tag, size_t len)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_buf_put_u8(out, tag));
    if (len >= 0x100) {
        CHSM_GUARD(chsm_buf_put_u8(out, 0x82));
        CHSM_GUARD(chsm_buf_put_u8(out, (uint8_t)(len >> 8)));
    } else if (len >= 0x80) {
        CHSM_GUARD(chsm_buf_put_u8(out, 0x81));
    }
    CHSM_GUARD(chsm_buf_put_u8(out, (uint8_t)len));
out:
    return rv;
}

static size_t tl_len(size_t len)
{
    return len >= 0x100 ? 4 : len >= 0x80 ? 3 : 2;
}

/*
 * SubjectPublicKeyInfo of a named-curve EC key (RFC 5480) or an Edwards key
 * (RFC 8410), assembled directly: OpenSSL's encoder framework costs more than
 * a whole P-256 key generation, and key generation fills CKA_PUBLIC_KEY_INFO.
 */
CHSM_MUST_CHECK static CK_RV spki_curve(const struct chsm_pkey *k, struct chsm_buf *out)
{
    static const uint8_t ec_public_key[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
    CK_RV rv = CKR_OK;
    uint8_t raw[160];
    size_t len = sizeof(raw), alg_len, bits_len;
    bool ec = k->kind == CHSM_PKEY_EC;
    if (ec)
        CHSM_GUARD(chsm_pkey_ec_point(k, raw, sizeof(raw), &len));
    else
        CHSM_ENSURE(EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) == 1,
                    CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "Edwards public key"));
    alg_len = (ec ? sizeof(ec_public_key) : 0) + k->curve->oid_len;
    bits_len = 1 + len;
    CHSM_GUARD(put_tl(out, 0x30, tl_len(alg_len) + alg_len + tl_len(bits_len) + bits_len));
    CHSM_GUARD(put_tl(out, 0x30, alg_len));
    if (ec)
        CHSM_GUARD(chsm_buf_put(out, ec_public_key, sizeof(ec_public_key)));
    CHSM_GUARD(chsm_buf_put(out, k->curve->oid, k->curve->oid_len));
    CHSM_GUARD(put_tl(out, 0x03, bits_len));
    CHSM_GUARD(chsm_buf_put_u8(out, 0x00)); /* no unused bits */
    CHSM_GUARD(chsm_buf_put(out, raw, len));
out:
    return rv;
}

CK_RV chsm_pkey_export_spki(const struct chsm_pkey *k, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    if (k == NULL || out == NULL || k->kind == CHSM_PKEY_RSA || k->curve == NULL)
        return encode(k, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo", false, out);
    ERR_set_mark();
    chsm_buf_init(out, false);
    rv = spki_curve(k, out);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_pkey_export_pkcs8(const struct chsm_pkey *k, struct chsm_buf *out)
{
    if (k != NULL && !k->is_private)
        return CHSM_ERR(CKR_KEY_UNEXTRACTABLE, CHSM_LAYER_CRYPTO, "PKCS#8 of a public key");
    return encode(k, EVP_PKEY_KEYPAIR, "PrivateKeyInfo", true, out);
}

CHSM_MUST_CHECK static CK_RV decode(const uint8_t *data, size_t len, const char *fmt, const char *structure,
                                    int selection, CK_RV bad, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    EVP_PKEY *pk = NULL;
    const unsigned char *p = data;
    size_t left = len;
    OSSL_DECODER_CTX *d = NULL;
    ERR_set_mark();
    CHSM_GUARD(chsm_crypto_ready());
    CHSM_ENSURE(data != NULL && out != NULL, CKR_ARGUMENTS_BAD);
    d = OSSL_DECODER_CTX_new_for_pkey(&pk, fmt, structure, NULL, selection, chsm_crypto_g.lib, NULL);
    CHSM_ENSURE(d != NULL, CHSM_OSSL_ERR(CKR_FUNCTION_FAILED, "no decoder"));
    CHSM_ENSURE(OSSL_DECODER_from_data(d, &p, &left) == 1 && pk != NULL,
                CHSM_OSSL_ERR(bad, "key does not decode"));
    /* DER must be consumed exactly: trailing bytes are a malformed blob, not padding. */
    CHSM_ENSURE(fmt == NULL || left == 0, CHSM_ERR(bad, CHSM_LAYER_CRYPTO, "%zu trailing bytes", left));
    rv = chsm_pkey_wrap(pk, selection == EVP_PKEY_KEYPAIR, out);
    pk = NULL;
    if (rv == CKR_KEY_TYPE_INCONSISTENT || rv == CKR_CURVE_NOT_SUPPORTED)
        rv = bad;
out:
    EVP_PKEY_free(pk);
    OSSL_DECODER_CTX_free(d);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_pkey_import_spki(const uint8_t *der, size_t len, struct chsm_pkey **out)
{
    return decode(der, len, "DER", "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY, CKR_ATTRIBUTE_VALUE_INVALID, out);
}

CK_RV chsm_pkey_import_pkcs8(const uint8_t *der, size_t len, struct chsm_pkey **out)
{
    return decode(der, len, "DER", "PrivateKeyInfo", EVP_PKEY_KEYPAIR, CKR_WRAPPED_KEY_INVALID, out);
}

/*
 * PEM is turned into DER here, with PEM_FLAG_SECURE, so the decoded key bytes
 * live in OpenSSL's secure heap and are cleared when freed; OpenSSL's own
 * PEM-to-DER decoder would leave an unwiped copy in the ordinary heap.
 */
CHSM_MUST_CHECK static CK_RV pem_to_der_then_decode(const uint8_t *data, size_t len, struct chsm_pkey **out)
{
    CK_RV rv = CKR_OK;
    BIO *b = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long der_len = 0;
    ERR_set_mark();
    CHSM_ENSURE(len <= INT32_MAX, CHSM_ERR(CKR_DATA_INVALID, CHSM_LAYER_CRYPTO, "PEM input too large"));
    b = BIO_new_mem_buf(data, (int)len);
    CHSM_ENSURE(b != NULL, CHSM_OSSL_ERR(CKR_HOST_MEMORY, "BIO"));
    CHSM_ENSURE(PEM_read_bio_ex(b, &name, &header, &der, &der_len, PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) == 1,
                CHSM_OSSL_ERR(CKR_DATA_INVALID, "not a PEM block"));
    /* Encrypted (Proc-Type) PEM would need a passphrase: refuse it clearly. */
    CHSM_ENSURE(header == NULL || header[0] == '\0',
                CHSM_ERR(CKR_DATA_INVALID, CHSM_LAYER_CRYPTO, "encrypted PEM keys are not supported"));
    rv = decode(der, (size_t)der_len, "DER", NULL, EVP_PKEY_KEYPAIR, CKR_DATA_INVALID, out);
out:
    OPENSSL_secure_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
    OPENSSL_free(name);
    OPENSSL_free(header);
    BIO_free(b);
    chsm_ossl_clear();
    return rv;
}

CK_RV chsm_pkey_import_private_any(const uint8_t *data, size_t len, struct chsm_pkey **out)
{
    static const char pem_tag[] = "-----BEGIN ";
    if (data != NULL && len >= sizeof(pem_tag) - 1 && memcmp(data, pem_tag, sizeof(pem_tag) - 1) == 0)
        return pem_to_der_then_decode(data, len, out);
    return decode(data, len, NULL, NULL, EVP_PKEY_KEYPAIR, CKR_DATA_INVALID, out);
}
