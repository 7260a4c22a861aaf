chsm_fuzzer(audit DEPS chsm_audit)
