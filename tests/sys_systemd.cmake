# Tests of the kernel's systemd integration, included from tests/CMakeLists.txt:
# - sys_notify_test: SystemdNotifier (lattice-kernel/src/sys) against a fake NOTIFY_SOCKET.
# - systemd_units: deploy/systemd/* checked with systemd-analyze, -sysusers and -tmpfiles
#   (Debian package `systemd`; the test reports itself skipped when they are missing).
include(GoogleTest)

if(TARGET lattice_kernel_sys)
  add_executable(sys_notify_test ${CMAKE_CURRENT_LIST_DIR}/unit/sys/notify_test.cc)
  target_link_libraries(sys_notify_test PRIVATE lattice_kernel_sys GTest::gtest_main fmt::fmt)
  lattice_warnings(sys_notify_test)
  # One label only: gtest_discover_tests flattens a list given in PROPERTIES.
  gtest_discover_tests(sys_notify_test PROPERTIES LABELS unit)
endif()

# tomllib (for kernel.toml.example) needs Python 3.11, Debian 12's python3.
find_package(Python3 3.11 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  # verify insists that ExecStart's binary exists: check the unit against the kernel we
  # built; before that target exists, the script substitutes /bin/true.
  set(_lattice_kernel_binary "")
  if(TARGET lattice-kernel)
    set(_lattice_kernel_binary $<TARGET_FILE:lattice-kernel>)
  endif()
  add_test(NAME systemd_units
           COMMAND Python3::Interpreter
                   ${CMAKE_CURRENT_LIST_DIR}/integration/systemd_units_test.py
                   ${PROJECT_SOURCE_DIR}/deploy/systemd ${_lattice_kernel_binary})
  set_tests_properties(systemd_units PROPERTIES SKIP_RETURN_CODE 77
                       LABELS "integration;systemd" TIMEOUT 60)
  if(TARGET lattice-kernel)
    # The built kernel run the way the unit runs it, with the script as its systemd.
    add_test(NAME systemd_kernel_lifecycle
             COMMAND Python3::Interpreter
                     ${CMAKE_CURRENT_LIST_DIR}/integration/systemd_units_test.py --lifecycle
                     ${PROJECT_SOURCE_DIR}/deploy/systemd $<TARGET_FILE:lattice-kernel>)
    set_tests_properties(systemd_kernel_lifecycle PROPERTIES
                         LABELS "integration;systemd" TIMEOUT 180)
  endif()
  unset(_lattice_kernel_binary)
else()
  message(STATUS "systemd_units test not added: needs Python 3.11 (python3)")
endif()
