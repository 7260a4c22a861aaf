/*
 * --help texts: the program's and one per command, kept in step with
 * craton-hsm-admin.1 (tests/admin/test_help.sh checks that every option a
 * help text names is in the man page and that the exit codes are worded
 * identically). `craton-hsm-admin CMD [SUB] --help` prints the command's
 * text on stdout and exits 0 without touching anything.
 */
#include <string.h>

#include "admin.h"

#define GLOBALS                                                                                                  \
    "Global options (anywhere on the line): --config PATH (else $CRATON_HSM_CONFIG, else\n"                    \
    "./craton_hsm.toml, else defaults), --json (machine-readable output), --quiet (no\n"                        \
    "progress), --slot N (default 0), --timings (phase timings on stderr), --help.\n"

#define PINS                                                                                                     \
    "PINs, in order of preference: --pin-file PATH, --pin-env NAME, --pin - (standard\n"                       \
    "input), a no-echo prompt on a terminal, or --pin VALUE (visible in ps; warns).\n"                          \
    "The same forms exist for --so-pin, --new-pin and --old-pin where a command takes them.\n"

#define EXITS                                                                                                    \
    "Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 authentication failed\n"                           \
    "(wrong PIN, PIN locked), 4 integrity failure (tampered or truncated archive, store\n"                      \
    "or log), 5 refused by a safety rule (store exists, daemon running, format version\n"                       \
    "too new, identity mismatch, output exists).\n"

static const char USAGE[] =
    "usage: craton-hsm-admin [--config PATH] [--json] [--quiet] [--slot N] [--timings] COMMAND [OPTIONS]\n"
    "\n"
    "Commands (craton-hsm-admin COMMAND --help for each):\n"
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
    "  version                               print the software version\n"
    "\n" GLOBALS "\n" PINS "\n" EXITS;

struct topic {
    const char *cmd;
    const char *sub; /* NULL: the command itself (or its overview) */
    const char *text;
};

