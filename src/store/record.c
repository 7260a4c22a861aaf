/*
 * Object records: attribute encoding + AES-256-GCM bound to the token, the
 * object and the record version (brief, "Key hierarchy"; issue 3, "Records").
 *
 * Plaintext encoding (record version 1, little-endian, never a C struct):
 *   u16 version | u32 count | count x (u64 type | u32 len | len bytes)
 * CK_ULONG-valued attributes are already 8-byte LE in struct chsm_attrlist.
 *
 * Each object is split into a public part (every non-secret attribute) and
 * a secret part (CKA_VALUE of secret/private/OTP keys and the RSA private
 * components). The secret part is always sealed under record_key =
 * HKDF(MK, "craton-hsm record key v1"); the public part under record_key
 * when the object is private and under the token's public-object key when
 * it is not (so public objects are findable while logged out).
 *
 * Sealed part:  u16 record version | 12-byte IV | ciphertext | 16-byte tag
 * AAD (41 bytes): "CHSM" | u32 record version | serial[16] | id[16] | u8 kind
 * so a part cannot be moved to another object, token or part kind, and a
 * future version can still read (and authenticate) version-1 parts.
 */
#include <string.h>

#include "common/log.h"
#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "store/store_int.h"

#define AAD_LEN (4 + 4 + 16 + CHSM_OBJECT_ID_LEN + 1)
#define SEALED_OVERHEAD (2 + CHSM_GCM_IV_LEN + CHSM_GCM_TAG_LEN)

void chsm_sealed_free(struct chsm_sealed_object *so)
{
    chsm_buf_free(&so->pub);
    chsm_buf_free(&so->sec);
}

bool chsm_record_attr_is_secret(uint64_t class_, CK_ATTRIBUTE_TYPE type)
{
    switch (type) {
    case CKA_PRIVATE_EXPONENT:
    case CKA_PRIME_1:
    case CKA_PRIME_2:
    case CKA_EXPONENT_1:
    case CKA_EXPONENT_2:
    case CKA_COEFFICIENT:
        return true;
    case CKA_VALUE:
        return class_ == CKO_SECRET_KEY || class_ == CKO_PRIVATE_KEY || class_ == CKO_OTP_KEY;
    default:
        return false;
    }
}

static uint64_t attrs_class(const struct chsm_attrlist *attrs)
{
    return chsm_attrlist_get_ulong(attrs, CKA_CLASS, CK_UNAVAILABLE_INFORMATION);
}

bool chsm_record_has_secret(const struct chsm_attrlist *attrs)
{
    uint64_t class_ = attrs_class(attrs);
    for (size_t i = 0; i < attrs->count; i++)
        if (chsm_record_attr_is_secret(class_, attrs->items[i].type))
            return true;
    return false;
}

static void make_aad(uint8_t aad[AAD_LEN], const char serial[16], const uint8_t id[CHSM_OBJECT_ID_LEN],
                     enum chsm_blob_kind kind)
{
    memcpy(aad, "CHSM", 4);
    chsm_store_le32(aad + 4, CHSM_RECORD_VERSION);
    memcpy(aad + 8, serial, 16);
    memcpy(aad + 24, id, CHSM_OBJECT_ID_LEN);
    aad[24 + CHSM_OBJECT_ID_LEN] = (uint8_t)kind;
}

static CK_RV encode_part(const struct chsm_attrlist *attrs, bool secret_part, struct chsm_buf *pt, bool *empty)
{
    uint64_t class_ = attrs_class(attrs);
    uint32_t n = 0;
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < attrs->count; i++)
        if (chsm_record_attr_is_secret(class_, attrs->items[i].type) == secret_part)
            n++;
    *empty = n == 0;
    CHSM_GUARD(chsm_buf_put_u16(pt, CHSM_RECORD_VERSION));
    CHSM_GUARD(chsm_buf_put_u32(pt, n));
    for (size_t i = 0; i < attrs->count; i++) {
        const struct chsm_attr *a = &attrs->items[i];
        if (chsm_record_attr_is_secret(class_, a->type) != secret_part)
            continue;
        CHSM_GUARD(chsm_buf_put_u64(pt, a->type));
        CHSM_GUARD(chsm_buf_put_lv(pt, a->value, a->len));
    }
