/* Private-key import and public-key export for the key commands (through crypto/pkey.h and the core). */
#ifndef CHSM_ADMIN_KEY_IMPORT_H
#define CHSM_ADMIN_KEY_IMPORT_H

#include "admin.h"
#include "core/core.h"
#include "key_util.h"

/*
 * PEM/DER, PKCS#8 or traditional; creates the private key and its public
 * key under label. CKR_DATA_INVALID (not a key), CKR_KEY_TYPE_INCONSISTENT
 * (--type does not match the file).
 */
CHSM_MUST_CHECK CK_RV adm_key_import_private(struct chsm_app *app, CK_SESSION_HANDLE h, const uint8_t *data,
                                             size_t len, const char *type, const char *label);
/* PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of a public key object, to f. */
CHSM_MUST_CHECK CK_RV adm_key_export_public(struct chsm_app *app, CK_SESSION_HANDLE h, const struct adm_keyinfo *k,
                                            FILE *f);

#endif
