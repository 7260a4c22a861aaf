/* status: self-tests, store, audit head, and whether a daemon holds the store lock. */
#include "core_session.h"
#include "store/store.h"

int cmd_status(struct adm *a)
{
    struct chsm_core_status s;
    const struct chsm_config *cfg;
    int rc = adm_parse(a, 1, NULL, 0, 0), held;
    CK_RV rv;
    if (rc == ADM_OK)
        rc = adm_config(a, &cfg);
    if (rc != ADM_OK)
        return rc;
    /* Probe before the core opens the store, so our own handle cannot confuse it. */
    held = chsm_config_is_volatile(cfg) ? 0 : chsm_store_lock_probe(cfg->token.storage_path);
    rc = adm_core_up(a);
    if (rc != ADM_OK)
        return rc;
    rv = chsm_core_get_status(&s);
    adm_core_down();
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "cannot read the status", "see the process log");
    if (a->json) {
        printf("{\"selftests_passed\":%s,\"selftests_run\":%u,\"store_path\":", s.selftests_passed ? "true" : "false",
               s.selftests_run);
        adm_json_str(stdout, s.store_path);
        printf(",\"store_volatile\":%s,\"store_format_version\":%u,\"daemon_lock_held\":%s,\"audit_seq\":%llu,"
               "\"audit_head\":\"%s\",\"software_version\":\"%s\"}\n",
               s.store_volatile ? "true" : "false", s.store_format_version, held == 1 ? "true" : "false",
               (unsigned long long)s.audit_seq, s.audit_head, CHSM_VERSION_STRING);
    } else {
        printf("Self-tests:           %s (%u run)\n", s.selftests_passed ? "passed" : "FAILED", s.selftests_run);
        printf("Store:                %s%s (format %u)\n", s.store_path, s.store_volatile ? " (volatile)" : "",
               s.store_format_version);
        printf("Daemon lock:          %s\n", held == 1 ? "held (a daemon is serving this store)" :
                                         held == 0 ? "free" : "unknown (probe failed)");
        printf("Audit head:           seq %llu %s\n", (unsigned long long)s.audit_seq, s.audit_head);
        printf("Software version:     %s\n", CHSM_VERSION_STRING);
    }
    return s.selftests_passed ? ADM_OK : ADM_FAILED;
}
