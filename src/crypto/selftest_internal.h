/* Shared plumbing of the self-test files (selftest*.c); private to src/crypto/. */
#ifndef CHSM_CRYPTO_SELFTEST_INTERNAL_H
#define CHSM_CRYPTO_SELFTEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chsm_st_entry {
    const char *name;
    bool (*fn)(void);
};

/* Decode hex into out (cap bytes); false on bad hex or overflow. */
bool chsm_st_hex(const char *hex, uint8_t *out, size_t cap, size_t *len);
/* Constant-time compare of got against the hex-encoded expected value. */
bool chsm_st_equal_hex(const uint8_t *got, size_t got_len, const char *hex);
/* CTR-DRBG known-answer + continuous test (selftest_drbg.c). */
bool chsm_st_drbg(void);
/* Mechanism-family KATs (selftest_mech.c). */
const struct chsm_st_entry *chsm_st_mech_list(size_t *n);

#endif
