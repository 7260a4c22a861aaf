/*
 * Steps of the restoration drill. The drill works in a scratch directory
 * with a config carrying the archive's own identity, so it never touches
 * the host's store, and it removes every scratch file at the end
 * ("Destroy the drill host's key material").
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_io.h"
#include "audit/audit.h"
#include "common/bytes.h"
#include "common/timeutil.h"
#include "core_session.h"
#include "crypto/crypto.h"
#include "drill.h"
#include "key_util.h"
#include "restore_audit.h"
#include "token_facts.h"

int drill_verify_bundle(struct drill *d, const struct chsm_secbuf *pin)
{
    struct adm_in in;
    bool done = false;
    CK_RV rv = CKR_OK;
    int rc = adm_in_open(adm_opt(d->a, "--input"), &in);
    if (rc == ADM_OK) {
        adm_timing("drill: read header", false);
        rc = adm_in_unlock(&in, pin);
        adm_timing("drill: unwrap master key (verify)", true);
    }
    if (rc != ADM_OK)
        goto out;
    const struct chsm_archive_header *h = chsm_archive_reader_header(in.r);
    snprintf(d->serial, sizeof(d->serial), "%s", h->serial);
    snprintf(d->config_label, sizeof(d->config_label), "%s", h->config_label);
    snprintf(d->token_label, sizeof(d->token_label), "%s", h->token_label);
    snprintf(d->audit_head, sizeof(d->audit_head), "%s", h->audit_head);
    d->audit_seq = h->audit_seq;
    for (;;) {
        struct chsm_archive_row ar;
        struct chsm_snapshot_row sr;
        struct chsm_store_object obj;
        if ((rv = chsm_archive_reader_next(in.r, &ar, &done)) != CKR_OK || done)
            break;
        adm_row_to_store(&ar, &sr);
        memset(&obj, 0, sizeof(obj));
        rv = chsm_store_open_row(&in.mk, in.serial16, &sr, &obj);
        chsm_store_object_free(&obj);
        if (rv != CKR_OK) {
            rv = CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, "admin", "archived record %llu fails authentication",
                          (unsigned long long)d->objects);
            break;
        }
        d->objects++;
    }
    rc = rv == CKR_OK ? ADM_OK : adm_archive_fail(rv, "drill: bundle verification failed");
    d->bundle_ok = rc == ADM_OK;
    adm_timing("drill: decrypt and authenticate rows (verify)", false);
out:
    adm_in_close(&in);
    return rc;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void replace(char **field, char *value)
{
    free(*field);
    *field = value;
}

int drill_scratch_config(struct drill *d, const struct chsm_config *host)
{
    const char *base = adm_opt(d->a, "--scratch");
    snprintf(d->dir, sizeof(d->dir), "%s/craton-hsm-drill.XXXXXX", base ? base : "/tmp");
    if (mkdtemp(d->dir) == NULL) {
        d->dir[0] = '\0';
        return adm_fail(ADM_FAILED, "cannot create a scratch directory under %s; give --scratch DIR",
                        base ? base : "/tmp");
    }
    if (chsm_config_defaults(&d->sc) != CKR_OK)
        return adm_fail(ADM_FAILED, "out of memory; retry");
    d->sc.security = host->security;
    d->sc.algorithms = host->algorithms;
    replace(&d->sc.token.label, strdup(d->config_label));
    replace(&d->sc.token.serial_number, strdup(d->serial));
    replace(&d->sc.token.storage_path, join(d->dir, "store"));
    replace(&d->sc.audit.log_path, join(d->dir, "craton_hsm_audit.jsonl"));
    if (!d->sc.token.label || !d->sc.token.serial_number || !d->sc.token.storage_path || !d->sc.audit.log_path)
        return adm_fail(ADM_FAILED, "out of memory; retry");
    return ADM_OK;
}

int drill_check_manifest(struct drill *d, const char *path)
{
    struct adm_token_facts tf;
    char label[64], serial[32];
    uint64_t count = 0;
    int rc = adm_manifest_token(path, label, serial, &count);
    d->manifest_checked = true;
    if (rc == ADM_OK)
        rc = adm_token_facts(d->a, &d->sc, &tf);
    if (rc != ADM_OK)
        return rc;
    d->manifest_ok = strcmp(tf.label, label) == 0 && strcmp(tf.serial, serial) == 0 && tf.object_count == count;
    if (!d->manifest_ok)
        return adm_fail(ADM_FAILED, "drill: restored token (label \"%s\", serial %s, %llu objects) differs from the "
                        "manifest (label \"%s\", serial %s, %llu objects); investigate the bundle", tf.label,
                        tf.serial, (unsigned long long)tf.object_count, label, serial, (unsigned long long)count);
    return ADM_OK;
}

/*
 * The scratch token is ours: the SO sets a random scratch user PIN
 * (C_InitPIN, objects survive) so the drill needs only the SO PIN, then
 * the user signs the payload with the known key.
 */
