/* CKM_ names for logs, the audit log and the CLI (chsm_mech_name / chsm_mech_from_name). */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

#define N(m) {m, #m}
static const struct {
    CK_MECHANISM_TYPE m;
    const char *name;
} names[] = {
    N(CKM_RSA_PKCS_KEY_PAIR_GEN), N(CKM_RSA_PKCS), N(CKM_RSA_X_509), N(CKM_RSA_PKCS_OAEP), N(CKM_RSA_PKCS_PSS),
    N(CKM_SHA1_RSA_PKCS), N(CKM_SHA224_RSA_PKCS), N(CKM_SHA256_RSA_PKCS), N(CKM_SHA384_RSA_PKCS),
    N(CKM_SHA512_RSA_PKCS), N(CKM_SHA1_RSA_PKCS_PSS), N(CKM_SHA224_RSA_PKCS_PSS), N(CKM_SHA256_RSA_PKCS_PSS),
    N(CKM_SHA384_RSA_PKCS_PSS), N(CKM_SHA512_RSA_PKCS_PSS), N(CKM_EC_KEY_PAIR_GEN), N(CKM_ECDSA),
    N(CKM_ECDSA_SHA1), N(CKM_ECDSA_SHA224), N(CKM_ECDSA_SHA256), N(CKM_ECDSA_SHA384), N(CKM_ECDSA_SHA512),
    N(CKM_ECDH1_DERIVE), N(CKM_ECDH1_COFACTOR_DERIVE), N(CKM_EC_EDWARDS_KEY_PAIR_GEN), N(CKM_EDDSA),
    N(CKM_AES_KEY_GEN), N(CKM_AES_ECB), N(CKM_AES_CBC), N(CKM_AES_CBC_PAD), N(CKM_AES_CTR), N(CKM_AES_GCM),
    N(CKM_AES_CCM), N(CKM_AES_CMAC), N(CKM_AES_CMAC_GENERAL), N(CKM_AES_KEY_WRAP), N(CKM_AES_KEY_WRAP_PAD),
    N(CKM_GENERIC_SECRET_KEY_GEN), N(CKM_SHA_1), N(CKM_SHA224), N(CKM_SHA256), N(CKM_SHA384), N(CKM_SHA512),
    N(CKM_SHA3_256), N(CKM_SHA3_384), N(CKM_SHA3_512), N(CKM_SHA_1_HMAC), N(CKM_SHA224_HMAC),
    N(CKM_SHA256_HMAC), N(CKM_SHA384_HMAC), N(CKM_SHA512_HMAC), N(CKM_SHA3_256_HMAC), N(CKM_SHA3_384_HMAC),
    N(CKM_SHA3_512_HMAC), N(CKM_SHA_1_HMAC_GENERAL), N(CKM_SHA224_HMAC_GENERAL), N(CKM_SHA256_HMAC_GENERAL),
    N(CKM_SHA384_HMAC_GENERAL), N(CKM_SHA512_HMAC_GENERAL), N(CKM_AES_KEY_WRAP_KWP), N(CKM_PKCS5_PBKD2),
    N(CKM_SHA256_KEY_DERIVATION),
};

const char *chsm_mech_name(CK_MECHANISM_TYPE mech)
{
    static _Thread_local char buf[32];
    for (size_t i = 0; i < CHSM_ARRAY_LEN(names); i++)
        if (names[i].m == mech)
            return names[i].name;
    (void)snprintf(buf, sizeof(buf), "CKM_0x%08lx", (unsigned long)mech);
    return buf;
}

bool chsm_mech_from_name(const char *name, CK_MECHANISM_TYPE *out)
{
    if (name == NULL || out == NULL)
        return false;
    for (size_t i = 0; i < CHSM_ARRAY_LEN(names); i++) {
        if (strcmp(names[i].name, name) == 0) {
            *out = names[i].m;
            return true;
        }
    }
    return false;
}
