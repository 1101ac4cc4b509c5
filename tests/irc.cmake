# Tests of lattice-irc, included from tests/CMakeLists.txt (GTest is found there):
# - irc_unit_tests: parser, line framing, UTF-8, names, registration, flood control,
#   ISUPPORT and the IRC server against a hand-driven backend.
# - irc_*: integration tests (tests/integration/irc_gateway_test.py) that run the real
#   lattice-kernel, lattice-ctl and lattice-irc and talk to the gateway with python3-irc
#   (Debian package python3-irc) and raw sockets.
# - irc_mesh_*: the same across two kernels in a mesh, a gateway on each
#   (tests/integration/irc_mesh_test.py).
# - irc_conformance: one selection of IRC conformance cases run against Debian's InspIRCd and
#   against lattice-irc; fails when Lattice fails a case InspIRCd passes that is not in the
#   script's allow-list (tests/integration/irc_conformance_test.py; skipped without inspircd).
# - readme_*: the README's examples and a newcomer's first errors against real kernels
#   (tests/integration/readme_examples_test.py; registered here, where the Python is found).
# - fuzz_irc_line (with LATTICE_FUZZ): libFuzzer target for the line parser.
include_guard(GLOBAL)
include(GoogleTest)

if(NOT TARGET lattice_irc_lib)
  message(STATUS "lattice-irc tests not added: lattice-irc is not part of this build")
  return()
endif()

set(LATTICE_IRC_TESTS ${CMAKE_CURRENT_LIST_DIR})

add_executable(irc_unit_tests
  ${LATTICE_IRC_TESTS}/unit/irc/channel_modes_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/ircv3_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/line_reader_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/message_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/names_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/presence_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/protocol_state_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/server_modes_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/server_test.cc
  ${LATTICE_IRC_TESTS}/unit/irc/utf8_test.cc)
target_include_directories(irc_unit_tests PRIVATE ${LATTICE_IRC_TESTS}/unit/irc)
target_link_libraries(irc_unit_tests PRIVATE lattice_irc_lib GTest::gtest_main)
lattice_warnings(irc_unit_tests)
gtest_discover_tests(irc_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)

# Signs chat intentions with a key of its own, as another node would, and ingests them:
# how the integration tests play a user of another node before replication exists.
add_executable(irc_remote_author ${LATTICE_IRC_TESTS}/integration/irc_remote_author.cc)
target_link_libraries(irc_remote_author PRIVATE lattice_client lattice_common lattice_proto
                      CLI11::CLI11)
lattice_warnings(irc_remote_author)

# The integration tests need a Python with python3-irc: Debian's /usr/bin/python3 has it
# even when another python3 comes first on the PATH.
set(_irc_python "")
foreach(_candidate /usr/bin/python3 ${Python3_EXECUTABLE})
  if(_irc_python STREQUAL "" AND EXISTS "${_candidate}")
    execute_process(COMMAND ${_candidate} -c "import irc.client"
                    RESULT_VARIABLE _irc_import OUTPUT_QUIET ERROR_QUIET)
    if(_irc_import EQUAL 0)
      set(_irc_python ${_candidate})
    endif()
  endif()
endforeach()

if(_irc_python STREQUAL "")
  message(STATUS "lattice-irc integration tests not added: no python3 with python3-irc")
elseif(TARGET lattice-kernel AND TARGET lattice-ctl)
  # One ctest test per scenario of `script`: NAME_PREFIX<scenario>, each starting its own
  # kernels and gateways. Exit status 77: a tool the scenario needs (irssi, tmux) is missing.
  function(lattice_irc_scenarios script name_prefix timeout)
    cmake_parse_arguments(PARSE_ARGV 3 ARG "" "" "ARGS;SCENARIOS")
    foreach(_scenario ${ARG_SCENARIOS})
      add_test(NAME ${name_prefix}${_scenario}
               COMMAND ${_irc_python} ${LATTICE_IRC_TESTS}/integration/${script}
                       --kernel $<TARGET_FILE:lattice-kernel>
                       --ctl $<TARGET_FILE:lattice-ctl>
                       --irc $<TARGET_FILE:lattice-irc>
                       ${ARG_ARGS} ${_scenario})
      set_tests_properties(${name_prefix}${_scenario} PROPERTIES LABELS integration
                           TIMEOUT ${timeout} SKIP_RETURN_CODE 77)
    endforeach()
  endfunction()
  lattice_irc_scenarios(irc_gateway_test.py irc_ 180
    ARGS --remote-author $<TARGET_FILE:irc_remote_author>
    SCENARIOS
      register_join_talk
      topic_names_queries
      history_on_join
      ctl_post_reaches_irc
      kernel_restart_loses_nothing
      hostile_client
      slow_reader
      remote_authors
      connection_policies
      irssi_smoke
      weechat_smoke
      service_descriptor
      channel_names_agree
      pipelined_order
      ping_flood_answered
      bot_thousand_lines
      flood_beyond_the_bound
      conformance_replies
      channel_operators
      channel_settings)
  # Two kernels in a mesh on loopback, a gateway on each, clients on both
  # (irc_mesh_test.py reuses the clients and gateways of irc_gateway_test.py).
  lattice_irc_scenarios(irc_mesh_test.py irc_mesh_ 300
    SCENARIOS
      cross_node_talk
      remote_presence
      monitor_across_nodes
      history_across_nodes
      offline_catch_up
      modes_across_nodes)
  # IRCv3 with raw sockets: client-only tags (also across two nodes), echo-message,
  # labeled-response and draft/chathistory (tests/integration/irc_ircv3_test.py).
  lattice_irc_scenarios(irc_ircv3_test.py irc_v3_ 300
    SCENARIOS
      channel_tags
      echo_and_labels
      bouncer_chathistory
      tags_across_nodes)
  # The conformance selection against InspIRCd and lattice-irc (standard library only; exit
  # status 77 when InspIRCd is not installed). InspIRCd completes a registration on its
  # one-second timer, so the cases run eight at a time.
  add_test(NAME irc_conformance
           COMMAND ${_irc_python} ${LATTICE_IRC_TESTS}/integration/irc_conformance_test.py
                   --kernel $<TARGET_FILE:lattice-kernel>
                   --ctl $<TARGET_FILE:lattice-ctl>
                   --irc $<TARGET_FILE:lattice-irc>)
  set_tests_properties(irc_conformance PROPERTIES LABELS integration TIMEOUT 600
                       SKIP_RETURN_CODE 77)
  # What a newcomer meets first (tests/integration/readme_examples_test.py): every
  # lattice-ctl line of the README as written, `store sync --wait` without peers, and a
  # kernel whose peer port is taken.
  lattice_irc_scenarios(readme_examples_test.py readme_ 180
    ARGS --readme ${LATTICE_IRC_TESTS}/../README.md
    SCENARIOS
      readme_examples
      sync_wait_without_peers
      peer_port_taken)
endif()
unset(_irc_python)

if(LATTICE_FUZZ)
  add_executable(fuzz_irc_line ${LATTICE_IRC_TESTS}/fuzz/irc_line_fuzz.cc)
  target_include_directories(fuzz_irc_line PRIVATE ${LATTICE_IRC_TESTS}/unit/irc)
  target_link_libraries(fuzz_irc_line PRIVATE lattice_irc_lib)
  target_link_options(fuzz_irc_line PRIVATE -fsanitize=fuzzer)
  set_target_properties(fuzz_irc_line PROPERTIES
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fuzz)
  lattice_warnings(fuzz_irc_line)
endif()
