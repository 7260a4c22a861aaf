/*
 * libFuzzer harness for the config parser: arbitrary bytes through the
 * whole pipeline (TOML subset parser, schema mapping, validation), then
 * everything freed. Any crash, leak, sanitizer report or a success without a
 * config is a finding. Validation may lstat paths named in the input; that
 * only reads metadata.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chsm_config cfg;
    struct chsm_config_diag diag = {0};
    CK_RV rv = chsm_config_parse("fuzz.toml", (const char *)data, size, &cfg, &diag);
    if (rv == CKR_OK) {
        /* A success must be a complete config with no problems recorded. */
        if (diag.count != 0 || cfg.token.label == NULL || cfg.token.serial_number == NULL || cfg.daemon.bind == NULL)
            abort();
        free(chsm_config_audit_log_path(&cfg));
    } else if (rv == CKR_ARGUMENTS_BAD) {
        /* A refusal must say why, in single-line messages. */
        if (diag.count == 0)
            abort();
        for (size_t i = 0; i < diag.count; i++) {
            if (diag.items[i].message == NULL || strchr(diag.items[i].message, '\n') != NULL)
                abort();
        }
    } else if (rv != CKR_HOST_MEMORY) {
        abort();
    }
    chsm_config_free(&cfg);
    chsm_config_diag_free(&diag);
    return 0;
}
