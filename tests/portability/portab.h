/*
 * Portability proof (issue 6, "Portability"; tests/portability/README.md):
 * the helpers replay, with the library calls only, what craton-hsm-admin's
 * restore (tools/admin/cmd_restore.c build()) and backup
 * (tools/admin/cmd_backup.c do_backup()) do, so the test runs on any host
 * (x86-64 natively, s390x under qemu-user) without the CLI. The format code
 * itself is never copied: every byte is read and written by src/store.
 */
#ifndef CHSM_TEST_PORTAB_H
#define CHSM_TEST_PORTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/attrlist.h"
#include "common/result.h"
#include "common/secbuf.h"
#include "store/archive.h"
#include "store/store.h"

/* The fixture token (tests/fixtures/store/v1, tests/unit/store/fixture_v1.h). */
#define PT_SLOT 0u
#define PT_ITER 1000u
#define PT_LABEL "craton fixture v1               "
#define PT_SERIAL "FIXTURE-V1-0001 "
#define PT_SO_PIN "fixture-so-1234"
#define PT_USER_PIN "fixture-user-5678"
#define PT_MAX_FAILED 10u
/* The archive of that store made once on x86-64 by craton-hsm-admin backup (README.md). */
#define PT_X86_ARCHIVE "fixture-store-v1-x86_64.chsmbk"

/* "big-endian" or "little-endian", from a runtime check of this host. */
const char *pt_host_byte_order(void);
/* The label of the object a host adds before writing its archive: "portab-<byte order>". */
void pt_host_label(const char *order, char *out, size_t n);

/* What a restore saw: the archive header's identity and the rows it listed. */
struct pt_restored {
    char serial[17];
    char token_label[33];
    char config_label[33];
    uint32_t slot;
    uint64_t object_count;
    uint64_t rows; /* rows read, each authenticated under the MK */
};

/*
 * Restore `archive` into the NEW store directory `dir` the way `restore`
 * does: header, SO PIN unwraps the MK from the token blob, body unlocked,
 * every row authenticated (chsm_store_open_row) and imported in one
 * transaction, then the token's object count compared with the header.
 * Prints the listing (id, class, key type, label) on stdout.
 */
CHSM_MUST_CHECK CK_RV pt_restore(const char *archive, const char *so_pin, const char *dir, struct pt_restored *out);

/*
 * Write a new archive of the store in `dir` the way `backup` does: SO PIN
 * checked through the store, snapshot, every row authenticated then
 * archived. Identity (config label) copied from `like`.
 */
CHSM_MUST_CHECK CK_RV pt_backup(const char *dir, const char *so_pin, const struct pt_restored *like,
                                const char *out_path);

/* Every object of the slot, decrypted under mk (NULL: public only). */
struct pt_objects {
    struct chsm_store_object items[16];
    size_t count;
};
CHSM_MUST_CHECK CK_RV pt_load_objects(struct chsm_store *st, const struct chsm_secbuf *mk, struct pt_objects *out);
void pt_objects_free(struct pt_objects *o);
const struct chsm_store_object *pt_find(const struct pt_objects *o, const char *label);

/* cmocka assertions on the contents (they fail the current test). */
void pt_check_token(struct chsm_store *st, uint64_t objects);
void pt_check_fixture_objects(const struct pt_objects *o);
/* Add the host's own object (AES key with CKA_VALUE_LEN, pattern value) and re-wrap the user PIN on this host. */
void pt_add_host_object(struct chsm_store *st, const struct chsm_secbuf *mk, const char *order);
void pt_check_host_object(const struct pt_objects *o, const char *order);

/* Store helpers. */
void pt_copy_file(const char *from, const char *to);
void pt_rm_rf(const char *dir);
/* Open the store in dir, check the token, log in as user: mk filled in. */
struct chsm_store *pt_open_login(const char *dir, uint64_t objects, struct chsm_secbuf *mk);

#endif
