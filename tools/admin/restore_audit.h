/* After a restore: continue the audit chain (spec, Restoration drill: the restored log chains from the archive). */
#ifndef CHSM_ADMIN_RESTORE_AUDIT_H
#define CHSM_ADMIN_RESTORE_AUDIT_H

#include "admin.h"
#include "store/archive.h"

/*
 * The new log's first entry chains from the last line of the most recent
 * segment in --audit-archive DIR when given, else from the archive's
 * recorded head. A live log that already exists just gets a "restore"
 * entry appended to its own chain.
 */
int adm_restore_audit(struct adm *a, const struct chsm_config *cfg, const struct chsm_archive_header *h);
/* Last line of the newest segment in dir: its seq and the SHA-256 of its bytes. */
int adm_audit_archive_head(const char *dir, uint64_t *seq, char hash[65], char *file, size_t file_len);

#endif
