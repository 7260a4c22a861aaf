/*
 * key list | generate | delete | sign | verify — through the core's C_*
 * mirrors, logged in as the user (--pin* gives the user PIN). These are
 * what the spec's smoke test needs: "Sign a known test payload with a known
 * key and verify against a pre-computed signature".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_session.h"
#include "key_import.h"
#include "key_util.h"
#include "secret_file.h"
#include "store_util.h"

static const struct adm_optspec SPECS[] = {
    {"--type", true, false}, {"--label", true, false},     {"--id", true, false},
    {"--in", true, false},   {"--out", true, false},       {"--signature", true, false},
    {"--mechanism", true, false}, {"--force", false, false}, {"--file", true, false}, ADM_PIN_SPECS("pin")};

static int key_generate(struct adm *a, CK_SESSION_HANDLE h)
{
    const char *type = adm_opt(a, "--type"), *label = adm_opt(a, "--label");
    CK_OBJECT_HANDLE k1 = 0, k2 = 0;
    CK_RV rv;
    if (type == NULL || label == NULL)
        return adm_fail(ADM_USAGE, "key generate needs --type rsa:2048|ec:p256|ed25519|aes:256 and --label L");
    rv = adm_key_generate(chsm_core_default_app(), h, type, label, &k1, &k2);
    if (rv == CKR_ARGUMENTS_BAD)
        return adm_fail(ADM_USAGE, "unknown key type '%s'; use rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384, "
                        "ed25519, aes:128 or aes:256", type);
    if (rv != CKR_OK)
        return adm_core_fail(rv, "key generation failed");
    if (!a->quiet)
        printf("generated %s key \"%s\"\n", type, label);
    return ADM_OK;
}

/* Why a private-key import failed, in the CLI's one-line form. */
static int import_private_fail(CK_RV rv, const char *path, const char *type)
{
    if (rv == CKR_DATA_INVALID || rv == CKR_WRAPPED_KEY_INVALID)
        return adm_fail(ADM_USAGE, "%s is not an unencrypted RSA, EC or Ed25519 private key (PKCS#8 or "
                        "traditional, PEM or DER); convert it with openssl pkcs8 -topk8 -nocrypt", path);
    if (rv == CKR_KEY_TYPE_INCONSISTENT)
        return adm_fail(ADM_USAGE, "%s does not hold a %s key; give the matching --type", path, type);
    return adm_core_fail(rv, "key import failed");
}

/*
 * key import --file F --type T --label L: a PEM/DER private key or raw AES
 * bytes. The file is read into a secret buffer (secret_file.c), which is
 * wiped when freed on every path below.
 */
static int key_import(struct adm *a, CK_SESSION_HANDLE h)
{
    const char *type = adm_opt(a, "--type"), *label = adm_opt(a, "--label"), *path = adm_opt(a, "--file");
    struct chsm_secbuf f = {0};
    CK_OBJECT_HANDLE o = 0;
    bool aes;
    size_t want;
    CK_RV rv;
    int rc;
    if (type == NULL || label == NULL || path == NULL)
        return adm_fail(ADM_USAGE, "key import needs --file FILE --type aes:256 --label L");
    if ((rc = adm_secret_file_read(path, &f)) != ADM_OK)
        return rc;
    aes = strncmp(type, "aes:", 4) == 0;
    want = strcmp(type, "aes:256") == 0 ? 32 : strcmp(type, "aes:128") == 0 ? 16 : 0;
    if (!aes)
        rv = adm_key_import_private(chsm_core_default_app(), h, f.data, f.len, type, label);
    else if (want != 0 && f.len != want) {
        rc = adm_fail(ADM_USAGE, "%s holds %zu bytes, %s needs %zu raw bytes", path, f.len, type, want);
        goto out;
    } else
        rv = adm_key_import_secret(chsm_core_default_app(), h, &f, label, &o);
    if (rv != CKR_OK) {
        rc = aes ? adm_core_fail(rv, "key import failed") : import_private_fail(rv, path, type);
        goto out;
    }
    if (!a->quiet)
        printf(aes ? "imported %s key \"%s\"\n" : "imported %s key pair \"%s\"\n", type, label);
out:
    chsm_secbuf_free(&f);
    return rc;
}

