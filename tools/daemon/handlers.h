/*
 * Handler interface (internal to the dispatch layer). A handler sees the
 * unpacked request message and the calling client; it sets the reply
 * through chsm_h_ok (packs the response) or chsm_h_fail_rv / chsm_h_fail.
 * Handlers own their temporaries and wipe anything secret they copied.
 */
#ifndef CHSM_DAEMON_HANDLERS_H
#define CHSM_DAEMON_HANDLERS_H

#include "clients.h"
#include "convert.h"
#include "core/core.h"
#include "dispatch.h"

struct chsm_hctx {
    struct chsm_client *client;
    struct chsm_dreply *reply;
    const struct chsm_dispatch_settings *settings;
};

typedef void (*chsm_handler_fn)(struct chsm_hctx *h, ProtobufCMessage *req);

/* Pack resp as the OK reply. */
void chsm_h_ok(struct chsm_hctx *h, const ProtobufCMessage *resp);
/* Fail with the status mapped from rv; the client message is "CKR_NAME: fixed text"
 * (chsm_errmap_text); what and the core's error detail go to the daemon log only. */
void chsm_h_fail_rv(struct chsm_hctx *h, CK_RV rv, const char *what);
void chsm_h_fail(struct chsm_hctx *h, enum chsm_dstatus st, const char *fmt, ...) CHSM_PRINTF(3, 4);

/*
 * PIN RPCs (Login, SetPin, InitPin, InitToken, Backup): chsm_h_pin_gate
 * before the core call (false: throttled, reply set), chsm_h_pin_result
 * after it. slot is the slot the PIN belongs to, or NULL when unknown (an
 * invalid session: the core call cannot reach a PIN check). verifies_pin:
 * the RPC's success proves a PIN (not InitPin), so it resets the throttles.
 */
bool chsm_h_pin_gate(struct chsm_hctx *h, const CK_SLOT_ID *slot);
void chsm_h_pin_result(struct chsm_hctx *h, const CK_SLOT_ID *slot, CK_RV rv, bool verifies_pin);
/* The slot of one of the client's sessions; false when it has no such session. */
bool chsm_h_session_slot(struct chsm_hctx *h, uint64_t session, CK_SLOT_ID *slot);

/* Mechanism name resolver (core table). */
bool chsm_h_mech_resolve(const char *name, CK_MECHANISM_TYPE *out);

#define CHSM_HANDLER(name) void chsm_h_##name(struct chsm_hctx *h, ProtobufCMessage *req)
#define CHSM_HANDLERS(X)                                                                                     \
    X(GetInfo) X(ListSlots) X(GetTokenInfo) X(GetMechanismList) X(OpenSession) X(CloseSession) X(Login)     \
    X(Logout) X(InitToken) X(InitPin) X(SetPin) X(GenerateKey) X(GenerateKeyPair) X(CreateObject)           \
    X(DestroyObject) X(FindObjects) X(GetAttributeValue) X(SetAttributeValue) X(Sign) X(Verify) X(Encrypt)  \
    X(Decrypt) X(Digest) X(WrapKey) X(UnwrapKey) X(DeriveKey) X(GenerateRandom) X(HealthCheck) X(Backup)    \
    X(AuditHead)
#define CHSM_DECLARE_HANDLER(name) CHSM_HANDLER(name);
CHSM_HANDLERS(CHSM_DECLARE_HANDLER)
#undef CHSM_DECLARE_HANDLER

/* Start time for HealthCheck uptime (set by chsm_dispatch_configure). */
uint64_t chsm_h_uptime_s(void);

#endif
