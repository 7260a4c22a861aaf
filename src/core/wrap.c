/*
 * C_WrapKey / C_UnwrapKey (base spec 5.14). Secret keys travel as their
 * value, private keys as PKCS#8 PrivateKeyInfo; the encryption is AES key
 * wrap (RFC 3394 / 5649), AES-ECB/CBC/CBC-PAD, or RSA PKCS#1 v1.5 / OAEP
 * (secret keys only: a PKCS#8 blob does not fit an RSA block). Policy:
 * CKA_WRAP / CKA_UNWRAP, CKA_EXTRACTABLE, CKA_WRAP_WITH_TRUSTED needs a
 * CKA_TRUSTED wrapping key, CKA_WRAP_TEMPLATE / CKA_UNWRAP_TEMPLATE,
 * CKA_ALLOWED_MECHANISMS and the key dates. Unwrapped keys are never
 * LOCAL, ALWAYS_SENSITIVE or NEVER_EXTRACTABLE (someone saw them in clear).
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "crypto/cipher.h"

/* What a wrap/unwrap needs of the (un)wrapping key, copied out of the object under the lock. */
struct kek {
    struct chsm_secbuf value; /* AES */
    struct chsm_pkey *pk;     /* RSA */
};

static void kek_free(struct kek *k)
{
    chsm_secbuf_free(&k->value);
    chsm_pkey_free(k->pk);
    k->pk = NULL;
}

static CK_RV kek_take(struct chsm_object *o, struct kek *k)
{
    const struct chsm_attr *v = chsm_attrlist_get(&o->attrs, CKA_VALUE);
    if (chsm_attrlist_get_ulong(&o->attrs, CKA_KEY_TYPE, 0) == CKK_RSA)
        return chsm_obj_pkey(o, &k->pk);
    if (v == NULL)
        return CKR_KEY_TYPE_INCONSISTENT;
    return chsm_secbuf_copy(&k->value, v->value, v->len);
}

/* One-shot AES mode into a fresh buffer. */
static CK_RV aes_mode(const CK_MECHANISM *m, const struct kek *k, bool enc, const uint8_t *in, size_t n,
                      struct chsm_secbuf *out)
{
    CK_RV rv = CKR_OK;
    struct chsm_cipher *c = NULL;
    size_t len = 0;
    CHSM_GUARD(chsm_cipher_new(m->mechanism, m->pParameter, m->ulParameterLen, k->value.data, k->value.len, enc, &c));
    CHSM_GUARD(chsm_cipher_oneshot(c, in, n, NULL, &len));
    CHSM_GUARD(chsm_secbuf_alloc(out, len));
    CHSM_GUARD(chsm_cipher_oneshot(c, in, n, out->data, &len));
    chsm_secbuf_truncate(out, len);
out:
    chsm_cipher_free(c);
    return rv;
}

/* Encrypt (wrap) or decrypt (unwrap) n bytes with the mechanism into out. */
static CK_RV crypt(const CK_MECHANISM *m, const struct kek *k, bool wrap, const uint8_t *in, size_t n,
                   struct chsm_secbuf *out)
{
    CK_RV rv = CKR_OK;
    size_t len = 0;
    switch (m->mechanism) {
    case CKM_AES_KEY_WRAP:
    case CKM_AES_KEY_WRAP_PAD:
    case CKM_AES_KEY_WRAP_KWP:
        CHSM_GUARD(chsm_aes_keywrap(m->mechanism, m->pParameter, m->ulParameterLen, k->value.data, k->value.len,
                                    wrap, in, n, NULL, &len));
        CHSM_GUARD(chsm_secbuf_alloc(out, len));
        CHSM_GUARD(chsm_aes_keywrap(m->mechanism, m->pParameter, m->ulParameterLen, k->value.data, k->value.len,
                                    wrap, in, n, out->data, &len));
        chsm_secbuf_truncate(out, len);
        break;
    case CKM_RSA_PKCS:
    case CKM_RSA_PKCS_OAEP:
        CHSM_ENSURE(k->pk != NULL, CKR_KEY_TYPE_INCONSISTENT);
        len = chsm_pkey_sig_len(k->pk);
        CHSM_GUARD(chsm_secbuf_alloc(out, len));
        CHSM_GUARD(chsm_rsa_crypt(m->mechanism, m->pParameter, m->ulParameterLen, k->pk, wrap, in, n, out->data,
                                  &len));
        chsm_secbuf_truncate(out, len);
        break;
    default:
        CHSM_GUARD(aes_mode(m, k, wrap, in, n, out));
    }
out:
    return rv;
}

