# Content-addressed chunks of the shared drive: the chunker (FastCDC) and its fuzz target.
#   chunk_unit_tests: chunker, chunk store, chunk wants (unit label)
add_executable(chunk_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/common/chunker_test.cc)
target_include_directories(chunk_unit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(chunk_unit_tests PRIVATE lattice_common GTest::gtest_main)
lattice_warnings(chunk_unit_tests)
gtest_discover_tests(chunk_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 300)
