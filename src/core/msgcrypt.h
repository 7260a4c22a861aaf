/*
 * Message-based AES-GCM (base spec 3.0, 5.19/5.20; current mechanisms spec
 * 3.0, 2.12.3): the per-message parameter CK_GCM_MESSAGE_PARAMS and the IVs
 * the module generates for it. Private to src/core (msgcrypt*.c).
 *
 * IV layout: the leading ulIvFixedBits bits (most significant bit of pIv[0]
 * first) are the caller's fixed field and are never touched; the remaining
 * "free" bits are generated. CKG_GENERATE and CKG_GENERATE_RANDOM fill them
 * from the DRBG; CKG_GENERATE_COUNTER writes a per-context invocation
 * counter into them, big-endian, right-aligned (NIST SP 800-38D 8.2.1
 * deterministic construction). The counter starts at a random value drawn
 * when the context is initialised, increments by one per generated IV
 * (modulo the free bits) and never comes back to a value it gave: after
 * 2^(free bits) IVs the message is refused. The random start is what keeps
 * two contexts under the same key from repeating IVs when the caller's
 * fixed field does not tell them apart (a fixed field of 0 bits, or the same
 * one reused) -- a counter restarting at 0 per context would hand the first
 * message of every context the same IV, which breaks GCM outright.
 */
#ifndef CHSM_CORE_MSGCRYPT_H
#define CHSM_CORE_MSGCRYPT_H

/* Include after core/internal.h (uses its op kinds). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"
#include "common/secbuf.h"

/* IV length bounds of CKM_AES_GCM (current mechanisms spec 3.0, 2.12.3). */
#define CHSM_MSG_IV_MAX 256
#define CHSM_MSG_TAG_MAX 16

/* A validated copy of the caller's CK_GCM_MESSAGE_PARAMS. */
struct chsm_gcm_msg {
    CK_GCM_MESSAGE_PARAMS p;
    size_t tag_bytes;
};

/*
 * Check a per-message parameter: right size, pIv and pTag present, IV
 * 1..256 bytes, ulIvFixedBits within the IV, tag 0..128 bits in whole bytes
 * (what the crypto adapter runs; 0 means no tag), and a generator this
 * direction accepts (decrypt: CKG_NO_GENERATE only; encrypt: NO_GENERATE,
 * GENERATE, GENERATE_RANDOM, GENERATE_COUNTER with at least one free bit).
 * CKR_MECHANISM_PARAM_INVALID otherwise.
 */
CHSM_MUST_CHECK CK_RV chsm_msg_param_parse(const void *param, CK_ULONG len, bool encrypt, struct chsm_gcm_msg *out);

/*
 * The IV of one message into iv (m->p.ulIvLen bytes): the caller's bytes for
 * CKG_NO_GENERATE, else the caller's fixed bits plus generated free bits.
 * counter is the context's CKG_GENERATE_COUNTER state (advanced when used).
 * *generated tells whether the IV differs from the caller's input by design
 * (and must be written back to pIv).
 */
struct chsm_msg_counter {
    uint64_t start; /* random, drawn at init */
    uint64_t used;  /* IVs handed out so far */
};
CHSM_MUST_CHECK CK_RV chsm_msg_iv_make(const struct chsm_gcm_msg *m, struct chsm_msg_counter *counter, uint8_t *iv,
                                       bool *generated);

/* Keeps every buffered message within the adapter's int-sized OpenSSL calls. */
#define CHSM_MSG_MAX_BYTES ((size_t)INT32_MAX - 1024)

struct chsm_cipher;
struct chsm_session;
struct chsm_op;
struct chsm_app;

/* The state of one message-based context (chsm_op.state of CHSM_OP_MSG_*). */
struct chsm_msg_state {
    struct chsm_secbuf key;
    struct chsm_msg_counter counter; /* CKG_GENERATE_COUNTER state */
    struct chsm_cipher *part;  /* the multi-part message in progress, if any */
    CK_ULONG part_tag_bits;
    size_t part_in;            /* bytes fed to part so far */
};

/* A message call in progress: session (locked, referenced), its op and state. */
struct chsm_msg_call {
    struct chsm_session *s;
    struct chsm_op *op;
    struct chsm_msg_state *st;
};

/* Find the session's active op of kind; on CKR_OK the session lock is held until chsm_msg_leave. */
CHSM_MUST_CHECK CK_RV chsm_msg_enter(struct chsm_app *app, CK_SESSION_HANDLE h, enum chsm_op_kind kind,
                                     struct chsm_msg_call *c);
void chsm_msg_leave(struct chsm_msg_call *c);
/* PKCS#11 5.2 output convention: true (rv set, *out_len = need) when the call only reports the size. */
bool chsm_msg_size_only(CK_BYTE *out, CK_ULONG *out_len, size_t need, CK_RV *rv);
/* A GCM context for one message with the final IV iv. */
CHSM_MUST_CHECK CK_RV chsm_msg_gcm_new(const struct chsm_msg_state *st, const struct chsm_gcm_msg *m, uint8_t *iv,
                                       const CK_BYTE *aad, CK_ULONG aad_n, bool encrypt, struct chsm_cipher **out);
/* End the multi-part message in progress (if any). */
void chsm_msg_end_part(struct chsm_msg_state *st);

#endif
