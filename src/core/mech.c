/*
 * The mechanism table: one row per offered CKM_ (key sizes, CKF_ flags,
 * the handler per operation kind). C_GetMechanismList/Info report exactly
 * the rows the loaded config allows ([algorithms] fips_approved_only), and
 * op.c dispatches through the same rows, so a mechanism is offered if and
 * only if it works. Mechanisms are added by adding a row and its handlers
 * (see chsm_op_vtable in internal.h); session and object code is untouched.
 */
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include "core/internal.h"

extern const struct chsm_op_vtable chsm_digest_vt, chsm_asym_sign_vt, chsm_mac_vt, chsm_aes_crypt_vt,
    chsm_rsa_crypt_vt, chsm_gcm_msg_vt;

/*
 * Key sizes in the units the standard uses: bits for RSA, EC and Edwards,
 * bytes for AES and generic secrets / HMAC (current mechanisms spec 3.0).
 * RSA minimums below are raised to the configured floor (chsm_mech_rsa_min_bits).
 */
#define DIGEST_ROW(m) {m, 0, 0, CKF_DIGEST, true, false, 0, {[CHSM_OP_DIGEST] = &chsm_digest_vt}}
#define SV(vt) {[CHSM_OP_SIGN] = &vt, [CHSM_OP_VERIFY] = &vt}
#define ED_FLAGS (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)
#define RSA_SIGN_ROW(m, fips, sha1) {m, 1024, 16384, CKF_SIGN | CKF_VERIFY, fips, sha1, CHSM_KT_RSA, SV(chsm_asym_sign_vt)}
#define ECDSA_ROW(m, sha1) {m, 256, 521, CKF_SIGN | CKF_VERIFY | ED_FLAGS, !(sha1), sha1, CHSM_KT_EC, SV(chsm_asym_sign_vt)}
#define HMAC_ROW(m) {m, 1, 512, CKF_SIGN | CKF_VERIFY, true, false, CHSM_KT_GEN, SV(chsm_mac_vt)}
#define AES_ROW(m, extra) {m, 16, 32, CKF_ENCRYPT | CKF_DECRYPT | (extra), true, false, CHSM_KT_AES, \
        {[CHSM_OP_ENCRYPT] = &chsm_aes_crypt_vt, [CHSM_OP_DECRYPT] = &chsm_aes_crypt_vt}}
#define RSA_ALL {[CHSM_OP_SIGN] = &chsm_asym_sign_vt, [CHSM_OP_VERIFY] = &chsm_asym_sign_vt, \
        [CHSM_OP_SIGN_RECOVER] = &chsm_asym_sign_vt, [CHSM_OP_VERIFY_RECOVER] = &chsm_asym_sign_vt, \
        [CHSM_OP_ENCRYPT] = &chsm_rsa_crypt_vt, [CHSM_OP_DECRYPT] = &chsm_rsa_crypt_vt}
#define RSA_OPS_FLAGS (CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY | CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER)

