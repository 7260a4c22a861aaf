/* Certificate fingerprint for the client registry: see identity.h. */
#include "identity.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/crypto.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"
#define MAX_DER (64u * 1024u) /* gRPC caps the handshake far below this */

static const char *find(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= hay_len && i <= hay_len - n; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict base64 with line breaks allowed; '=' only as final padding. */
static bool b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0, pad = 0;
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        int v;
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        v = b64_value(c);
        if (v < 0 || pad > 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len == cap)
                return false;
            out[len++] = (uint8_t)(acc >> bits);
        }
    }
    /* leftover bits must be the zero filler of a final group padded with exactly bits/2 '=' */
    if ((bits != 0 && bits != 2 && bits != 4) || (acc & ((1u << bits) - 1u)) != 0 || pad != bits / 2)
        return false;
    *out_len = len;
    return len > 0;
}

/* The key computed from scratch: decode the first certificate block, hash its DER. */
static bool cert_key_uncached(const char *pem, size_t pem_len, char key[CHSM_IDENTITY_CERT_KEY_LEN])
{
    const char *b, *e;
    uint8_t *der, md[32];
    size_t der_len = 0, cap;
    bool ok = false;

    if (pem == NULL || (b = find(pem, pem_len, PEM_BEGIN)) == NULL)
        return false;
    b += strlen(PEM_BEGIN);
    e = find(b, pem_len - (size_t)(b - pem), PEM_END);
    if (e == NULL)
        return false;
    /* base64 yields at most 3 bytes per 4 characters: size the buffer to the
     * block instead of a fixed 64 KiB (a large malloc per call churned the heap) */
    cap = (size_t)(e - b) / 4u * 3u + 3u;
    if (cap > MAX_DER)
        return false;
    der = malloc(cap);
    if (der == NULL)
        return false;
    if (b64_decode(b, (size_t)(e - b), der, cap, &der_len) && chsm_sha256(der, der_len, md) == CKR_OK) {
        memcpy(key, "x509:sha256:", 12);
        chsm_hex_encode(md, sizeof md, key + 12);
        ok = true;
    }
    free(der);
    return ok;
}

/*
 * Every call over mutual TLS asks for the key of the same few certificates,
 * and decoding + hashing one cost ~5% of the daemon's CPU per call. Each
 * thread keeps the last few (PEM text, key) pairs it computed. A hit needs
 * the whole PEM text byte-for-byte equal, so it returns exactly what
 * cert_key_uncached would (the function is deterministic); certificates are
 * public, so a plain memcmp is fine. Only well-formed results are kept.
 */
#define CACHE_WAYS 4u
#define CACHE_PEM_MAX 4096u

struct cert_cache_entry {
    size_t pem_len; /* 0: empty */
    char pem[CACHE_PEM_MAX];
    char key[CHSM_IDENTITY_CERT_KEY_LEN];
};

static _Thread_local struct {
    struct cert_cache_entry e[CACHE_WAYS];
    unsigned next; /* round-robin victim */
} cert_cache;

bool chsm_identity_cert_key(const char *pem, size_t pem_len, char key[CHSM_IDENTITY_CERT_KEY_LEN])
{
    struct cert_cache_entry *slot;

    if (pem == NULL || pem_len == 0)
        return false;
    for (unsigned i = 0; i < CACHE_WAYS; i++) {
        const struct cert_cache_entry *c = &cert_cache.e[i];
        if (c->pem_len == pem_len && memcmp(c->pem, pem, pem_len) == 0) {
            memcpy(key, c->key, CHSM_IDENTITY_CERT_KEY_LEN);
            return true;
        }
    }
    if (!cert_key_uncached(pem, pem_len, key))
        return false;
    if (pem_len <= CACHE_PEM_MAX) {
        slot = &cert_cache.e[cert_cache.next];
        cert_cache.next = (cert_cache.next + 1u) % CACHE_WAYS;
        memcpy(slot->pem, pem, pem_len);
        memcpy(slot->key, key, CHSM_IDENTITY_CERT_KEY_LEN);
        slot->pem_len = pem_len;
    }
    return true;
}
