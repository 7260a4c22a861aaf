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

bool chsm_identity_cert_key(const char *pem, size_t pem_len, char key[CHSM_IDENTITY_CERT_KEY_LEN])
{
    const char *b, *e;
    uint8_t *der, md[32];
    size_t der_len = 0;
    bool ok = false;

    if (pem == NULL || (b = find(pem, pem_len, PEM_BEGIN)) == NULL)
        return false;
    b += strlen(PEM_BEGIN);
    e = find(b, pem_len - (size_t)(b - pem), PEM_END);
    if (e == NULL)
        return false;
    der = malloc(MAX_DER);
    if (der == NULL)
        return false;
    if (b64_decode(b, (size_t)(e - b), der, MAX_DER, &der_len) && chsm_sha256(der, der_len, md) == CKR_OK) {
        memcpy(key, "x509:sha256:", 12);
        chsm_hex_encode(md, sizeof md, key + 12);
        ok = true;
    }
    free(der);
    return ok;
}
