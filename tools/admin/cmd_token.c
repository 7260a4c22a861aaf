/*
 * token init / token info. info reads the store directly (no PIN needed:
 * counts come from the clear class/key-type columns of a snapshot), so it
 * works beside a running daemon and right after a restore, as the spec's
 * restore procedures run it.
 */
#include <string.h>

#include "core_session.h"
#include "store_util.h"

#define MAX_KINDS 32

struct kind_count {
    uint64_t class_;
    uint64_t key_type;
    uint64_t n;
};

static bool is_key_class(uint64_t c)
{
    return c == CKO_PUBLIC_KEY || c == CKO_PRIVATE_KEY || c == CKO_SECRET_KEY;
}

static int token_init(struct adm *a)
{
    static const struct adm_optspec specs[] = {{"--label", true, false}, ADM_PIN_SPECS("so-pin"),
                                               ADM_PIN_SPECS("pin")};
    struct chsm_secbuf pin = {0};
    char label[32];
    const char *l;
    int rc = adm_parse(a, 2, specs, CHSM_ARRAY_LEN(specs), 0);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    if ((l = adm_opt(a, "--label")) == NULL || strlen(l) > 32 || *l == '\0')
        return adm_fail(ADM_USAGE, "token init needs --label L (1..32 bytes)");
    memset(label, ' ', sizeof(label));
    memcpy(label, l, strlen(l));
    rc = adm_pin(a, adm_opt(a, "--pin") || adm_opt(a, "--pin-file") || adm_opt(a, "--pin-env") ? "pin" : "so-pin",
                 "SO PIN", true, &pin);
    if (rc != ADM_OK)
        return rc;
    rc = adm_core_up(a);
    if (rc != ADM_OK)
        goto out;
    rv = chsm_core_InitToken(chsm_core_default_app(), adm_slot(a), pin.data, (CK_ULONG)pin.len,
                             (CK_UTF8CHAR_PTR)label);
    if (rv != CKR_OK)
        rc = adm_core_fail(rv, "token init failed");
    else if (!a->quiet)
        printf("token initialised in slot %u with label \"%s\"\n", adm_slot(a), l);
    adm_core_down();
out:
    chsm_secbuf_free(&pin);
    return rc;
}

static int count_kinds(struct chsm_store *st, uint32_t slot, struct kind_count *k, size_t *nk, uint64_t *total)
{
    struct chsm_store_snapshot *sn = NULL;
    struct chsm_snapshot_row row;
    bool done = false;
    CK_RV rv = chsm_store_snapshot_begin(st, slot, &sn);
    *nk = 0;
    *total = 0;
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot read the store", "check the store with 'craton-hsm-admin status'");
    while ((rv = chsm_store_snapshot_next(sn, &row, &done)) == CKR_OK && !done) {
        uint64_t kt = is_key_class(row.class_) ? row.key_type : (uint64_t)-1;
        size_t i;
        for (i = 0; i < *nk; i++)
            if (k[i].class_ == row.class_ && k[i].key_type == kt)
                break;
        if (i == *nk && *nk < MAX_KINDS)
            k[(*nk)++] = (struct kind_count){row.class_, kt, 0};
        if (i < MAX_KINDS)
            k[i].n++;
        (*total)++;
    }
    chsm_store_snapshot_end(sn);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot read the store", "check the store with 'craton-hsm-admin status'");
    return ADM_OK;
}

