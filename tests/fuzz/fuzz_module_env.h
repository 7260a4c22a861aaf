/*
 * Shared set-up for harnesses that drive the real C_* entry points: a
 * volatile-token craton_hsm.toml in a fresh temp dir (CRATON_HSM_CONFIG), and
 * an atexit teardown that finalises the module and removes the dir.
 */
#ifndef CHSM_FUZZ_MODULE_ENV_H
#define CHSM_FUZZ_MODULE_ENV_H

#include <stdbool.h>

/* tag names the temp dir (/tmp/chsm-fuzz-<tag>.XXXXXX). Returns false on any failure. */
bool chsm_fuzz_module_env(const char *tag);

#endif
