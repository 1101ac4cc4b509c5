# Tests of the ServiceManager (DESIGN §8), included from tests/CMakeLists.txt after the
# harness (harness.cmake):
# (at the end, after the replication test support).
# - services_unit_tests (label unit): the ShouldRun table, descriptors, declarations and
#   setting values, port planning, and the supervision policy against a fake runner.
# - services_*_test (label integration): real lattice-kernel processes supervising the real
#   lattice-irc, talked to by a raw-socket IRC client, all on loopback.
include(GoogleTest)

add_executable(services_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/services/declaration_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/services/descriptor_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/services/port_plan_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/services/should_run_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/services/supervisor_test.cc)
target_compile_definitions(services_unit_tests PRIVATE LATTICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(services_unit_tests PRIVATE lattice_kernel_services GTest::gtest_main)
# Only the node-free part of the kernel: quick to build with the sanitizers too.
lattice_warnings(services_unit_tests)
gtest_discover_tests(services_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)

if(NOT TARGET lattice-irc)
  message(STATUS "ServiceManager integration tests not added: lattice-irc is not part of this build")
  return()
endif()

add_library(lattice_services_test_support STATIC
  ${CMAKE_CURRENT_LIST_DIR}/integration/services_support.cc)
target_include_directories(lattice_services_test_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lattice_services_test_support PUBLIC lattice_test_cluster
                      lattice_replication_test_support lattice_common
                      nlohmann_json::nlohmann_json)
target_compile_definitions(lattice_services_test_support PRIVATE
  LATTICE_IRC_BIN="$<TARGET_FILE:lattice-irc>")
lattice_warnings(lattice_services_test_support)

foreach(_test services_consent_test services_supervision_test services_mesh_test
              services_secrets_test services_streams_test)
  lattice_integration_test(${_test})
  target_link_libraries(${_test} PRIVATE lattice_services_test_support)
  target_compile_definitions(${_test} PRIVATE LATTICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_dependencies(${_test} lattice-irc)
endforeach()
unset(_test)

# A daemon that reports which of the kernel's files it can open (services_secrets_test).
add_executable(confined_probe ${CMAKE_CURRENT_LIST_DIR}/integration/confined_probe.cc)
target_link_libraries(confined_probe PRIVATE lattice_client)
lattice_warnings(confined_probe)
add_dependencies(services_secrets_test confined_probe)
target_compile_definitions(services_secrets_test PRIVATE
  LATTICE_PROBE_BIN="$<TARGET_FILE:confined_probe>" LATTICE_IRC_BIN="$<TARGET_FILE:lattice-irc>")
