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
    /* The common case (after 1970, before year 10000) without gmtime_r + strftime + snprintf:
     * summaries format two of these per entry. */
    if (us >= 0 && audit_fmt_datetime(us / 1000000, out)) {
        out[19] = '.';
        audit_fmt_usec((unsigned)(us % 1000000), out + 20);
        out[26] = 'Z';
        out[27] = '\0';
        return;
    }
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

static inline void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

/* Literal text: its length is known at compile time, so the copy is a few moves. */
#define JW_LIT(w, lit) jw_raw((w), (lit), sizeof(lit) - 1)
#define JW_KEY(w, k) JW_LIT((w), ",\"" k "\":")

static void jw_str(struct jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

/* Decimal digits by hand, two per division: snprintf costs ~0.2 us per call on the per-event path. */
static void jw_u64(struct jw *w, uint64_t v)
{
    char b[20];
    size_t i = sizeof(b);
    while (v >= 100) {
        i -= 2;
        memcpy(b + i, audit_digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        i -= 2;
        memcpy(b + i, audit_digit_pairs + 2 * v, 2);
    } else {
        b[--i] = (char)('0' + v);
    }
    jw_raw(w, b + i, sizeof(b) - i);
}

static void jw_i64(struct jw *w, int64_t v)
{
    if (v < 0) {
        JW_LIT(w, "-");
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

/*
 * What a byte needs inside a JSON string, one table lookup per byte: 0
 * verbatim (printable ASCII other than '"' and '\\'), ESC_HEX \\u00XX
 * (controls and 0x7f), ESC_HIGH a possible UTF-8 lead byte, ESC_END the
 * terminating NUL; any other value is the letter of a two-byte escape.
 */
enum { ESC_PLAIN = 0, ESC_HEX = 1, ESC_HIGH = 2, ESC_END = 3 };
#define ROW(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char k_esc[256] = {
    ESC_END, 1, 1, 1, 1, 1, 1, 1, 1, 't', 'n', 1, 1, 'r', 1, 1, /* 0x00 */
    ROW(ESC_HEX),                                              /* 0x10 */
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,         /* 0x20 */
    ROW(0), ROW(0),                                            /* 0x30, 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,       /* 0x50 */
    ROW(0),                                                    /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ESC_HEX,     /* 0x70 */
    ROW(ESC_HIGH), ROW(ESC_HIGH), ROW(ESC_HIGH), ROW(ESC_HIGH), /* 0x80 - 0xbf */
    ROW(ESC_HIGH), ROW(ESC_HIGH), ROW(ESC_HIGH), ROW(ESC_HIGH), /* 0xc0 - 0xff */
};
#undef ROW

static void jw_hex_byte(struct jw *w, unsigned c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', hex[(c >> 4) & 0xf], hex[c & 0xf]};
    jw_raw(w, esc, sizeof(esc));
}

/* One byte (or UTF-8 sequence) that is not verbatim, at u with n bytes left before the cap;
 * returns how many input bytes it consumed. */
static size_t jw_escape_one(struct jw *w, const unsigned char *u, size_t n)
{
    unsigned k = k_esc[u[0]];
    if (k == ESC_HEX) {
        jw_hex_byte(w, u[0]);
        return 1;
    }
    if (k == ESC_HIGH) {
        size_t l = utf8_seq_len(u, n);
        if (l == 0) {
            jw_hex_byte(w, u[0]);
            return 1;
        }
        jw_raw(w, (const char *)u, l);
        return l;
    }
    char esc[2] = {'\\', (char)k};
    jw_raw(w, esc, sizeof(esc));
    return 1;
}

/*
 * JSON string body. Attacker-controlled text (labels, actors) is escaped:
 * '"' and '\\' and \n \r \t by their short forms, other bytes < 0x20 and
 * 0x7f as \u00XX; valid UTF-8 is kept; each byte of an invalid sequence is
 * written as \u00XX of the byte value (documented: indistinguishable from
 * U+0080..U+00FF once decoded). Input ends at its NUL or at cap bytes; a
 * UTF-8 sequence the cap cuts is invalid there, so its bytes are escaped.
 */
static void jw_escaped(struct jw *w, const char *s, size_t cap)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    JW_LIT(w, "\"");
    for (;;) {
        /* Copy the longest verbatim run at once (labels and ids usually are one run). */
        size_t run = i;
        while (run < cap && k_esc[u[run]] == ESC_PLAIN)
            run++;
        jw_raw(w, s + i, run - i);
        if (run >= cap || u[run] == '\0')
            break;
        i = run + jw_escape_one(w, u + run, cap - run);
    }
    JW_LIT(w, "\"");
}

/* A string the module itself produced from a fixed alphabet (time, event and result names): no escaping needed. */
static void jw_quoted(struct jw *w, const char *s)
{
    JW_LIT(w, "\"");
    jw_str(w, s);
    JW_LIT(w, "\"");
}

static void jw_opt_escaped(struct jw *w, const char *v, size_t cap)
{
    if (v == NULL)
        JW_LIT(w, "null");
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
    JW_KEY(w, "count");
    jw_u64(w, r->count);
    JW_KEY(w, "interval");
    audit_format_time_us(r->first_us, t);
    JW_LIT(w, "{\"first\":\"");
    jw_str(w, t);
    audit_format_time_us(r->last_us, t);
    JW_LIT(w, "\",\"last\":\"");
    jw_str(w, t);
    JW_LIT(w, "\"}");
}

static void encode_object(struct jw *w, const struct audit_rec *r)
{
    JW_KEY(w, "object");
    if (r->object_id == NULL && r->object_label == NULL) {
        JW_LIT(w, "null");
        return;
    }
    JW_LIT(w, "{\"id\":");
    jw_opt_escaped(w, r->object_id, AUDIT_CAP_ID);
    JW_LIT(w, ",\"label\":");
    jw_opt_escaped(w, r->object_label, AUDIT_CAP_LABEL);
    JW_LIT(w, "}");
}

/* The queue patches the time into an encoded body at this offset (the first field, fixed width). */
_Static_assert(sizeof(",\"time\":\"") - 1 == AUDIT_BODY_TIME_OFF, "time offset in a body");

/* Everything between the seq digits and ",\"prev\"": what is fixed when the event happens. */
static void encode_body(struct jw *w, const char *time, const struct audit_rec *r, long pid, const char *actor)
{
    JW_KEY(w, "time");
    jw_quoted(w, time);
    JW_KEY(w, "event");
    jw_quoted(w, r->event); /* a name from the event table (callers validate it) */
    JW_KEY(w, "slot");
    if (r->slot < 0)
        JW_LIT(w, "null");
    else
        jw_i64(w, r->slot);
    JW_KEY(w, "session");
    if (r->session == 0)
        JW_LIT(w, "null");
    else
        jw_u64(w, r->session);
    JW_KEY(w, "user");
    const char *user = user_name(r->user);
    if (user == NULL)
        JW_LIT(w, "null");
    else
        jw_quoted(w, user); /* a fixed name: nothing to escape */
    encode_object(w, r);
    JW_KEY(w, "mechanism");
    jw_opt_escaped(w, r->mechanism, AUDIT_CAP_MECH);
    JW_KEY(w, "result");
    jw_quoted(w, chsm_rv_name(r->result));
    JW_KEY(w, "pid");
    jw_i64(w, pid);
    JW_KEY(w, "actor");
    jw_opt_escaped(w, actor, AUDIT_CAP_ACTOR);
    if (r->detail != NULL) {
        JW_KEY(w, "detail");
        jw_escaped(w, r->detail, AUDIT_CAP_DETAIL);
    }
    if (r->count > 0)
        encode_summary(w, r);
}

static void encode_frame_end(struct jw *w, const char *prev_hex)
{
    JW_LIT(w, ",\"prev\":\"");
    jw_raw(w, prev_hex, 64);
    JW_LIT(w, "\"}");
}

size_t audit_encode(char *out, size_t cap, uint64_t seq, const char *time, const struct audit_rec *r, long pid,
                    const char *actor, const char *prev_hex)
{
    struct jw w = {out, cap, 0, false};
    JW_LIT(&w, "{\"seq\":");
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
    JW_LIT(&w, "{\"seq\":");
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