static CK_RV unwrap_code(CK_RV rv)
{
    if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_DATA_INVALID)
        return CKR_WRAPPED_KEY_INVALID;
    if (rv == CKR_ENCRYPTED_DATA_LEN_RANGE || rv == CKR_DATA_LEN_RANGE)
        return CKR_WRAPPED_KEY_LEN_RANGE;
    return rv;
}

/* The (un)wrapping key's checks (module lock held). */
static CK_RV kek_checks(const struct chsm_session *s, const CK_MECHANISM *m, const struct chsm_mech_entry *e,
                        CK_OBJECT_HANDLE h, bool wrap, struct chsm_object **out)
{
    CK_RV rv = CKR_OK;
    struct chsm_object *o = NULL;
    rv = chsm_obj_find_visible(s, h, &o);
    if (rv == CKR_OBJECT_HANDLE_INVALID)
        rv = wrap ? CKR_WRAPPING_KEY_HANDLE_INVALID : CKR_UNWRAPPING_KEY_HANDLE_INVALID;
    CHSM_GUARD(rv);
    if (chsm_key_type_ok(e, &o->attrs) != CKR_OK)
        CHSM_BAIL(wrap ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
    CHSM_ENSURE(chsm_attrlist_get_bool(&o->attrs, wrap ? CKA_WRAP : CKA_UNWRAP, false),
                CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, "core", "key lacks CKA_%s", wrap ? "WRAP" : "UNWRAP"));
    CHSM_ENSURE(chsm_key_mech_allowed(&o->attrs, m->mechanism), CKR_MECHANISM_INVALID);
    CHSM_GUARD(chsm_key_dates_ok(&o->attrs, !wrap));
    CHSM_ENSURE(chsm_obj_complete(s, o), CKR_USER_NOT_LOGGED_IN);
    /* A token record not verified under the MK may be forged in the store file (review C2): its CKA_WRAP,
     * CKA_UNWRAP and templates vouch for nothing. It becomes verified at the login reload or a rewrite. */
    CHSM_ENSURE(o->authenticated, CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, "core",
                                           "wrapping key %s is not verified under the master key", o->uid_hex));
    *out = o;
out:
    return rv;
}

/* The wrapped key's checks and plaintext (module lock held). */
static CK_RV wrapped_plain(const struct chsm_session *s, const struct chsm_object *kek, CK_OBJECT_HANDLE h,
                           struct chsm_secbuf *plain)
{
    CK_RV rv = CKR_OK;
    struct chsm_object *o = NULL;
    struct chsm_pkey *pk = NULL;
    struct chsm_buf p8;
    chsm_buf_init(&p8, 1);
    rv = chsm_obj_find_visible(s, h, &o);
    if (rv == CKR_OBJECT_HANDLE_INVALID)
        rv = CKR_KEY_HANDLE_INVALID;
    CHSM_GUARD(rv);
    uint64_t cls = chsm_attrlist_get_ulong(&o->attrs, CKA_CLASS, CKO_DATA);
    CHSM_ENSURE(cls == CKO_SECRET_KEY || cls == CKO_PRIVATE_KEY, CKR_KEY_NOT_WRAPPABLE);
    CHSM_ENSURE(chsm_attrlist_get_bool(&o->attrs, CKA_EXTRACTABLE, false),
                CHSM_ERR(CKR_KEY_UNEXTRACTABLE, "core", "key is not extractable"));
    CHSM_ENSURE(!chsm_attrlist_get_bool(&o->attrs, CKA_WRAP_WITH_TRUSTED, false) ||
                    (kek->authenticated && chsm_attrlist_get_bool(&kek->attrs, CKA_TRUSTED, false)),
                CHSM_ERR(CKR_KEY_NOT_WRAPPABLE, "core", "key may only be wrapped with a trusted key"));
    CHSM_ENSURE(chsm_attrs_match_template(&o->attrs, chsm_attrlist_get(&kek->attrs, CKA_WRAP_TEMPLATE)),
                CHSM_ERR(CKR_KEY_NOT_WRAPPABLE, "core", "key does not match the wrapping key's CKA_WRAP_TEMPLATE"));
    CHSM_ENSURE(chsm_obj_complete(s, o), CKR_USER_NOT_LOGGED_IN);
    if (cls == CKO_SECRET_KEY) {
        const struct chsm_attr *v = chsm_attrlist_get(&o->attrs, CKA_VALUE);
        CHSM_ENSURE(v != NULL, CKR_KEY_NOT_WRAPPABLE);
        CHSM_GUARD(chsm_secbuf_copy(plain, v->value, v->len));
    } else {
        CHSM_GUARD(chsm_obj_pkey(o, &pk));
        CHSM_GUARD(chsm_pkey_export_pkcs8(pk, &p8));
        CHSM_GUARD(chsm_secbuf_copy(plain, p8.data, p8.len));
    }
out:
    chsm_pkey_free(pk);
    chsm_buf_free(&p8);
    return rv;
}

