/*
 * Strict line parser: accepts exactly what record.c writes (fixed key
 * order, no whitespace, our escape set, valid UTF-8) so "parses" in
 * verify means "was written by the encoder or forged byte-exactly".
 * Every failure records why in the thread's error record. Fuzzed by
 * tests/fuzz/fuzz_audit.c.
 */
#include <string.h>

#include "audit/internal.h"

struct pc {
    const unsigned char *p;
    size_t n, off;
    const char *why;
};

static bool fail(struct pc *c, const char *why)
{
    if (c->why == NULL)
        c->why = why;
    return false;
}

static bool lit(struct pc *c, const char *s)
{
    size_t l = strlen(s);
    if (c->n - c->off < l || memcmp(c->p + c->off, s, l) != 0)
        return false;
    c->off += l;
    return true;
}

static bool need(struct pc *c, const char *s)
{
    return lit(c, s) || fail(c, s);
}

static bool is_digit(unsigned ch)
{
    return ch >= '0' && ch <= '9';
}

static bool parse_u64(struct pc *c, uint64_t *v)
{
    size_t start = c->off;
    uint64_t x = 0;
    while (c->off < c->n && is_digit(c->p[c->off])) {
        unsigned d = c->p[c->off] - (unsigned)'0';
        if (x > (UINT64_MAX - d) / 10)
            return fail(c, "integer overflow");
        x = x * 10 + d;
        c->off++;
    }
    if (c->off == start)
        return fail(c, "integer expected");
    if (c->p[start] == '0' && c->off - start > 1)
        return fail(c, "leading zero");
    *v = x;
    return true;
}

static bool parse_i64(struct pc *c, int64_t *v)
{
    bool neg = lit(c, "-");
    uint64_t x;
    if (!parse_u64(c, &x))
        return false;
    if (x > (uint64_t)INT64_MAX)
        return fail(c, "integer out of range");
    *v = neg ? -(int64_t)x : (int64_t)x;
    return true;
}

static unsigned hexval(unsigned ch)
{
    if (is_digit(ch))
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return 16;
}

static bool put(char *out, size_t cap, size_t *len, unsigned ch)
{
    if (*len + 1 >= cap)
        return false;
    out[(*len)++] = (char)ch;
    return true;
}

/* \u00XX as written by the encoder: control bytes, DEL, or a byte of invalid UTF-8 (decoded as U+00XX). */
static bool parse_u_escape(struct pc *c, char *out, size_t cap, size_t *len)
{
    if (c->n - c->off < 4 || c->p[c->off] != '0' || c->p[c->off + 1] != '0')
        return fail(c, "bad \\u escape");
    unsigned hi = hexval(c->p[c->off + 2]), lo = hexval(c->p[c->off + 3]);
    if (hi > 15 || lo > 15)
        return fail(c, "bad \\u escape");
    unsigned b = hi * 16 + lo;
    c->off += 4;
    if ((b >= 0x20 && b < 0x7f) || b == '\n' || b == '\r' || b == '\t')
        return fail(c, "non-canonical \\u escape");
    bool ok = b < 0x80 ? put(out, cap, len, b)
                       : put(out, cap, len, 0xc0 | (b >> 6)) && put(out, cap, len, 0x80 | (b & 0x3f));
    return ok || fail(c, "string too long");
}

static bool parse_escape(struct pc *c, char *out, size_t cap, size_t *len)
{
    if (c->off >= c->n)
        return fail(c, "unterminated escape");
    unsigned e = c->p[c->off++];
    unsigned ch;
    switch (e) {
    case '"':
    case '\\':
        ch = e;
        break;
    case 'n':
        ch = '\n';
        break;
    case 'r':
        ch = '\r';
        break;
    case 't':
        ch = '\t';
        break;
    case 'u':
        return parse_u_escape(c, out, cap, len);
    default:
        return fail(c, "unknown escape");
    }
    return put(out, cap, len, ch) || fail(c, "string too long");
}

/* A JSON string into out (NUL-terminated, at most cap-1 bytes). */
static bool parse_str(struct pc *c, char *out, size_t cap)
{
    size_t len = 0;
    if (!lit(c, "\""))
        return fail(c, "string expected");
    for (;;) {
        if (c->off >= c->n)
            return fail(c, "unterminated string");
        unsigned ch = c->p[c->off];
        if (ch == '"') {
            c->off++;
            break;
        }
        if (ch == '\\') {
            c->off++;
            if (!parse_escape(c, out, cap, &len))
                return false;
            continue;
        }
        if (ch < 0x20 || ch == 0x7f)
            return fail(c, "raw control character in string");
        size_t l = audit_utf8_len(c->p + c->off, c->n - c->off);
        if (l == 0)
            return fail(c, "invalid UTF-8 in string");
        for (size_t i = 0; i < l; i++)
            if (!put(out, cap, &len, c->p[c->off + i]))
                return fail(c, "string too long");
        c->off += l;
    }
    out[len] = '\0';
    return true;
}

/* "null" -> "" with *present=false, else a string. */
static bool parse_opt_str(struct pc *c, char *out, size_t cap, bool *present)
{
    out[0] = '\0';
    if (lit(c, "null")) {
        if (present != NULL)
            *present = false;
        return true;
    }
    if (present != NULL)
        *present = true;
    return parse_str(c, out, cap);
}

