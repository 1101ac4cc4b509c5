# lattice_kernel_services: the parts of the ServiceManager that need no node (descriptors,
# settings, declarations, the consent decision, port planning, launching and supervising
# processes), so unit tests and fuzz targets link them alone. The parts that read and write
# the node's stores are in lattice_kernel_core. Included from lattice-kernel/CMakeLists.txt.
add_library(lattice_kernel_services STATIC
  ${CMAKE_CURRENT_LIST_DIR}/catalog.cc
  ${CMAKE_CURRENT_LIST_DIR}/confinement.cc
  ${CMAKE_CURRENT_LIST_DIR}/declaration.cc
  ${CMAKE_CURRENT_LIST_DIR}/descriptor.cc
  ${CMAKE_CURRENT_LIST_DIR}/discovery_record.cc
  ${CMAKE_CURRENT_LIST_DIR}/launch.cc
  ${CMAKE_CURRENT_LIST_DIR}/port_plan.cc
  ${CMAKE_CURRENT_LIST_DIR}/posix_process_runner.cc
  ${CMAKE_CURRENT_LIST_DIR}/settings.cc
  ${CMAKE_CURRENT_LIST_DIR}/should_run.cc
  ${CMAKE_CURRENT_LIST_DIR}/supervisor.cc)
target_include_directories(lattice_kernel_services PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(lattice_kernel_services PUBLIC
  lattice_common tomlplusplus::tomlplusplus nlohmann_json::nlohmann_json spdlog::spdlog fmt::fmt
  PkgConfig::RE2 Threads::Threads)
lattice_warnings(lattice_kernel_services)