out:
    return rv;
}

static CK_RV seal_part(const struct chsm_buf *pt, const uint8_t key[32], const char serial[16],
                       const uint8_t id[CHSM_OBJECT_ID_LEN], enum chsm_blob_kind kind, struct chsm_buf *out)
{
    uint8_t aad[AAD_LEN];
    CK_RV rv = CKR_OK;
    make_aad(aad, serial, id, kind);
    CHSM_GUARD(chsm_buf_reserve(out, SEALED_OVERHEAD + pt->len));
    CHSM_GUARD(chsm_buf_put_u16(out, CHSM_RECORD_VERSION));
    uint8_t *iv = out->data + out->len;
    CHSM_GUARD(chsm_rand_bytes(iv, CHSM_GCM_IV_LEN));
    uint8_t *ct = iv + CHSM_GCM_IV_LEN;
    CHSM_GUARD(chsm_aes256_gcm_seal(key, iv, aad, sizeof(aad), pt->data, pt->len, ct, ct + pt->len));
    out->len += CHSM_GCM_IV_LEN + pt->len + CHSM_GCM_TAG_LEN;
out:
    return rv;
}

CK_RV chsm_record_seal(const struct chsm_attrlist *attrs, const char serial[16], const uint8_t id[CHSM_OBJECT_ID_LEN],
                       const uint8_t *record_key, const uint8_t pub_key[CHSM_PUB_KEY_LEN],
                       struct chsm_sealed_object *out)
{
    struct chsm_buf pt;
    bool empty = false;
    CK_RV rv = CKR_OK;
    chsm_buf_init(&pt, 1);
    memset(out, 0, sizeof(*out));
    out->class_ = attrs_class(attrs);
    out->key_type = chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
    out->is_private = chsm_attrlist_get_bool(attrs, CKA_PRIVATE, true);
    CHSM_ENSURE(record_key != NULL || (!out->is_private && !chsm_record_has_secret(attrs)),
                CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "store", "private or secret object written without the master key"));
    CHSM_GUARD(encode_part(attrs, false, &pt, &empty));
    CHSM_GUARD(seal_part(&pt, out->is_private ? record_key : pub_key, serial, id, CHSM_BLOB_PUB, &out->pub));
    chsm_buf_free(&pt);
    chsm_buf_init(&pt, 1);
    CHSM_GUARD(encode_part(attrs, true, &pt, &empty));
    if (!empty)
        CHSM_GUARD(seal_part(&pt, record_key, serial, id, CHSM_BLOB_SEC, &out->sec));
out:
    chsm_buf_free(&pt);
    if (rv != CKR_OK)
        chsm_sealed_free(out);
    return rv;
}

/* Strict decode: exact version, exact count, no trailing bytes. false on any malformation. */
static bool decode_part(const uint8_t *pt, size_t len, bool secret_part, uint64_t class_, struct chsm_attrlist *l)
{
    struct chsm_cursor c;
    uint16_t ver = 0;
    uint32_t n = 0;
    chsm_cursor_init(&c, pt, len);
    if (!chsm_cursor_u16(&c, &ver) || ver != CHSM_RECORD_VERSION || !chsm_cursor_u32(&c, &n))
        return false;
    if (n > chsm_cursor_left(&c) / 12)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t type = 0;
        const uint8_t *v = NULL;
        size_t vlen = 0;
        if (!chsm_cursor_u64(&c, &type) || !chsm_cursor_lv(&c, &v, &vlen))
            return false;
        /* The class decides the split, so it is checked after the whole list is in (see record_open). */
        if (secret_part && !chsm_record_attr_is_secret(class_, type))
            return false;
        if (chsm_attrlist_has(l, type) || chsm_attrlist_set(l, type, v, vlen) != CKR_OK)
            return false;
    }
    return chsm_cursor_left(&c) == 0;
}

