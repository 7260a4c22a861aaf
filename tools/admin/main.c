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

static const char USAGE[] =
    "usage: craton-hsm-admin [--config PATH] [--json] [--quiet] COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  config check                          validate a config (every problem listed)\n"
    "  token init --label L                  initialise the token (SO PIN)\n"
    "  token info                            label, serial, PIN state, objects, store\n"
    "  status                                self-tests, store, audit head, daemon lock\n"
    "  pin change --user-type so|user        change a PIN (old PIN, then new PIN)\n"
    "  pin reset                             SO sets a new user PIN (objects survive)\n"
    "  key list|generate|import|delete|sign|verify|export-public\n"
    "  backup --pin SO --output FILE [--force]\n"
    "  backup verify --input FILE --pin SO   decrypt and list the archive without extracting\n"
    "  restore --pin SO --input FILE [--force] [--audit-archive DIR]\n"
    "  manifest create --output FILE [--bundle FILE...] | manifest verify --input FILE\n"
    "  drill --input FILE --pin SO --known-key LABEL --payload FILE --signature FILE\n"
    "  audit verify [--log PATH] [--segments DIR_OR_GLOB] [--from-hash HEX]\n"
    "  audit dump [--last N] | audit head | audit rotate\n"
    "\n"
    "Global options: --config PATH (else $CRATON_HSM_CONFIG, else ./craton_hsm.toml, else\n"
    "defaults), --json (machine-readable output), --quiet (no progress), --slot N, --help.\n"
    "\n"
    "PINs, in order of preference: --pin-file PATH, --pin-env NAME, --pin - (standard\n"
    "input), a no-echo prompt on a terminal, or --pin VALUE (visible in ps; warns).\n"
    "The same forms exist for --so-pin, --new-pin and --old-pin where a command takes them.\n"
    "\n"
    "Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 authentication failed\n"
    "(wrong PIN, PIN locked), 4 integrity failure (tampered or truncated archive, store\n"
    "or log), 5 refused by a safety rule (store exists, daemon running, format version\n"
    "too new, identity mismatch).\n";

static int dispatch(struct adm *a)
{
    static const struct {
        const char *name;
        int (*fn)(struct adm *);
    } cmds[] = {{"config", cmd_config}, {"token", cmd_token},     {"status", cmd_status},
                {"pin", cmd_pin},       {"audit", cmd_audit},     {"backup", cmd_backup},
                {"restore", cmd_restore}, {"key", cmd_key},       {"manifest", cmd_manifest},
                {"drill", cmd_drill}};
    if (a->argc == 0) {
        if (a->help) {
            fputs(USAGE, stdout);
            return ADM_OK;
        }
        fputs(USAGE, stderr);
        return ADM_USAGE;
    }
    if (a->help) {
        fputs(USAGE, stdout);
        return ADM_OK;
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
