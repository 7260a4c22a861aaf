# Shared build settings for Craton HSM targets.

add_compile_options(-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
                    -Wmissing-prototypes -Wno-missing-field-initializers
                    -fno-strict-aliasing -fstack-protector-strong)
add_compile_definitions(_DEFAULT_SOURCE _FORTIFY_SOURCE=2
                        CHSM_VERSION_STRING="${PROJECT_VERSION}")

if(CHSM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(CHSM_FUZZ)
  # Instrument every library for coverage so libFuzzer sees the code under test,
  # not only the harness; the harness executables add -fsanitize=fuzzer to link.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# chsm_strict(target): the core's stricter warnings (conversion checks).
function(chsm_strict target)
  target_compile_options(${target} PRIVATE -Wconversion -Wsign-conversion)
endfunction()

# chsm_module(name SOURCES ... DEPS ...): a static, PIC internal library.
function(chsm_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${M_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${M_DEPS} PkgConfig::P11KIT Threads::Threads)
  set_target_properties(${name} PROPERTIES C_VISIBILITY_PRESET hidden)
endfunction()

# chsm_unit_test(name SOURCES ... DEPS ...): a cmocka executable registered with ctest.
function(chsm_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;ENV" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include
                             ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_DEPS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit
                       ENVIRONMENT "CHSM_TEST_VECTORS=${PROJECT_SOURCE_DIR}/tests/vectors;CHSM_TEST_FIXTURES=${PROJECT_SOURCE_DIR}/tests/fixtures;${T_ENV}")
endfunction()
