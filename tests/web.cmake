# Tests of lattice-web, included from tests/CMakeLists.txt (GTest is found there):
# - web_http_tests (label unit): the HTTP server (lattice-web/src/http) over real TCP on
#   127.0.0.1 with plain-socket clients, and its parts (proxies, problems, serialization).
include(GoogleTest)

if(TARGET lattice_web_http)
  add_executable(web_http_tests
    ${CMAKE_CURRENT_LIST_DIR}/unit/web/http_forwarded_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/unit/web/http_server_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/unit/web/http_test_client.cc
    ${CMAKE_CURRENT_LIST_DIR}/unit/web/http_wire_format_test.cc)
  target_include_directories(web_http_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/unit/web)
  target_link_libraries(web_http_tests PRIVATE lattice_web_http GTest::gtest_main)
  lattice_warnings(web_http_tests)
  gtest_discover_tests(web_http_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)
endif()

# - web_api_* and web_events_* (label integration): a real lattice-kernel and lattice-web,
#   curl as the client (web_api_test.py, web_events_test.py; one ctest test per scenario),
#   every response checked against lattice-web's OpenAPI document with python3-jsonschema.
if(TARGET lattice-web AND TARGET lattice-kernel AND TARGET lattice-ctl)
  function(lattice_web_scenarios script name_prefix timeout)
    foreach(_scenario ${ARGN})
      add_test(NAME ${name_prefix}${_scenario}
               COMMAND /usr/bin/python3 ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/integration/${script}
                       --kernel $<TARGET_FILE:lattice-kernel> --ctl $<TARGET_FILE:lattice-ctl>
                       --web $<TARGET_FILE:lattice-web> ${_scenario})
      set_tests_properties(${name_prefix}${_scenario} PROPERTIES LABELS integration
                           TIMEOUT ${timeout})
    endforeach()
  endfunction()
  lattice_web_scenarios(web_api_test.py web_api_ 180
    keys_round_trip scan_pages bad_input chat admin_routes session_cookie
    started_by_the_service_manager)
  lattice_web_scenarios(web_events_test.py web_events_ 180
    live_and_resume restarts joining_behind_a_feed_that_moved_on
    many_watchers_and_slow_readers bad_requests hostile_clients)
  lattice_web_scenarios(web_mesh_test.py web_mesh_ 300
    write_on_a_seen_on_b conflicted_key_heads)
endif()

# - web_api_parts_tests (label unit): event positions, percent-encoding, JSON byte fields,
#   routing and the session cookie, with a fake exchange.
if(TARGET lattice_web_lib)
  add_executable(web_api_parts_tests ${CMAKE_CURRENT_LIST_DIR}/unit/web/api_parts_test.cc)
  target_link_libraries(web_api_parts_tests PRIVATE lattice_web_lib GTest::gtest_main)
  lattice_warnings(web_api_parts_tests)
  gtest_discover_tests(web_api_parts_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endif()
