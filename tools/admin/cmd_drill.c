/*
 * drill --input FILE --pin SO --known-key LABEL --payload FILE --signature FILE
 *       [--manifest FILE] [--audit-archive DIR] [--mechanism NAME] [--scratch DIR] [--json]
 *
 * The spec's quarterly restoration drill in one command: verify the bundle
 * (decrypt and list without extracting), restore into a clean scratch
 * store, run the self-tests, compare token facts with the manifest, sign
 * the known payload with the known key and compare with the pre-recorded
 * signature, verify audit continuity, report the RTO (restore start to
 * verified signature), and destroy the scratch key material.
 */
#include <string.h>

#include "common/timeutil.h"
#include "core_session.h"
#include "drill.h"

static void report(const struct drill *d, int rc)
{
    double rto = d->t_signed_ns > d->t_restore_ns ? (double)(d->t_signed_ns - d->t_restore_ns) / 1e9 : -1.0;
    const char *man = !d->manifest_checked ? "skipped" : d->manifest_ok ? "match" : "MISMATCH";
    if (d->a->json) {
        printf("{\"ok\":%s,\"serial\":", rc == ADM_OK ? "true" : "false");
        adm_json_str(stdout, d->serial);
        printf(",\"token_label\":");
        adm_json_str(stdout, d->token_label);
        printf(",\"objects\":%llu,\"bundle_verified\":%s,\"restored\":%s,\"selftests_passed\":%s,\"manifest\":\"%s\","
               "\"mechanism\":\"%s\",\"signature_match\":%s,\"audit_continuity\":%s,\"rto_seconds\":%.3f,"
               "\"scratch_destroyed\":%s}\n",
               (unsigned long long)d->objects, d->bundle_ok ? "true" : "false", d->restored ? "true" : "false",
               d->selftests_ok ? "true" : "false", man, d->mechanism, d->signature_ok ? "true" : "false",
               d->audit_ok ? "true" : "false", rto, d->destroyed ? "true" : "false");
        return;
    }
    printf("Restoration drill report\n");
    printf("  Token:              \"%s\" serial %s, %llu objects\n", d->token_label, d->serial,
           (unsigned long long)d->objects);
    printf("  Bundle integrity:   %s\n", d->bundle_ok ? "ok (decrypted and listed)" : "FAILED");
    printf("  Restore (scratch):  %s\n", d->restored ? "ok" : "FAILED");
    printf("  Self-tests:         %s\n", d->selftests_ok ? "passed" : "FAILED");
    printf("  Manifest:           %s\n", man);
    printf("  Known signature:    %s (%s)\n",
           d->signature_ok ? "match" : d->signature_made ? "NO MATCH" : "not made (see the error above)",
           d->mechanism[0] ? d->mechanism : "-");
    printf("  Audit continuity:   %s\n", d->audit_ok ? "ok" : "NOT VERIFIED");
    if (rto >= 0)
        printf("  RTO:                %.3f s (restore start to verified signature)\n", rto);
    printf("  Scratch material:   %s\n", d->destroyed ? "destroyed" : "NOT destroyed");
    printf("  Result:             %s\n", rc == ADM_OK ? "PASS" : "FAIL");
}

static int run(struct drill *d, const struct chsm_config *host)
{
    struct chsm_secbuf pin = {0};
    struct chsm_core_status st;
    struct chsm_core_options o;
    int rc = adm_pin(d->a, "pin", "SO PIN", false, &pin);
    if (rc != ADM_OK || (rc = drill_verify_bundle(d, &pin)) != ADM_OK ||
        (rc = drill_scratch_config(d, host)) != ADM_OK)
        goto out;
    d->t_restore_ns = chsm_time_mono_ns();
    if ((rc = adm_restore_into(d->a, &d->sc, &pin)) != ADM_OK)
        goto out;
    d->restored = true;
    if (adm_opt(d->a, "--manifest") && (rc = drill_check_manifest(d, adm_opt(d->a, "--manifest"))) != ADM_OK)
        goto out;
    memset(&o, 0, sizeof(o));
    o.config = &d->sc;
    o.actor = "craton-hsm-admin drill";
    o.no_threads = true;
    adm_timing("drill: manifest", false);
    if (chsm_core_initialize(&o) != CKR_OK) {
        rc = adm_fail(ADM_FAILED, "drill: the core did not start on the restored store (self-tests or store); see "
                      "the process log");
        goto out;
    }
    d->selftests_ok = chsm_core_get_status(&st) == CKR_OK && st.selftests_passed;
    adm_timing("drill: core start and self-tests", false);
    rc = d->selftests_ok ? drill_sign(d, &pin) : adm_fail(ADM_FAILED, "drill: self-tests failed on this host");
    adm_core_down();
    adm_timing("drill: core shutdown", false);
    if (rc == ADM_OK)
        rc = drill_audit(d);
    adm_timing("drill: audit continuity", false);
out:
    chsm_secbuf_free(&pin);
    return rc;
}

int cmd_drill(struct adm *a)
{
    static const struct adm_optspec specs[] = {
        {"--input", true, false},     {"--known-key", true, false},     {"--payload", true, false},
        {"--signature", true, false}, {"--manifest", true, false},      {"--audit-archive", true, false},
        {"--mechanism", true, false}, {"--scratch", true, false},       ADM_PIN_SPECS("pin")};
    const struct chsm_config *host;
    struct drill d;
    int rc = adm_parse(a, 1, specs, CHSM_ARRAY_LEN(specs), 0);
    if (rc != ADM_OK)
        return rc;
    if (!adm_opt(a, "--input") || !adm_opt(a, "--known-key") || !adm_opt(a, "--payload") ||
        !adm_opt(a, "--signature"))
        return adm_fail(ADM_USAGE, "drill needs --input FILE --known-key LABEL --payload FILE --signature FILE");
    if (strcmp(adm_opt(a, "--input"), "-") == 0)
        return adm_fail(ADM_USAGE, "drill reads the archive twice; give --input FILE (decrypt the bundle to a file "
                        "first)");
    if ((rc = adm_config(a, &host)) != ADM_OK)
        return rc;
    memset(&d, 0, sizeof(d));
    d.a = a;
    rc = run(&d, host);
    drill_destroy(&d);
    adm_timing("drill: destroy scratch", false);
    if (rc == ADM_OK && !d.destroyed)
        rc = adm_fail(ADM_FAILED, "drill: could not remove the scratch directory %s; remove it by hand", d.dir);
    report(&d, rc);
    return rc;
}
