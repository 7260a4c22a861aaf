/* Transport policy: see policy.h. */
#include "policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Split "host:port" / "[v6]:port" into host (without brackets) and port. */
static bool split_bind(const char *bind, char *host, size_t hostlen, long *port)
{
    const char *colon;
    const char *h = bind;
    size_t hl;
    char *end = NULL;

    if (bind == NULL || *bind == '\0')
        return false;
    if (*bind == '[') {
        const char *rb = strchr(bind, ']');
        if (rb == NULL || rb[1] != ':')
            return false;
        h = bind + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(bind, ':');
        if (colon == NULL || strchr(bind, ':') != colon)
            return false; /* bare IPv6 without brackets is ambiguous */
        hl = (size_t)(colon - bind);
    }
    if (hl == 0 || hl >= hostlen)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    errno = 0;
    *port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || *port < 1 || *port > 65535)
        return false;
    return true;
}

bool chsm_dpolicy_bind_is_valid(const char *bind)
{
    char host[256];
    long port;
    return split_bind(bind, host, sizeof host, &port);
}

static bool v4_loopback(const unsigned char a4[4])
{
    return a4[0] == 127;
}

static bool v6_loopback(const unsigned char a6[16])
{
    static const unsigned char v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(a6, v6_loop, 16) == 0)
        return true;
    return memcmp(a6, v4_mapped, 12) == 0 && a6[12] == 127;
}

bool chsm_dpolicy_addrs_loopback(const struct addrinfo *ai)
{
    if (ai == NULL)
        return false;
    for (; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && ai->ai_addr != NULL && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ai->ai_addr;
            if (!v4_loopback((const unsigned char *)&sin->sin_addr))
                return false;
        } else if (ai->ai_family == AF_INET6 && ai->ai_addr != NULL &&
                   ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;
            if (!v6_loopback(sin6->sin6_addr.s6_addr))
                return false;
        } else {
            return false; /* a family we cannot judge is not loopback */
        }
    }
    return true;
}

/* "localhost" is whatever the resolver says (/etc/hosts can map it anywhere):
 * it counts as loopback only when it resolves and every address is loopback.
 * gRPC resolves the name again at bind time; changing /etc/hosts in between
 * needs root. */
static bool localhost_is_loopback(const char *host)
{
    struct addrinfo hints, *res = NULL;
    bool ok;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return false;
    ok = chsm_dpolicy_addrs_loopback(res);
    freeaddrinfo(res);
    return ok;
}

bool chsm_dpolicy_bind_is_loopback(const char *bind)
{
    char host[256];
    long port;
    unsigned char a4[4];
    unsigned char a6[16];

    if (!split_bind(bind, host, sizeof host, &port))
        return false;
    if (inet_pton(AF_INET, host, a4) == 1)
        return v4_loopback(a4);
    if (inet_pton(AF_INET6, host, a6) == 1)
        return v6_loopback(a6);
    /* Other names are never resolved: no DNS answer decides whether plaintext is allowed. */
    if (strcasecmp(host, "localhost") == 0)
        return localhost_is_loopback(host);
    return false;
}

bool chsm_dpolicy_key_mode_ok(const char *key_path, char *msg, size_t msglen)
{
    struct stat st;

    if (stat(key_path, &st) != 0) {
        snprintf(msg, msglen, "tls_key %s: %s", key_path, strerror(errno));
        return false;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        snprintf(msg, msglen,
                 "tls_key %s has mode %04o; it must not be readable by group or others (chmod 600; install TLS "
                 "material with correct ownership and mode 0600)",
                 key_path, (unsigned)(st.st_mode & 07777));
        return false;
    }
    return true;
}

static bool readable(const char *field, const char *path, char *msg, size_t msglen)
{
    if (access(path, R_OK) != 0) {
        snprintf(msg, msglen, "daemon.%s %s: %s", field, path, strerror(errno));
        return false;
    }
    return true;
}

static bool set(const char *s)
{
    return s != NULL && *s != '\0';
}

bool chsm_dpolicy_check(const struct chsm_config *cfg, enum chsm_transport *out, char *msg, size_t msglen)
{
    const char *bind = cfg->daemon.bind;
    bool cert = set(cfg->daemon.tls_cert), key = set(cfg->daemon.tls_key), ca = set(cfg->daemon.tls_client_ca);
    bool loop;

    if (!chsm_dpolicy_bind_is_valid(bind)) {
        snprintf(msg, msglen, "daemon.bind: must be host:port or [ipv6]:port with a port 1..65535, got \"%s\"",
                 bind ? bind : "");
        return false;
    }
    loop = chsm_dpolicy_bind_is_loopback(bind);
    if (cert != key) {
        snprintf(msg, msglen, "daemon.tls_cert and daemon.tls_key must be set together (only %s is set)",
                 cert ? "tls_cert" : "tls_key");
        return false;
    }
    if (ca && !cert) {
        snprintf(msg, msglen, "daemon.tls_client_ca needs daemon.tls_cert and daemon.tls_key");
        return false;
    }
    if (!cert) {
        if (!loop) {
            snprintf(msg, msglen,
                     "daemon.bind %s is not a loopback address: TLS is mandatory there (set daemon.tls_cert, "
                     "daemon.tls_key and daemon.tls_client_ca)",
                     bind);
            return false;
        }
        *out = CHSM_TRANSPORT_PLAINTEXT;
        return true;
    }
    if (!loop && !ca && !cfg->daemon.allow_unauthenticated_tls) {
        snprintf(msg, msglen,
                 "daemon.bind %s is not a loopback address: mutual TLS is required (set daemon.tls_client_ca, or "
                 "daemon.allow_unauthenticated_tls = true to accept clients without certificates)",
                 bind);
        return false;
    }
    if (!readable("tls_cert", cfg->daemon.tls_cert, msg, msglen) ||
        !readable("tls_key", cfg->daemon.tls_key, msg, msglen) ||
        (ca && !readable("tls_client_ca", cfg->daemon.tls_client_ca, msg, msglen)))
        return false;
    if (!chsm_dpolicy_key_mode_ok(cfg->daemon.tls_key, msg, msglen))
        return false;
    *out = ca ? CHSM_TRANSPORT_MTLS : CHSM_TRANSPORT_TLS;
    return true;
}