static const struct topic TOPICS[] = {
    {"config", NULL,
     "usage: craton-hsm-admin config check [--config PATH]\n"
     "Validate the configuration without touching the store; every problem is listed as\n"
     "file:line: table.key: rule, got value (for example a pbkdf2_iterations below the\n"
     "100000 floor). Exit 0 when valid, 1 when not.\n"},
    {"token", "init",
     "usage: craton-hsm-admin token init --label L [--so-pin-file PATH | --so-pin-env NAME | --so-pin -]\n"
     "Initialise the token with the SO PIN (the --pin forms are accepted too).\n"},
    {"token", "info",
     "usage: craton-hsm-admin token info [--json]\n"
     "Label, serial, slot, initialised flags, PIN failure counters and lock state, object\n"
     "count by class and key type, store path and format version, software version.\n"
     "Needs no PIN; works while the daemon runs.\n"},
    {"token", NULL, "usage: craton-hsm-admin token init --label L | token info\n"},
    {"status", NULL,
     "usage: craton-hsm-admin status [--json]\n"
     "Self-test result, store, audit chain head, and whether a daemon holds the store lock.\n"},
    {"pin", "change",
     "usage: craton-hsm-admin pin change --user-type so|user [--pin-file PATH | --old-pin-file PATH]\n"
     "                                   [--new-pin-file PATH]\n"
     "Old PIN from --pin*/--old-pin*, new from --new-pin* (a prompt asks twice).\n"
     "A wrong old PIN exits 3 and counts toward the lockout.\n"},
    {"pin", "reset",
     "usage: craton-hsm-admin pin reset [--so-pin-file PATH] [--new-pin-file PATH]\n"
     "The SO (--so-pin*) sets a new user PIN (--new-pin*), also unlocking a locked user\n"
     "PIN; objects survive.\n"},
    {"pin", NULL, "usage: craton-hsm-admin pin change --user-type so|user | pin reset\n"},
    {"key", NULL,
     "usage: craton-hsm-admin key SUBCOMMAND [OPTIONS], as the user (--pin*):\n"
     "  key list\n"
     "  key generate --type rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ed25519|aes:128|aes:256 --label L\n"
     "  key import --file F --type T --label L   RSA/EC/Ed25519 private keys as PKCS#8 or\n"
     "                                           traditional PEM/DER; AES as raw bytes\n"
     "  key delete --label L|--id ID [--force]   --force: delete more than one object (a pair)\n"
     "  key sign --label L --in F --out F [--mechanism CKM_...]\n"
     "  key verify --label L --in F --signature F [--mechanism CKM_...]\n"
     "  key export-public --label L [--out F]   PEM\n"
     "Default mechanisms: RSA CKM_SHA256_RSA_PKCS, EC CKM_ECDSA_SHA256, Ed25519 CKM_EDDSA.\n"},
    {"backup", "verify",
     "usage: craton-hsm-admin backup verify --input FILE|- --pin SO\n"
     "Decrypt and list the archive without extracting: header and objects (id, class, key\n"
     "type, size, label). Exit 4 on any integrity failure.\n"},
    {"backup", NULL,
     "usage: craton-hsm-admin backup --pin SO --output FILE|- [--force]\n"
     "       craton-hsm-admin backup verify --input FILE|- --pin SO\n"
     "Write one archive from a consistent snapshot while other processes (the daemon)\n"
     "keep writing. Every record is authenticated first; the file is written beside its\n"
     "final name, fsynced and renamed, mode 0600, and never replaces an existing file\n"
     "without --force. --output - writes standard output (for gpg --encrypt pipelines).\n"},
    {"restore", NULL,
     "usage: craton-hsm-admin restore --pin SO --input FILE|- [--force] [--audit-archive DIR]\n"
     "Rebuild the store beside its final path and rename it into place. Refused, touching\n"
     "nothing, when: the SO PIN is wrong or a user PIN is given (3); the archive is\n"
     "tampered or truncated (4); its format, store format or writing software version is\n"
     "newer than this binary (5, naming both versions); the store already exists (5;\n"
     "--force first moves it to STORE.quarantine.UNIX-TIME); a daemon holds the store\n"
     "lock (5); the config's serial_number or label differs from the archive's (5).\n"
     "The new audit log chains from the last entry of the newest segment\n"
     "in --audit-archive DIR, else from the archive's recorded head. --input - reads\n"
     "standard input. A quarantined store is never deleted.\n"},
    {"manifest", "create",
     "usage: craton-hsm-admin manifest create --output FILE|- [--bundle FILE...] [--force] [--no-token]\n"
     "JSON with product version, store and archive format versions, host identity\n"
     "(hostname, machine id, architecture, byte order), timestamp, token label, serial and\n"
     "object count (left out with --no-token), and the SHA-256 of each bundle file.\n"},
    {"manifest", "verify",
     "usage: craton-hsm-admin manifest verify --input FILE [--no-token]\n"
     "Recompute every hash (exit 4 on a mismatch) and compare the token facts with token\n"
     "info (skipped with --no-token).\n"},
    {"manifest", NULL, "usage: craton-hsm-admin manifest create --output FILE [--bundle FILE...] | manifest verify --input FILE\n"},
    {"drill", NULL,
     "usage: craton-hsm-admin drill --input FILE --pin SO --known-key LABEL --payload FILE\n"
     "         --signature FILE [--manifest FILE] [--audit-archive DIR] [--mechanism CKM_...]\n"
     "         [--scratch DIR] [--json]\n"
     "The quarterly restoration drill in a scratch directory (under --scratch DIR, else\n"
     "/tmp): verify the bundle, restore, run the self-tests, compare with --manifest FILE\n"
     "if given, sign the payload with the known key (RSA PKCS#1 v1.5 or Ed25519) and\n"
     "compare with the pre-recorded signature, verify audit continuity (--audit-archive\n"
     "DIR), print the RTO and a report (--json), and destroy the scratch key material.\n"},
    {"audit", "verify",
     "usage: craton-hsm-admin audit verify [--log PATH] [--segments DIR_OR_GLOB] [--from-hash HEX]\n"
     "Check the chain across all segments; names the first broken entry (exit 4).\n"},
    {"audit", NULL,
     "usage: craton-hsm-admin audit verify [--log PATH] [--segments DIR_OR_GLOB] [--from-hash HEX]\n"
     "       craton-hsm-admin audit dump [--last N] | audit head | audit rotate\n"
     "verify checks the chain across all segments and names the first broken entry (exit 4);\n"
     "dump prints entries, head the last sequence number and hash, rotate closes the\n"
     "current segment.\n"},
};

void adm_help_usage(FILE *f)
{
    fputs(USAGE, f);
}

int adm_help(const struct adm *a)
{
    const char *cmd = a->argc >= 1 ? a->argv[0] : NULL;
    const char *sub = a->argc >= 2 ? a->argv[1] : NULL;
    const struct topic *best = NULL;
    if (cmd == NULL) {
        fputs(USAGE, stdout);
        return ADM_OK;
    }
    for (size_t i = 0; i < CHSM_ARRAY_LEN(TOPICS); i++) {
        const struct topic *t = &TOPICS[i];
        if (strcmp(t->cmd, cmd) != 0)
            continue;
        if (t->sub != NULL && sub != NULL && strcmp(t->sub, sub) == 0) {
            best = t;
            break;
        }
        if (t->sub == NULL && best == NULL)
            best = t;
    }
    if (best == NULL)
        return adm_fail(ADM_USAGE, "unknown command '%s'; see craton-hsm-admin --help", cmd);
    fputs(best->text, stdout);
    fputs("\n" GLOBALS "\n" PINS "\n" EXITS, stdout);
    return ADM_OK;
}