static int key_list(struct adm *a, CK_SESSION_HANDLE h)
{
    struct adm_keyinfo ki[256];
    size_t n = 0;
    CK_RV rv = adm_key_find(chsm_core_default_app(), h, NULL, (CK_ULONG)-1, ki, CHSM_ARRAY_LEN(ki), &n);
    if (rv != CKR_OK)
        return adm_core_fail(rv, "cannot list objects");
    if (a->json)
        printf("[");
    else
        printf("%-32s %-12s %-14s %s\n", "ID", "CLASS", "KEY TYPE", "LABEL");
    for (size_t i = 0; i < n; i++) {
        if (a->json) {
            printf("%s{\"id\":\"%s\",\"class\":\"%s\",\"key_type\":\"%s\",\"label\":", i ? "," : "", ki[i].id,
                   adm_class_name(ki[i].class_), ki[i].is_key ? adm_key_type_name(ki[i].key_type) : "-");
            adm_json_str(stdout, ki[i].label);
            printf("}");
        } else {
            printf("%-32s %-12s %-14s %s\n", ki[i].id, adm_class_name(ki[i].class_),
                   ki[i].is_key ? adm_key_type_name(ki[i].key_type) : "-", ki[i].label);
        }
    }
    if (a->json)
        printf("]\n");
    return ADM_OK;
}

/* Exactly one object of `class_` with --label or --id. */
static int find_one(struct adm *a, CK_SESSION_HANDLE h, CK_ULONG class_, struct adm_keyinfo *out)
{
    struct adm_keyinfo ki[64];
    size_t n = 0, hit = 0, idx = 0;
    const char *label = adm_opt(a, "--label"), *id = adm_opt(a, "--id");
    CK_RV rv;
    if (label == NULL && id == NULL)
        return adm_fail(ADM_USAGE, "name the key with --label L or --id ID");
    rv = adm_key_find(chsm_core_default_app(), h, label, class_, ki, CHSM_ARRAY_LEN(ki), &n);
    if (rv != CKR_OK)
        return adm_core_fail(rv, "cannot search for the key");
    for (size_t i = 0; i < n; i++)
        if (id == NULL || strcmp(ki[i].id, id) == 0) {
            hit++;
            idx = i;
        }
    if (hit == 0)
        return adm_fail(ADM_FAILED, "no %s named %s; check 'craton-hsm-admin key list'", adm_class_name(class_),
                        label ? label : id);
    if (hit > 1)
        return adm_fail(ADM_FAILED, "%zu %s objects are labelled %s; name one with --id ID", hit,
                        adm_class_name(class_), label);
    *out = ki[idx];
    return ADM_OK;
}

static int key_sign_verify(struct adm *a, CK_SESSION_HANDLE h, bool sign)
{
    struct adm_keyinfo k;
    struct adm_file in = {0}, sig = {0};
    const char *inp = adm_opt(a, "--in"), *outp = adm_opt(a, sign ? "--out" : "--signature");
    int rc;
    if (inp == NULL || outp == NULL)
        return adm_fail(ADM_USAGE, sign ? "key sign needs --in FILE and --out FILE"
                                        : "key verify needs --in FILE and --signature FILE");
    if ((rc = find_one(a, h, sign ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, &k)) != ADM_OK)
        return rc;
    if ((rc = adm_file_read(inp, &in)) != ADM_OK)
        return rc;
    if (sign)
        rc = adm_key_sign(a, h, &k, &in, outp);
    else if ((rc = adm_file_read(outp, &sig)) == ADM_OK)
        rc = adm_key_verify(a, h, &k, &in, &sig);
    adm_file_free(&in);
    adm_file_free(&sig);
    return rc;
}

