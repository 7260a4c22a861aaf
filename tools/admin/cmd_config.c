/*
 * config check: validate a configuration without touching the store, so an
 * operator can check a new config (or the current one against a newer
 * version's tightened rules, e.g. the pbkdf2_iterations floor) first.
 */
#include <string.h>

#include "admin.h"

static int config_check(struct adm *a)
{
    struct chsm_config cfg;
    struct chsm_config_diag diag = {0};
    const char *path = chsm_config_locate(a->config_path);
    CK_RV rv;
    memset(&cfg, 0, sizeof(cfg));
    rv = chsm_config_load(a->config_path, &cfg, &diag);
    if (a->json) {
        printf("{\"config\":");
        adm_json_str(stdout, path ? path : "(built-in defaults)");
        printf(",\"valid\":%s,\"problems\":[", rv == CKR_OK ? "true" : "false");
        for (size_t i = 0; i < diag.count; i++) {
            if (i)
                putchar(',');
            adm_json_str(stdout, diag.items[i].message);
        }
        printf("]}\n");
    } else {
        for (size_t i = 0; i < diag.count; i++)
            printf("%s\n", diag.items[i].message);
    }
    size_t n = diag.count;
    chsm_config_diag_free(&diag);
    if (rv != CKR_OK) {
        if (rv == CKR_HOST_MEMORY)
            return adm_fail(ADM_FAILED, "out of memory while checking the config; retry");
        return adm_fail(ADM_FAILED, "configuration %s is invalid: %zu problem%s listed; fix %s and check again",
                        path ? path : "(defaults)", n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
    }
    if (!a->json)
        printf("configuration %s is valid\n", path ? path : "(built-in defaults)");
    chsm_config_free(&cfg);
    return ADM_OK;
}

int cmd_config(struct adm *a)
{
    int rc;
    if (a->argc < 2 || strcmp(a->argv[1], "check") != 0)
        return adm_fail(ADM_USAGE, "expected 'config check'; see craton-hsm-admin --help");
    rc = adm_parse(a, 2, NULL, 0, 0);
    return rc != ADM_OK ? rc : config_check(a);
}
