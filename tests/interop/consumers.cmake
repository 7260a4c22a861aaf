# Third-party PKCS#11 consumers against libcraton_hsm.so (issue 4,
# acceptance 1-2). Included from tests/interop/CMakeLists.txt. Each script
# takes the module path, fails (never skips) when its consumer is missing,
# and ends with "N passed, M failed". The same scripts run against SoftHSMv2
# by path, which is how they were validated.
if(TARGET craton_hsm)
  set(_chsm_consumers ${CMAKE_CURRENT_LIST_DIR}/consumers)
  add_test(NAME interop_consumer_pkcs11_tool
           COMMAND ${_chsm_consumers}/test_pkcs11_tool_mech.sh $<TARGET_FILE:craton_hsm>)
  add_test(NAME interop_consumer_openssl_engine
           COMMAND ${_chsm_consumers}/test_openssl_engine.sh $<TARGET_FILE:craton_hsm>)
  add_test(NAME interop_consumer_p11tool
           COMMAND ${_chsm_consumers}/test_p11tool.sh $<TARGET_FILE:craton_hsm>)
  add_test(NAME interop_consumer_java_sunpkcs11
           COMMAND ${_chsm_consumers}/test_java_sunpkcs11.sh $<TARGET_FILE:craton_hsm>)
  add_test(NAME interop_consumer_pykcs11_families
           COMMAND /usr/bin/python3 ${_chsm_consumers}/test_pykcs11_families.py $<TARGET_FILE:craton_hsm>)
  set_tests_properties(interop_consumer_pkcs11_tool interop_consumer_openssl_engine
                       interop_consumer_p11tool interop_consumer_java_sunpkcs11
                       interop_consumer_pykcs11_families
                       PROPERTIES LABELS interop TIMEOUT 900)
  unset(_chsm_consumers)
endif()