static int key_export_public(struct adm *a, CK_SESSION_HANDLE h)
{
    struct adm_keyinfo k;
    const char *out = adm_opt(a, "--out");
    FILE *f;
    int rc = find_one(a, h, CKO_PUBLIC_KEY, &k);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    f = out == NULL || strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
    if (f == NULL)
        return adm_fail(ADM_FAILED, "cannot write %s: %s; check the directory", out, strerror(errno));
    rv = adm_key_export_public(chsm_core_default_app(), h, &k, f);
    if (f != stdout && fclose(f) != 0 && rv == CKR_OK)
        rv = CKR_DEVICE_ERROR;
    return rv == CKR_OK ? ADM_OK : adm_core_fail(rv, "key export-public failed");
}

static int key_delete(struct adm *a, CK_SESSION_HANDLE h)
{
    struct adm_keyinfo ki[64];
    size_t n = 0, hits = 0;
    const char *label = adm_opt(a, "--label"), *id = adm_opt(a, "--id");
    CK_RV rv;
    if (label == NULL && id == NULL)
        return adm_fail(ADM_USAGE, "key delete needs --label L or --id ID");
    rv = adm_key_find(chsm_core_default_app(), h, label, (CK_ULONG)-1, ki, CHSM_ARRAY_LEN(ki), &n);
    if (rv != CKR_OK)
        return adm_core_fail(rv, "cannot search for the key");
    for (size_t i = 0; i < n; i++)
        hits += id == NULL || strcmp(ki[i].id, id) == 0;
    if (hits == 0)
        return adm_fail(ADM_FAILED, "no object named %s; check 'craton-hsm-admin key list'", label ? label : id);
    if (hits > 1 && !adm_flag(a, "--force"))
        return adm_fail(ADM_REFUSED, "%zu objects match %s (e.g. a key pair); pass --force to delete them all", hits,
                        label ? label : id);
    for (size_t i = 0; i < n; i++) {
        if (id != NULL && strcmp(ki[i].id, id) != 0)
            continue;
        rv = chsm_core_DestroyObject(chsm_core_default_app(), h, ki[i].handle);
        if (rv != CKR_OK)
            return adm_core_fail(rv, "key delete failed");
    }
    if (!a->quiet)
        printf("deleted %zu object(s)\n", hits);
    return ADM_OK;
}

int cmd_key(struct adm *a)
{
    static const char *const subs[] = {"list", "generate", "delete", "sign", "verify", "import", "export-public"};
    struct chsm_secbuf pin = {0};
    CK_SESSION_HANDLE h = 0;
    const char *sub = a->argc >= 2 ? a->argv[1] : "";
    size_t which = CHSM_ARRAY_LEN(subs);
    int rc;
    for (size_t i = 0; i < CHSM_ARRAY_LEN(subs); i++)
        if (strcmp(sub, subs[i]) == 0)
            which = i;
    if (which == CHSM_ARRAY_LEN(subs))
        return adm_fail(ADM_USAGE, "expected 'key list|generate|import|delete|sign|verify|export-public'; see craton-hsm-admin --help");
    if ((rc = adm_parse(a, 2, SPECS, CHSM_ARRAY_LEN(SPECS), 0)) != ADM_OK)
        return rc;
    if ((rc = adm_pin(a, "pin", "user PIN", false, &pin)) != ADM_OK)
        return rc;
    if ((rc = adm_core_up(a)) != ADM_OK)
        goto out;
    if ((rc = adm_core_session(a, CKU_USER, &pin, &h)) == ADM_OK) {
        switch (which) {
        case 0: rc = key_list(a, h); break;
        case 1: rc = key_generate(a, h); break;
        case 2: rc = key_delete(a, h); break;
        case 5: rc = key_import(a, h); break;
        case 6: rc = key_export_public(a, h); break;
        default: rc = key_sign_verify(a, h, which == 3); break;
        }
    }
    adm_core_down();
out:
    chsm_secbuf_free(&pin);
    return rc;
}
