/*
 * Protobuf <-> PKCS#11 conversion for the daemon handlers.
 *
 * Ownership: a struct chsm_dtmpl owns the CK_ATTRIBUTE array and the
 * CK_BBOOL/CK_ULONG scratch values; byte and string values point into the
 * request message, which outlives the call. chsm_dtmpl_free wipes the
 * scratch (values may be key material only through CKA_VALUE bytes, which
 * live in the request and are wiped with it by the dispatcher).
 * A struct chsm_dmech holds the CK_MECHANISM and its parameter struct; its
 * pointers also point into the request.
 */
#ifndef CHSM_DAEMON_CONVERT_H
#define CHSM_DAEMON_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/result.h"
#include "craton_hsm.pb-c.h"

#define CHSM_DAEMON_MAX_TEMPLATE 64u

struct chsm_dtmpl {
    CK_ATTRIBUTE *attrs;
    CK_ULONG count;
    union chsm_dscalar {
        CK_BBOOL b;
        CK_ULONG ul;
    } *scalars;
};

CHSM_MUST_CHECK CK_RV chsm_dtmpl_from_proto(CratonHsm__V1__Attribute *const *in, size_t n, struct chsm_dtmpl *out);
void chsm_dtmpl_free(struct chsm_dtmpl *t);

struct chsm_dmech {
    CK_MECHANISM m;
    union {
        CK_GCM_PARAMS gcm;
        CK_RSA_PKCS_PSS_PARAMS pss;
        CK_RSA_PKCS_OAEP_PARAMS oaep;
        CK_ECDH1_DERIVE_PARAMS ecdh;
        CK_AES_CTR_PARAMS ctr;
    } p;
};

/*
 * Build a CK_MECHANISM. resolve_name (may be NULL) maps "CKM_..." names to
 * types; a missing mechanism or an unknown name is CKR_MECHANISM_INVALID,
 * bad parameters CKR_MECHANISM_PARAM_INVALID.
 */
typedef bool (*chsm_dmech_resolver)(const char *name, CK_MECHANISM_TYPE *out);
CHSM_MUST_CHECK CK_RV chsm_dmech_from_proto(const CratonHsm__V1__Mechanism *in, chsm_dmech_resolver resolve_name,
                                           struct chsm_dmech *out);

enum chsm_dattr_kind { CHSM_DATTR_BYTES, CHSM_DATTR_BOOL, CHSM_DATTR_ULONG, CHSM_DATTR_STRING };
/* How an attribute's value travels in the proto (bool/ulong/string/bytes). */
enum chsm_dattr_kind chsm_dattr_kind(CK_ATTRIBUTE_TYPE type);

/*
 * Fill out (already initialised) from a value the core returned; out keeps
 * pointers into val for bytes/strings (string: val must be NUL-terminated
 * by the caller at val[len]).
 */
CHSM_MUST_CHECK CK_RV chsm_dattr_to_proto(CK_ATTRIBUTE_TYPE type, unsigned char *val, CK_ULONG len,
                                        CratonHsm__V1__Attribute *out);

/* Copy a blank-padded PKCS#11 text field into dst (NUL-terminated, trailing blanks dropped). */
void chsm_padded_to_str(const CK_UTF8CHAR *src, size_t srclen, char *dst, size_t dstlen);

#endif
