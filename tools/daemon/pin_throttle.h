/*
 * Per-slot failed-PIN throttle (security review M4). Every RPC that can reach
 * a PIN check on a slot (Login, SetPin, InitPin, InitToken, Backup) asks
 * chsm_pin_throttle_wait_ms first and reports its outcome afterwards. After k
 * consecutive CKR_PIN_INCORRECT on a slot, from any client, no PIN RPC on
 * that slot reaches the core for min(250 ms * 2^(k-1), 8 s); a success resets
 * the count. It sits beside the per-client throttle (clients.h), which a
 * client can shed by reconnecting; this one it cannot. The price: anyone who
 * can reach the daemon can keep a slot's PIN RPCs throttled (docs/daemon.md).
 *
 * Thread-safe; state for a bounded number of slots (ids beyond that share
 * one entry, which only throttles more).
 */
#ifndef CHSM_DAEMON_PIN_THROTTLE_H
#define CHSM_DAEMON_PIN_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/result.h"

#define CHSM_PIN_THROTTLE_BASE_MS 250u
#define CHSM_PIN_THROTTLE_MAX_MS 8000u

/* Milliseconds before a PIN may be tried on slot again (0: go). */
uint64_t chsm_pin_throttle_wait_ms(CK_SLOT_ID slot);
/* Record the outcome of a PIN RPC on slot: CKR_PIN_INCORRECT counts, CKR_OK
 * resets when reset_on_ok (the RPC verified a PIN), anything else is neutral. */
void chsm_pin_throttle_result(CK_SLOT_ID slot, CK_RV rv, bool reset_on_ok);
/* Forget every slot's state (shutdown, tests). */
void chsm_pin_throttle_reset(void);

/* The shared back-off curve: delay after `failures` consecutive failures. */
uint64_t chsm_pin_throttle_delay_ms(unsigned failures);

#endif