static CK_RV wrap_mech(const CK_MECHANISM *m, CK_FLAGS need, const struct chsm_mech_entry **e)
{
    if (m->pParameter == NULL && m->ulParameterLen != 0)
        return CKR_ARGUMENTS_BAD;
    *e = chsm_mech_lookup(m->mechanism);
    if (*e == NULL || !((*e)->flags & need))
        return CHSM_ERR(CKR_MECHANISM_INVALID, "core", "%s cannot (un)wrap", chsm_mech_name(m->mechanism));
    return CKR_OK;
}

CK_RV chsm_core_WrapKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                        CK_ULONG_PTR pulWrappedKeyLen)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    const struct chsm_mech_entry *e = NULL;
    struct chsm_object *ko = NULL;
    struct kek k = {{0}, NULL};
    struct chsm_secbuf plain = {0}, wrapped = {0};
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pMechanism != NULL && pulWrappedKeyLen != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(wrap_mech(pMechanism, CKF_WRAP, &e));
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_rdlock();
    locked = true;
    CHSM_GUARD(kek_checks(s, pMechanism, e, hWrappingKey, true, &ko));
    CHSM_GUARD(wrapped_plain(s, ko, hKey, &plain));
    CHSM_GUARD(kek_take(ko, &k));
    chsm_unlock();
    locked = false;
    rv = crypt(pMechanism, &k, true, plain.data, plain.len, &wrapped);
    if (rv == CKR_DATA_LEN_RANGE)
        rv = CHSM_ERR(CKR_KEY_SIZE_RANGE, "core", "key does not fit the wrapping mechanism");
    CHSM_GUARD(rv);
    if (pWrappedKey != NULL && *pulWrappedKeyLen < wrapped.len)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (pWrappedKey != NULL)
        memcpy(pWrappedKey, wrapped.data, wrapped.len);
    *pulWrappedKeyLen = (CK_ULONG)wrapped.len;
    if (rv == CKR_OK && pWrappedKey != NULL) {
        chsm_rdlock();
        struct chsm_object *o = chsm_hmap_get(&chsm_g.objects, hKey);
        CK_RV arv = o ? chsm_core_audit("wrap", s->slot, s->h, app->login[s->slot], o,
                                        chsm_mech_name(pMechanism->mechanism), CKR_OK)
                      : CKR_OK;
        chsm_unlock();
        CHSM_GUARD(arv);
    }
out:
    if (locked)
        chsm_unlock();
    kek_free(&k);
    chsm_secbuf_free(&plain);
    chsm_secbuf_free(&wrapped);
    chsm_session_put(s);
    return rv;
}

