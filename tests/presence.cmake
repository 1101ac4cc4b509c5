# Tests of presence (lattice-kernel/src/presence and replication/presence_gossip), included
# from tests/CMakeLists.txt:
# - presence_unit_tests: the table and the hub with an injected clock, the signature, and
#   presence between nodes in one process (in-memory transport).
# - presence_mesh_test: two real kernels on loopback, a watch on one seeing what the other
#   announces, and a hand-played member sending forged and foreign announcements.
add_executable(presence_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/presence/presence_table_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/presence/presence_hub_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/presence/presence_gossip_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/replication/mesh_fixture.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/store/test_store.cc)
target_include_directories(presence_unit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(presence_unit_tests PRIVATE lattice_kernel_core GTest::gtest_main)
lattice_warnings(presence_unit_tests)
gtest_discover_tests(presence_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)

lattice_integration_test(presence_mesh_test)
target_link_libraries(presence_mesh_test PRIVATE lattice_replication_test_support)
