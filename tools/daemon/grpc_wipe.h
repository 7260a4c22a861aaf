/*
 * Wiping gRPC-owned request bytes (security review M3). Request messages
 * carry PINs and key values; gRPC hands them over as a grpc_byte_buffer whose
 * slices are references to gRPC's own receive memory, and frees that memory
 * unwiped when the buffer is destroyed. See docs/daemon.md "Secrets" for what
 * remains outside the daemon's reach.
 */
#ifndef CHSM_DAEMON_GRPC_WIPE_H
#define CHSM_DAEMON_GRPC_WIPE_H

#include <grpc/byte_buffer.h>

/* Overwrite with zeros, in place, every byte of every slice of bb (NULL: no-op).
 * Call it right before grpc_byte_buffer_destroy. */
void chsm_grpc_wipe_byte_buffer(grpc_byte_buffer *bb);

#endif
