/* Known-value EC and RSA private keys for the store tests (see st_known.c). */
#ifndef CHSM_TESTS_STORE_ST_KNOWN_H
#define CHSM_TESTS_STORE_ST_KNOWN_H

#include "st_util.h"

void st_ec_scalar(unsigned char d[32]);
/* Import via C_CreateObject; when secrets != NULL write "name hex" lines of the secret values to it. */
CK_RV st_import_ec(CK_SESSION_HANDLE s, const char *label, FILE *secrets);
CK_RV st_import_rsa(CK_SESSION_HANDLE s, const char *label, FILE *secrets);
/* Sign with CKM_ECDSA_SHA256 and verify with OpenSSL: 1 ok, 0 failed, -1 mechanism not offered. */
int st_use_ec(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h);

#endif
