/*
 * manifest create --output FILE [--bundle FILE...] / manifest verify --input FILE
 *
 * The spec's bundle manifest: "Craton HSM version, host identity,
 * timestamp, SHA-256 of each file", plus the store/archive format versions
 * and the token facts (label, serial, object count) that the new-host
 * procedure compares with `token info`. Bundle paths are recorded as given;
 * verify resolves relative paths against the manifest's directory.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"
#include "key_util.h"
#include "store/archive.h"
#include "store/store.h"
#include "store_util.h"
#include "token_facts.h"

#define MANIFEST_VERSION 1

static int sha256_file(const char *path, char hex[65], uint64_t *size)
{
    struct chsm_digest *d = NULL;
    uint8_t buf[65536], sum[32];
    size_t n, sl = 0;
    FILE *f = fopen(path, "rb");
    CK_RV rv;
    *size = 0;
    if (f == NULL)
        return adm_fail(ADM_FAILED, "cannot read bundle file %s: %s; check the path", path, strerror(errno));
    rv = chsm_digest_new(CKM_SHA256, &d);
    while (rv == CKR_OK && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        rv = chsm_digest_update(d, buf, n);
        *size += n;
    }
    if (rv == CKR_OK && ferror(f))
        rv = CKR_DEVICE_ERROR;
    if (rv == CKR_OK)
        rv = chsm_digest_final(d, sum, &sl);
    chsm_digest_free(d);
    fclose(f);
    if (rv != CKR_OK)
        return adm_fail(ADM_FAILED, "cannot hash %s; check the file is readable", path);
    chsm_hex_encode(sum, 32, hex);
    return ADM_OK;
}

static void read_small(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (f != NULL) {
        if (fgets(out, (int)cap, f) == NULL)
            out[0] = '\0';
        fclose(f);
    }
    out[strcspn(out, "\r\n")] = '\0';
}

static const char *byte_order(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1 ? "little-endian" : "big-endian";
}

static int manifest_create(struct adm *a)
{
    const struct chsm_config *cfg;
    const struct adm_optval *bundles = adm_optv(a, "--bundle");
    const char *out = adm_opt(a, "--output");
    struct adm_token_facts tf;
    struct utsname un;
    char host[256] = "", mid[128], now[CHSM_RFC3339_LEN];
    FILE *f;
    int rc;
    if (out == NULL)
        return adm_fail(ADM_USAGE, "manifest create needs --output FILE [--bundle FILE...]");
    if (strcmp(out, "-") != 0 && adm_path_exists(out) && !adm_flag(a, "--force"))
        return adm_fail(ADM_REFUSED, "output %s already exists; choose a new name or pass --force", out);
    if ((rc = adm_config(a, &cfg)) != ADM_OK || (rc = adm_token_facts(a, cfg, &tf)) != ADM_OK)
        return rc;
    gethostname(host, sizeof(host) - 1);
    read_small("/etc/machine-id", mid, sizeof(mid));
    uname(&un);
    chsm_time_rfc3339(now);
    f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
    if (f == NULL)
        return adm_fail(ADM_FAILED, "cannot write %s: %s", out, strerror(errno));
    fprintf(f, "{\n  \"manifest_version\": %d,\n  \"product\": \"craton-hsm\",\n  \"product_version\": \"%s\",\n",
            MANIFEST_VERSION, CHSM_VERSION_STRING);
    fprintf(f, "  \"store_format_version\": %u,\n  \"archive_format_version\": %u,\n", CHSM_STORE_FORMAT_VERSION,
            CHSM_ARCHIVE_FORMAT_VERSION);
    fprintf(f, "  \"host\": {\"hostname\": ");
    adm_json_str(f, host);
    fprintf(f, ", \"machine_id\": ");
    adm_json_str(f, mid);
    fprintf(f, ", \"architecture\": ");
    adm_json_str(f, un.machine);
    fprintf(f, ", \"byte_order\": \"%s\"},\n  \"timestamp\": \"%s\",\n  \"token\": {\"label\": ", byte_order(), now);
    adm_json_str(f, tf.label);
    fprintf(f, ", \"serial\": ");
    adm_json_str(f, tf.serial);
    fprintf(f, ", \"object_count\": %llu},\n  \"files\": [", (unsigned long long)tf.object_count);
    for (size_t i = 0; bundles != NULL && i < bundles->count && rc == ADM_OK; i++) {
        char hex[65];
        uint64_t size;
        if ((rc = sha256_file(bundles->values[i], hex, &size)) != ADM_OK)
            break;
        fprintf(f, "%s\n    {\"path\": ", i ? "," : "");
        adm_json_str(f, bundles->values[i]);
        fprintf(f, ", \"size\": %llu, \"sha256\": \"%s\"}", (unsigned long long)size, hex);
    }
    fprintf(f, "\n  ]\n}\n");
    if (f != stdout && fclose(f) != 0 && rc == ADM_OK)
        rc = adm_fail(ADM_FAILED, "cannot write %s; check free space", out);
    if (rc != ADM_OK && f != stdout)
        unlink(out);
    return rc;
}

/* Find "key": in s and return a pointer just after the colon and spaces (NULL if absent). */
static const char *json_after(const char *s, const char *key)
{
    char pat[64];
    const char *p;
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    if ((p = strstr(s, pat)) == NULL)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    return p;
}

