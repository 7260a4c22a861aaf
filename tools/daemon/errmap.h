/*
 * CKR_* -> gRPC status code (docs/daemon.md "Error mapping"). The numeric
 * values equal grpc_status_code so the transport can cast; this header does
 * not include gRPC so handlers and unit tests stay transport-free.
 */
#ifndef CHSM_DAEMON_ERRMAP_H
#define CHSM_DAEMON_ERRMAP_H

#include "common/result.h"

enum chsm_dstatus {
    CHSM_DS_OK = 0,
    CHSM_DS_CANCELLED = 1,
    CHSM_DS_UNKNOWN = 2,
    CHSM_DS_INVALID_ARGUMENT = 3,
    CHSM_DS_DEADLINE_EXCEEDED = 4,
    CHSM_DS_NOT_FOUND = 5,
    CHSM_DS_ALREADY_EXISTS = 6,
    CHSM_DS_PERMISSION_DENIED = 7,
    CHSM_DS_RESOURCE_EXHAUSTED = 8,
    CHSM_DS_FAILED_PRECONDITION = 9,
    CHSM_DS_ABORTED = 10,
    CHSM_DS_OUT_OF_RANGE = 11,
    CHSM_DS_UNIMPLEMENTED = 12,
    CHSM_DS_INTERNAL = 13,
    CHSM_DS_UNAVAILABLE = 14,
    CHSM_DS_DATA_LOSS = 15,
    CHSM_DS_UNAUTHENTICATED = 16,
};

enum chsm_dstatus chsm_errmap_status(CK_RV rv);
/* The fixed human text sent to clients with the CKR name ("PIN incorrect").
 * Clients never see the core's per-thread error detail: it can name store
 * paths and internal layers and goes to the daemon log only. */
const char *chsm_errmap_text(CK_RV rv);
/* "INVALID_ARGUMENT" etc. */
const char *chsm_errmap_status_name(enum chsm_dstatus st);

#endif
