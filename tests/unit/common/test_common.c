/* Unit tests for src/common: byte encoding, cursor bounds, secret buffers, attribute lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/attrlist.h"
#include "common/bytes.h"
#include "common/secbuf.h"

static void test_le_encoding_is_fixed(void **state)
{
    (void)state;
    struct chsm_buf b;
    chsm_buf_init(&b, 0);
    assert_int_equal(chsm_buf_put_u16(&b, 0x0102), CKR_OK);
    assert_int_equal(chsm_buf_put_u32(&b, 0x03040506u), CKR_OK);
    assert_int_equal(chsm_buf_put_u64(&b, 0x0708090a0b0c0d0eull), CKR_OK);
    const uint8_t expect[] = {0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, 0x07};
    assert_int_equal(b.len, sizeof(expect));
    assert_memory_equal(b.data, expect, sizeof(expect));

    struct chsm_cursor c;
    uint16_t a16;
    uint32_t a32;
    uint64_t a64;
    chsm_cursor_init(&c, b.data, b.len);
    assert_true(chsm_cursor_u16(&c, &a16));
    assert_true(chsm_cursor_u32(&c, &a32));
    assert_true(chsm_cursor_u64(&c, &a64));
    assert_int_equal(a16, 0x0102);
    assert_int_equal(a32, 0x03040506u);
    assert_true(a64 == 0x0708090a0b0c0d0eull);
    assert_int_equal(chsm_cursor_left(&c), 0);
    assert_false(chsm_cursor_u8(&c, (uint8_t *)&a16));
    chsm_buf_free(&b);
}

static void test_cursor_rejects_truncated_lv(void **state)
{
    (void)state;
    /* Length prefix says 5 bytes but only 3 follow. */
    const uint8_t in[] = {5, 0, 0, 0, 'a', 'b', 'c'};
    struct chsm_cursor c;
    const uint8_t *p;
    size_t n;
    chsm_cursor_init(&c, in, sizeof(in));
    assert_false(chsm_cursor_lv(&c, &p, &n));
    assert_int_equal(c.off, 0); /* nothing consumed */
    const uint8_t ok[] = {2, 0, 0, 0, 'h', 'i'};
    chsm_cursor_init(&c, ok, sizeof(ok));
    assert_true(chsm_cursor_lv(&c, &p, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(p, "hi", 2);
}

static void test_secbuf_lifecycle(void **state)
{
    (void)state;
    struct chsm_secbuf s = {0};
    chsm_secbuf_free(&s); /* empty free is a no-op */
    assert_int_equal(chsm_secbuf_copy(&s, "secret-bytes", 12), CKR_OK);
    assert_memory_equal(s.data, "secret-bytes", 12);
    chsm_secbuf_truncate(&s, 6);
    assert_int_equal(s.len, 6);
    assert_int_equal(s.cap, 12);
    chsm_secbuf_free(&s);
    assert_null(s.data);
    /* A recycled block comes back zeroed. */
    assert_int_equal(chsm_secbuf_alloc(&s, 12), CKR_OK);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(s.data[i], 0);
    chsm_secbuf_free(&s);
    /* Large allocations take their own mapping. */
    assert_int_equal(chsm_secbuf_alloc(&s, 10000), CKR_OK);
    s.data[9999] = 1;
    chsm_secbuf_free(&s);
}

static void test_attrlist_sorted_replace_remove(void **state)
{
    (void)state;
    struct chsm_attrlist l;
    chsm_attrlist_init(&l);
    assert_int_equal(chsm_attrlist_set(&l, CKA_LABEL, "b", 1), CKR_OK);
    assert_int_equal(chsm_attrlist_set_ulong(&l, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_TOKEN, true), CKR_OK);
    assert_int_equal(chsm_attrlist_set(&l, CKA_LABEL, "label", 5), CKR_OK);
    assert_int_equal(l.count, 3);
    for (size_t i = 1; i < l.count; i++)
        assert_true(l.items[i - 1].type < l.items[i].type);
    assert_int_equal(chsm_attrlist_get(&l, CKA_LABEL)->len, 5);
    assert_true(chsm_attrlist_get_ulong(&l, CKA_CLASS, 99) == CKO_SECRET_KEY);
    assert_true(chsm_attrlist_get_bool(&l, CKA_TOKEN, false));
    assert_false(chsm_attrlist_get_bool(&l, CKA_PRIVATE, false));
    struct chsm_attrlist c;
    assert_int_equal(chsm_attrlist_clone(&c, &l), CKR_OK);
    chsm_attrlist_remove(&l, CKA_CLASS);
    assert_null(chsm_attrlist_get(&l, CKA_CLASS));
    assert_non_null(chsm_attrlist_get(&c, CKA_CLASS));
    chsm_attrlist_free(&l);
    chsm_attrlist_free(&c);
}

/* One-byte 0x00/0x01 values share constant bytes: replacing, removing, cloning and freeing them
 * (and other one-byte values) must behave exactly like owned values (ASan catches a bad free). */
static void test_attrlist_one_byte_values(void **state)
{
    (void)state;
    struct chsm_attrlist l, c;
    const uint8_t two = 2, one = 1;
    chsm_attrlist_init(&l);
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_SIGN, true), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_VERIFY, false), CKR_OK);
    assert_int_equal(chsm_attrlist_set(&l, CKA_VALUE, &two, 1), CKR_OK);
    assert_true(chsm_attrlist_get_bool(&l, CKA_SIGN, false));
    assert_false(chsm_attrlist_get_bool(&l, CKA_VERIFY, true));
    assert_int_equal(chsm_attrlist_get(&l, CKA_VALUE)->value[0], 2);
    assert_int_equal(chsm_attrlist_set(&l, CKA_VALUE, &one, 1), CKR_OK); /* owned -> shared */
    assert_int_equal(chsm_attrlist_get(&l, CKA_VALUE)->value[0], 1);
    assert_int_equal(chsm_attrlist_set_bool(&l, CKA_SIGN, false), CKR_OK); /* shared -> shared */
    assert_false(chsm_attrlist_get_bool(&l, CKA_SIGN, true));
    assert_int_equal(chsm_attrlist_set(&l, CKA_VERIFY, &two, 1), CKR_OK); /* shared -> owned */
    assert_int_equal(chsm_attrlist_get(&l, CKA_VERIFY)->value[0], 2);
    assert_int_equal(chsm_attrlist_clone(&c, &l), CKR_OK);
    chsm_attrlist_remove(&l, CKA_VALUE);
    assert_null(chsm_attrlist_get(&l, CKA_VALUE));
    assert_int_equal(chsm_attrlist_get(&c, CKA_VALUE)->value[0], 1);
    assert_false(chsm_attrlist_get_bool(&c, CKA_SIGN, true));
    chsm_attrlist_free(&l);
    chsm_attrlist_free(&c);
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0xab, 0xff};
    char out[7];
    uint8_t back[3];
    chsm_hex_encode(in, 3, out);
    assert_string_equal(out, "00abff");
    assert_true(chsm_hex_decode("00ABff", back, 3));
    assert_memory_equal(back, in, 3);
    assert_false(chsm_hex_decode("00abf", back, 3));
    assert_false(chsm_hex_decode("00abfg", back, 3));
}

static void test_rv_names(void **state)
{
    (void)state;
    assert_string_equal(chsm_rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
    assert_string_equal(chsm_rv_name(0x7ffffffful), "CKR_0x7fffffff");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_le_encoding_is_fixed),  cmocka_unit_test(test_cursor_rejects_truncated_lv),
        cmocka_unit_test(test_secbuf_lifecycle),      cmocka_unit_test(test_attrlist_sorted_replace_remove),
        cmocka_unit_test(test_attrlist_one_byte_values),
        cmocka_unit_test(test_hex),                   cmocka_unit_test(test_rv_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
