# Unit tests of lattice-client and lattice-ctl. Included from tests/CMakeLists.txt, where
# GTest has been found; paths are relative to this file so the include site does not matter.
include(GoogleTest)

set(LATTICE_CLIENT_CTL_TESTS ${CMAKE_CURRENT_LIST_DIR})

# A stand-in for the kernel's socket (real gRPC over a Unix socket), shared by both suites.
add_library(lattice_fake_kernel STATIC ${LATTICE_CLIENT_CTL_TESTS}/client/fake_kernel.cc)
target_include_directories(lattice_fake_kernel PUBLIC ${LATTICE_CLIENT_CTL_TESTS}/client)
target_link_libraries(lattice_fake_kernel PUBLIC lattice_proto lattice_common)
lattice_warnings(lattice_fake_kernel)

add_executable(lattice_client_unit_tests
  ${LATTICE_CLIENT_CTL_TESTS}/client/backoff_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/client/client_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/client/credentials_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/client/resuming_watch_test.cc)
# The private grpc_status.h is tested directly.
target_include_directories(lattice_client_unit_tests PRIVATE
                           ${LATTICE_CLIENT_CTL_TESTS}/../../lattice-client/src)
target_link_libraries(lattice_client_unit_tests PRIVATE lattice_client lattice_fake_kernel
                      GTest::gtest_main)
lattice_warnings(lattice_client_unit_tests)
gtest_discover_tests(lattice_client_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)

add_executable(lattice_ctl_unit_tests
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/cli_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/commands_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/errors_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/format_metrics_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/format_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/fs_format_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/input_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/output_test.cc
  ${LATTICE_CLIENT_CTL_TESTS}/ctl/requests_test.cc)
target_link_libraries(lattice_ctl_unit_tests PRIVATE lattice_ctl_lib lattice_fake_kernel
                      GTest::gtest_main)
lattice_warnings(lattice_ctl_unit_tests)
gtest_discover_tests(lattice_ctl_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
