# Kernel metrics (Admin.Metrics): included from tests/CMakeLists.txt after
# lattice_integration_test and the harness libraries are defined.
# - metrics_unit_tests (label unit): the latency histogram and the RPC method table.
# - kernel_metrics_test (label integration): Admin.Metrics against real kernels.
# - metrics_replication_tests (label unit): per-peer link traffic, in-memory network.
add_executable(metrics_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/metrics/latency_histogram_test.cc)
target_link_libraries(metrics_unit_tests PRIVATE lattice_kernel_core GTest::gtest_main)
lattice_warnings(metrics_unit_tests)
gtest_discover_tests(metrics_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)

lattice_integration_test(kernel_metrics_test)
target_link_libraries(kernel_metrics_test PRIVATE lattice_test_cluster)

include(${CMAKE_CURRENT_LIST_DIR}/web_metrics.cmake)

# Replicator::Traffic over the in-memory network (label unit).
add_executable(metrics_replication_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/replication/mesh_fixture.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/replication/peer_traffic_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/store/test_store.cc)
target_include_directories(metrics_replication_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(metrics_replication_tests PRIVATE lattice_kernel_core GTest::gtest_main)
lattice_warnings(metrics_replication_tests)
gtest_discover_tests(metrics_replication_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)
