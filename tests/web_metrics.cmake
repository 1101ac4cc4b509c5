# lattice-web's Prometheus renderer (lattice_web_metrics), included from tests/metrics.cmake:
# - web_metrics_unit_tests (label unit): exposition format, escaping, histogram shape, and the
#   output parsed back by python3-prometheus-client's parser.
if(NOT TARGET lattice_web_metrics)
  message(STATUS "lattice-web metrics tests not added: lattice_web_metrics is not part of this build")
  return()
endif()
# Debian's /usr/bin/python3 has python3-prometheus-client even when another python3 comes
# first on the PATH.
set(_prometheus_python /usr/bin/python3)
if(NOT EXISTS ${_prometheus_python})
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(_prometheus_python ${Python3_EXECUTABLE})
endif()
add_executable(web_metrics_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/web/prometheus_text_test.cc)
target_link_libraries(web_metrics_unit_tests PRIVATE lattice_web_metrics lattice_test_harness
                      nlohmann_json::nlohmann_json GTest::gtest_main)
target_compile_definitions(web_metrics_unit_tests PRIVATE
  LATTICE_PYTHON3="${_prometheus_python}"
  LATTICE_PROMETHEUS_PARSE_SCRIPT="${CMAKE_CURRENT_LIST_DIR}/unit/web/prometheus_parse.py")
lattice_warnings(web_metrics_unit_tests)
gtest_discover_tests(web_metrics_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 120)
