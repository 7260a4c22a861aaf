/*
 * The known contents of the fixture token and of the object each host adds,
 * compared attribute by attribute after decryption. CK_ULONG attributes are
 * 8-byte little-endian in the stored form on every host (attrlist.h): the
 * test checks both the raw bytes and the decoded value, so a host that wrote
 * or read them in its native order fails here.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portab.h"

const char *pt_host_byte_order(void)
{
    const uint32_t probe = 0x01020304u;
    uint8_t first;
    memcpy(&first, &probe, 1);
    return first == 0x01 ? "big-endian" : first == 0x04 ? "little-endian" : "mixed-endian";
}

void pt_host_label(const char *order, char *out, size_t n)
{
    snprintf(out, n, "portab-%s", order);
}

/* ---- loading ---- */

static CK_RV keep(void *ctx, struct chsm_store_object *obj)
{
    struct pt_objects *o = ctx;
    if (o->count == CHSM_ARRAY_LEN(o->items)) {
        chsm_store_object_free(obj);
        return CHSM_ERR(CKR_DEVICE_MEMORY, "portab", "more objects than the test expects");
    }
    o->items[o->count++] = *obj;
    return CKR_OK;
}

static void bad(void *ctx, const uint8_t id[CHSM_OBJECT_ID_LEN], CK_RV why)
{
    CHSM_UNUSED(ctx);
    CHSM_UNUSED(id);
    fail_msg("a stored record fails authentication: %s", chsm_rv_name(why));
}

CK_RV pt_load_objects(struct chsm_store *st, const struct chsm_secbuf *mk, struct pt_objects *out)
{
    const struct chsm_store_feed feed = {.ctx = out, .upsert = keep, .bad = bad};
    uint64_t rev;
    memset(out, 0, sizeof(*out));
    return chsm_store_changes(st, PT_SLOT, 0, mk, &feed, &rev);
}

void pt_objects_free(struct pt_objects *o)
{
    for (size_t i = 0; i < o->count; i++)
        chsm_store_object_free(&o->items[i]);
    o->count = 0;
}

const struct chsm_store_object *pt_find(const struct pt_objects *o, const char *label)
{
    for (size_t i = 0; i < o->count; i++) {
        const struct chsm_attr *a = chsm_attrlist_get(&o->items[i].attrs, CKA_LABEL);
        if (a != NULL && a->len == strlen(label) && memcmp(a->value, label, a->len) == 0)
            return &o->items[i];
    }
    return NULL;
}

/* ---- comparisons ---- */

static void check_bytes(const struct chsm_store_object *obj, CK_ATTRIBUTE_TYPE t, const void *want, size_t len)
{
    const struct chsm_attr *a = chsm_attrlist_get(&obj->attrs, t);
    if (a == NULL)
        fail_msg("attribute 0x%lx missing", (unsigned long)t);
    assert_int_equal(a->len, len);
    assert_memory_equal(a->value, want, len);
}

/* Stored form: exactly 8 bytes, least significant first; decoded: the value. */
static void check_ulong(const struct chsm_store_object *obj, CK_ATTRIBUTE_TYPE t, uint64_t want)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(want >> (8 * i));
    check_bytes(obj, t, le, sizeof(le));
    assert_int_equal(chsm_attrlist_get_ulong(&obj->attrs, t, ~(uint64_t)0), want);
}

static void check_bool(const struct chsm_store_object *obj, CK_ATTRIBUTE_TYPE t, bool want)
{
    const uint8_t b = want ? CK_TRUE : CK_FALSE;
    check_bytes(obj, t, &b, 1);
}

static const struct chsm_store_object *must_find(const struct pt_objects *o, const char *label)
{
    const struct chsm_store_object *obj = pt_find(o, label);
    if (obj == NULL)
        fail_msg("object \"%s\" missing after restore", label);
    return obj;
}

