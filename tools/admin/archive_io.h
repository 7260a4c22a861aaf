/* Opening archives for reading/writing and unlocking them with the SO PIN: shared by backup verify, restore, drill. */
#ifndef CHSM_ADMIN_ARCHIVE_IO_H
#define CHSM_ADMIN_ARCHIVE_IO_H

#include "admin.h"
#include "store/archive.h"
#include "store/store.h"

struct adm_in {
    FILE *f;
    bool is_stdin;
    struct chsm_archive_reader *r;
    struct chsm_secbuf mk;
    char serial16[16]; /* blank padded, as the store binds records to it */
};

/* Open path ("-" = stdin) and read the header: exit 1 unreadable, 4 damaged, 5 newer format. */
int adm_in_open(const char *path, struct adm_in *in);
/* Unwrap the MK from the header's token blob with the SO PIN and unlock the body (exit 3 on a wrong PIN). */
int adm_in_unlock(struct adm_in *in, const struct chsm_secbuf *so_pin);
/* Convert an archive row to the store's row type. */
void adm_row_to_store(const struct chsm_archive_row *ar, struct chsm_snapshot_row *sr);
void adm_in_close(struct adm_in *in);
/*
 * "Never restore a newer-version backup into an older-version daemon":
 * refuse (5, naming both versions) an archive written by a newer software
 * version or holding a newer store format than this binary.
 */
int adm_archive_not_newer(const struct chsm_archive_header *h);
/* Map a reader failure to its one-line message and exit code. */
int adm_archive_fail(CK_RV rv, const char *what);

#endif
