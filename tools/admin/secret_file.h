/*
 * Whole-file reads of secret material (private keys, raw AES keys) for the
 * CLI. The bytes go from the kernel straight into a struct chsm_secbuf: no
 * stdio buffer, no realloc leaving old copies behind, and the buffer is
 * wiped when freed (chsm_secbuf_free). Ownership: *out belongs to the
 * caller on ADM_OK and is empty on failure.
 */
#ifndef CHSM_ADMIN_SECRET_FILE_H
#define CHSM_ADMIN_SECRET_FILE_H

#include "admin.h"

/* No key file the CLI imports comes near this; a bigger file is a wrong path. */
#define ADM_SECRET_FILE_MAX ((size_t)1 << 20)

/*
 * Read path ("-": standard input) into out. Symbolic links are refused
 * (O_NOFOLLOW), as are files over ADM_SECRET_FILE_MAX. Returns an exit code;
 * the one-line error is already printed.
 */
int adm_secret_file_read(const char *path, struct chsm_secbuf *out);

#endif
