/*
 * Fuzz the audit line parser and the chain verifier: every line of the
 * input goes through chsm_audit_parse_line, then the whole input is
 * verified as a log file (via a memfd) — including the crash-recovery
 * pattern logic. Neither may crash, leak or read out of bounds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "audit/audit.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        if (chsm_crypto_init() != CKR_OK)
            abort();
        inited = 1;
    }
    static struct chsm_audit_entry e;
    const char *p = (const char *)data;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || p[i] == '\n') {
            if (chsm_audit_parse_line(p + start, i - start, &e) == CKR_OK && e.seq == 0)
                abort(); /* the parser promises seq >= 1 */
            start = i + 1;
        }
    }
    int fd = memfd_create("fuzz_audit", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        const char *files[1] = {path};
        struct chsm_audit_verify_result res;
        if (chsm_audit_verify_files(files, 1, NULL, &res) == CKR_OK && res.ok && res.entries > 0 &&
            res.last_seq < res.first_seq)
            abort();
    }
    close(fd);
    return 0;
}