static bool open_part(const uint8_t *blob, size_t len, const uint8_t key[32], const char serial[16],
                      const uint8_t id[CHSM_OBJECT_ID_LEN], enum chsm_blob_kind kind, uint64_t class_,
                      struct chsm_attrlist *l)
{
    uint8_t aad[AAD_LEN];
    struct chsm_secbuf pt = {0};
    bool ok = false;
    if (len < SEALED_OVERHEAD || chsm_load_le16(blob) != CHSM_RECORD_VERSION)
        return false;
    size_t ct_len = len - SEALED_OVERHEAD;
    const uint8_t *iv = blob + 2, *ct = iv + CHSM_GCM_IV_LEN, *tag = ct + ct_len;
    make_aad(aad, serial, id, kind);
    if (chsm_secbuf_alloc(&pt, ct_len) != CKR_OK)
        return false;
    if (chsm_aes256_gcm_open(key, iv, aad, sizeof(aad), ct, ct_len, tag, pt.data) == CKR_OK)
        ok = decode_part(pt.data, pt.len, kind == CHSM_BLOB_SEC, class_, l);
    chsm_secbuf_free(&pt);
    return ok;
}

/* The clear columns must agree with the authenticated attributes, or a column was altered. */
static bool columns_match(const struct chsm_attrlist *l, uint64_t class_, uint64_t key_type, bool is_private)
{
    if (attrs_class(l) != class_)
        return false;
    if (chsm_attrlist_get_ulong(l, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION) != key_type)
        return false;
    if (chsm_attrlist_get_bool(l, CKA_PRIVATE, true) != is_private)
        return false;
    for (size_t i = 0; i < l->count; i++)
        if (chsm_record_attr_is_secret(class_, l->items[i].type))
            return false; /* a secret attribute in the public part */
    return true;
}

CK_RV chsm_record_open(const uint8_t *pub, size_t pub_len, const uint8_t *sec, size_t sec_len, uint64_t class_,
                       uint64_t key_type, bool is_private, const char serial[16],
                       const uint8_t id[CHSM_OBJECT_ID_LEN], const uint8_t *record_key,
                       const uint8_t pub_key[CHSM_PUB_KEY_LEN], struct chsm_store_object *out)
{
    CK_RV rv = CKR_OK;
    memset(out, 0, sizeof(*out));
    chsm_attrlist_init(&out->attrs);
    memcpy(out->id, id, CHSM_OBJECT_ID_LEN);
    out->is_private = is_private;
    CHSM_ENSURE(record_key != NULL || !is_private,
                CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "store", "private object read without the master key"));
    bool ok = open_part(pub, pub_len, is_private ? record_key : pub_key, serial, id, CHSM_BLOB_PUB, class_,
                        &out->attrs) &&
              columns_match(&out->attrs, class_, key_type, is_private);
    if (ok && record_key != NULL && sec_len > 0)
        ok = open_part(sec, sec_len, record_key, serial, id, CHSM_BLOB_SEC, class_, &out->attrs);
    if (!ok) {
        char hex[2 * CHSM_OBJECT_ID_LEN + 1];
        chsm_hex_encode(id, CHSM_OBJECT_ID_LEN, hex);
        chsm_log(CHSM_LOG_ERROR, "store: object %s failed authentication", hex);
        CHSM_BAIL(CHSM_ERR(CKR_DEVICE_ERROR, "store", "object %s failed authentication", hex));
    }
    out->secrets_loaded = record_key != NULL;
out:
    if (rv != CKR_OK)
        chsm_attrlist_free(&out->attrs);
    return rv;
}

void chsm_store_object_free(struct chsm_store_object *o)
{
    if (o == NULL)
        return;
    chsm_attrlist_free(&o->attrs);
    chsm_wipe(o, sizeof(*o));
}
