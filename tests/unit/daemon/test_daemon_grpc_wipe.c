/* M3: a received grpc_byte_buffer is wiped in place before it is destroyed:
 * inlined (small) slices inside the buffer and refcounted slices whose memory
 * is shared with whoever else holds a reference (gRPC's receive buffer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <grpc/grpc.h>
#include <grpc/slice.h>

#include "grpc_wipe.h"

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void test_wipes_every_slice_in_place(void **state)
{
    static const char pin[] = "pin-1234";  /* inlined: lives inside the slice struct */
    uint8_t key[300];                      /* refcounted heap block */
    grpc_slice parts[2];
    grpc_byte_buffer *bb;
    grpc_slice_buffer *sb;
    (void)state;

    memset(key, 0xa5, sizeof key);
    parts[0] = grpc_slice_from_copied_buffer(pin, sizeof pin - 1);
    parts[1] = grpc_slice_from_copied_buffer((const char *)key, sizeof key);
    bb = grpc_raw_byte_buffer_create(parts, 2); /* takes its own references */
    assert_non_null(bb);
    sb = &bb->data.raw.slice_buffer;
    assert_int_equal(sb->count, 2);
    assert_memory_equal(GRPC_SLICE_START_PTR(sb->slices[0]), pin, sizeof pin - 1);

    chsm_grpc_wipe_byte_buffer(bb);
    assert_true(all_zero(GRPC_SLICE_START_PTR(sb->slices[0]), GRPC_SLICE_LENGTH(sb->slices[0])));
    assert_true(all_zero(GRPC_SLICE_START_PTR(sb->slices[1]), GRPC_SLICE_LENGTH(sb->slices[1])));
    /* the shared block itself is zero, as seen through the other reference */
    assert_int_equal(GRPC_SLICE_LENGTH(parts[1]), sizeof key);
    assert_true(all_zero(GRPC_SLICE_START_PTR(parts[1]), sizeof key));
    grpc_byte_buffer_destroy(bb);
    grpc_slice_unref(parts[0]);
    grpc_slice_unref(parts[1]);
    chsm_grpc_wipe_byte_buffer(NULL); /* no-op */
}

static int setup(void **state)
{
    (void)state;
    grpc_init();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    grpc_shutdown();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_wipes_every_slice_in_place)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
