# Content-addressed chunks of the shared drive.
#   chunk_unit_tests: the chunker (FastCDC), the chunk store and the store's chunk wants
#   (the fuzz target fuzz_chunker is in tests/fuzz/CMakeLists.txt)
add_executable(chunk_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/common/chunker_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/storage/chunk_store_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/storage/chunk_store_gc_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/store/chunk_wants_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/store/test_store.cc)
target_include_directories(chunk_unit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(chunk_unit_tests PRIVATE lattice_kernel_core GTest::gtest_main)
lattice_warnings(chunk_unit_tests)
gtest_discover_tests(chunk_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 300)

# Chunks between nodes in one process (in-memory transport).
add_executable(chunk_replication_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/replication/mesh_fixture.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/replication/chunk_replication_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/store/test_store.cc)
target_include_directories(chunk_replication_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(chunk_replication_tests PRIVATE lattice_kernel_core GTest::gmock GTest::gtest_main)
lattice_warnings(chunk_replication_tests)
gtest_discover_tests(chunk_replication_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 300)
