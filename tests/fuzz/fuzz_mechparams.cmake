# fuzz_mechparams: fuzzed CK_MECHANISM parameters (GCM, CTR, CBC IV, PSS,
# OAEP, ECDH1, EDDSA, MAC_GENERAL; struct lengths and pointers into the
# input) to the *Init/Derive/Wrap/Unwrap entry points of libcraton_hsm.so,
# linked so libFuzzer sees the module's coverage. The module's own
# instrumentation under CHSM_FUZZ is set up by fuzz_attrs.cmake.
if(TARGET craton_hsm)
  chsm_fuzzer(mechparams DEPS craton_hsm)
  target_sources(fuzz_mechparams PRIVATE fuzz_module_env.c)
endif()
