/* The token facts a manifest records and the drill compares: label, serial, object count. */
#ifndef CHSM_ADMIN_TOKEN_FACTS_H
#define CHSM_ADMIN_TOKEN_FACTS_H

#include "admin.h"

struct adm_token_facts {
    char label[33];
    char serial[17];
    uint64_t object_count;
};
/* Read from the configured store (exit code; prints on failure). */
int adm_token_facts(const struct adm *a, const struct chsm_config *cfg, struct adm_token_facts *out);

#endif
