/*
 * Archive reader under arbitrary bytes: header decode, then the body with
 * the fixed fixture MK. Anything but a clean error or a clean read is a bug.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "store/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    struct chsm_archive_reader *r = NULL;
    struct chsm_secbuf mk = {0};
    uint8_t mkb[32];
    bool done = false;
    FILE *f;
    if (!inited && chsm_crypto_init() == CKR_OK)
        inited = 1;
    if (size == 0 || (f = fmemopen((void *)data, size, "rb")) == NULL)
        return 0;
    for (int i = 0; i < 32; i++)
        mkb[i] = (uint8_t)(i + 1);
    if (chsm_archive_reader_open(f, &r) == CKR_OK && chsm_secbuf_copy(&mk, mkb, 32) == CKR_OK &&
        chsm_archive_reader_unlock(r, &mk) == CKR_OK) {
        struct chsm_archive_row row;
        for (int n = 0; n < 100000 && chsm_archive_reader_next(r, &row, &done) == CKR_OK && !done; n++)
            ;
    }
    chsm_archive_reader_free(r);
    chsm_secbuf_free(&mk);
    fclose(f);
    return 0;
}
