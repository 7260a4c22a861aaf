/*
 * Portable encodings of a token row and of an object row, for snapshots
 * (backup) and import (restore). Explicit, versioned, little-endian; never a
 * C struct. These blobs carry only what is already on disk: wrapped master
 * keys, salts, verifiers and sealed records — nothing is unwrapped.
 *
 * Token blob v1:
 *   "CHTK" | u16 1 | label[32] | serial[16] | u64 generation | u64 rev |
 *   pub_key[32] | 2 x PIN (SO, then user) | lv created (RFC 3339 text)
 *   PIN: u8 present | u32 iterations | salt[16] | verifier[32] |
 *        wrapped_mk[40] | u32 failed            (zeros when not present)
 * Row blob v1:
 *   "CHOB" | u16 1 | u64 class | u64 key_type | u8 is_private | lv pub | lv sec
 */
#include <string.h>

#include "store/store_int.h"

#define TOKEN_BLOB_VERSION 1u
#define ROW_BLOB_VERSION 1u

static CK_RV put_pin(struct chsm_buf *b, const struct chsm_pin_row *p)
{
    CK_RV rv = CKR_OK;
    CHSM_GUARD(chsm_buf_put_u8(b, p->present ? 1 : 0));
    CHSM_GUARD(chsm_buf_put_u32(b, p->iterations));
    CHSM_GUARD(chsm_buf_put(b, p->salt, sizeof(p->salt)));
    CHSM_GUARD(chsm_buf_put(b, p->verifier, sizeof(p->verifier)));
    CHSM_GUARD(chsm_buf_put(b, p->wrapped_mk, sizeof(p->wrapped_mk)));
    CHSM_GUARD(chsm_buf_put_u32(b, p->failed));
out:
    return rv;
}

CK_RV chsm_token_blob_encode(const struct chsm_token_row *row, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    out->len = 0;
    CHSM_GUARD(chsm_buf_put(out, "CHTK", 4));
    CHSM_GUARD(chsm_buf_put_u16(out, TOKEN_BLOB_VERSION));
    CHSM_GUARD(chsm_buf_put(out, row->label, sizeof(row->label)));
    CHSM_GUARD(chsm_buf_put(out, row->serial, sizeof(row->serial)));
    CHSM_GUARD(chsm_buf_put_u64(out, row->generation));
    CHSM_GUARD(chsm_buf_put_u64(out, row->rev));
    CHSM_GUARD(chsm_buf_put(out, row->pub_key, sizeof(row->pub_key)));
    CHSM_GUARD(put_pin(out, &row->pin[CHSM_PIN_SO]));
    CHSM_GUARD(put_pin(out, &row->pin[CHSM_PIN_USER]));
    CHSM_GUARD(chsm_buf_put_lv(out, row->created, strlen(row->created)));
out:
    return rv;
}

static bool get_fixed(struct chsm_cursor *c, void *out, size_t n)
{
    const uint8_t *p = NULL;
    if (!chsm_cursor_bytes(c, n, &p))
        return false;
    memcpy(out, p, n);
    return true;
}

static bool get_pin(struct chsm_cursor *c, struct chsm_pin_row *p)
{
    uint8_t present = 0;
    if (!chsm_cursor_u8(c, &present) || present > 1 || !chsm_cursor_u32(c, &p->iterations) ||
        !get_fixed(c, p->salt, sizeof(p->salt)) || !get_fixed(c, p->verifier, sizeof(p->verifier)) ||
        !get_fixed(c, p->wrapped_mk, sizeof(p->wrapped_mk)) || !chsm_cursor_u32(c, &p->failed))
        return false;
    p->present = present == 1;
    return !p->present || p->iterations >= 1;
}

static CK_RV bad_blob(const char *what, unsigned version, unsigned supported)
{
    if (version > supported)
        return CHSM_ERR(CKR_DATA_INVALID, "store", "%s format version %u is newer than this binary supports (%u)",
                        what, version, supported);
    return CHSM_ERR(CKR_DATA_INVALID, "store", "%s is malformed", what);
}