/* Decode the JSON string at p (as written by manifest create). Returns the end or NULL. */
static const char *json_str(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    if (p == NULL || *p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        char c = *p++;
        if (c == '\\') {
            if (*p == 'u' && strlen(p) >= 5) {
                c = (char)strtol((char[]){p[3], p[4], 0}, NULL, 16);
                p += 5;
            } else if (*p) {
                c = *p++;
            }
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
    out[n] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

static int check_files(const struct adm *a, const char *doc, const char *base, size_t *checked)
{
    const char *p = json_after(doc, "files");
    int rc = ADM_OK;
    *checked = 0;
    while (p != NULL && (p = json_after(p, "path")) != NULL) {
        char path[2048], full[4200], want[80], hex[65];
        uint64_t size;
        if ((p = json_str(p, path, sizeof(path))) == NULL || json_str(json_after(p, "sha256"), want, sizeof(want)) == NULL)
            return adm_fail(ADM_INTEGRITY, "manifest file entry malformed; the manifest is damaged");
        snprintf(full, sizeof(full), "%s%s%s", path[0] == '/' ? "" : base, path[0] == '/' ? "" : "/", path);
        if ((rc = sha256_file(full, hex, &size)) != ADM_OK)
            return rc;
        if (strcmp(hex, want) != 0)
            return adm_fail(ADM_INTEGRITY, "bundle file %s: SHA-256 %s differs from the manifest's %s; the file is "
                            "damaged or not the one the manifest describes", path, hex, want);
        if (!a->quiet && !a->json)
            printf("ok      %s  %s\n", hex, path);
        (*checked)++;
    }
    return rc;
}

int adm_manifest_token(const char *path, char label[64], char serial[32], uint64_t *count)
{
    struct adm_file f = {0};
    char *doc;
    const char *tok, *cnt;
    int rc = adm_file_read(path, &f);
    if (rc != ADM_OK)
        return rc;
    doc = calloc(1, f.len + 1);
    if (doc == NULL) {
        adm_file_free(&f);
        return adm_fail(ADM_FAILED, "out of memory; retry");
    }
    memcpy(doc, f.data, f.len);
    tok = json_after(doc, "token");
    if (tok == NULL || json_str(json_after(tok, "label"), label, 64) == NULL ||
        json_str(json_after(tok, "serial"), serial, 32) == NULL || (cnt = json_after(tok, "object_count")) == NULL)
        rc = adm_fail(ADM_INTEGRITY, "manifest %s has no token facts; give the bundle manifest", path);
    else
        *count = strtoull(cnt, NULL, 10);
    free(doc);
    adm_file_free(&f);
    return rc;
}

static int check_token(struct adm *a, const char *doc)
{
    const struct chsm_config *cfg;
    struct adm_token_facts tf;
    char label[64], serial[32];
    const char *tok = json_after(doc, "token"), *cnt;
    unsigned long long count;
    int rc;
    if (tok == NULL || json_str(json_after(tok, "label"), label, sizeof(label)) == NULL ||
        json_str(json_after(tok, "serial"), serial, sizeof(serial)) == NULL ||
        (cnt = json_after(tok, "object_count")) == NULL)
        return adm_fail(ADM_INTEGRITY, "manifest token facts missing; the manifest is damaged");
    count = strtoull(cnt, NULL, 10);
    if ((rc = adm_config(a, &cfg)) != ADM_OK || (rc = adm_token_facts(a, cfg, &tf)) != ADM_OK)
        return rc;
    if (strcmp(tf.label, label) != 0 || strcmp(tf.serial, serial) != 0 || tf.object_count != count)
        return adm_fail(ADM_FAILED, "token info (label \"%s\", serial %s, %llu objects) differs from the manifest "
                        "(label \"%s\", serial %s, %llu objects); do not put this host in service, investigate",
                        tf.label, tf.serial, (unsigned long long)tf.object_count, label, serial, count);
    return ADM_OK;
}

static int manifest_verify(struct adm *a)
{
    const char *in = adm_opt(a, "--input");
    struct adm_file f = {0};
    char *doc = NULL, *dup = NULL;
    size_t files = 0;
    int rc;
    if (in == NULL)
        return adm_fail(ADM_USAGE, "manifest verify needs --input FILE");
    if ((rc = adm_file_read(in, &f)) != ADM_OK)
        return rc;
    doc = calloc(1, f.len + 1);
    dup = strdup(in);
    if (doc == NULL || dup == NULL) {
        rc = adm_fail(ADM_FAILED, "out of memory; retry");
        goto out;
    }
    memcpy(doc, f.data, f.len);
    if (strstr(doc, "\"product\": \"craton-hsm\"") == NULL) {
        rc = adm_fail(ADM_INTEGRITY, "%s is not a Craton HSM bundle manifest; give the manifest file", in);
        goto out;
    }
    rc = check_files(a, doc, dirname(dup), &files);
    if (rc == ADM_OK && !adm_flag(a, "--no-token"))
        rc = check_token(a, doc);
    if (rc == ADM_OK && a->json)
        printf("{\"ok\":true,\"files_checked\":%zu,\"token_matches\":%s}\n", files,
               adm_flag(a, "--no-token") ? "null" : "true");
    else if (rc == ADM_OK)
        printf("manifest OK: %zu file(s) match%s\n", files,
               adm_flag(a, "--no-token") ? "" : "; token label, serial and object count match token info");
out:
    free(doc);
    free(dup);
    adm_file_free(&f);
    return rc;
}

int cmd_manifest(struct adm *a)
{
    static const struct adm_optspec specs[] = {{"--output", true, false}, {"--input", true, false},
                                               {"--bundle", true, true},  {"--force", false, false},
                                               {"--no-token", false, false}};
    int rc;
    if (a->argc < 2)
        return adm_fail(ADM_USAGE, "expected 'manifest create' or 'manifest verify'");
    if ((rc = adm_parse(a, 2, specs, CHSM_ARRAY_LEN(specs), 0)) != ADM_OK)
        return rc;
    if (strcmp(a->argv[1], "create") == 0)
        return manifest_create(a);
    if (strcmp(a->argv[1], "verify") == 0)
        return manifest_verify(a);
    return adm_fail(ADM_USAGE, "expected 'manifest create' or 'manifest verify'");
}
