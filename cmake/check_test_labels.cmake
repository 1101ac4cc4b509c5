# Fails when a test of the build in BUILD_DIR carries no label (run by ctest as
# every_test_is_labelled): `ctest -N -LE .` leaves out every test with a label of any name,
# so what it lists has none. The placeholders gtest_discover_tests lists for a test binary
# not built yet (NAME_NOT_BUILT) are left aside: their tests get the binary's labels.
# Usage: cmake -D CTEST=ctest -D BUILD_DIR=build -P check_test_labels.cmake
execute_process(COMMAND ${CTEST} -N -LE . --test-dir ${BUILD_DIR}
                OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "ctest -N failed (${result}): ${errors}")
endif()
if(NOT listing MATCHES "Total Tests: [0-9]+")
  message(FATAL_ERROR "ctest -N printed no total:\n${listing}")
endif()
string(REGEX MATCHALL "Test +#[0-9]+: [^\n]+" listed "${listing}")
set(unlabelled "")
foreach(line IN LISTS listed)
  if(NOT line MATCHES "_NOT_BUILT$")
    string(APPEND unlabelled "  ${line}\n")
  endif()
endforeach()
if(NOT unlabelled STREQUAL "")
  message(FATAL_ERROR "tests without a label (give each LABELS unit or LABELS integration, "
                      "or a label that begins with one):\n${unlabelled}")
endif()
