# The management page (lattice-web/page/), built at build time from npm packages into static
# files that lattice-web serves: index.html, assets/app.js (an ES module), assets/app.css and
# assets/favicon.svg. Included from lattice-web/CMakeLists.txt.
#
# - Target lattice_web_page (part of ALL): `npm ci` of lattice-web/page/package-lock.json in
#   the build directory (its download cache there too, so a rebuild works offline), then
#   esbuild bundles the sources.
# - LATTICE_WEB_PAGE_DIR: where the files are (${CMAKE_BINARY_DIR}/lattice-web/page), for
#   lattice-web's compile definition or its --assets flag; a cache variable, so tests/ sees it.
#   The build tree also has share/lattice/web pointing there, laid out as an install is.
# - Installed into share/lattice/web.
# Needs node and npm (scripts/install-deps.sh); without them the target fails saying so.
include_guard(GLOBAL)

set(LATTICE_WEB_PAGE_DIR ${CMAKE_BINARY_DIR}/lattice-web/page CACHE INTERNAL
    "The built management page (index.html and assets/)")
set(_page_source ${CMAKE_CURRENT_LIST_DIR}/page)
# npm works on a copy of the package files beside its node_modules, outside the source tree.
set(_page_npm ${CMAKE_BINARY_DIR}/lattice-web/page-npm)
set(_page_npm_stamp ${_page_npm}/node_modules/.lattice-npm-ci)

find_program(LATTICE_NODE node)
find_program(LATTICE_NPM npm)

if(NOT LATTICE_NODE OR NOT LATTICE_NPM)
  message(WARNING "node or npm not found: the lattice_web_page target will fail; "
                  "run scripts/install-deps.sh (Debian packages nodejs and npm)")
  add_custom_target(lattice_web_page ALL
    COMMAND ${CMAKE_COMMAND} -E echo
            "lattice_web_page: the management page needs node and npm to build; run scripts/install-deps.sh"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
  return()
endif()

file(MAKE_DIRECTORY ${_page_npm})
add_custom_command(
  OUTPUT ${_page_npm_stamp}
  COMMAND ${CMAKE_COMMAND} -E copy_if_different
          ${_page_source}/package.json ${_page_source}/package-lock.json ${_page_npm}
  # --ignore-scripts: no package may run code (or fetch anything) at install; esbuild finds
  # its platform binary through its optional dependency without its postinstall check.
  COMMAND ${CMAKE_COMMAND} -E env npm_config_cache=${CMAKE_BINARY_DIR}/npm-cache
          npm_config_update_notifier=false
          ${LATTICE_NPM} ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error
  COMMAND ${CMAKE_COMMAND} -E touch ${_page_npm_stamp}
  WORKING_DIRECTORY ${_page_npm}
  DEPENDS ${_page_source}/package.json ${_page_source}/package-lock.json
  COMMENT "npm ci: packages of the management page (lattice-web/page/package-lock.json)"
  VERBATIM)

file(GLOB _page_sources CONFIGURE_DEPENDS ${_page_source}/src/*.js ${_page_source}/src/*.css)
set(_page_outputs
  ${LATTICE_WEB_PAGE_DIR}/index.html
  ${LATTICE_WEB_PAGE_DIR}/assets/app.js
  ${LATTICE_WEB_PAGE_DIR}/assets/app.css
  ${LATTICE_WEB_PAGE_DIR}/assets/favicon.svg)
add_custom_command(
  OUTPUT ${_page_outputs}
  COMMAND ${CMAKE_COMMAND} -E copy_if_different ${_page_source}/build.mjs ${_page_npm}/build.mjs
  COMMAND ${LATTICE_NODE} ${_page_npm}/build.mjs --source ${_page_source} --out ${LATTICE_WEB_PAGE_DIR}
  DEPENDS ${_page_npm_stamp} ${_page_source}/build.mjs ${_page_source}/index.html
          ${_page_source}/favicon.svg ${_page_sources}
  COMMENT "esbuild: the management page into ${LATTICE_WEB_PAGE_DIR}"
  VERBATIM)
add_custom_target(lattice_web_page ALL DEPENDS ${_page_outputs})

# build/share/lattice/web, as build/share/lattice/services: a daemon run from the build tree
# finds its files where an installed one would (<bin>/../share/lattice/web).
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/share/lattice)
file(CREATE_LINK ${LATTICE_WEB_PAGE_DIR} ${CMAKE_BINARY_DIR}/share/lattice/web SYMBOLIC)

install(DIRECTORY ${LATTICE_WEB_PAGE_DIR}/ DESTINATION share/lattice/web)
