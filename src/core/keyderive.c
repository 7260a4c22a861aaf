/*
 * C_DeriveKey (base spec 5.14) with CKM_ECDH1_DERIVE: an EC private key with
 * CKA_DERIVE and the peer's public point give a generic secret or AES key
 * (CKA_VALUE_LEN bytes; all of the shared secret for a generic secret
 * without it). The base key's CKA_DERIVE_TEMPLATE is merged into the
 * template; ALWAYS_SENSITIVE / NEVER_EXTRACTABLE carry over from the base
 * key only when the new key keeps them (current mechanisms spec 2.3.x).
 */
#include <string.h>

#include "core/internal.h"
#include "crypto/derive.h"

static CK_RV derive_template(struct chsm_attrlist *t, size_t *value_len)
{
    CK_RV rv = CKR_OK;
    if (chsm_attrlist_has(t, CKA_CLASS) && chsm_attrlist_get_ulong(t, CKA_CLASS, 0) != CKO_SECRET_KEY)
        CHSM_BAIL(CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, "core", "ECDH derives secret keys"));
    CHSM_GUARD(chsm_attrlist_set_ulong(t, CKA_CLASS, CKO_SECRET_KEY));
    if (!chsm_attrlist_has(t, CKA_KEY_TYPE))
        CHSM_GUARD(chsm_attrlist_set_ulong(t, CKA_KEY_TYPE, CKK_GENERIC_SECRET));
    uint64_t kt = chsm_attrlist_get_ulong(t, CKA_KEY_TYPE, 0);
    CHSM_ENSURE(kt == CKK_AES || chsm_kt_bit(kt) == CHSM_KT_GEN,
                CHSM_ERR(CKR_TEMPLATE_INCONSISTENT, "core", "derived key type 0x%lx", (unsigned long)kt));
    CHSM_ENSURE(!chsm_attrlist_has(t, CKA_VALUE), CKR_TEMPLATE_INCONSISTENT);
    uint64_t len = chsm_attrlist_get_ulong(t, CKA_VALUE_LEN, 0);
    if (kt == CKK_AES)
        CHSM_ENSURE(len == 16 || len == 24 || len == 32,
                    CHSM_ERR(chsm_attrlist_has(t, CKA_VALUE_LEN) ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_TEMPLATE_INCOMPLETE,
                             "core", "AES keys need CKA_VALUE_LEN 16, 24 or 32"));
    CHSM_ENSURE(len <= 512, CKR_ATTRIBUTE_VALUE_INVALID);
    *value_len = (size_t)len;
out:
    return rv;
}

struct base_info {
    struct chsm_pkey *pk;
    bool always_sensitive, never_extractable;
};

static CK_RV base_checks(const struct chsm_session *s, const CK_MECHANISM *m, const struct chsm_mech_entry *e,
                         CK_OBJECT_HANDLE h, struct chsm_attrlist *t, struct base_info *bi)
{
    CK_RV rv = CKR_OK;
    struct chsm_object *o = NULL;
    rv = chsm_obj_find_visible(s, h, &o);
    if (rv == CKR_OBJECT_HANDLE_INVALID)
        rv = CKR_KEY_HANDLE_INVALID;
    CHSM_GUARD(rv);
    CHSM_GUARD(chsm_key_type_ok(e, &o->attrs));
    CHSM_ENSURE(chsm_attrlist_get_ulong(&o->attrs, CKA_CLASS, 0) == CKO_PRIVATE_KEY, CKR_KEY_TYPE_INCONSISTENT);
    CHSM_ENSURE(chsm_attrlist_get_bool(&o->attrs, CKA_DERIVE, false),
                CHSM_ERR(CKR_KEY_FUNCTION_NOT_PERMITTED, "core", "key lacks CKA_DERIVE"));
    CHSM_ENSURE(chsm_key_mech_allowed(&o->attrs, m->mechanism), CKR_MECHANISM_INVALID);
    CHSM_GUARD(chsm_key_dates_ok(&o->attrs, false));
    CHSM_ENSURE(chsm_obj_complete(s, o), CKR_USER_NOT_LOGGED_IN);
    CHSM_GUARD(chsm_template_merge(t, chsm_attrlist_get(&o->attrs, CKA_DERIVE_TEMPLATE)));
    bi->always_sensitive = chsm_attrlist_get_bool(&o->attrs, CKA_ALWAYS_SENSITIVE, false);
    bi->never_extractable = chsm_attrlist_get_bool(&o->attrs, CKA_NEVER_EXTRACTABLE, false);
    CHSM_GUARD(chsm_obj_pkey(o, &bi->pk));
out:
    return rv;
}

