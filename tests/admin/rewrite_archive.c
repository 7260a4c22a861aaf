/*
 * Test helper for tests/admin/test_backup_restore.sh: re-writes a genuine
 * archive with a different software version and/or store format version in
 * its header, re-encrypted and re-authenticated under the same master key,
 * so the CLI's "newer-version backup" refusal can be tested on an archive
 * that is otherwise perfectly valid (a flipped header byte only tests the
 * checksum). Usage:
 *   rewrite_archive IN OUT SO_PIN_FILE SOFTWARE_VERSION [STORE_FORMAT_VERSION]
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "store/archive.h"
#include "store/store.h"

static int fail(const char *what)
{
    fprintf(stderr, "rewrite_archive: %s failed\n", what);
    return 1;
}

static int read_pin(const char *path, uint8_t *pin, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    *len = fread(pin, 1, cap, f);
    fclose(f);
    while (*len > 0 && (pin[*len - 1] == '\n' || pin[*len - 1] == '\r'))
        (*len)--;
    return 0;
}

int main(int argc, char **argv)
{
    struct chsm_archive_reader *r = NULL;
    struct chsm_archive_writer *w = NULL;
    struct chsm_archive_header h;
    struct chsm_secbuf mk = {0};
    uint8_t pin[256];
    size_t pin_len = 0;
    bool done = false;
    FILE *in, *out;
    if (argc < 5 || argc > 6 || chsm_crypto_init() != CKR_OK)
        return 2;
    if ((in = fopen(argv[1], "rb")) == NULL || (out = fopen(argv[2], "wbx")) == NULL ||
        read_pin(argv[3], pin, sizeof(pin), &pin_len) != 0)
        return fail("open");
    if (chsm_archive_reader_open(in, &r) != CKR_OK)
        return fail("reader_open");
    h = *chsm_archive_reader_header(r);
    if (chsm_store_unwrap_mk_from_token_blob(h.token_blob, h.token_blob_len, CHSM_PIN_SO, pin, pin_len, &mk) !=
            CKR_OK ||
        chsm_archive_reader_unlock(r, &mk) != CKR_OK)
        return fail("unlock");
    snprintf(h.software_version, sizeof(h.software_version), "%s", argv[4]);
    if (argc == 6)
        h.store_format_version = (uint32_t)strtoul(argv[5], NULL, 10);
    h.chunk_size = 0;
    if (chsm_archive_writer_new(out, &h, &mk, &w) != CKR_OK)
        return fail("writer_new");
    for (;;) {
        struct chsm_archive_row row;
        if (chsm_archive_reader_next(r, &row, &done) != CKR_OK)
            return fail("reader_next");
        if (done)
            break;
        if (chsm_archive_write_row(w, &row) != CKR_OK)
            return fail("write_row");
    }
    if (chsm_archive_writer_finish(w) != CKR_OK || fclose(out) != 0)
        return fail("finish");
    chsm_archive_writer_free(w);
    chsm_archive_reader_free(r);
    chsm_secbuf_free(&mk);
    fclose(in);
    return 0;
}
