/*
 * Entry encoding: one compact JSON object per line, keys in a fixed order
 * (docs/audit-format.md). The exact bytes are what the chain hashes, so the
 * encoder is deterministic and the parser (parse.c) accepts only its output.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/internal.h"
#include "common/bytes.h"
#include "crypto/crypto.h"

struct audit_event_def {
    const char *name;
    enum audit_category cat;
};

/* Category decides which [audit].log_level writes the event (see docs/audit-format.md). */
static const struct audit_event_def k_events[] = {
    {"initialize", AUDIT_CAT_ADMIN},       {"selftest", AUDIT_CAT_ADMIN},
    {"config_load", AUDIT_CAT_ADMIN},      {"token_init", AUDIT_CAT_ADMIN},
    {"finalize", AUDIT_CAT_ADMIN},         {"backup", AUDIT_CAT_ADMIN},
    {"restore", AUDIT_CAT_ADMIN},          {"rotate", AUDIT_CAT_ADMIN},
    {"recovered", AUDIT_CAT_ADMIN},        {"pin_init", AUDIT_CAT_AUTH},
    {"pin_change", AUDIT_CAT_AUTH},        {"login", AUDIT_CAT_AUTH},
    {"login_failed", AUDIT_CAT_AUTH},      {"lockout", AUDIT_CAT_AUTH},
    {"logout", AUDIT_CAT_AUTH},            {"object_create", AUDIT_CAT_CRYPTO},
    {"object_copy", AUDIT_CAT_CRYPTO},     {"object_destroy", AUDIT_CAT_CRYPTO},
    {"attribute_change", AUDIT_CAT_CRYPTO}, {"key_generate", AUDIT_CAT_CRYPTO},
    {"keypair_generate", AUDIT_CAT_CRYPTO}, {"wrap", AUDIT_CAT_CRYPTO},
    {"unwrap", AUDIT_CAT_CRYPTO},          {"derive", AUDIT_CAT_CRYPTO},
    {"sign", AUDIT_CAT_CRYPTO},            {"verify", AUDIT_CAT_CRYPTO},
    {"encrypt", AUDIT_CAT_CRYPTO},         {"decrypt", AUDIT_CAT_CRYPTO},
    {"digest_key", AUDIT_CAT_CRYPTO},      {"mac", AUDIT_CAT_CRYPTO},
    {"session_open", AUDIT_CAT_SESSION},   {"session_close", AUDIT_CAT_SESSION},
};

static const char *const k_key_use_ops[] = {"sign", "verify", "encrypt", "decrypt", "digest_key", "mac"};

int audit_event_category(const char *event)
{
    if (event == NULL)
        return -1;
    /* Per event: the first byte rules out most names without a strcmp call. */
    for (size_t i = 0; i < CHSM_ARRAY_LEN(k_events); i++)
        if (k_events[i].name[0] == event[0] && strcmp(k_events[i].name, event) == 0)
            return (int)k_events[i].cat;
    return -1;
}

bool audit_is_key_use_op(const char *op)
{
    if (op == NULL)
        return false;
    for (size_t i = 0; i < CHSM_ARRAY_LEN(k_key_use_ops); i++)
        if (k_key_use_ops[i][0] == op[0] && strcmp(k_key_use_ops[i], op) == 0)
            return true;
    return false;
}

void audit_format_time_us(int64_t us, char out[CHSM_RFC3339_LEN])
{
    time_t sec = (time_t)(us / 1000000);
    unsigned frac = (unsigned)(us % 1000000);
    struct tm tm;
    char date[24];
    gmtime_r(&sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, CHSM_RFC3339_LEN, "%.19s.%06uZ", date, frac);
}

