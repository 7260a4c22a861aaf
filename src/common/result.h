/*
 * Result type and control-flow macros used by every internal module.
 *
 * Internal functions that can fail return CK_RV and are declared with
 * CHSM_MUST_CHECK, so the compiler refuses to let a caller drop the result.
 * The precise CKR_* is chosen where the failure happens; CKR_GENERAL_ERROR
 * means a broken invariant and nothing else. The human detail (layer,
 * file:line, library code) goes to a per-thread error record, never into the
 * return value and never with secrets in it.
 *
 * Functions that own resources use a single `out:` label; the macros below
 * set `rv` and jump there:
 *
 *     CK_RV rv = CKR_OK;
 *     CHSM_GUARD(step_one(...));
 *     CHSM_ENSURE(len <= max, CKR_DATA_LEN_RANGE);
 *   out:
 *     chsm_secbuf_free(&tmp);
 *     return rv;
 */
#ifndef CHSM_COMMON_RESULT_H
#define CHSM_COMMON_RESULT_H

#include "craton_hsm/pkcs11.h"

#define CHSM_MUST_CHECK __attribute__((warn_unused_result))
#define CHSM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CHSM_UNUSED(x) ((void)(x))
#define CHSM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define CHSM_GUARD(expr)                                                                                     \
    do {                                                                                                     \
        rv = (expr);                                                                                         \
        if (rv != CKR_OK)                                                                                    \
            goto out;                                                                                        \
    } while (0)

#define CHSM_ENSURE(cond, code)                                                                              \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            rv = (code);                                                                                     \
            goto out;                                                                                        \
        }                                                                                                    \
    } while (0)

#define CHSM_BAIL(code)                                                                                      \
    do {                                                                                                     \
        rv = (code);                                                                                         \
        goto out;                                                                                            \
    } while (0)

/* Per-thread error record: the detail behind the last failure on this thread. */
struct chsm_err {
    CK_RV rv;
    const char *layer; /* static string: "store", "crypto", "config", ... */
    const char *file;  /* __FILE__ of the site that recorded it */
    int line;
    char msg[384];
};

void chsm_err_record(CK_RV rv, const char *layer, const char *file, int line, const char *fmt, ...)
    CHSM_PRINTF(5, 6);
const struct chsm_err *chsm_err_last(void);
void chsm_err_clear(void);

/* Record detail and evaluate to rv: `return CHSM_ERR(CKR_DEVICE_ERROR, "store", "open %s: %s", p, m);` */
#define CHSM_ERR(rv, layer, ...) (chsm_err_record((rv), (layer), __FILE__, __LINE__, __VA_ARGS__), (rv))

/* The standard name of a CKR_* code ("CKR_PIN_INCORRECT"), or "CKR_0x%08lx" in a static buffer per thread. */
const char *chsm_rv_name(CK_RV rv);

#endif