static int scratch_login(struct drill *d, const struct chsm_secbuf *so, CK_SESSION_HANDLE *h)
{
    struct chsm_app *app = chsm_core_default_app();
    struct chsm_secbuf up = {0};
    uint8_t rnd[12];
    char hex[25];
    int rc = adm_core_session(d->a, CKU_SO, so, h);
    CK_RV rv;
    adm_timing("drill: SO login on the scratch token (PBKDF2 + object load)", false);
    if (rc == ADM_OK && (rv = chsm_rand_bytes(rnd, sizeof(rnd))) == CKR_OK) {
        chsm_hex_encode(rnd, sizeof(rnd), hex);
        chsm_wipe(rnd, sizeof(rnd));
        rv = chsm_secbuf_copy(&up, hex, 24);
        chsm_wipe(hex, sizeof(hex));
        if (rv == CKR_OK)
            rv = chsm_core_InitPIN(app, *h, up.data, (CK_ULONG)up.len);
        adm_timing("drill: set a scratch user PIN (PBKDF2 wrap)", false);
        if (rv == CKR_OK)
            rv = chsm_core_Logout(app, *h);
        if (rv == CKR_OK)
            rv = chsm_core_Login(app, *h, CKU_USER, up.data, (CK_ULONG)up.len);
        adm_timing("drill: user login on the scratch token (PBKDF2 + object load)", false);
        if (rv != CKR_OK)
            rc = adm_core_fail(rv, "drill: cannot log in to the scratch token");
    }
    chsm_secbuf_free(&up);
    return rc;
}

int drill_sign(struct drill *d, const struct chsm_secbuf *so_pin)
{
    struct adm_keyinfo ki[8];
    struct adm_file payload = {0}, want = {0};
    CK_SESSION_HANDLE h;
    CK_MECHANISM_TYPE mech;
    uint8_t *sig = NULL;
    size_t n = 0, sig_len = 0;
    const char *label = adm_opt(d->a, "--known-key");
    int rc = scratch_login(d, so_pin, &h);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    rv = adm_key_find(chsm_core_default_app(), h, label, CKO_PRIVATE_KEY, ki, CHSM_ARRAY_LEN(ki), &n);
    if (rv != CKR_OK)
        return adm_core_fail(rv, "drill: cannot search for the known key");
    if (n != 1)
        return adm_fail(ADM_FAILED, "drill: %zu private keys labelled \"%s\" in the restored token; name the known key "
                        "exactly", n, label);
    if ((rc = adm_key_mech(d->a, &ki[0], &mech)) != ADM_OK)
        return rc;
    if (mech == CKM_ECDSA_SHA256 || mech == CKM_ECDSA)
        return adm_fail(ADM_USAGE, "drill: ECDSA signatures are randomised and cannot match a pre-recorded one; use "
                        "an RSA (PKCS#1 v1.5) or Ed25519 known key");
    snprintf(d->mechanism, sizeof(d->mechanism), "%s", chsm_mech_name(mech));
    if ((rc = adm_file_read(adm_opt(d->a, "--payload"), &payload)) != ADM_OK ||
        (rc = adm_file_read(adm_opt(d->a, "--signature"), &want)) != ADM_OK)
        goto out;
    rv = adm_key_sign_mem(h, ki[0].handle, mech, &payload, &sig, &sig_len);
    if (rv != CKR_OK) {
        rc = adm_core_fail(rv, "drill: signing with the known key failed");
        goto out;
    }
    d->signature_made = true;
    adm_timing("drill: sign", false);
    d->signature_ok = sig_len == want.len && chsm_ct_equal(sig, want.data, sig_len);
    d->t_signed_ns = chsm_time_mono_ns();
    if (!d->signature_ok)
        rc = adm_fail(ADM_INTEGRITY, "drill: the signature made with \"%s\" differs from the pre-recorded one; the "
                      "restored key is not the known key", label);
out:
    free(sig);
    adm_file_free(&payload);
    adm_file_free(&want);
    return rc;
}

int drill_audit(struct drill *d)
{
    const char *arch = adm_opt(d->a, "--audit-archive");
    struct chsm_audit_verify_result r;
    const char *files[2];
    char seg[2048], hash[65];
    uint64_t seq;
    size_t n = 0;
    int rc;
    CK_RV rv;
    memset(&r, 0, sizeof(r));
    snprintf(hash, sizeof(hash), "%s", d->audit_head);
    if (arch != NULL && (rc = adm_audit_archive_head(arch, &seq, hash, seg, sizeof(seg))) != ADM_OK)
        return rc;
    if (strlen(hash) != 64)
        return adm_fail(ADM_FAILED, "drill: the archive records no audit head; give --audit-archive DIR");
    files[n++] = d->sc.audit.log_path;
    rv = chsm_audit_verify_files(files, n, hash, &r);
    d->audit_ok = rv == CKR_OK && r.ok;
    if (!d->audit_ok)
        return adm_fail(ADM_INTEGRITY, "drill: the restored audit log does not chain from %s (%s); investigate the "
                        "audit archive", arch ? seg : "the archive's recorded head",
                        r.reason[0] ? r.reason : chsm_rv_name(rv));
    return ADM_OK;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    CHSM_UNUSED(sb);
    CHSM_UNUSED(flag);
    CHSM_UNUSED(ftw);
    return remove(p);
}

void drill_destroy(struct drill *d)
{
    if (d->dir[0] != '\0')
        d->destroyed = nftw(d->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 && access(d->dir, F_OK) != 0;
    chsm_config_free(&d->sc);
}
