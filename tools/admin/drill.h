/* The restoration drill (spec, "Restoration drill"): state shared by its steps. */
#ifndef CHSM_ADMIN_DRILL_H
#define CHSM_ADMIN_DRILL_H

#include "admin.h"
#include "store/archive.h"

struct drill {
    struct adm *a;
    struct chsm_config sc; /* scratch config: the archive's identity, scratch paths */
    char dir[512];         /* scratch directory */
    char serial[17];
    char config_label[33];
    char token_label[33];
    char audit_head[65];
    uint64_t audit_seq;
    uint64_t objects;
    uint64_t t_restore_ns, t_signed_ns;
    /* Results for the report. */
    bool bundle_ok, restored, selftests_ok, manifest_checked, manifest_ok, signature_made, signature_ok, audit_ok, destroyed;
    char mechanism[64];
};

int drill_verify_bundle(struct drill *d, const struct chsm_secbuf *pin);
int drill_scratch_config(struct drill *d, const struct chsm_config *host);
int drill_check_manifest(struct drill *d, const char *path);
/* so_pin: the SO PIN read once by the drill (adm_pin wipes --pin VALUE from argv, so it cannot be read twice). */
int drill_sign(struct drill *d, const struct chsm_secbuf *so_pin);
int drill_audit(struct drill *d);
void drill_destroy(struct drill *d);

#endif
