chsm_fuzzer(config DEPS chsm_config)
if(CHSM_FUZZ)
  # chsm_fuzzer instruments only the harness; without coverage counters in the
  # library the fuzzer is blind to the parser, and without ASan in it memory
  # errors there go unseen. Instrument the code under test as well.
  target_compile_options(chsm_config PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
endif()
