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
