#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "store_util.h"

bool adm_path_exists(const char *p)
{
    struct stat sb;
    return lstat(p, &sb) == 0;
}

bool adm_dir_nonempty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool any = false;
    if (d == NULL)
        return errno != ENOENT && errno != ENOTDIR ? true : adm_path_exists(dir);
    while (!any && (e = readdir(d)) != NULL)
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

int adm_store_open_existing(const struct chsm_config *cfg, struct chsm_store **out)
{
    char db[4200];
    CK_RV rv;
    if (chsm_config_is_volatile(cfg))
        return adm_fail(ADM_FAILED, "[token].storage_path selects a volatile in-memory store; set a directory in "
                        "the config");
    snprintf(db, sizeof(db), "%s/%s", cfg->token.storage_path, CHSM_STORE_DB_NAME);
    if (!adm_path_exists(db))
        return adm_fail(ADM_FAILED, "no store at %s; run 'craton-hsm-admin token init' or 'restore' first, or fix "
                        "[token].storage_path", cfg->token.storage_path);
    rv = chsm_store_open(cfg->token.storage_path, out);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot open the store", "check [token].storage_path and its permissions (0700)");
    return ADM_OK;
}

const char *adm_class_name(uint64_t c)
{
    switch (c) {
    case CKO_DATA: return "data";
    case CKO_CERTIFICATE: return "certificate";
    case CKO_PUBLIC_KEY: return "public-key";
    case CKO_PRIVATE_KEY: return "private-key";
    case CKO_SECRET_KEY: return "secret-key";
    default: return "other";
    }
}

const char *adm_key_type_name(uint64_t k)
{
    switch (k) {
    case CKK_RSA: return "rsa";
    case CKK_EC: return "ec";
    case CKK_EC_EDWARDS: return "ed25519";
    case CKK_AES: return "aes";
    case CKK_GENERIC_SECRET: return "generic-secret";
    case CKK_DES3: return "des3";
    case (uint64_t)-1: return "-";
    default: return "other";
    }
}

void adm_fsync_parent(const char *path)
{
    char *dup = strdup(path);
    int fd;
    if (dup == NULL)
        return;
    fd = open(dirname(dup), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dup);
}
