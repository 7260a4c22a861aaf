/*
 * Known-answer test harness: dlopen any PKCS#11 module by path (ours or
 * SoftHSMv2), give it a fresh temporary token (both CRATON_HSM_CONFIG and
 * SOFTHSM2_CONF point into a temp dir), log in as the user, import keys as
 * session objects and tally results per vector file. Each program prints per
 * file "file: N valid ok, M invalid rejected, K acceptable, F failures" and
 * finally "N passed, M failed"; the exit status is non-zero on any failure.
 * Ownership: kat_* helpers that return buffers return malloc'd memory the
 * caller frees; object handles are session objects destroyed by the caller
 * (or by the session close at exit).
 */
#ifndef CHSM_TESTS_KAT_UTIL_H
#define CHSM_TESTS_KAT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "craton_hsm/pkcs11.h"
#include "unit/crypto/json.h"

struct kat {
    void *dl;
    CK_FUNCTION_LIST *f;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE s;  /* operations run here; replaced after a failed case (kat_reset_ops) */
    CK_SESSION_HANDLE ks; /* imported keys live here for the whole run */
    bool softhsm;
    const char *vecdir;
    char tmpdir[256];
};

extern struct kat K;
#define F (K.f)

/* Per-vector-file tally. */
struct tally {
    const char *file;
    unsigned valid_ok, invalid_rejected, acceptable, failures, skipped;
    const char *skip_reason;
};

extern unsigned kat_passed, kat_failed;

/* Module at argv[1]; vector dir at argv[2] or $CHSM_TEST_VECTORS. false on any setup failure (already counted). */
bool kat_open(int argc, char **argv);
/* Print the final line, finalize, remove the temp dir; returns the exit code. */
int kat_finish(void);

const char *kat_rv(CK_RV rv);
void kat_check(bool ok, const char *what, const char *detail);
#define KCHECK(cond, detail) kat_check((cond), #cond, (detail))
#define KCHECK_RV(expr, want)                                                                                \
    do {                                                                                                     \
        CK_RV r_ = (expr);                                                                                   \
        char d_[200];                                                                                        \
        snprintf(d_, sizeof d_, "%s:%d got %s, want %s", __FILE__, __LINE__, kat_rv(r_), kat_rv(want));      \
        kat_check(r_ == (CK_RV)(want), #expr, d_);                                                           \
    } while (0)

/* Tally: record one case's outcome. ok=false prints the failure line. */
void tally_valid(struct tally *t, bool ok, long tcid, const char *mech, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void tally_invalid(struct tally *t, bool ok, long tcid, const char *mech, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void tally_fail(struct tally *t, long tcid, const char *mech, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Print the per-file line and fold into the global counters. */
void tally_done(struct tally *t);

/* Load tests/vectors/<name> (counts a failure and returns NULL when missing). */
struct json *kat_load(const char *name);
const char *vres(const struct json *t); /* "valid"/"invalid"/"acceptable" */

/* True when the module lists mech in C_GetMechanismList for the slot. */
bool kat_has_mech(CK_MECHANISM_TYPE m);

/* Hex helpers. */
uint8_t *hexdup(const char *hex, size_t *len);
bool hexeq(const uint8_t *got, size_t len, const char *hex);
void hexstr(char *dst, size_t dstlen, const uint8_t *b, size_t n);

/* Strip leading zero bytes (PKCS#11 big integers are minimal). */
void bn_trim(const uint8_t **p, size_t *n);

/* Key import (session objects). Each returns the C_CreateObject result. */
CK_RV kat_secret(CK_KEY_TYPE kt, const uint8_t *v, size_t n, CK_OBJECT_HANDLE *h);
CK_RV kat_ec_pub(CK_KEY_TYPE kt, const uint8_t *params, size_t plen, const uint8_t *point, size_t n,
                 CK_OBJECT_HANDLE *h);
CK_RV kat_ec_priv(CK_KEY_TYPE kt, const uint8_t *params, size_t plen, const uint8_t *d, size_t n,
                  CK_OBJECT_HANDLE *h);
/* RSA from a Wycheproof privateKey/publicKey object (hex members). */
CK_RV kat_rsa_pub(const struct json *pk, CK_OBJECT_HANDLE *h);
CK_RV kat_rsa_priv(const struct json *pk, CK_OBJECT_HANDLE *h);
void kat_destroy(CK_OBJECT_HANDLE h);

/* DER OCTET STRING wrapping (malloc'd). */
uint8_t *der_octet(const uint8_t *v, size_t n, size_t *out_len);

/*
 * Replace the operations session: a module bug that leaves an operation
 * active must cost one failed case, not every case after it. Called after
 * each recorded failure.
 */
void kat_reset_ops(void);

/* Record "size query answered asked, then CKR_BUFFER_TOO_SMALL wanting need" (a failure; details of the first few). */
void kat_size_query_bug(const char *fn, CK_MECHANISM_TYPE mech, unsigned long asked, unsigned long need, size_t inlen);

/* Session stays usable: a C_GenerateRandom answers CKR_OK. */
bool kat_session_ok(void);

#endif