/* "2026-11-27T11:50:42.123456Z" */
static bool valid_time(const char *t)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    if (strlen(t) != sizeof(pat) - 1)
        return false;
    for (size_t i = 0; i < sizeof(pat) - 1; i++) {
        if (pat[i] == 'd' ? !is_digit((unsigned char)t[i]) : t[i] != pat[i])
            return false;
    }
    return true;
}

static bool parse_time(struct pc *c, char out[32])
{
    return parse_str(c, out, 32) && (valid_time(out) || fail(c, "time is not RFC 3339 UTC with microseconds"));
}

static bool parse_object(struct pc *c, struct chsm_audit_entry *e)
{
    e->has_object = false;
    e->object_id[0] = e->object_label[0] = '\0';
    if (lit(c, "null"))
        return true;
    e->has_object = true;
    return need(c, "{\"id\":") && parse_opt_str(c, e->object_id, sizeof(e->object_id), NULL) &&
           need(c, ",\"label\":") && parse_opt_str(c, e->object_label, sizeof(e->object_label), NULL) &&
           need(c, "}");
}

static bool parse_user(struct pc *c, struct chsm_audit_entry *e)
{
    if (!parse_opt_str(c, e->user, sizeof(e->user), NULL))
        return false;
    if (e->user[0] == '\0' && c->p[c->off - 1] == '"')
        return fail(c, "empty user");
    return e->user[0] == '\0' || strcmp(e->user, "so") == 0 || strcmp(e->user, "user") == 0 ||
           strcmp(e->user, "public") == 0 || fail(c, "unknown user");
}

static bool parse_slot_session(struct pc *c, struct chsm_audit_entry *e)
{
    e->has_slot = !lit(c, "null");
    if (e->has_slot && (!parse_i64(c, &e->slot) || e->slot < 0))
        return fail(c, "bad slot");
    if (!need(c, ",\"session\":"))
        return false;
    e->has_session = !lit(c, "null");
    if (e->has_session && (!parse_u64(c, &e->session) || e->session == 0))
        return fail(c, "bad session");
    return true;
}

static bool parse_tail(struct pc *c, struct chsm_audit_entry *e)
{
    e->has_detail = lit(c, ",\"detail\":");
    if (e->has_detail && !parse_str(c, e->detail, sizeof(e->detail)))
        return false;
    if (lit(c, ",\"count\":")) {
        if (!parse_u64(c, &e->count) || e->count == 0)
            return fail(c, "bad count");
        if (!need(c, ",\"interval\":{\"first\":") || !parse_time(c, e->first) || !need(c, ",\"last\":") ||
            !parse_time(c, e->last) || !need(c, "}"))
            return false;
    }
    if (!need(c, ",\"prev\":") || !parse_str(c, e->prev, sizeof(e->prev)))
        return false;
    if (strlen(e->prev) != 64)
        return fail(c, "prev is not 64 hex digits");
    for (size_t i = 0; i < 64; i++)
        if (hexval((unsigned char)e->prev[i]) > 15)
            return fail(c, "prev is not lower-case hex");
    if (!need(c, "}"))
        return false;
    return c->off == c->n || fail(c, "trailing bytes after object");
}

static bool parse_entry(struct pc *c, struct chsm_audit_entry *e)
{
    if (!need(c, "{\"seq\":") || !parse_u64(c, &e->seq))
        return false;
    if (e->seq == 0)
        return fail(c, "seq 0");
    if (!need(c, ",\"time\":") || !parse_time(c, e->time) || !need(c, ",\"event\":") ||
        !parse_str(c, e->event, sizeof(e->event)))
        return false;
    if (audit_event_category(e->event) < 0)
        return fail(c, "unknown event");
    if (!need(c, ",\"slot\":") || !parse_slot_session(c, e) || !need(c, ",\"user\":") || !parse_user(c, e) ||
        !need(c, ",\"object\":") || !parse_object(c, e) || !need(c, ",\"mechanism\":") ||
        !parse_opt_str(c, e->mechanism, sizeof(e->mechanism), NULL) || !need(c, ",\"result\":") ||
        !parse_str(c, e->result, sizeof(e->result)))
        return false;
    if (strncmp(e->result, "CKR_", 4) != 0)
        return fail(c, "result is not a CKR_ name");
    if (!need(c, ",\"pid\":") || !parse_i64(c, &e->pid) || !need(c, ",\"actor\":") ||
        !parse_opt_str(c, e->actor, sizeof(e->actor), NULL))
        return false;
    return parse_tail(c, e);
}

CK_RV chsm_audit_parse_line(const char *line, size_t len, struct chsm_audit_entry *e)
{
    if (line == NULL || e == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(e, 0, sizeof(*e));
    struct pc c = {(const unsigned char *)line, len, 0, NULL};
    if (!parse_entry(&c, e))
        return CHSM_ERR(CKR_DATA_INVALID, "audit", "unparseable entry at byte %zu: %s", c.off,
                        c.why != NULL ? c.why : "syntax");
    return CKR_OK;
}
