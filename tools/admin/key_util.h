/* Key object helpers over the core's C_* mirrors (find, generate, sign, verify) and whole-file I/O. */
#ifndef CHSM_ADMIN_KEY_UTIL_H
#define CHSM_ADMIN_KEY_UTIL_H

#include "admin.h"
#include "core/core.h"

struct adm_keyinfo {
    CK_OBJECT_HANDLE handle;
    CK_ULONG class_;
    CK_ULONG key_type;
    bool is_key;
    char label[129];
    char id[33]; /* CKA_UNIQUE_ID */
};

/* Whole non-secret files (payloads, signatures, manifests); key files go through secret_file.h. */
struct adm_file {
    uint8_t *data;
    size_t len;
};
int adm_file_read(const char *path, struct adm_file *f);
/* Write atomically-enough for signatures: create/truncate with mode 0644. */
int adm_file_write(const char *path, const void *data, size_t len);
void adm_file_free(struct adm_file *f);

/* Objects with CKA_LABEL == label (NULL: any) and CKA_CLASS == class_ ((CK_ULONG)-1: any). */
CHSM_MUST_CHECK CK_RV adm_key_find(struct chsm_app *app, CK_SESSION_HANDLE h, const char *label, CK_ULONG class_,
                                   struct adm_keyinfo *out, size_t cap, size_t *n);
/* type: rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ed25519|aes:128|aes:256. CKR_ARGUMENTS_BAD for unknown. */
CHSM_MUST_CHECK CK_RV adm_key_generate(struct chsm_app *app, CK_SESSION_HANDLE h, const char *type, const char *label,
                                       CK_OBJECT_HANDLE *k1, CK_OBJECT_HANDLE *k2);
/* A token AES key from raw bytes (C_CreateObject). */
CHSM_MUST_CHECK CK_RV adm_key_import_secret(struct chsm_app *app, CK_SESSION_HANDLE h,
                                            const struct chsm_secbuf *raw, const char *label, CK_OBJECT_HANDLE *out);
/* Default mechanism by key type, or --mechanism NAME. */
int adm_key_mech(const struct adm *a, const struct adm_keyinfo *k, CK_MECHANISM_TYPE *out);
int adm_key_sign(struct adm *a, CK_SESSION_HANDLE h, const struct adm_keyinfo *k, const struct adm_file *in,
                 const char *out_path);
/* Sign into memory (drill). *sig malloc'ed. */
CHSM_MUST_CHECK CK_RV adm_key_sign_mem(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mech,
                                       const struct adm_file *in, uint8_t **sig, size_t *sig_len);
int adm_key_verify(struct adm *a, CK_SESSION_HANDLE h, const struct adm_keyinfo *k, const struct adm_file *in,
                   const struct adm_file *sig);

#endif
