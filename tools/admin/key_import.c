/*
 * key import --file PEM|DER --type rsa:N|ec:p256|ec:p384|ed25519 --label L:
 * the private key is parsed by the crypto adapter (PKCS#8 or traditional,
 * PEM or DER), split into its PKCS#11 components in secret buffers, and
 * created as a token private key plus its public key (C_CreateObject).
 * Every copy of the private components is wiped.
 */
#include <string.h>

#include "crypto/pkey.h"
#include "key_import.h"

#define MAX_PARTS 10

struct parts {
    struct chsm_buf b[MAX_PARTS];
    CK_ATTRIBUTE_TYPE t[MAX_PARTS];
    size_t n;
};

static CK_RV add(struct parts *p, const struct chsm_pkey *k, CK_ATTRIBUTE_TYPE t)
{
    CK_RV rv = chsm_pkey_get_component(k, t, &p->b[p->n]);
    if (rv == CKR_OK)
        p->t[p->n++] = t;
    return rv;
}

static void parts_free(struct parts *p)
{
    for (size_t i = 0; i < p->n; i++)
        chsm_buf_free(&p->b[i]);
    p->n = 0;
}

static bool kind_matches(enum chsm_pkey_kind kind, const char *type)
{
    switch (kind) {
    case CHSM_PKEY_RSA: return strncmp(type, "rsa", 3) == 0;
    case CHSM_PKEY_EC: return strncmp(type, "ec", 2) == 0;
    case CHSM_PKEY_ED25519: return strcmp(type, "ed25519") == 0;
    default: return false;
    }
}

/* One object: class, key type, label, flags, then the components in p. */
static CK_RV create(struct chsm_app *app, CK_SESSION_HANDLE h, bool priv, CK_KEY_TYPE kt, const char *label,
                    const struct parts *p)
{
    CK_OBJECT_CLASS cls = priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    CK_BBOOL yes = CK_TRUE;
    CK_OBJECT_HANDLE o;
    CK_ATTRIBUTE t[8 + MAX_PARTS];
    CK_ULONG n = 0;
    t[n++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    t[n++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
    t[n++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, 1};
    t[n++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)};
    if (priv) {
        t[n++] = (CK_ATTRIBUTE){CKA_PRIVATE, &yes, 1};
        t[n++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &yes, 1};
        t[n++] = (CK_ATTRIBUTE){CKA_SIGN, &yes, 1};
    } else {
        t[n++] = (CK_ATTRIBUTE){CKA_VERIFY, &yes, 1};
    }
    for (size_t i = 0; i < p->n; i++)
        t[n++] = (CK_ATTRIBUTE){p->t[i], p->b[i].data, (CK_ULONG)p->b[i].len};
    return chsm_core_CreateObject(app, h, t, n, &o);
}

static CK_RV split(const struct chsm_pkey *k, bool priv, struct parts *p)
{
    CK_RV rv = CKR_OK;
    static const CK_ATTRIBUTE_TYPE rsa_pub[] = {CKA_MODULUS, CKA_PUBLIC_EXPONENT};
    static const CK_ATTRIBUTE_TYPE rsa_priv[] = {CKA_MODULUS,   CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT,
                                                 CKA_PRIME_1,   CKA_PRIME_2,         CKA_EXPONENT_1,
                                                 CKA_EXPONENT_2, CKA_COEFFICIENT};
    static const CK_ATTRIBUTE_TYPE ec_pub[] = {CKA_EC_PARAMS, CKA_EC_POINT};
    static const CK_ATTRIBUTE_TYPE ec_priv[] = {CKA_EC_PARAMS, CKA_VALUE};
    bool rsa = chsm_pkey_kind(k) == CHSM_PKEY_RSA;
    const CK_ATTRIBUTE_TYPE *list = rsa ? (priv ? rsa_priv : rsa_pub) : (priv ? ec_priv : ec_pub);
    size_t n = rsa ? (priv ? CHSM_ARRAY_LEN(rsa_priv) : 2) : 2;
    for (size_t i = 0; i < n; i++) {
        rv = add(p, k, list[i]);
        /* An RSA key without CRT parameters imports as n, e, d only. */
        if (rv == CKR_KEY_UNEXTRACTABLE && rsa && priv && i >= 3)
            rv = CKR_OK;
        CHSM_GUARD(rv);
    }
out:
    return rv;
}

CK_RV adm_key_import_private(struct chsm_app *app, CK_SESSION_HANDLE h, const uint8_t *data, size_t len,
                             const char *type, const char *label)
{
    struct chsm_pkey *k = NULL;
    struct parts pub = {0}, priv = {0};
    CK_KEY_TYPE kt;
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_pkey_import_private_any(data, len, &k));
    CHSM_ENSURE(kind_matches(chsm_pkey_kind(k), type), CKR_KEY_TYPE_INCONSISTENT);
    kt = chsm_pkey_kind(k) == CHSM_PKEY_RSA ? CKK_RSA : chsm_pkey_kind(k) == CHSM_PKEY_EC ? CKK_EC : CKK_EC_EDWARDS;
    CHSM_GUARD(split(k, true, &priv));
    CHSM_GUARD(split(k, false, &pub));
    CHSM_GUARD(create(app, h, true, kt, label, &priv));
    CHSM_GUARD(create(app, h, false, kt, label, &pub));
out:
    parts_free(&priv);
    parts_free(&pub);
    chsm_pkey_free(k);
    return rv;
}
