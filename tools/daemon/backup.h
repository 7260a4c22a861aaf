/*
 * Backup RPC: the archive `craton-hsm-admin backup` writes (src/store/archive.h),
 * built in memory from a consistent store snapshot while the daemon keeps
 * serving. The SO PIN is checked through the store (it counts toward the
 * lockout) and unwraps the master key; every row is authenticated under it
 * before it is archived; no object key is decrypted into the archive.
 *
 * Ownership: *out is malloc'ed (not secret: the body is encrypted); free it.
 */
#ifndef CHSM_DAEMON_BACKUP_H
#define CHSM_DAEMON_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

CHSM_MUST_CHECK CK_RV chsm_daemon_backup(uint32_t slot, const uint8_t *so_pin, size_t pin_len, size_t max_bytes,
                                         uint8_t **out, size_t *out_len);

#endif