static const struct chsm_mech_entry table[] = {
    DIGEST_ROW(CKM_SHA_1),    DIGEST_ROW(CKM_SHA224),   DIGEST_ROW(CKM_SHA256),   DIGEST_ROW(CKM_SHA384),
    DIGEST_ROW(CKM_SHA512),   DIGEST_ROW(CKM_SHA3_256), DIGEST_ROW(CKM_SHA3_384), DIGEST_ROW(CKM_SHA3_512),
    /* RSA */
    {CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, 4096, CKF_GENERATE_KEY_PAIR, true, false, 0, {0}},
    {CKM_RSA_PKCS, 1024, 16384, RSA_OPS_FLAGS | CKF_WRAP | CKF_UNWRAP, true, false, CHSM_KT_RSA, RSA_ALL},
    {CKM_RSA_X_509, 1024, 16384, RSA_OPS_FLAGS, false, false, CHSM_KT_RSA, RSA_ALL},
    {CKM_RSA_PKCS_OAEP, 1024, 16384, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP, true, false, CHSM_KT_RSA,
     {[CHSM_OP_ENCRYPT] = &chsm_rsa_crypt_vt, [CHSM_OP_DECRYPT] = &chsm_rsa_crypt_vt}},
    RSA_SIGN_ROW(CKM_SHA1_RSA_PKCS, false, true), RSA_SIGN_ROW(CKM_SHA224_RSA_PKCS, true, false),
    RSA_SIGN_ROW(CKM_SHA256_RSA_PKCS, true, false), RSA_SIGN_ROW(CKM_SHA384_RSA_PKCS, true, false),
    RSA_SIGN_ROW(CKM_SHA512_RSA_PKCS, true, false), RSA_SIGN_ROW(CKM_RSA_PKCS_PSS, true, false),
    RSA_SIGN_ROW(CKM_SHA1_RSA_PKCS_PSS, false, true), RSA_SIGN_ROW(CKM_SHA224_RSA_PKCS_PSS, true, false),
    RSA_SIGN_ROW(CKM_SHA256_RSA_PKCS_PSS, true, false), RSA_SIGN_ROW(CKM_SHA384_RSA_PKCS_PSS, true, false),
    RSA_SIGN_ROW(CKM_SHA512_RSA_PKCS_PSS, true, false),
    /* EC */
    {CKM_EC_KEY_PAIR_GEN, 256, 521, CKF_GENERATE_KEY_PAIR | ED_FLAGS, true, false, 0, {0}},
    ECDSA_ROW(CKM_ECDSA, false), ECDSA_ROW(CKM_ECDSA_SHA1, true), ECDSA_ROW(CKM_ECDSA_SHA224, false),
    ECDSA_ROW(CKM_ECDSA_SHA256, false), ECDSA_ROW(CKM_ECDSA_SHA384, false), ECDSA_ROW(CKM_ECDSA_SHA512, false),
    {CKM_ECDH1_DERIVE, 256, 521, CKF_DERIVE | ED_FLAGS, true, false, CHSM_KT_EC, {0}},
    /* Edwards: not FIPS 140-3 approved in this module's boundary */
    {CKM_EC_EDWARDS_KEY_PAIR_GEN, 255, 448, CKF_GENERATE_KEY_PAIR, false, false, 0, {0}},
    {CKM_EDDSA, 255, 448, CKF_SIGN | CKF_VERIFY, false, false, CHSM_KT_ED, SV(chsm_asym_sign_vt)},
    /* AES */
    {CKM_AES_KEY_GEN, 16, 32, CKF_GENERATE, true, false, 0, {0}},
    AES_ROW(CKM_AES_ECB, CKF_WRAP | CKF_UNWRAP), AES_ROW(CKM_AES_CBC, CKF_WRAP | CKF_UNWRAP),
    AES_ROW(CKM_AES_CBC_PAD, CKF_WRAP | CKF_UNWRAP), AES_ROW(CKM_AES_CTR, 0),
    /* GCM also serves the 3.0 message API (msgcrypt.c): one message per IV, Begin/Next included */
    {CKM_AES_GCM, 16, 32, CKF_ENCRYPT | CKF_DECRYPT | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE,
     true, false, CHSM_KT_AES,
     {[CHSM_OP_ENCRYPT] = &chsm_aes_crypt_vt, [CHSM_OP_DECRYPT] = &chsm_aes_crypt_vt,
      [CHSM_OP_MSG_ENCRYPT] = &chsm_gcm_msg_vt, [CHSM_OP_MSG_DECRYPT] = &chsm_gcm_msg_vt}},
    {CKM_AES_KEY_WRAP, 16, 32, CKF_WRAP | CKF_UNWRAP, true, false, CHSM_KT_AES, {0}},
    {CKM_AES_KEY_WRAP_PAD, 16, 32, CKF_WRAP | CKF_UNWRAP, true, false, CHSM_KT_AES, {0}},
    {CKM_AES_KEY_WRAP_KWP, 16, 32, CKF_WRAP | CKF_UNWRAP, true, false, CHSM_KT_AES, {0}},
    {CKM_AES_CMAC, 16, 32, CKF_SIGN | CKF_VERIFY, true, false, CHSM_KT_AES, SV(chsm_mac_vt)},
    {CKM_AES_CMAC_GENERAL, 16, 32, CKF_SIGN | CKF_VERIFY, true, false, CHSM_KT_AES, SV(chsm_mac_vt)},
    /* generic secrets and HMAC */
    {CKM_GENERIC_SECRET_KEY_GEN, 1, 512, CKF_GENERATE, true, false, 0, {0}},
    HMAC_ROW(CKM_SHA_1_HMAC), HMAC_ROW(CKM_SHA224_HMAC), HMAC_ROW(CKM_SHA256_HMAC), HMAC_ROW(CKM_SHA384_HMAC),
    HMAC_ROW(CKM_SHA512_HMAC), HMAC_ROW(CKM_SHA_1_HMAC_GENERAL), HMAC_ROW(CKM_SHA224_HMAC_GENERAL),
    HMAC_ROW(CKM_SHA256_HMAC_GENERAL), HMAC_ROW(CKM_SHA384_HMAC_GENERAL), HMAC_ROW(CKM_SHA512_HMAC_GENERAL),
};

