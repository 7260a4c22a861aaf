/*
 * Shared helpers for the integration tests: load libcraton_hsm.so by path
 * with dlopen (the way every consumer does), reach its tables through
 * C_GetInterface and C_GetFunctionList, write a temporary config, and count
 * checks. Each test program prints "N passed, M failed" and exits non-zero
 * when anything failed.
 */
#ifndef CHSM_TESTS_P11_UTIL_H
#define CHSM_TESTS_P11_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "craton_hsm/pkcs11.h"

struct p11 {
    void *dl;
    CK_FUNCTION_LIST *f;       /* from C_GetFunctionList (2.40) */
    CK_FUNCTION_LIST_3_0 *f3;  /* from C_GetInterface("PKCS 11", 3.0) */
    CK_C_GetInterfaceList get_interface_list;
    CK_C_GetInterface get_interface;
    char tmpdir[256];
    char config_path[300];
};

#define TEST_SO_PIN "so-pin-1234"
#define TEST_USER_PIN "user-pin-5678"
#define TEST_MAX_FAILED 3

/* Global counters. */
extern unsigned p11t_passed, p11t_failed;

void p11t_check(bool ok, const char *file, int line, const char *what, const char *detail);
const char *p11t_rv_name(CK_RV rv);

#define CHECK(cond) p11t_check((cond), __FILE__, __LINE__, #cond, NULL)
#define CHECK_RV(expr, expect)                                                                               \
    do {                                                                                                     \
        CK_RV rv_ = (expr);                                                                                  \
        char d_[160];                                                                                        \
        snprintf(d_, sizeof d_, "got %s, want %s", p11t_rv_name(rv_), p11t_rv_name(expect));                 \
        p11t_check(rv_ == (CK_RV)(expect), __FILE__, __LINE__, #expr, d_);                                  \
    } while (0)
/* Fatal variant: the rest of the program depends on it. */
#define REQUIRE_RV(expr, expect)                                                                             \
    do {                                                                                                     \
        CK_RV rv_ = (expr);                                                                                  \
        if (rv_ != (CK_RV)(expect)) {                                                                        \
            char d_[160];                                                                                    \
            snprintf(d_, sizeof d_, "got %s, want %s", p11t_rv_name(rv_), p11t_rv_name(expect));             \
            p11t_check(false, __FILE__, __LINE__, #expr, d_);                                                \
            return p11t_finish();                                                                            \
        }                                                                                                    \
    } while (0)

/*
 * dlopen the module named by argv[1], get both tables, create a temp dir
 * with a config (storage ":memory:" unless extra sets otherwise; extra is
 * appended verbatim as additional TOML) and point CRATON_HSM_CONFIG at it.
 * Returns false (after counting a failure) when anything is missing.
 */
bool p11t_setup(struct p11 *p, int argc, char **argv, const char *extra_toml);
/* Write a config file with the given full contents at p->config_path. */
bool p11t_write_config(struct p11 *p, const char *text);
/* The standard test config body (":memory:" store, 100000 iterations, 3 failures). */
const char *p11t_default_config(void);
/* On an initialised module: C_InitToken + SO login + C_InitPIN; leaves no session open. */
CK_RV p11t_init_token(struct p11 *p, CK_SLOT_ID slot);
/* Label padded with spaces to 32 bytes, as CK_TOKEN_INFO and C_InitToken use it. */
void p11t_pad(CK_UTF8CHAR *dst, size_t n, const char *src);
bool p11t_hex_eq(const CK_BYTE *got, CK_ULONG len, const char *hex);
/* Print the summary, remove the temp dir, and return the exit code. */
int p11t_finish(void);
void p11t_cleanup_register(struct p11 *p);

#endif
