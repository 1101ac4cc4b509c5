# Kernel metrics (Admin.Metrics): included from tests/CMakeLists.txt after
# lattice_integration_test and the harness libraries are defined.
# - metrics_unit_tests (label unit): the latency histogram and the RPC method table.
# - kernel_metrics_test (label integration): Admin.Metrics against real kernels.
add_executable(metrics_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/metrics/latency_histogram_test.cc)
target_link_libraries(metrics_unit_tests PRIVATE lattice_kernel_core GTest::gtest_main)
lattice_warnings(metrics_unit_tests)
gtest_discover_tests(metrics_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)

lattice_integration_test(kernel_metrics_test)
target_link_libraries(kernel_metrics_test PRIVATE lattice_test_cluster)

include(${CMAKE_CURRENT_LIST_DIR}/web_metrics.cmake)
