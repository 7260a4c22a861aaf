#include <errno.h>
#include <string.h>

#include "archive_io.h"

int adm_archive_fail(CK_RV rv, const char *what)
{
    const char *msg = chsm_err_last()->rv == rv ? chsm_err_last()->msg : chsm_rv_name(rv);
    switch (rv) {
    case CKR_SAVED_STATE_INVALID:
        return adm_fail(ADM_REFUSED, "%s; restore with the craton-hsm-admin version that wrote it or later (this is "
                        "%s; a newer-version backup never restores into an older version)", msg, CHSM_VERSION_STRING);
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
    case CKR_DATA_INVALID:
        return adm_fail(ADM_INTEGRITY, "%s: %s; the archive is damaged or tampered, use another copy of the backup",
                        what, msg);
    default:
        return adm_fail(ADM_FAILED, "%s: %s; check the input file", what, msg);
    }
}

/* "X.Y.Z[-suffix]" -> comparable number; false when it is not a version. */
static bool version_num(const char *s, uint64_t *out)
{
    unsigned x, y, z;
    if (sscanf(s, "%5u.%5u.%5u", &x, &y, &z) != 3)
        return false;
    *out = ((uint64_t)x << 40) | ((uint64_t)y << 20) | z;
    return true;
}

int adm_archive_not_newer(const struct chsm_archive_header *h)
{
    uint64_t theirs, ours;
    if (!version_num(h->software_version, &theirs) || !version_num(CHSM_VERSION_STRING, &ours))
        return adm_fail(ADM_REFUSED, "the archive names software version \"%s\", which this craton-hsm-admin %s "
                        "cannot compare; restore it with the version that wrote it", h->software_version,
                        CHSM_VERSION_STRING);
    if (theirs > ours)
        return adm_fail(ADM_REFUSED, "the archive was written by craton-hsm %s, newer than this craton-hsm-admin %s; "
                        "never restore a newer-version backup into an older version: install %s or later",
                        h->software_version, CHSM_VERSION_STRING, h->software_version);
    if (h->store_format_version > CHSM_STORE_FORMAT_VERSION)
        return adm_fail(ADM_REFUSED, "the archive holds store format version %u, newer than this craton-hsm-admin %s "
                        "supports (%u); restore with the version that wrote it or later", h->store_format_version,
                        CHSM_VERSION_STRING, CHSM_STORE_FORMAT_VERSION);
    return ADM_OK;
}

int adm_in_open(const char *path, struct adm_in *in)
{
    CK_RV rv;
    memset(in, 0, sizeof(*in));
    in->is_stdin = strcmp(path, "-") == 0;
    in->f = in->is_stdin ? stdin : fopen(path, "rb");
    if (in->f == NULL)
        return adm_fail(ADM_FAILED, "cannot read archive %s: %s; check the path and its permissions", path,
                        strerror(errno));
    rv = chsm_archive_reader_open(in->f, &in->r);
    if (rv != CKR_OK)
        return adm_archive_fail(rv, "cannot read the archive header");
    const struct chsm_archive_header *h = chsm_archive_reader_header(in->r);
    memset(in->serial16, ' ', sizeof(in->serial16));
    memcpy(in->serial16, h->serial, strnlen(h->serial, 16));
    return ADM_OK;
}

int adm_in_unlock(struct adm_in *in, const struct chsm_secbuf *so_pin)
{
    const struct chsm_archive_header *h = chsm_archive_reader_header(in->r);
    CK_RV rv = chsm_store_unwrap_mk_from_token_blob(h->token_blob, h->token_blob_len, CHSM_PIN_SO, so_pin->data,
                                                    so_pin->len, &in->mk);
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_USER_PIN_NOT_INITIALIZED)
        return adm_fail(ADM_AUTH, "the SO PIN does not open this archive (wrong PIN, or a user PIN was given); give "
                        "the SO PIN of the token that made the backup");
    if (rv != CKR_OK)
        return adm_archive_fail(rv == CKR_WRAPPED_KEY_INVALID ? CKR_ENCRYPTED_DATA_INVALID : rv,
                                "cannot unwrap the master key from the archive");
    rv = chsm_archive_reader_unlock(in->r, &in->mk);
    return rv == CKR_OK ? ADM_OK : adm_archive_fail(rv, "cannot unlock the archive");
}

void adm_row_to_store(const struct chsm_archive_row *ar, struct chsm_snapshot_row *sr)
{
    memcpy(sr->id, ar->id, CHSM_OBJECT_ID_LEN);
    sr->class_ = ar->class_;
    sr->key_type = ar->key_type;
    sr->blob = ar->blob;
    sr->blob_len = ar->blob_len;
}

void adm_in_close(struct adm_in *in)
{
    chsm_archive_reader_free(in->r);
    chsm_secbuf_free(&in->mk);
    if (in->f != NULL && !in->is_stdin)
        fclose(in->f);
    memset(in, 0, sizeof(*in));
}
