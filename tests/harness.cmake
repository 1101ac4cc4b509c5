# The multi-node test harness and its tests, included from tests/CMakeLists.txt after
# lattice_test_harness and lattice_integration_test are defined:
# - lattice_test_relay: loopback sockets and the fault-injecting TCP relay (no kernel needed).
# - lattice_test_cluster: N kernels linked through the relay, driven by lattice-ctl.
# - harness_unit_tests (label unit): the relay on plain loopback sockets.
# - cluster_smoke_test (label integration): three kernels behind relays serve and answer.
include(GoogleTest)

add_library(lattice_test_relay STATIC
  ${CMAKE_CURRENT_LIST_DIR}/harness/loopback.cc
  ${CMAKE_CURRENT_LIST_DIR}/harness/tcp_relay.cc)
target_include_directories(lattice_test_relay PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lattice_test_relay PUBLIC lattice_kernel_net Threads::Threads)
lattice_warnings(lattice_test_relay)

add_library(lattice_test_cluster STATIC ${CMAKE_CURRENT_LIST_DIR}/harness/cluster.cc)
target_link_libraries(lattice_test_cluster PUBLIC lattice_test_relay lattice_test_harness
                      nlohmann_json::nlohmann_json)
lattice_warnings(lattice_test_cluster)

add_executable(harness_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/harness/tcp_relay_test.cc)
target_link_libraries(harness_unit_tests PRIVATE lattice_test_relay lattice_test_harness GTest::gtest_main)
lattice_warnings(harness_unit_tests)
gtest_discover_tests(harness_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)

lattice_integration_test(cluster_smoke_test)
target_link_libraries(cluster_smoke_test PRIVATE lattice_test_cluster)
