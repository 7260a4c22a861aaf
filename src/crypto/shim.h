/*
 * Engine-proof key types (shim.c). Private to src/crypto/.
 *
 * OpenSSL 3.0 int_ctx_new() (crypto/evp/pmeth_lib.c) maps the key type of
 * every EVP_PKEY_CTX -- from a name, or from a PROVIDED key via
 * EVP_KEYMGMT_get0_name(pkey->keymgmt) -- to a NID with evp_pkey_name2type()
 * and then asks ENGINE_get_pkey_meth_engine(nid). When the host application
 * registered a default ENGINE for that NID (libengine-pkcs11-openssl does
 * with ENGINE_set_default(e, ENGINE_METHOD_PKEY_METHS)) the context becomes a
 * LEGACY one bound to the host's engine, even in our private OSSL_LIB_CTX.
 * Only when the name maps to no NID (id == -1) does it "goto common" and
 * bind the provider keymgmt without any engine lookup.
 *
 * So the adapter loads, into its private library context only, a tiny
 * built-in provider "chsm-shim" that re-exports the default provider's own
 * RSA/EC/Ed25519/Ed448/X25519 key management, signature, key exchange and
 * asymmetric-cipher implementations (same dispatch tables, same provider
 * context) with key-management names whose FIRST name is "CHSM-<type>", a
 * name no NID has. Keys created through CHSM_SHIM_PROPQ carry that keymgmt,
 * so every later EVP_PKEY_CTX for them skips the engine tables. The original
 * names stay aliases, so EVP_PKEY_is_a() and the EVP_PKEY_CTX_set_rsa_*()
 * helpers keep working. Nothing in the host's default context is touched.
 */
#ifndef CHSM_CRYPTO_SHIM_H
#define CHSM_CRYPTO_SHIM_H

#include "crypto/internal.h"

/* Property query that selects the shim's implementations. */
#define CHSM_SHIM_PROPQ "provider=chsm-shim"
/* Preference only: for operation contexts, whose implementations also fetch digests by it. */
#define CHSM_SHIM_PREFER "?provider=chsm-shim"

/* Load the shim into lib, re-exporting deflt's implementations. */
CHSM_MUST_CHECK CK_RV chsm_shim_load(OSSL_LIB_CTX *lib, OSSL_PROVIDER *deflt);
/* Unload the shim provider (before the default provider is unloaded). */
void chsm_shim_unload(void);
/* Free the re-exported tables (after the library context is freed). */
void chsm_shim_free(void);

/* "CHSM-EC" for "EC" etc.: the engine-proof name for EVP_PKEY_CTX_new_from_name; NULL if unknown. */
const char *chsm_shim_keytype(const char *type);
/* A new EVP_PKEY_CTX for generation/fromdata of type ("RSA", "EC", "ED25519", "ED448"). */
EVP_PKEY_CTX *chsm_shim_ctx(const char *type);
/* Re-home a key built elsewhere (decoders) into the shim's keymgmt; frees *pk on failure. */
CHSM_MUST_CHECK CK_RV chsm_shim_adopt(EVP_PKEY **pk, bool is_private);

#endif
