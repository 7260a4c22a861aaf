/*
 * Helpers for the store acceptance tests (issue 3): load libcraton_hsm.so by
 * path with dlopen (configured through CRATON_HSM_CONFIG, set by the shell
 * drivers), count checks, and the known-value key scheme shared by every
 * process of a test: the AES key of label L is SHA-256("chsm-store-test:" L),
 * so any later process can check a key by C_DigestKey without a side file.
 * PINs come from ST_SO_PIN / ST_USER_PIN (defaults below).
 */
#ifndef CHSM_TESTS_STORE_ST_UTIL_H
#define CHSM_TESTS_STORE_ST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "craton_hsm/pkcs11.h"

extern CK_FUNCTION_LIST *F;
extern unsigned st_passed, st_failed;

void st_check(bool ok, const char *file, int line, const char *what, const char *detail);
const char *st_rv(CK_RV rv);

#define CHECK(cond) st_check((cond), __FILE__, __LINE__, #cond, NULL)
#define CHECK_RV(expr, expect)                                                                               \
    do {                                                                                                     \
        CK_RV rv_ = (expr);                                                                                  \
        char d_[160];                                                                                        \
        snprintf(d_, sizeof d_, "got %s, want %s", st_rv(rv_), st_rv(expect));                               \
        st_check(rv_ == (CK_RV)(expect), __FILE__, __LINE__, #expr, d_);                                    \
    } while (0)

const char *st_so_pin(void);
const char *st_user_pin(void);

/* dlopen + C_GetFunctionList + C_Initialize (OS locking). Exits 2 on failure. */
void st_load(const char *module);
/* Open a R/W session on slot 0 and log in as `user` with `pin` (NULL = no login). */
CK_RV st_open(CK_USER_TYPE user, const char *pin, CK_SESSION_HANDLE *s);
CK_RV st_login(CK_SESSION_HANDLE s, CK_USER_TYPE user, const char *pin);
/* C_Finalize, print "N passed, M failed", return the exit code. */
int st_finish(const char *what);

void st_key_of(const char *label, unsigned char key[32]);
/* Create a token AES-256 key with the known value of `label`; CKA_ID = label. uid_hex gets CKA_UNIQUE_ID. */
CK_RV st_create_aes(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *h, char uid_hex[33]);
/* Handles whose CKA_LABEL (or CKA_ID when by_id) equals label. */
CK_RV st_find(CK_SESSION_HANDLE s, CK_ATTRIBUTE_TYPE type, const char *label, CK_OBJECT_HANDLE *out, CK_ULONG max,
              CK_ULONG *n);
/* C_DigestKey(SHA-256) of h compared with SHA-256 of the known key of label. */
CK_RV st_use_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, const char *label, bool *match);
/* Find label (exactly one, by label and by id), check uid if given, use the key. True when all holds. */
bool st_verify_label(CK_SESSION_HANDLE s, const char *label, const char *uid_hex);
CK_RV st_uid(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, char uid_hex[33]);
/* Number of objects of the given class visible to the session (class = (CK_ULONG)-1: every object). */
CK_RV st_count(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_ULONG *n);
double st_now(void);

#endif
