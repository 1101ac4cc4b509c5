# Tests of Negentropy reconciliation and its persistent range index (lattice-kernel/src/sync),
# included from tests/CMakeLists.txt (GTest is found there):
# - sync_unit_tests: the wire codec against published and hand-worked byte vectors, sessions
#   end to end (exact differences, frame limits, hostile messages), and the index on a real
#   LevelDB in a temporary directory.
# - fuzz_negentropy_message (with LATTICE_FUZZ): a peer's message as arbitrary bytes.
include(GoogleTest)

if(NOT TARGET lattice_kernel_sync)
  message(STATUS "sync tests not added: lattice_kernel_sync is not part of this build")
  return()
endif()

add_executable(sync_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/sync/index_compaction_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/sync/negentropy_codec_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/sync/legacy_item_table_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/sync/leveldb_kv_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/sync/negentropy_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/sync/range_index_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/sync/resident_trie_test.cc)
target_link_libraries(sync_unit_tests PRIVATE lattice_kernel_sync leveldb::leveldb
                      GTest::gtest_main)
lattice_warnings(sync_unit_tests)
gtest_discover_tests(sync_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)

if(LATTICE_FUZZ)
  add_executable(fuzz_negentropy_message ${CMAKE_CURRENT_LIST_DIR}/fuzz/negentropy_fuzz.cc)
  target_link_libraries(fuzz_negentropy_message PRIVATE lattice_kernel_sync)
  target_link_options(fuzz_negentropy_message PRIVATE -fsanitize=fuzzer)
  set_target_properties(fuzz_negentropy_message PROPERTIES
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fuzz)
  lattice_warnings(fuzz_negentropy_message)
endif()
