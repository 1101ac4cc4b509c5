# Tests of the peer transport (lattice-kernel/src/net), included from tests/CMakeLists.txt:
# - net_unit_tests: framing, encryption, the handshake, both transports (TCP on 127.0.0.1
#   with ephemeral ports, and in memory) and the in-memory network's fault injection.
# - fuzz_net_frame, fuzz_net_handshake (with LATTICE_FUZZ): libFuzzer targets.
include(GoogleTest)

if(TARGET lattice_kernel_net)
  add_executable(net_unit_tests
    ${CMAKE_CURRENT_LIST_DIR}/unit/net/frame_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/unit/net/handshake_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/unit/net/memory_network_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/unit/net/net_test_util.cc
    ${CMAKE_CURRENT_LIST_DIR}/unit/net/transport_test.cc)
  target_link_libraries(net_unit_tests PRIVATE lattice_kernel_net GTest::gtest GTest::gmock
                        GTest::gtest_main fmt::fmt)
  lattice_warnings(net_unit_tests)
  gtest_discover_tests(net_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)

  if(LATTICE_FUZZ)
    foreach(_name frame handshake)
      add_executable(fuzz_net_${_name} ${CMAKE_CURRENT_LIST_DIR}/fuzz/net_${_name}_fuzz.cc)
      target_link_libraries(fuzz_net_${_name} PRIVATE lattice_kernel_net)
      target_link_options(fuzz_net_${_name} PRIVATE -fsanitize=fuzzer)
      set_target_properties(fuzz_net_${_name} PROPERTIES
                            RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fuzz)
      lattice_warnings(fuzz_net_${_name})
    endforeach()
    unset(_name)
  endif()
else()
  message(STATUS "net tests not added: lattice_kernel_net is not part of this build")
endif()
