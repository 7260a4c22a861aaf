/*
 * Object records: attribute encoding and the split into a public and a
 * secret part, each sealed with AES-256-GCM bound to the token, the object,
 * the write's revision and (secret part) the public part (brief, "Key
 * hierarchy"; issue 3, "Records"; security review C2/H1).
 *
 * Plaintext encoding (same in record versions 1 and 2, little-endian,
 * never a C struct):
 *   u16 version | u32 count | count x (u64 type | u32 len | len bytes)
 * CK_ULONG-valued attributes are already 8-byte LE in struct chsm_attrlist.
 *
 * The public part holds every non-secret attribute, the secret part
 * CKA_VALUE of secret/private/OTP keys and the RSA private components. The
 * secret part is always sealed under record_key = HKDF(MK, "craton-hsm
 * record key v1"); the public part under record_key when the object is
 * private and under the token's public-object key (kept in clear) when it is
 * not, so public objects are findable while logged out. Because that key is
 * in clear, a public object's public part is only authentic through the
 * secret part's binding (v2) or the MAC written when the MK was at hand (v2);
 * out->authenticated says which objects have that. Framing, AAD and MAC:
 * record_part.c.
 */
#include <string.h>

#include "common/log.h"
#include "common/secbuf.h"
#include "crypto/crypto.h"
#include "store/record_part.h"
#include "store/store_int.h"


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

static CK_RV encode_part(const struct chsm_attrlist *attrs, bool secret_part, struct chsm_buf *pt, bool *empty)
{
    uint64_t class_ = attrs_class(attrs);
    uint32_t n = 0;
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < attrs->count; i++)
        if (chsm_record_attr_is_secret(class_, attrs->items[i].type) == secret_part)
            n++;
    *empty = n == 0;
    CHSM_GUARD(chsm_buf_put_u16(pt, (uint16_t)CHSM_RECORD_VERSION));
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

CK_RV chsm_record_seal(const struct chsm_attrlist *attrs, const char serial[16], const uint8_t id[CHSM_OBJECT_ID_LEN],
                       uint64_t rev, const struct chsm_rkeys *k, struct chsm_sealed_object *out)
{
    struct chsm_buf pt;
    bool empty = false;
    uint8_t aad[CHSM_PART_AAD_MAX], pub_hash[32];
    CK_RV rv = CKR_OK;
    chsm_buf_init(&pt, 1);
    memset(out, 0, sizeof(*out));
    out->class_ = attrs_class(attrs);
    out->key_type = chsm_attrlist_get_ulong(attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
    out->is_private = chsm_attrlist_get_bool(attrs, CKA_PRIVATE, true);
    bool has_secret = chsm_record_has_secret(attrs);
    CHSM_ENSURE(k->have_mk || (!out->is_private && !has_secret),
                CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "store", "private or secret object written without the master key"));
    CHSM_GUARD(encode_part(attrs, false, &pt, &empty));
    size_t aad_len = chsm_part_make_aad(aad, CHSM_RECORD_VERSION, serial, id, CHSM_BLOB_PUB, rev, NULL);
    /* Only a public object without a secret part needs the MAC: the other parts are keyed by the MK already. */
    const uint8_t *mac_key = k->have_mk && !out->is_private && !has_secret ? k->mac : NULL;
    CHSM_GUARD(chsm_part_seal(&pt, out->is_private ? k->record : k->pub, aad, aad_len, rev, mac_key, &out->pub));
    chsm_buf_free(&pt);
    chsm_buf_init(&pt, 1);
    CHSM_GUARD(encode_part(attrs, true, &pt, &empty));
    if (!empty) {
        CHSM_GUARD(chsm_sha256(out->pub.data, out->pub.len, pub_hash));
        aad_len = chsm_part_make_aad(aad, CHSM_RECORD_VERSION, serial, id, CHSM_BLOB_SEC, rev, pub_hash);
        CHSM_GUARD(chsm_part_seal(&pt, k->record, aad, aad_len, rev, NULL, &out->sec));
    }
out:
    chsm_buf_free(&pt);
    if (rv != CKR_OK)
        chsm_sealed_free(out);
    return rv;
}

