/*
 * craton-hsm-admin: global options (anywhere on the line), dispatch, the
 * documented exit codes, and the one-line error format
 *   craton-hsm-admin: <what is wrong>; <what to do>
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "crypto/crypto.h"

static int dispatch(struct adm *a)
{
    static const struct {
        const char *name;
        int (*fn)(struct adm *);
    } cmds[] = {{"config", cmd_config}, {"token", cmd_token},     {"status", cmd_status},
                {"pin", cmd_pin},       {"audit", cmd_audit},     {"backup", cmd_backup},
                {"restore", cmd_restore}, {"key", cmd_key},       {"manifest", cmd_manifest},
                {"drill", cmd_drill}};
    if (a->help)
        return adm_help(a);
    if (a->argc == 0) {
        adm_help_usage(stderr);
        return ADM_USAGE;
    }
    for (size_t i = 0; i < CHSM_ARRAY_LEN(cmds); i++)
        if (strcmp(a->argv[0], cmds[i].name) == 0)
            return cmds[i].fn(a);
    if (strcmp(a->argv[0], "version") == 0 || strcmp(a->argv[0], "--version") == 0) {
        printf("craton-hsm-admin %s\n", CHSM_VERSION_STRING);
        return ADM_OK;
    }
    return adm_fail(ADM_USAGE, "unknown command '%s'; see craton-hsm-admin --help", a->argv[0]);
}

int main(int argc, char **argv)
{
    struct adm a;
    int rc;
    memset(&a, 0, sizeof(a));
    a.prog = "craton-hsm-admin";
    rc = adm_take_globals(&a, argc, argv);
    if (rc != ADM_OK)
        return rc;
    if (chsm_crypto_init() != CKR_OK)
        return adm_fail(ADM_FAILED, "the crypto library failed to initialise; check the OpenSSL 3 installation");
    adm_timing_start(a.timings);
    rc = dispatch(&a);
    adm_timing_end();
    if (a.cfg_loaded)
        chsm_config_free(&a.cfg);
    chsm_crypto_fini();
    return rc;
}
