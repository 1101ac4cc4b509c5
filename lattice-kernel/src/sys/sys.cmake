# lattice_kernel_sys: the kernel's link to its service manager (sd_notify, watchdog).
# Included from lattice-kernel/CMakeLists.txt; paths are relative to this file.
# Code includes "sys/notify.h" (include root: lattice-kernel/src).
add_library(lattice_kernel_sys STATIC ${CMAKE_CURRENT_LIST_DIR}/notify.cc)
target_include_directories(lattice_kernel_sys PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(lattice_kernel_sys
  PUBLIC lattice_common Threads::Threads
  PRIVATE PkgConfig::SYSTEMD spdlog::spdlog fmt::fmt)
lattice_warnings(lattice_kernel_sys)
