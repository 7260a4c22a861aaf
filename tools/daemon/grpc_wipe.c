/* In-place wipe of a received byte buffer: see grpc_wipe.h. */
#include "grpc_wipe.h"

#include <grpc/slice.h>
#include <grpc/slice_buffer.h>

#include "common/secbuf.h"

/*
 * The slice array is walked directly rather than through
 * grpc_byte_buffer_reader: the reader hands out slices by value, and for a
 * small (inlined) slice that value is a copy of the bytes, so wiping it would
 * leave the original. GRPC_SLICE_START_PTR on the array element addresses the
 * bytes themselves: the inline array inside the element, or the refcounted
 * heap block that also backs gRPC's receive buffer (a received payload is
 * never a static slice). A compressed buffer is walked the same way (its
 * compressed bytes); the daemon refuses compressed requests anyway.
 */
void chsm_grpc_wipe_byte_buffer(grpc_byte_buffer *bb)
{
    grpc_slice_buffer *sb;

    if (bb == NULL || bb->type != GRPC_BB_RAW)
        return;
    sb = &bb->data.raw.slice_buffer;
    for (size_t i = 0; i < sb->count; i++) {
        grpc_slice *s = &sb->slices[i];
        size_t n = GRPC_SLICE_LENGTH(*s);
        if (n > 0)
            chsm_wipe(GRPC_SLICE_START_PTR(*s), n);
    }
}
