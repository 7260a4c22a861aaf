/*
 * key export-public: the SubjectPublicKeyInfo of a public key object as
 * PEM. Built from the object's public components by the crypto adapter
 * (never from private material).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/pkey.h"
#include "key_import.h"

static CK_RV get_attr(struct chsm_app *app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                      uint8_t **out, size_t *len)
{
    CK_ATTRIBUTE a = {t, NULL, 0};
    CK_RV rv = chsm_core_GetAttributeValue(app, h, o, &a, 1);
    *out = NULL;
    *len = 0;
    if (rv != CKR_OK)
        return rv;
    if ((*out = malloc(a.ulValueLen ? a.ulValueLen : 1)) == NULL)
        return CKR_HOST_MEMORY;
    a.pValue = *out;
    rv = chsm_core_GetAttributeValue(app, h, o, &a, 1);
    *len = a.ulValueLen;
    return rv;
}

static void pem_write(FILE *f, const uint8_t *der, size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;
    fputs("-----BEGIN PUBLIC KEY-----\n", f);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)der[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)der[i + 1] << 8;
        if (i + 2 < len)
            v |= der[i + 2];
        char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], i + 1 < len ? b64[(v >> 6) & 63] : '=',
                     i + 2 < len ? b64[v & 63] : '='};
        fwrite(q, 1, 4, f);
        if ((col += 4) == 64) {
            fputc('\n', f);
            col = 0;
        }
    }
    if (col)
        fputc('\n', f);
    fputs("-----END PUBLIC KEY-----\n", f);
}

CK_RV adm_key_export_public(struct chsm_app *app, CK_SESSION_HANDLE h, const struct adm_keyinfo *k, FILE *f)
{
    struct chsm_pkey_parts parts;
    struct chsm_pkey *pk = NULL;
    struct chsm_buf spki;
    uint8_t *a1 = NULL, *a2 = NULL;
    size_t l1 = 0, l2 = 0;
    CK_RV rv = CKR_OK;
    bool rsa = k->key_type == CKK_RSA;
    chsm_buf_init(&spki, 0);
    memset(&parts, 0, sizeof(parts));
    CHSM_GUARD(get_attr(app, h, k->handle, rsa ? CKA_MODULUS : CKA_EC_PARAMS, &a1, &l1));
    CHSM_GUARD(get_attr(app, h, k->handle, rsa ? CKA_PUBLIC_EXPONENT : CKA_EC_POINT, &a2, &l2));
    parts.key_type = k->key_type;
    if (rsa) {
        parts.n = (struct chsm_bytes){a1, l1};
        parts.e = (struct chsm_bytes){a2, l2};
    } else {
        parts.ec_params = (struct chsm_bytes){a1, l1};
        parts.ec_point = (struct chsm_bytes){a2, l2};
    }
    CHSM_GUARD(chsm_pkey_from_parts(&parts, &pk));
    CHSM_GUARD(chsm_pkey_export_spki(pk, &spki));
    pem_write(f, spki.data, spki.len);
out:
    chsm_buf_free(&spki);
    chsm_pkey_free(pk);
    free(a1);
    free(a2);
    return rv;
}
