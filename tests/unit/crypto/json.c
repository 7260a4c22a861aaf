/* Test-only JSON reader; see json.h. Recursive descent with a depth limit. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct p {
    const char *s;
    size_t len, off;
    int depth;
};

static void ws(struct p *p)
{
    while (p->off < p->len && strchr(" \t\r\n", p->s[p->off]) != NULL && p->s[p->off] != '\0')
        p->off++;
}

static struct json *value(struct p *p);

static struct json *node(enum json_type t)
{
    struct json *j = calloc(1, sizeof(*j));
    if (j != NULL)
        j->type = t;
    return j;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *string(struct p *p)
{
    size_t cap = 16, n = 0;
    char *out;
    if (p->off >= p->len || p->s[p->off] != '"')
        return NULL;
    p->off++;
    out = malloc(cap);
    while (out != NULL && p->off < p->len && p->s[p->off] != '"') {
        unsigned c = (unsigned char)p->s[p->off++];
        char buf[4];
        size_t k = 1;
        if (c < 0x20)
            goto bad;
        buf[0] = (char)c;
        if (c == '\\') {
            if (p->off >= p->len)
                goto bad;
            char e = p->s[p->off++];
            const char *m = strchr("\"\\/bfnrt", e);
            if (e == 'u') {
                unsigned u = 0;
                for (int i = 0; i < 4; i++) {
                    int h = p->off < p->len ? hexval(p->s[p->off++]) : -1;
                    if (h < 0)
                        goto bad;
                    u = u * 16 + (unsigned)h;
                }
                if (u == 0)
                    goto bad;
                if (u < 0x80) {
                    buf[0] = (char)u;
                } else if (u < 0x800) {
                    buf[0] = (char)(0xc0 | (u >> 6)), buf[1] = (char)(0x80 | (u & 0x3f)), k = 2;
                } else {
                    buf[0] = (char)(0xe0 | (u >> 12)), buf[1] = (char)(0x80 | ((u >> 6) & 0x3f));
                    buf[2] = (char)(0x80 | (u & 0x3f)), k = 3;
                }
            } else if (m != NULL && e != '\0') {
                buf[0] = "\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"];
            } else {
                goto bad;
            }
        }
        if (n + k + 1 > cap) {
            char *t = realloc(out, cap *= 2);
            if (t == NULL)
                goto bad;
            out = t;
        }
        memcpy(out + n, buf, k);
        n += k;
    }
    if (out == NULL || p->off >= p->len)
        goto bad;
    p->off++;
    out[n] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

static int push(struct json *j, struct json *v, char *key)
{
    struct json **it = realloc(j->items, (j->n + 1) * sizeof(*it));
    if (it == NULL)
        return 0;
    j->items = it;
    if (j->type == JSON_OBJ) {
        char **ks = realloc(j->keys, (j->n + 1) * sizeof(*ks));
        if (ks == NULL)
            return 0;
        j->keys = ks;
        ks[j->n] = key;
    }
    it[j->n++] = v;
    return 1;
}

static struct json *container(struct p *p, enum json_type t, char close)
{
    struct json *j = node(t);
    p->off++;
    ws(p);
    if (j != NULL && p->off < p->len && p->s[p->off] == close) {
        p->off++;
        return j;
    }
    while (j != NULL) {
        char *key = NULL;
        struct json *v;
        ws(p);
        if (t == JSON_OBJ) {
            key = string(p);
            ws(p);
            if (key == NULL || p->off >= p->len || p->s[p->off++] != ':') {
                free(key);
                break;
            }
        }
        v = value(p);
        if (v == NULL || !push(j, v, key)) {
            free(key);
            json_free(v);
            break;
        }
        ws(p);
        if (p->off < p->len && p->s[p->off] == ',') {
            p->off++;
            continue;
        }
        if (p->off < p->len && p->s[p->off] == close) {
            p->off++;
            return j;
        }
        break;
    }
    json_free(j);
    return NULL;
}

static struct json *literal(struct p *p, const char *word, enum json_type t, int b)
{
    size_t n = strlen(word);
    struct json *j;
    if (p->len - p->off < n || memcmp(p->s + p->off, word, n) != 0)
        return NULL;
    p->off += n;
    j = node(t);
    if (j != NULL)
        j->boolean = b;
    return j;
}

static struct json *number(struct p *p)
{
    char buf[64];
    size_t n = 0;
    char *end;
    struct json *j;
    while (p->off + n < p->len && n < sizeof(buf) - 1 && strchr("+-0123456789.eE", p->s[p->off + n]) != NULL &&
           p->s[p->off + n] != '\0')
        n++;
    if (n == 0 || n == sizeof(buf) - 1)
        return NULL;
    memcpy(buf, p->s + p->off, n);
    buf[n] = '\0';
    j = node(JSON_NUM);
    if (j == NULL)
        return NULL;
    j->num = strtod(buf, &end);
    if (*end != '\0') {
        free(j);
        return NULL;
    }
    p->off += n;
    return j;
}

static struct json *value(struct p *p)
{
    struct json *j = NULL;
    ws(p);
    if (p->off >= p->len || ++p->depth > 64)
        return NULL;
    switch (p->s[p->off]) {
    case '{': j = container(p, JSON_OBJ, '}'); break;
    case '[': j = container(p, JSON_ARR, ']'); break;
    case '"': {
        char *s = string(p);
        j = s != NULL ? node(JSON_STR) : NULL;
        if (j != NULL)
            j->str = s;
        else
            free(s);
        break;
    }
    case 't': j = literal(p, "true", JSON_BOOL, 1); break;
    case 'f': j = literal(p, "false", JSON_BOOL, 0); break;
    case 'n': j = literal(p, "null", JSON_NULL, 0); break;
    default: j = number(p); break;
    }
    p->depth--;
    return j;
}

struct json *json_parse(const char *text, size_t len)
{
    struct p p = {text, len, 0, 0};
    struct json *j = value(&p);
    ws(&p);
    if (j != NULL && p.off != len) {
        json_free(j);
        return NULL;
    }
    return j;
}

struct json *json_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long sz;
    struct json *j = NULL;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)sz + 1)) != NULL && fread(buf, 1, (size_t)sz, f) == (size_t)sz)
        j = json_parse(buf, (size_t)sz);
    free(buf);
    fclose(f);
    return j;
}

void json_free(struct json *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->n; i++) {
        json_free(j->items[i]);
        if (j->keys != NULL)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

const struct json *json_get(const struct json *obj, const char *key)
{
    if (obj == NULL || obj->type != JSON_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const char *json_str(const struct json *obj, const char *key)
{
    const struct json *v = json_get(obj, key);
    return v != NULL && v->type == JSON_STR ? v->str : NULL;
}

long json_int(const struct json *obj, const char *key, long dflt)
{
    const struct json *v = json_get(obj, key);
    return v != NULL && v->type == JSON_NUM ? (long)v->num : dflt;
}

uint8_t *json_hex(const struct json *obj, const char *key, size_t *len)
{
    const char *s = json_str(obj, key);
    size_t n;
    uint8_t *out;
    if (s == NULL || (n = strlen(s)) % 2 != 0)
        return NULL;
    out = malloc(n / 2 + 1);
    for (size_t i = 0; out != NULL && i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    *len = n / 2;
    return out;
}
