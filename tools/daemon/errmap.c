/*
 * CKR -> gRPC status. The rule of thumb: what the caller sent is wrong ->
 * INVALID_ARGUMENT; a handle that does not exist for this client ->
 * NOT_FOUND; who the caller is -> UNAUTHENTICATED (not logged in, wrong
 * PIN) or PERMISSION_DENIED (logged in but not allowed, PIN locked); the
 * state the caller is in -> FAILED_PRECONDITION; the device -> UNAVAILABLE.
 * CKR_BUFFER_TOO_SMALL never escapes (handlers size-query first), so seeing
 * it here is a broken invariant -> INTERNAL.
 */
#include "errmap.h"

#include <stddef.h>

struct row {
    CK_RV rv;
    enum chsm_dstatus st;
    const char *text; /* fixed client text (L3: never the core's detail) */
};

static const struct row rows[] = {
    {CKR_OK, CHSM_DS_OK, "success"},
    {CKR_CANCEL, CHSM_DS_CANCELLED, "cancelled"},
    {CKR_FUNCTION_CANCELED, CHSM_DS_CANCELLED, "cancelled"},
    {CKR_HOST_MEMORY, CHSM_DS_RESOURCE_EXHAUSTED, "out of memory"},
    {CKR_DEVICE_MEMORY, CHSM_DS_RESOURCE_EXHAUSTED, "out of token memory or over a size limit"},
    {CKR_SESSION_COUNT, CHSM_DS_RESOURCE_EXHAUSTED, "too many sessions"},
    {CKR_SLOT_ID_INVALID, CHSM_DS_NOT_FOUND, "no such slot"},
    {CKR_SESSION_HANDLE_INVALID, CHSM_DS_NOT_FOUND, "no such session for this client"},
    {CKR_SESSION_CLOSED, CHSM_DS_NOT_FOUND, "session closed"},
    {CKR_OBJECT_HANDLE_INVALID, CHSM_DS_NOT_FOUND, "no such object"},
    {CKR_KEY_HANDLE_INVALID, CHSM_DS_NOT_FOUND, "no such key"},
    {CKR_WRAPPING_KEY_HANDLE_INVALID, CHSM_DS_NOT_FOUND, "no such wrapping key"},
    {CKR_UNWRAPPING_KEY_HANDLE_INVALID, CHSM_DS_NOT_FOUND, "no such unwrapping key"},
    {CKR_ARGUMENTS_BAD, CHSM_DS_INVALID_ARGUMENT, "invalid arguments"},
    {CKR_ATTRIBUTE_TYPE_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid attribute type"},
    {CKR_ATTRIBUTE_VALUE_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid attribute value"},
    {CKR_TEMPLATE_INCOMPLETE, CHSM_DS_INVALID_ARGUMENT, "template incomplete"},
    {CKR_TEMPLATE_INCONSISTENT, CHSM_DS_INVALID_ARGUMENT, "template inconsistent"},
    {CKR_MECHANISM_INVALID, CHSM_DS_INVALID_ARGUMENT, "mechanism not supported here"},
    {CKR_MECHANISM_PARAM_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid mechanism parameters"},
    {CKR_DATA_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid data"},
    {CKR_DATA_LEN_RANGE, CHSM_DS_INVALID_ARGUMENT, "data length out of range"},
    {CKR_ENCRYPTED_DATA_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid encrypted data"},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, CHSM_DS_INVALID_ARGUMENT, "encrypted data length out of range"},
    {CKR_SIGNATURE_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid signature"},
    {CKR_SIGNATURE_LEN_RANGE, CHSM_DS_INVALID_ARGUMENT, "signature length out of range"},
    {CKR_KEY_TYPE_INCONSISTENT, CHSM_DS_INVALID_ARGUMENT, "key type does not fit the mechanism"},
    {CKR_KEY_SIZE_RANGE, CHSM_DS_INVALID_ARGUMENT, "key size out of range"},
    {CKR_KEY_INDIGESTIBLE, CHSM_DS_INVALID_ARGUMENT, "key cannot be digested"},
    {CKR_WRAPPED_KEY_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid wrapped key"},
    {CKR_WRAPPED_KEY_LEN_RANGE, CHSM_DS_INVALID_ARGUMENT, "wrapped key length out of range"},
    {CKR_WRAPPING_KEY_SIZE_RANGE, CHSM_DS_INVALID_ARGUMENT, "wrapping key size out of range"},
    {CKR_WRAPPING_KEY_TYPE_INCONSISTENT, CHSM_DS_INVALID_ARGUMENT, "wrapping key type does not fit"},
    {CKR_UNWRAPPING_KEY_SIZE_RANGE, CHSM_DS_INVALID_ARGUMENT, "unwrapping key size out of range"},
    {CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, CHSM_DS_INVALID_ARGUMENT, "unwrapping key type does not fit"},
    {CKR_DOMAIN_PARAMS_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid domain parameters"},
    {CKR_CURVE_NOT_SUPPORTED, CHSM_DS_INVALID_ARGUMENT, "curve not supported"},
    {CKR_PIN_INVALID, CHSM_DS_INVALID_ARGUMENT, "PIN has invalid characters"},
    {CKR_PIN_LEN_RANGE, CHSM_DS_INVALID_ARGUMENT, "PIN length out of range"},
    {CKR_USER_TYPE_INVALID, CHSM_DS_INVALID_ARGUMENT, "invalid user type"},
    {CKR_RANDOM_SEED_NOT_SUPPORTED, CHSM_DS_UNIMPLEMENTED, "seeding not supported"},
    {CKR_PIN_INCORRECT, CHSM_DS_UNAUTHENTICATED, "PIN incorrect"},
    {CKR_USER_NOT_LOGGED_IN, CHSM_DS_UNAUTHENTICATED, "login required"},
    {CKR_PIN_LOCKED, CHSM_DS_PERMISSION_DENIED, "PIN locked"},
    {CKR_PIN_EXPIRED, CHSM_DS_PERMISSION_DENIED, "PIN expired"},
    {CKR_ATTRIBUTE_SENSITIVE, CHSM_DS_PERMISSION_DENIED, "attribute is sensitive"},
    {CKR_ATTRIBUTE_READ_ONLY, CHSM_DS_PERMISSION_DENIED, "attribute is read-only"},
    {CKR_ACTION_PROHIBITED, CHSM_DS_PERMISSION_DENIED, "action prohibited by policy"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, CHSM_DS_PERMISSION_DENIED, "key not permitted for this function"},
    {CKR_KEY_UNEXTRACTABLE, CHSM_DS_PERMISSION_DENIED, "key is not extractable"},
    {CKR_KEY_NOT_WRAPPABLE, CHSM_DS_PERMISSION_DENIED, "key is not wrappable"},
    {CKR_SESSION_READ_ONLY, CHSM_DS_PERMISSION_DENIED, "session is read-only"},
    {CKR_TOKEN_WRITE_PROTECTED, CHSM_DS_PERMISSION_DENIED, "token is write-protected"},
    {CKR_USER_ALREADY_LOGGED_IN, CHSM_DS_FAILED_PRECONDITION, "already logged in"},
    {CKR_USER_ANOTHER_ALREADY_LOGGED_IN, CHSM_DS_FAILED_PRECONDITION, "another user is logged in"},
    {CKR_USER_PIN_NOT_INITIALIZED, CHSM_DS_FAILED_PRECONDITION, "user PIN not initialised"},
    {CKR_USER_TOO_MANY_TYPES, CHSM_DS_FAILED_PRECONDITION, "too many user types logged in"},
    {CKR_OPERATION_ACTIVE, CHSM_DS_FAILED_PRECONDITION, "an operation is active"},
    {CKR_OPERATION_NOT_INITIALIZED, CHSM_DS_FAILED_PRECONDITION, "no operation active"},
    {CKR_SESSION_EXISTS, CHSM_DS_FAILED_PRECONDITION, "sessions are open"},
    {CKR_SESSION_READ_ONLY_EXISTS, CHSM_DS_FAILED_PRECONDITION, "a read-only session is open"},
    {CKR_SESSION_READ_WRITE_SO_EXISTS, CHSM_DS_FAILED_PRECONDITION, "a read-write SO session is open"},
    {CKR_SESSION_PARALLEL_NOT_SUPPORTED, CHSM_DS_FAILED_PRECONDITION, "parallel sessions not supported"},
    {CKR_TOKEN_NOT_PRESENT, CHSM_DS_FAILED_PRECONDITION, "no token in the slot"},
    {CKR_TOKEN_NOT_RECOGNIZED, CHSM_DS_FAILED_PRECONDITION, "token not initialised"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, CHSM_DS_UNAVAILABLE, "HSM not initialised"},
    {CKR_FUNCTION_NOT_SUPPORTED, CHSM_DS_UNIMPLEMENTED, "function not supported"},
    {CKR_DEVICE_ERROR, CHSM_DS_UNAVAILABLE, "device error (see the daemon log)"},
    {CKR_DEVICE_REMOVED, CHSM_DS_UNAVAILABLE, "device removed"},
    {CKR_FUNCTION_FAILED, CHSM_DS_INTERNAL, "function failed (see the daemon log)"},
    {CKR_GENERAL_ERROR, CHSM_DS_INTERNAL, "internal error (see the daemon log)"},
    {CKR_BUFFER_TOO_SMALL, CHSM_DS_INTERNAL, "internal error (see the daemon log)"},
};

static const struct row *find(CK_RV rv)
{
    for (size_t i = 0; i < CHSM_ARRAY_LEN(rows); i++)
        if (rows[i].rv == rv)
            return &rows[i];
    return NULL;
}

enum chsm_dstatus chsm_errmap_status(CK_RV rv)
{
    const struct row *r = find(rv);
    return r != NULL ? r->st : CHSM_DS_INTERNAL;
}

const char *chsm_errmap_text(CK_RV rv)
{
    const struct row *r = find(rv);
    return r != NULL ? r->text : "failed (see the daemon log)";
}

const char *chsm_errmap_status_name(enum chsm_dstatus st)
{
    static const char *const names[] = {
        "OK",        "CANCELLED",          "UNKNOWN",      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };
    if ((unsigned)st < CHSM_ARRAY_LEN(names))
        return names[st];
    return "UNKNOWN";
}
