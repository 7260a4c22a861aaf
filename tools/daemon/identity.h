/*
 * Client identity under mutual TLS (security review H2): the registry key is
 * the SHA-256 of the client certificate (DER), so two certificates with the
 * same CN are two clients; the CN stays the audit actor. Transport-free: the
 * caller passes the PEM gRPC reports as x509_pem_cert.
 */
#ifndef CHSM_DAEMON_IDENTITY_H
#define CHSM_DAEMON_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

/* "x509:sha256:" + 64 hex + NUL */
#define CHSM_IDENTITY_CERT_KEY_LEN (12u + 64u + 1u)

/*
 * Key of the first certificate in pem (PEM text, not necessarily
 * NUL-terminated): "x509:sha256:<hex SHA-256 of its DER>", the same value as
 * `openssl x509 -noout -fingerprint -sha256` without colons. False when pem
 * holds no well-formed certificate block.
 */
bool chsm_identity_cert_key(const char *pem, size_t pem_len, char key[CHSM_IDENTITY_CERT_KEY_LEN]);

#endif