CK_RV chsm_token_blob_decode(const uint8_t *blob, size_t len, struct chsm_token_row *row)
{
    struct chsm_cursor c;
    const uint8_t *magic = NULL, *created = NULL;
    size_t created_len = 0;
    uint16_t ver = 0;
    memset(row, 0, sizeof(*row));
    if (blob == NULL)
        return CKR_ARGUMENTS_BAD;
    chsm_cursor_init(&c, blob, len);
    if (!chsm_cursor_bytes(&c, 4, &magic) || memcmp(magic, "CHTK", 4) != 0 || !chsm_cursor_u16(&c, &ver))
        return bad_blob("token blob", 0, TOKEN_BLOB_VERSION);
    if (ver != TOKEN_BLOB_VERSION)
        return bad_blob("token blob", ver, TOKEN_BLOB_VERSION);
    bool ok = get_fixed(&c, row->label, sizeof(row->label)) && get_fixed(&c, row->serial, sizeof(row->serial)) &&
              chsm_cursor_u64(&c, &row->generation) && chsm_cursor_u64(&c, &row->rev) &&
              get_fixed(&c, row->pub_key, sizeof(row->pub_key)) && get_pin(&c, &row->pin[CHSM_PIN_SO]) &&
              row->pin[CHSM_PIN_SO].present && get_pin(&c, &row->pin[CHSM_PIN_USER]) &&
              chsm_cursor_lv(&c, &created, &created_len) && created_len < sizeof(row->created) &&
              chsm_cursor_left(&c) == 0;
    if (!ok) {
        chsm_token_row_wipe(row);
        return bad_blob("token blob", ver, TOKEN_BLOB_VERSION);
    }
    if (created_len > 0)
        memcpy(row->created, created, created_len);
    return CKR_OK;
}

CK_RV chsm_row_blob_encode(const struct chsm_sealed_view *v, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    out->len = 0;
    CHSM_GUARD(chsm_buf_put(out, "CHOB", 4));
    CHSM_GUARD(chsm_buf_put_u16(out, ROW_BLOB_VERSION));
    CHSM_GUARD(chsm_buf_put_u64(out, v->class_));
    CHSM_GUARD(chsm_buf_put_u64(out, v->key_type));
    CHSM_GUARD(chsm_buf_put_u8(out, v->is_private ? 1 : 0));
    CHSM_GUARD(chsm_buf_put_lv(out, v->pub.data, v->pub.len));
    CHSM_GUARD(chsm_buf_put_lv(out, v->sec.data, v->sec.len));
out:
    return rv;
}

CK_RV chsm_row_blob_decode(const uint8_t *blob, size_t len, struct chsm_sealed_view *v)
{
    struct chsm_cursor c;
    const uint8_t *magic = NULL;
    uint16_t ver = 0;
    uint8_t priv = 0;
    memset(v, 0, sizeof(*v));
    if (blob == NULL)
        return CKR_ARGUMENTS_BAD;
    chsm_cursor_init(&c, blob, len);
    if (!chsm_cursor_bytes(&c, 4, &magic) || memcmp(magic, "CHOB", 4) != 0 || !chsm_cursor_u16(&c, &ver))
        return bad_blob("object row blob", 0, ROW_BLOB_VERSION);
    if (ver != ROW_BLOB_VERSION)
        return bad_blob("object row blob", ver, ROW_BLOB_VERSION);
    bool ok = chsm_cursor_u64(&c, &v->class_) && chsm_cursor_u64(&c, &v->key_type) && chsm_cursor_u8(&c, &priv) &&
              priv <= 1 && chsm_cursor_lv(&c, &v->pub.data, &v->pub.len) && v->pub.len > 0 &&
              chsm_cursor_lv(&c, &v->sec.data, &v->sec.len) && chsm_cursor_left(&c) == 0;
    if (!ok)
        return bad_blob("object row blob", ver, ROW_BLOB_VERSION);
    v->is_private = priv == 1;
    return CKR_OK;
}
