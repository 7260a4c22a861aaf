# fuzz_attrs: attribute templates and mechanism parameters through the real
# exported C_* functions of libcraton_hsm.so (linked, not dlopened, so
# libFuzzer sees the module's coverage counters).
if(TARGET craton_hsm)
  chsm_fuzzer(attrs DEPS craton_hsm)
  target_sources(fuzz_attrs PRIVATE fuzz_module_env.c)
  if(CHSM_FUZZ)
    # Instrument the code under test, not only the harness.
    target_compile_options(craton_hsm PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
    target_link_options(craton_hsm PRIVATE -fsanitize=address,undefined)
    foreach(lib chsm_core chsm_common)
      if(TARGET ${lib})
        target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
      endif()
    endforeach()
  endif()
endif()