/* Strict decode: exact version, exact count, no trailing bytes. false on any malformation. */
static bool decode_part(const uint8_t *pt, size_t len, uint16_t version, bool secret_part, uint64_t class_,
                        struct chsm_attrlist *l)
{
    struct chsm_cursor c;
    uint16_t ver = 0;
    uint32_t n = 0;
    chsm_cursor_init(&c, pt, len);
    if (!chsm_cursor_u16(&c, &ver) || ver != version || !chsm_cursor_u32(&c, &n))
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

static bool open_part(const struct chsm_part_frame *f, const uint8_t key[32], const uint8_t *aad, size_t aad_len,
                      enum chsm_blob_kind kind, uint64_t class_, struct chsm_attrlist *l)
{
    struct chsm_secbuf pt = {0};
    if (chsm_part_open(f, key, aad, aad_len, &pt) != CKR_OK)
        return false;
    bool ok = decode_part(pt.data, pt.len, f->version, kind == CHSM_BLOB_SEC, class_, l);
    chsm_secbuf_free(&pt);
    return ok;
}

bool chsm_record_peek(const uint8_t *part, size_t len, uint16_t *version, uint64_t *rev)
{
    struct chsm_part_frame f;
    if (!chsm_part_parse(part, len, &f))
        return false;
    *version = f.version;
    *rev = f.rev;
    return true;
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

/* The parsed parts of one row and what they must agree on. */
struct opened {
    struct chsm_part_frame pub, sec;
    bool has_sec;
    uint64_t rev;
};

/* Headers: known versions, both parts of one version and (v2) one revision, equal to the row's column. */
static bool frames_ok(const struct chsm_sealed_view *v, const uint64_t *row_rev, struct opened *o)
{
    o->has_sec = v->sec.len > 0;
    if (!chsm_part_parse(v->pub.data, v->pub.len, &o->pub))
        return false;
    if (o->has_sec && !chsm_part_parse(v->sec.data, v->sec.len, &o->sec))
        return false;
    if (o->has_sec && (o->sec.version != o->pub.version || o->sec.rev != o->pub.rev || o->sec.mac != NULL))
        return false;
    /* A MAC belongs only on the public part of a public object without secrets. */
    if (o->pub.mac != NULL && (v->is_private || o->has_sec))
        return false;
    if (o->pub.version == CHSM_RECORD_VERSION_V1) {
        o->rev = row_rev != NULL ? *row_rev : 0;
        return true;
    }
    o->rev = o->pub.rev;
    return row_rev == NULL || *row_rev == o->pub.rev;
}

/* Opens the parts into out->attrs; sets out->authenticated. false: the row is bad. */
static bool open_parts(const struct chsm_sealed_view *v, const struct opened *o, const char serial[16],
                       const uint8_t id[CHSM_OBJECT_ID_LEN], const struct chsm_rkeys *k, struct chsm_store_object *out)
{
    uint8_t aad[CHSM_PART_AAD_MAX], pub_hash[32];
    uint16_t ver = o->pub.version;
    size_t aad_len = chsm_part_make_aad(aad, ver, serial, id, CHSM_BLOB_PUB, o->rev, NULL);
    if (!open_part(&o->pub, v->is_private ? k->record : k->pub, aad, aad_len, CHSM_BLOB_PUB, v->class_,
                   &out->attrs) ||
        !columns_match(&out->attrs, v->class_, v->key_type, v->is_private))
        return false;
    if (!k->have_mk)
        return true; /* logged out: public part only, nothing vouched for by the MK */
    bool mac_ok = false;
    if (o->pub.mac != NULL) {
        if (!chsm_part_mac_ok(&o->pub, k->mac, aad, aad_len))
            return false;
        mac_ok = true;
    }
    if (o->has_sec) {
        const uint8_t *bind = NULL;
        if (ver != CHSM_RECORD_VERSION_V1) {
            if (chsm_sha256(v->pub.data, v->pub.len, pub_hash) != CKR_OK)
                return false;
            bind = pub_hash;
        }
        aad_len = chsm_part_make_aad(aad, ver, serial, id, CHSM_BLOB_SEC, o->rev, bind);
        if (!open_part(&o->sec, k->record, aad, aad_len, CHSM_BLOB_SEC, v->class_, &out->attrs))
            return false;
    }
    /* v1 binds nothing to a public object's public part; a private object's is under record_key in both. */
    out->authenticated = v->is_private || (ver != CHSM_RECORD_VERSION_V1 && (o->has_sec || mac_ok));
    return true;
}

CK_RV chsm_record_open(const struct chsm_sealed_view *v, const uint64_t *row_rev, const char serial[16],
                       const uint8_t id[CHSM_OBJECT_ID_LEN], const struct chsm_rkeys *k, struct chsm_store_object *out)
{
    struct opened o;
    CK_RV rv = CKR_OK;
    memset(out, 0, sizeof(*out));
    chsm_attrlist_init(&out->attrs);
    memcpy(out->id, id, CHSM_OBJECT_ID_LEN);
    out->is_private = v->is_private;
    CHSM_ENSURE(k->have_mk || !v->is_private,
                CHSM_ERR(CKR_USER_NOT_LOGGED_IN, "store", "private object read without the master key"));
    if (!frames_ok(v, row_rev, &o) || !open_parts(v, &o, serial, id, k, out)) {
        char hex[2 * CHSM_OBJECT_ID_LEN + 1];
        chsm_hex_encode(id, CHSM_OBJECT_ID_LEN, hex);
        chsm_log(CHSM_LOG_ERROR, "store: object %s failed authentication", hex);
        CHSM_BAIL(CHSM_ERR(CKR_DEVICE_ERROR, "store", "object %s failed authentication", hex));
    }
    out->rev = o.rev;
    out->secrets_loaded = k->have_mk;
out:
    if (rv != CKR_OK) {
        chsm_attrlist_free(&out->attrs);
        out->authenticated = false;
    }
    return rv;
}

void chsm_store_object_free(struct chsm_store_object *o)
{
    if (o == NULL)
        return;
    chsm_attrlist_free(&o->attrs);
    chsm_wipe(o, sizeof(*o));
}