CK_RV chsm_core_DeriveKey(struct chsm_app *app, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                          CK_OBJECT_HANDLE_PTR phKey)
{
    CK_RV rv = CKR_OK;
    struct chsm_session *s = NULL;
    struct base_info bi = {NULL, false, false};
    struct chsm_buf secret;
    chsm_buf_init(&secret, 1);
    struct chsm_attrlist t, attrs;
    chsm_attrlist_init(&t);
    chsm_attrlist_init(&attrs);
    bool locked = false;
    size_t value_len = 0;
    CHSM_GUARD(chsm_session_get(app, hSession, &s));
    CHSM_ENSURE(pMechanism != NULL && phKey != NULL && (pTemplate != NULL || ulAttributeCount == 0) &&
                    (pMechanism->pParameter != NULL || pMechanism->ulParameterLen == 0),
                CKR_ARGUMENTS_BAD);
    const struct chsm_mech_entry *e = chsm_mech_lookup(pMechanism->mechanism);
    CHSM_ENSURE(e != NULL && (e->flags & CKF_DERIVE), CKR_MECHANISM_INVALID);
    CHSM_GUARD(chsm_template_to_list(pTemplate, ulAttributeCount, &t));
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_rdlock();
    locked = true;
    CHSM_GUARD(base_checks(s, pMechanism, e, hBaseKey, &t, &bi));
    chsm_unlock();
    locked = false;
    CHSM_GUARD(derive_template(&t, &value_len));
    CHSM_GUARD(chsm_ecdh_derive(bi.pk, pMechanism->pParameter, pMechanism->ulParameterLen, value_len, &secret));
    CHSM_GUARD(chsm_attrlist_set(&t, CKA_VALUE, secret.data, secret.len));
    chsm_attrlist_remove(&t, CKA_VALUE_LEN); /* set from the value by the policy */
    CHSM_GUARD(chsm_policy_create(&t, CHSM_CREATE_IMPORT, &attrs));
    bool sens = chsm_attrlist_get_bool(&attrs, CKA_SENSITIVE, true);
    bool extr = chsm_attrlist_get_bool(&attrs, CKA_EXTRACTABLE, false);
    CHSM_GUARD(chsm_attrlist_set_bool(&attrs, CKA_ALWAYS_SENSITIVE, bi.always_sensitive && sens));
    CHSM_GUARD(chsm_attrlist_set_bool(&attrs, CKA_NEVER_EXTRACTABLE, bi.never_extractable && !extr));
    CHSM_GUARD(chsm_cache_sync(&chsm_g.slots[s->slot]));
    chsm_wrlock();
    locked = true;
    CHSM_GUARD(chsm_obj_write_checks(s, &attrs));
    CHSM_GUARD(chsm_obj_add(s, &attrs, "derive", chsm_mech_name(pMechanism->mechanism), phKey));
out:
    if (locked)
        chsm_unlock();
    chsm_pkey_free(bi.pk);
    chsm_buf_free(&secret);
    chsm_attrlist_free(&t);
    chsm_attrlist_free(&attrs);
    chsm_session_put(s);
    return rv;
}
