# lattice_web_metrics: GET /metrics's Prometheus rendering of Admin.Metrics (a pure function,
# no HTTP), included from lattice-web/CMakeLists.txt. Users include
# "src/metrics/prometheus_text.h" (include root: lattice-web/).
add_library(lattice_web_metrics STATIC ${CMAKE_CURRENT_LIST_DIR}/src/metrics/prometheus_text.cc)
target_include_directories(lattice_web_metrics PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lattice_web_metrics PUBLIC lattice_proto PRIVATE fmt::fmt)
lattice_warnings(lattice_web_metrics)