/* A bounded writer: overflow is sticky and reported once at the end. */
struct jw {
    char *p;
    size_t cap, len;
    bool overflow;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void jw_str(struct jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

/* Decimal digits by hand: snprintf costs ~0.2 us per call on the per-event path. */
static void jw_u64(struct jw *w, uint64_t v)
{
    char b[24];
    size_t i = sizeof(b);
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    jw_raw(w, b + i, sizeof(b) - i);
}

static void jw_i64(struct jw *w, int64_t v)
{
    if (v < 0) {
        jw_raw(w, "-", 1);
        jw_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        jw_u64(w, (uint64_t)v);
    }
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t audit_utf8_len(const unsigned char *s, size_t n)
{
    return utf8_seq_len(s, n);
}

/* Printable ASCII other than '"' and '\\' goes out verbatim. */
static bool plain_byte(unsigned c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * JSON string body. Attacker-controlled text (labels, actors) is escaped:
 * '"' and '\\' and \n \r \t by their short forms, other bytes < 0x20 and
 * 0x7f as \u00XX; valid UTF-8 is kept; each byte of an invalid sequence is
 * written as \u00XX of the byte value (documented: indistinguishable from
 * U+0080..U+00FF once decoded). Input is cut at cap bytes on a character
 * boundary.
 */
static void jw_escaped(struct jw *w, const char *s, size_t cap)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strnlen(s, cap);
    jw_raw(w, "\"", 1);
    size_t i = 0;
    while (i < n) {
        /* Fast path: copy the longest run of plain bytes at once (labels and ids usually are one run). */
        size_t run = i;
        while (run < n && plain_byte(u[run]))
            run++;
        if (run > i) {
            jw_raw(w, (const char *)u + i, run - i);
            i = run;
            continue;
        }
        unsigned c = u[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            jw_raw(w, esc, 2);
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            jw_raw(w, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            jw_raw(w, esc, 6);
            i++;
        } else {
            size_t l = utf8_seq_len(u + i, n - i);
            if (l == 0) {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                jw_raw(w, esc, 6);
                i++;
            } else {
                jw_raw(w, (const char *)u + i, l);
                i += l;
            }
        }
    }
    jw_raw(w, "\"", 1);
}

/* A string the module itself produced from a fixed alphabet (time, event and result names): no escaping needed. */
static void jw_quoted(struct jw *w, const char *s)
{
    jw_raw(w, "\"", 1);
    jw_str(w, s);
    jw_raw(w, "\"", 1);
}

static void jw_key(struct jw *w, const char *k)
{
    jw_raw(w, ",\"", 2);
    jw_str(w, k);
    jw_raw(w, "\":", 2);
}

static void jw_opt_str(struct jw *w, const char *key, const char *v, size_t cap)
{
    jw_key(w, key);
    if (v == NULL)
        jw_str(w, "null");
    else
        jw_escaped(w, v, cap);
}

static const char *user_name(enum chsm_audit_user u)
{
    switch (u) {
    case CHSM_AUDIT_USER_PUBLIC:
        return "public";
    case CHSM_AUDIT_USER_SO:
        return "so";
    case CHSM_AUDIT_USER_USER:
        return "user";
    default:
        return NULL;
    }
}

static void encode_summary(struct jw *w, const struct audit_rec *r)
{
    char t[CHSM_RFC3339_LEN];
    jw_key(w, "count");
    jw_u64(w, r->count);
    jw_key(w, "interval");
    audit_format_time_us(r->first_us, t);
    jw_str(w, "{\"first\":\"");
    jw_str(w, t);
    audit_format_time_us(r->last_us, t);
    jw_str(w, "\",\"last\":\"");
    jw_str(w, t);
    jw_str(w, "\"}");
}

/* Everything between the seq digits and ",\"prev\"": what is fixed when the event happens. */
static void encode_body(struct jw *w, const char *time, const struct audit_rec *r, long pid, const char *actor)
{
    jw_key(w, "time");
    jw_quoted(w, time);
    jw_key(w, "event");
    jw_quoted(w, r->event); /* a name from the event table (callers validate it) */
    jw_key(w, "slot");
    if (r->slot < 0)
        jw_str(w, "null");
    else
        jw_i64(w, r->slot);
    jw_key(w, "session");
    if (r->session == 0)
        jw_str(w, "null");
    else
        jw_u64(w, r->session);
    jw_opt_str(w, "user", user_name(r->user), 8);
    jw_key(w, "object");
    if (r->object_id == NULL && r->object_label == NULL) {
        jw_str(w, "null");
    } else {
        jw_str(w, "{\"id\":");
        if (r->object_id == NULL)
            jw_str(w, "null");
        else
            jw_escaped(w, r->object_id, AUDIT_CAP_ID);
        jw_str(w, ",\"label\":");
        if (r->object_label == NULL)
            jw_str(w, "null");
        else
            jw_escaped(w, r->object_label, AUDIT_CAP_LABEL);
        jw_str(w, "}");
    }
    jw_opt_str(w, "mechanism", r->mechanism, AUDIT_CAP_MECH);
    jw_key(w, "result");
    jw_quoted(w, chsm_rv_name(r->result));
    jw_key(w, "pid");
    jw_i64(w, pid);
    jw_opt_str(w, "actor", actor, AUDIT_CAP_ACTOR);
    if (r->detail != NULL)
        jw_opt_str(w, "detail", r->detail, AUDIT_CAP_DETAIL);
    if (r->count > 0)
        encode_summary(w, r);
}

static void encode_frame_end(struct jw *w, const char *prev_hex)
{
    jw_raw(w, ",\"prev\":\"", 9);
    jw_raw(w, prev_hex, 64);
    jw_raw(w, "\"}", 2);
}

size_t audit_encode(char *out, size_t cap, uint64_t seq, const char *time, const struct audit_rec *r, long pid,
                    const char *actor, const char *prev_hex)
{
    struct jw w = {out, cap, 0, false};
    jw_raw(&w, "{\"seq\":", 7);
    jw_u64(&w, seq);
    encode_body(&w, time, r, pid, actor);
    encode_frame_end(&w, prev_hex);
    return w.overflow ? 0 : w.len;
}

size_t audit_encode_body(char *out, size_t cap, const char *time, const struct audit_rec *r, long pid,
                         const char *actor)
{
    struct jw w = {out, cap, 0, false};
    encode_body(&w, time, r, pid, actor);
    return w.overflow ? 0 : w.len;
}

size_t audit_frame(char *out, size_t cap, uint64_t seq, const char *body, size_t blen, const char *prev_hex)
{
    struct jw w = {out, cap, 0, false};
    jw_raw(&w, "{\"seq\":", 7);
    jw_u64(&w, seq);
    jw_raw(&w, body, blen);
    encode_frame_end(&w, prev_hex);
    return w.overflow ? 0 : w.len;
}

CK_RV audit_line_hash(const char *line, size_t len, char hex[65])
{
    uint8_t md[32];
    CK_RV rv = chsm_sha256(line, len, md);
    if (rv != CKR_OK)
        return rv;
    chsm_hex_encode(md, sizeof(md), hex);
    return CKR_OK;
}
