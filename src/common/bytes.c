#include "common/bytes.h"

#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"

void chsm_buf_init(struct chsm_buf *b, int secret)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->secret = secret;
}

static void buf_release(uint8_t *p, size_t cap, int secret)
{
    if (p == NULL)
        return;
    if (secret)
        chsm_secure_free(p, cap);
    else
        free(p);
}

CK_RV chsm_buf_reserve(struct chsm_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return CHSM_ERR(CKR_HOST_MEMORY, "common", "buffer size overflow");
    size_t need = b->len + extra;
    if (need <= b->cap)
        return CKR_OK;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = (ncap > SIZE_MAX / 2) ? need : ncap * 2;
    uint8_t *n = b->secret ? chsm_secure_malloc(ncap) : malloc(ncap);
    if (n == NULL)
        return CHSM_ERR(CKR_HOST_MEMORY, "common", "buffer growth to %zu bytes failed", ncap);
    if (b->len > 0)
        memcpy(n, b->data, b->len);
    buf_release(b->data, b->cap, b->secret);
    b->data = n;
    b->cap = ncap;
    return CKR_OK;
}

CK_RV chsm_buf_put(struct chsm_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return CKR_OK;
    CK_RV rv = chsm_buf_reserve(b, n);
    if (rv != CKR_OK)
        return rv;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return CKR_OK;
}

CK_RV chsm_buf_put_u8(struct chsm_buf *b, uint8_t v)
{
    return chsm_buf_put(b, &v, 1);
}

CK_RV chsm_buf_put_u16(struct chsm_buf *b, uint16_t v)
{
    uint8_t t[2];
    chsm_store_le16(t, v);
    return chsm_buf_put(b, t, sizeof(t));
}

CK_RV chsm_buf_put_u32(struct chsm_buf *b, uint32_t v)
{
    uint8_t t[4];
    chsm_store_le32(t, v);
    return chsm_buf_put(b, t, sizeof(t));
}

CK_RV chsm_buf_put_u64(struct chsm_buf *b, uint64_t v)
{
    uint8_t t[8];
    chsm_store_le64(t, v);
    return chsm_buf_put(b, t, sizeof(t));
}

CK_RV chsm_buf_put_lv(struct chsm_buf *b, const void *p, size_t n)
{
    if (n > UINT32_MAX)
        return CHSM_ERR(CKR_DATA_LEN_RANGE, "common", "field of %zu bytes exceeds the u32 length prefix", n);
    CK_RV rv = chsm_buf_put_u32(b, (uint32_t)n);
    if (rv != CKR_OK)
        return rv;
    return chsm_buf_put(b, p, n);
}

void chsm_buf_free(struct chsm_buf *b)
{
    if (b == NULL)
        return;
    if (b->data != NULL && !b->secret)
        chsm_wipe(b->data, b->cap); /* cheap, and callers sometimes forget secret=1 */
    buf_release(b->data, b->cap, b->secret);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void chsm_cursor_init(struct chsm_cursor *c, const void *data, size_t len)
{
    c->data = data;
    c->len = len;
    c->off = 0;
}

size_t chsm_cursor_left(const struct chsm_cursor *c)
{
    return c->len - c->off;
}

bool chsm_cursor_bytes(struct chsm_cursor *c, size_t n, const uint8_t **out)
{
    if (chsm_cursor_left(c) < n)
        return false;
    *out = c->data + c->off;
    c->off += n;
    return true;
}

bool chsm_cursor_u8(struct chsm_cursor *c, uint8_t *v)
{
    const uint8_t *p;
    if (!chsm_cursor_bytes(c, 1, &p))
        return false;
    *v = p[0];
    return true;
}

bool chsm_cursor_u16(struct chsm_cursor *c, uint16_t *v)
{
    const uint8_t *p;
    if (!chsm_cursor_bytes(c, 2, &p))
        return false;
    *v = chsm_load_le16(p);
    return true;
}

bool chsm_cursor_u32(struct chsm_cursor *c, uint32_t *v)
{
    const uint8_t *p;
    if (!chsm_cursor_bytes(c, 4, &p))
        return false;
    *v = chsm_load_le32(p);
    return true;
}

bool chsm_cursor_u64(struct chsm_cursor *c, uint64_t *v)
{
    const uint8_t *p;
    if (!chsm_cursor_bytes(c, 8, &p))
        return false;
    *v = chsm_load_le64(p);
    return true;
}

bool chsm_cursor_lv(struct chsm_cursor *c, const uint8_t **out, size_t *out_len)
{
    size_t save = c->off;
    uint32_t n;
    if (!chsm_cursor_u32(c, &n))
        return false;
    if (!chsm_cursor_bytes(c, n, out)) {
        c->off = save;
        return false;
    }
    *out_len = n;
    return true;
}

void chsm_store_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void chsm_store_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void chsm_store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t chsm_load_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t chsm_load_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t chsm_load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void chsm_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool chsm_hex_decode(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return true;
}
