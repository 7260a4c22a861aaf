/*
 * backup verify --input FILE --pin SO: "decrypt and list the archive
 * without extracting" (spec, Restoration drill). Every chunk and every
 * record is authenticated; the listing shows the header and each object
 * (id, class, key type, label, size). Exit 4 on any integrity failure.
 */
#include <string.h>

#include "archive_io.h"
#include "common/bytes.h"
#include "store_util.h"

static void header_out(const struct adm *a, const struct chsm_archive_header *h)
{
    if (a->json) {
        printf("{\"format_version\":%u,\"software_version\":", h->format_version);
        adm_json_str(stdout, h->software_version);
        printf(",\"serial\":");
        adm_json_str(stdout, h->serial);
        printf(",\"token_label\":");
        adm_json_str(stdout, h->token_label);
        printf(",\"config_label\":");
        adm_json_str(stdout, h->config_label);
        printf(",\"slot\":%u,\"object_count\":%llu,\"created_unix_us\":%lld,\"store_format_version\":%u,"
               "\"audit_seq\":%llu,\"audit_head\":\"%s\",\"objects\":[",
               h->slot, (unsigned long long)h->object_count, (long long)h->created_unix_us, h->store_format_version,
               (unsigned long long)h->audit_seq, h->audit_head);
        return;
    }
    printf("Archive format version: %u\nSoftware version:       %s\nToken label:            %s\n"
           "Config label:           %s\nSerial:                 %s\nSlot:                   %u\n"
           "Objects:                %llu\nCreated (unix s):       %lld\nStore format version:   %u\n"
           "Audit head:             seq %llu %s\n",
           h->format_version, h->software_version, h->token_label, h->config_label, h->serial, h->slot,
           (unsigned long long)h->object_count, (long long)(h->created_unix_us / 1000000), h->store_format_version,
           (unsigned long long)h->audit_seq, h->audit_head);
    printf("%-32s %-12s %-14s %-8s %s\n", "ID", "CLASS", "KEY TYPE", "SIZE", "LABEL");
}

static void object_out(const struct adm *a, const struct chsm_archive_row *r, const struct chsm_store_object *o,
                       bool first)
{
    char hex[33], label[256] = "";
    const struct chsm_attr *l = chsm_attrlist_get(&o->attrs, CKA_LABEL);
    bool key = r->class_ == CKO_PUBLIC_KEY || r->class_ == CKO_PRIVATE_KEY || r->class_ == CKO_SECRET_KEY;
    chsm_hex_encode(r->id, CHSM_ARCHIVE_ID_LEN, hex);
    if (l != NULL && l->len > 0)
        snprintf(label, sizeof(label), "%.*s", (int)(l->len < 255 ? l->len : 255), (const char *)l->value);
    if (a->json) {
        printf("%s{\"id\":\"%s\",\"class\":\"%s\",\"key_type\":\"%s\",\"size\":%zu,\"label\":", first ? "" : ",", hex,
               adm_class_name(r->class_), key ? adm_key_type_name(r->key_type) : "-", r->blob_len);
        adm_json_str(stdout, label);
        printf("}");
    } else {
        printf("%-32s %-12s %-14s %-8zu %s\n", hex, adm_class_name(r->class_),
               key ? adm_key_type_name(r->key_type) : "-", r->blob_len, label);
    }
}

int adm_backup_verify(struct adm *a)
{
    static const struct adm_optspec specs[] = {{"--input", true, false}, ADM_PIN_SPECS("pin")};
    struct chsm_secbuf pin = {0};
    struct adm_in in;
    struct adm_progress pr;
    const char *path;
    bool done = false, first = true;
    uint64_t n = 0;
    int rc = adm_parse(a, 2, specs, CHSM_ARRAY_LEN(specs), 0);
    CK_RV rv = CKR_OK;
    memset(&in, 0, sizeof(in));
    if (rc != ADM_OK)
        return rc;
    if ((path = adm_opt(a, "--input")) == NULL)
        return adm_fail(ADM_USAGE, "backup verify needs --input FILE (or --input - for standard input)");
    if ((rc = adm_pin(a, "pin", "SO PIN", false, &pin)) != ADM_OK)
        return rc;
    if ((rc = adm_in_open(path, &in)) != ADM_OK)
        goto out;
    adm_timing("read header", false);
    if ((rc = adm_in_unlock(&in, &pin)) != ADM_OK)
        goto out;
    adm_timing("unwrap master key", true);
    header_out(a, chsm_archive_reader_header(in.r));
    adm_progress_start(&pr, a, "verify", chsm_archive_reader_header(in.r)->object_count);
    for (;;) {
        struct chsm_archive_row ar;
        struct chsm_snapshot_row sr;
        struct chsm_store_object obj;
        if ((rv = chsm_archive_reader_next(in.r, &ar, &done)) != CKR_OK || done)
            break;
        adm_row_to_store(&ar, &sr);
        memset(&obj, 0, sizeof(obj));
        rv = chsm_store_open_row(&in.mk, in.serial16, &sr, &obj);
        if (rv != CKR_OK) {
            chsm_store_object_free(&obj);
            rv = CHSM_ERR(CKR_ENCRYPTED_DATA_INVALID, "admin", "archived record %llu fails authentication",
                          (unsigned long long)n);
            break;
        }
        object_out(a, &ar, &obj, first);
        chsm_store_object_free(&obj);
        first = false;
        adm_progress_step(&pr, ++n);
    }
    adm_progress_end(&pr);
    adm_timing("decrypt, authenticate and list rows", false);
    if (a->json)
        printf("],\"integrity\":\"%s\"}\n", rv == CKR_OK ? "ok" : "FAILED");
    if (rv != CKR_OK) {
        rc = adm_archive_fail(rv, "archive verification failed");
        goto out;
    }
    if (!a->json)
        printf("integrity: ok (%llu objects authenticated)\n", (unsigned long long)n);
out:
    adm_in_close(&in);
    chsm_secbuf_free(&pin);
    return rc;
}