/* The unwrapped bytes as the new key's components. */
static CK_RV plain_to_attrs(const struct chsm_secbuf *plain, struct chsm_attrlist *t)
{
    CK_RV rv = CKR_OK;
    struct chsm_pkey *pk = NULL;
    uint64_t cls = chsm_attrlist_get_ulong(t, CKA_CLASS, CKO_DATA);
    uint64_t kt = chsm_attrlist_get_ulong(t, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
    if (cls == CKO_SECRET_KEY) {
        size_t len = plain->len;
        if (chsm_attrlist_has(t, CKA_VALUE_LEN)) { /* block-mode wraps carry zero padding */
            uint64_t want = chsm_attrlist_get_ulong(t, CKA_VALUE_LEN, 0);
            CHSM_ENSURE(want <= len, CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, "core", "CKA_VALUE_LEN too long"));
            len = (size_t)want;
        }
        CHSM_GUARD(chsm_attrlist_set(t, CKA_VALUE, plain->data, len));
        goto out;
    }
    CHSM_ENSURE(cls == CKO_PRIVATE_KEY, CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, "core", "unwrap makes keys only"));
    CHSM_GUARD(chsm_pkey_import_pkcs8(plain->data, plain->len, &pk));
    enum chsm_pkey_kind k = chsm_pkey_kind(pk);
    bool fits = (kt == CKK_RSA && k == CHSM_PKEY_RSA) || (kt == CKK_EC && k == CHSM_PKEY_EC) ||
                (kt == CKK_EC_EDWARDS && (k == CHSM_PKEY_ED25519 || k == CHSM_PKEY_ED448));
    CHSM_ENSURE(fits, CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, "core", "CKA_KEY_TYPE does not match the wrapped key"));
    CHSM_GUARD(chsm_pkey_to_attrs(pk, true, t));
out:
    chsm_pkey_free(pk);
    return rv;
}

CK_RV chsm_core_UnwrapKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    const struct chsm_mech_entry *e = NULL;
    struct chsm_object *ko = NULL;
    struct kek k = {{0}, NULL};
    struct chsm_secbuf plain = {0};
    struct chsm_attrlist t, attrs;
    chsm_attrlist_init(&t);
    chsm_attrlist_init(&attrs);
    bool locked = false;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pMechanism != NULL && phKey != NULL && (pWrappedKey != NULL || ulWrappedKeyLen == 0) &&
                    (pTemplate != NULL || ulAttributeCount == 0),
                CKR_ARGUMENTS_BAD);
    CHSM_GUARD(wrap_mech(pMechanism, CKF_UNWRAP, &e));
    CHSM_GUARD(chsm_template_to_list(pTemplate, ulAttributeCount, &t));
    CHSM_ENSURE(chsm_attrlist_has(&t, CKA_CLASS) && chsm_attrlist_has(&t, CKA_KEY_TYPE),
                CHSM_ERR(CKR_TEMPLATE_INCOMPLETE, "core", "unwrap needs CKA_CLASS and CKA_KEY_TYPE"));
    CHSM_ENSURE(!chsm_attrlist_has(&t, CKA_VALUE), CKR_TEMPLATE_INCONSISTENT);
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_rdlock();
    locked = true;
    CHSM_GUARD(kek_checks(s, pMechanism, e, hUnwrappingKey, false, &ko));
    CHSM_GUARD(chsm_template_merge(&t, chsm_attrlist_get(&ko->attrs, CKA_UNWRAP_TEMPLATE)));
    CHSM_GUARD(kek_take(ko, &k));
    chsm_unlock();
    locked = false;
    CHSM_GUARD(unwrap_code(crypt(pMechanism, &k, false, pWrappedKey, ulWrappedKeyLen, &plain)));
    CHSM_GUARD(plain_to_attrs(&plain, &t));
    CHSM_GUARD(chsm_policy_create(&t, CHSM_CREATE_IMPORT, &attrs));
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_wrlock();
    locked = true;
    CHSM_GUARD(chsm_obj_write_checks(s, &attrs));
    CHSM_GUARD(chsm_obj_add(s, &attrs, "unwrap", chsm_mech_name(pMechanism->mechanism), phKey));
out:
    if (locked)
        chsm_unlock();
    kek_free(&k);
    chsm_secbuf_free(&plain);
    chsm_attrlist_free(&t);
    chsm_attrlist_free(&attrs);
    chsm_session_put(s);
    return rv;
}
