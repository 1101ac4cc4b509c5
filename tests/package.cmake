# The Debian package (cmake/package.cmake), included from tests/CMakeLists.txt:
# - deb_package_contents: cpack makes build/package/lattice_*.deb; dpkg-deb checks its
#   control fields, files and maintainer scripts.
# - deb_package_install: `apt-get install ./lattice_*.deb` in a Debian 12 tree without a
#   running systemd (unpacked from a debootstrap cache, made when missing), and what postinst
#   made there.
# - deb_package_boot: that tree booted with systemd-nspawn: the kernel, lattice-ctl, the
#   watchdog, a systemd-run gateway and stopping, under a real systemd.
# All three are labelled no-sanitizer (a package of sanitized binaries is no package anyone
# installs) and package, so `ctest -L package` runs them; the later two need root,
# debootstrap and systemd-container (scripts/install-deps.sh), and skip without them.
find_package(Python3 3.11 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "package tests not added: need Python 3.11 (python3)")
  return()
endif()

set(_deb_dir ${CMAKE_BINARY_DIR}/package)
set(_deb_root ${CMAKE_BINARY_DIR}/package-root)
add_test(NAME deb_package_contents
         COMMAND Python3::Interpreter ${CMAKE_CURRENT_LIST_DIR}/integration/deb_package_test.py
                 ${CMAKE_CPACK_COMMAND} ${CMAKE_BINARY_DIR}/CPackConfig.cmake ${_deb_dir}
                 ${PROJECT_SOURCE_DIR} ${PROJECT_VERSION})
set_tests_properties(deb_package_contents PROPERTIES
  LABELS "integration-no-sanitizer;package" TIMEOUT 300 SKIP_RETURN_CODE 77
  FIXTURES_SETUP lattice_deb RESOURCE_LOCK lattice_deb)

# Making the cache the first time is a debootstrap (a few minutes); later runs unpack it.
add_test(NAME deb_package_install
         COMMAND Python3::Interpreter ${CMAKE_CURRENT_LIST_DIR}/integration/deb_container_test.py
                 --install ${_deb_dir} ${_deb_root})
set_tests_properties(deb_package_install PROPERTIES
  LABELS "integration-no-sanitizer;package" TIMEOUT 1500 SKIP_RETURN_CODE 77
  FIXTURES_REQUIRED lattice_deb FIXTURES_SETUP lattice_deb_root RESOURCE_LOCK lattice_deb)

add_test(NAME deb_package_boot
         COMMAND Python3::Interpreter ${CMAKE_CURRENT_LIST_DIR}/integration/deb_container_test.py
                 --boot ${_deb_dir} ${_deb_root})
set_tests_properties(deb_package_boot PROPERTIES
  LABELS "integration-no-sanitizer;package" TIMEOUT 400 SKIP_RETURN_CODE 77
  FIXTURES_REQUIRED lattice_deb_root RESOURCE_LOCK lattice_deb)
unset(_deb_dir)
unset(_deb_root)
