/* Store access shared by token info, backup and restore. */
#ifndef CHSM_ADMIN_STORE_UTIL_H
#define CHSM_ADMIN_STORE_UTIL_H

#include "admin.h"
#include "store/store.h"

/* Open the configured store; refuses (exit 1) when it does not exist (opening would create one). */
int adm_store_open_existing(const struct chsm_config *cfg, struct chsm_store **out);
/* true when dir exists and holds at least one entry. */
bool adm_dir_nonempty(const char *dir);
bool adm_path_exists(const char *p);
/* Make a rename in the parent directory of path durable (best effort). */
void adm_fsync_parent(const char *path);
/* Class / key type names for listings. */
const char *adm_class_name(uint64_t c);
const char *adm_key_type_name(uint64_t k);

#endif