static void print_info(const struct adm *a, const struct chsm_config *cfg, const struct chsm_token_state *ts,
                       uint32_t fmt, const struct kind_count *k, size_t nk, uint64_t total)
{
    char label[33], serial[17];
    uint32_t maxf = cfg->security.max_failed_logins;
    adm_trim(label, sizeof(label), ts->label, sizeof(ts->label));
    adm_trim(serial, sizeof(serial), ts->serial, sizeof(ts->serial));
    if (a->json) {
        printf("{\"slot\":%u,\"initialized\":%s,\"label\":", adm_slot(a), ts->initialized ? "true" : "false");
        adm_json_str(stdout, label);
        printf(",\"serial\":");
        adm_json_str(stdout, serial);
        printf(",\"user_pin_initialized\":%s,\"so_pin\":{\"failed\":%u,\"locked\":%s},"
               "\"user_pin\":{\"failed\":%u,\"locked\":%s},\"max_failed_logins\":%u,\"object_count\":%llu,"
               "\"objects\":[",
               ts->user_pin_initialized ? "true" : "false", ts->so_failed, ts->so_failed >= maxf ? "true" : "false",
               ts->user_failed, ts->user_failed >= maxf ? "true" : "false", maxf, (unsigned long long)total);
        for (size_t i = 0; i < nk; i++)
            printf("%s{\"class\":\"%s\",\"key_type\":\"%s\",\"count\":%llu}", i ? "," : "",
                   adm_class_name(k[i].class_), adm_key_type_name(k[i].key_type), (unsigned long long)k[i].n);
        printf("],\"store_path\":");
        adm_json_str(stdout, cfg->token.storage_path);
        printf(",\"store_format_version\":%u,\"software_version\":\"%s\"}\n", fmt, CHSM_VERSION_STRING);
        return;
    }
    printf("Slot:                 %u\n", adm_slot(a));
    printf("Token initialized:    %s\n", ts->initialized ? "yes" : "no");
    printf("Label:                %s\n", label);
    printf("Serial:               %s\n", serial);
    printf("User PIN initialized: %s\n", ts->user_pin_initialized ? "yes" : "no");
    printf("SO PIN:               %u failed of %u%s\n", ts->so_failed, maxf, ts->so_failed >= maxf ? " (LOCKED)" : "");
    printf("User PIN:             %u failed of %u%s\n", ts->user_failed, maxf,
           ts->user_failed >= maxf ? " (LOCKED)" : "");
    printf("Objects:              %llu\n", (unsigned long long)total);
    for (size_t i = 0; i < nk; i++)
        printf("  %-12s %-14s %llu\n", adm_class_name(k[i].class_), adm_key_type_name(k[i].key_type),
               (unsigned long long)k[i].n);
    printf("Store path:           %s\n", cfg->token.storage_path);
    printf("Store format version: %u\n", fmt);
    printf("Software version:     %s\n", CHSM_VERSION_STRING);
}

static int token_info(struct adm *a)
{
    const struct chsm_config *cfg;
    struct chsm_store *st = NULL;
    struct chsm_token_state ts;
    struct kind_count k[MAX_KINDS];
    size_t nk = 0;
    uint64_t total = 0;
    int rc = adm_parse(a, 2, NULL, 0, 0);
    CK_RV rv;
    if (rc == ADM_OK)
        rc = adm_config(a, &cfg);
    if (rc == ADM_OK)
        rc = adm_store_open_existing(cfg, &st);
    if (rc != ADM_OK)
        return rc;
    rv = chsm_store_token_get(st, adm_slot(a), &ts);
    if (rv != CKR_OK) {
        rc = adm_fail_rv(rv, "cannot read the token state", "check the store with 'craton-hsm-admin status'");
        goto out;
    }
    if (ts.initialized)
        rc = count_kinds(st, adm_slot(a), k, &nk, &total);
    if (rc == ADM_OK)
        print_info(a, cfg, &ts, chsm_store_format_version(st), k, nk, total);
out:
    chsm_store_close(st);
    return rc;
}

int cmd_token(struct adm *a)
{
    if (a->argc >= 2 && strcmp(a->argv[1], "init") == 0)
        return token_init(a);
    if (a->argc >= 2 && strcmp(a->argv[1], "info") == 0)
        return token_info(a);
    return adm_fail(ADM_USAGE, "expected 'token init' or 'token info'; see craton-hsm-admin --help");
}