static bool offered(const struct chsm_mech_entry *e)
{
    if (chsm_g.cfg.algorithms.fips_approved_only && !e->fips_approved)
        return false;
    return true;
}

CK_ULONG chsm_mech_rsa_min_bits(void)
{
    const struct chsm_config *c = &chsm_g.cfg;
    return c->algorithms.allow_weak_rsa && !c->algorithms.fips_approved_only ? 1024 : 2048;
}

CK_FLAGS chsm_mech_flags(const struct chsm_mech_entry *e)
{
    CK_FLAGS f = e->flags;
    if (e->is_sha1 && !chsm_g.cfg.algorithms.allow_sha1_signing)
        f &= ~(CK_FLAGS)CKF_SIGN; /* verification of existing SHA-1 signatures stays */
    return f;
}

/* Row names, resolved once: every key-using operation names its mechanism in the audit record. */
static const char *row_names[CHSM_ARRAY_LEN(table)];
static pthread_once_t row_names_once = PTHREAD_ONCE_INIT;

static void name_rows(void)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(table); i++)
        row_names[i] = chsm_mech_name(table[i].type);
}

const char *chsm_mech_entry_name(const struct chsm_mech_entry *e)
{
    (void)pthread_once(&row_names_once, name_rows);
    return row_names[e - table];
}

const struct chsm_mech_entry *chsm_mech_lookup(CK_MECHANISM_TYPE mech)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(table); i++)
        if (table[i].type == mech)
            return offered(&table[i]) ? &table[i] : NULL;
    return NULL;
}

CK_RV chsm_core_GetMechanismList(struct chsm_app *app, CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                                 CK_ULONG_PTR pulCount)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pulCount != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    CK_ULONG n = 0;
    for (size_t i = 0; i < CHSM_ARRAY_LEN(table); i++)
        n += offered(&table[i]) ? 1 : 0;
    if (pMechanismList != NULL) {
        CK_ULONG have = *pulCount;
        *pulCount = n;
        CHSM_ENSURE(have >= n, CKR_BUFFER_TOO_SMALL);
        CK_ULONG j = 0;
        for (size_t i = 0; i < CHSM_ARRAY_LEN(table); i++)
            if (offered(&table[i]))
                pMechanismList[j++] = table[i].type;
    }
    *pulCount = n;
out:
    return rv;
}

CK_RV chsm_core_GetMechanismInfo(struct chsm_app *app, CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
                                 CK_MECHANISM_INFO_PTR pInfo)
{
    CK_RV rv = CKR_OK;
    struct chsm_slot *sl = NULL;
    CHSM_GUARD(chsm_core_check_up());
    CHSM_ENSURE(app != NULL && pInfo != NULL, CKR_ARGUMENTS_BAD);
    CHSM_GUARD(chsm_slot_get(slotID, &sl));
    const struct chsm_mech_entry *e = chsm_mech_lookup(type);
    CHSM_ENSURE(e != NULL, CKR_MECHANISM_INVALID);
    pInfo->ulMinKeySize = e->min_key;
    if (e->key_types == CHSM_KT_RSA || type == CKM_RSA_PKCS_KEY_PAIR_GEN)
        pInfo->ulMinKeySize = chsm_mech_rsa_min_bits();
    pInfo->ulMaxKeySize = e->max_key;
    pInfo->flags = chsm_mech_flags(e);
out:
    return rv;
}
