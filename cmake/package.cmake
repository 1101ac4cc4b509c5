# What deploy/ installs beside the binaries, and the Debian package of everything installed.
#
# `cmake --install build` puts the units in <prefix>/lib/systemd/system, the sysusers and
# tmpfiles snippets in <prefix>/lib/{sysusers,tmpfiles}.d/lattice.conf and the example
# configuration in <prefix>/share/doc/lattice; systemd reads all three from /usr/local/lib
# and /usr/lib. The units in deploy/systemd name /usr/local/bin (the default prefix); the
# installed copies name <prefix>/bin, where the binaries went.
#
# `cmake --build build --target package` makes build/lattice_VERSION_ARCH.deb with CPack's
# DEB generator: everything above under /usr, binaries stripped, library dependencies found
# by dpkg-shlibdeps, and the maintainer scripts in deploy/debian (user, directories,
# daemon-reload). tests/package.cmake checks the package and boots it in a container.
include_guard(GLOBAL)

set(_lattice_units lattice-kernel.service lattice-irc@.service lattice-web.service)
foreach(_unit IN LISTS _lattice_units)
  install(FILES deploy/systemd/${_unit} DESTINATION lib/systemd/system)
endforeach()
# DESTDIR is where a package is staged; CMAKE_INSTALL_PREFIX is where it will live.
install(CODE "
  foreach(unit ${_lattice_units})
    set(path \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/\${unit}\")
    file(READ \"\${path}\" text)
    string(REPLACE \"/usr/local/bin/\" \"\${CMAKE_INSTALL_PREFIX}/bin/\" text \"\${text}\")
    file(WRITE \"\${path}\" \"\${text}\")
  endforeach()")
unset(_unit)
unset(_lattice_units)
install(FILES deploy/systemd/lattice.sysusers DESTINATION lib/sysusers.d RENAME lattice.conf)
install(FILES deploy/systemd/lattice.tmpfiles DESTINATION lib/tmpfiles.d RENAME lattice.conf)
install(FILES deploy/systemd/kernel.toml.example DESTINATION share/doc/lattice)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lattice)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Lattice developers <lattice@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "local-first peer-to-peer data platform")
set(CPACK_PACKAGE_DESCRIPTION
    "Lattice keeps a full replica of every store a node belongs to, writes locally and \
replicates signed operations to its peers without a central server. This package holds the \
kernel (lattice-kernel.service), lattice-ctl, and the IRC, web and FUSE daemons.")
# Staged with DESTDIR, so the install scripts see the final prefix (/usr), which the unit
# rewrite above writes into ExecStart.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Beside the libraries dpkg-shlibdeps finds: systemd runs the units and provides
# systemd-sysusers and systemd-tmpfiles for postinst; fuse3 has fusermount3 for lattice-fuse.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, fuse3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# gzip: a few seconds to build and to unpack on any dpkg.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
include(CPack)