void pt_check_fixture_objects(const struct pt_objects *o)
{
    uint8_t aes[32], sec[20];
    const struct chsm_store_object *obj;
    for (size_t i = 0; i < sizeof(aes); i++)
        aes[i] = (uint8_t)i;
    memset(sec, 0xC3, sizeof(sec));

    obj = must_find(o, "fx-aes");
    assert_true(obj->is_private);
    assert_true(obj->secrets_loaded);
    check_ulong(obj, CKA_CLASS, CKO_SECRET_KEY);
    check_ulong(obj, CKA_KEY_TYPE, CKK_AES);
    check_bool(obj, CKA_PRIVATE, true);
    check_bytes(obj, CKA_VALUE, aes, sizeof(aes));

    obj = must_find(o, "fx-data");
    assert_false(obj->is_private);
    check_ulong(obj, CKA_CLASS, CKO_DATA);
    check_bool(obj, CKA_PRIVATE, false);
    check_bytes(obj, CKA_VALUE, "public fixture data", strlen("public fixture data"));

    obj = must_find(o, "fx-secret");
    assert_true(obj->is_private);
    check_ulong(obj, CKA_CLASS, CKO_SECRET_KEY);
    check_ulong(obj, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    check_bool(obj, CKA_PRIVATE, true);
    check_bytes(obj, CKA_ID, "fx01", 4);
    check_bytes(obj, CKA_VALUE, sec, sizeof(sec));
}

void pt_check_token(struct chsm_store *st, uint64_t objects)
{
    struct chsm_token_state ts;
    assert_int_equal(chsm_store_token_get(st, PT_SLOT, &ts), CKR_OK);
    assert_true(ts.initialized);
    assert_true(ts.user_pin_initialized);
    assert_memory_equal(ts.label, PT_LABEL, sizeof(ts.label));
    assert_memory_equal(ts.serial, PT_SERIAL, sizeof(ts.serial));
    assert_int_equal(ts.object_count, objects);
}

/* A value no other object has: the host's byte order must not matter to it either. */
static void host_value(const char *order, uint8_t v[32])
{
    for (size_t i = 0; i < 32; i++)
        v[i] = (uint8_t)((i * 7u + 3u) ^ (order[0] == 'b' ? 0xB0u : 0x1Eu));
}

void pt_add_host_object(struct chsm_store *st, const struct chsm_secbuf *mk, const char *order)
{
    struct chsm_attrlist a;
    uint8_t id[CHSM_OBJECT_ID_LEN], v[32];
    char label[64];
    pt_host_label(order, label, sizeof(label));
    host_value(order, v);
    chsm_attrlist_init(&a);
    assert_int_equal(chsm_attrlist_set_ulong(&a, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
    assert_int_equal(chsm_attrlist_set_ulong(&a, CKA_KEY_TYPE, CKK_AES), CKR_OK);
    assert_int_equal(chsm_attrlist_set_ulong(&a, CKA_VALUE_LEN, 32), CKR_OK);
    assert_int_equal(chsm_attrlist_set_bool(&a, CKA_PRIVATE, true), CKR_OK);
    assert_int_equal(chsm_attrlist_set(&a, CKA_LABEL, label, strlen(label)), CKR_OK);
    assert_int_equal(chsm_attrlist_set(&a, CKA_ID, order, 3), CKR_OK);
    assert_int_equal(chsm_attrlist_set(&a, CKA_VALUE, v, sizeof(v)), CKR_OK);
    assert_int_equal(chsm_store_new_object_id(id), CKR_OK);
    assert_int_equal(chsm_store_object_put(st, PT_SLOT, mk, id, &a, NULL), CKR_OK);
    chsm_attrlist_free(&a);
    /* New salt, verifier and MK wrap for the user PIN, encoded on this host (same PIN value). */
    assert_int_equal(chsm_store_pin_set(st, PT_SLOT, CHSM_PIN_USER, mk, (const uint8_t *)PT_USER_PIN,
                                        strlen(PT_USER_PIN), PT_ITER),
                     CKR_OK);
}

void pt_check_host_object(const struct pt_objects *o, const char *order)
{
    uint8_t v[32];
    char label[64];
    const struct chsm_store_object *obj;
    pt_host_label(order, label, sizeof(label));
    host_value(order, v);
    obj = must_find(o, label);
    assert_true(obj->is_private);
    check_ulong(obj, CKA_CLASS, CKO_SECRET_KEY);
    check_ulong(obj, CKA_KEY_TYPE, CKK_AES);
    check_ulong(obj, CKA_VALUE_LEN, 32);
    check_bool(obj, CKA_PRIVATE, true);
    check_bytes(obj, CKA_ID, order, 3);
    check_bytes(obj, CKA_VALUE, v, sizeof(v));
}

/* ---- files ---- */

void pt_copy_file(const char *from, const char *to)
{
    char buf[8192];
    ssize_t n;
    int in = open(from, O_RDONLY), out;
    if (in < 0)
        fail_msg("cannot read %s: %s", from, strerror(errno));
    out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600); /* the store refuses group/other access */
    if (out < 0)
        fail_msg("cannot create %s: %s", to, strerror(errno));
    while ((n = read(in, buf, sizeof(buf))) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    assert_int_equal(n, 0);
    close(in);
    assert_int_equal(close(out), 0);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    CHSM_UNUSED(sb);
    CHSM_UNUSED(flag);
    CHSM_UNUSED(ftw);
    return remove(p);
}

void pt_rm_rf(const char *dir)
{
    (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct chsm_store *pt_open_login(const char *dir, uint64_t objects, struct chsm_secbuf *mk)
{
    struct chsm_store *st = NULL;
    uint32_t failed = 99;
    if (chsm_store_open(dir, &st) != CKR_OK)
        fail_msg("cannot open the store in %s: %s", dir, chsm_err_last()->msg);
    pt_check_token(st, objects);
    /* A wrong PIN is refused (and counted) before the right one opens the MK. */
    assert_int_equal(chsm_store_pin_check(st, PT_SLOT, CHSM_PIN_USER, (const uint8_t *)"wrong-pin", 9,
                                          PT_MAX_FAILED, mk, &failed),
                     CKR_PIN_INCORRECT);
    assert_int_equal(failed, 1);
    assert_int_equal(chsm_store_pin_check(st, PT_SLOT, CHSM_PIN_USER, (const uint8_t *)PT_USER_PIN,
                                          strlen(PT_USER_PIN), PT_MAX_FAILED, mk, &failed),
                     CKR_OK);
    assert_int_equal(failed, 0);
    assert_int_equal(mk->len, CHSM_MASTER_KEY_LEN);
    return st;
}
