# The management page, included from tests/CMakeLists.txt:
# - web_page_unit: the page's plain logic (tests/unit/web_page/*.mjs) under node's test
#   runner, no browser; label unit.
# - lattice_browser_tests: tests/browser (page_test.mjs, package.json, package-lock.json)
#   copied into ${CMAKE_BINARY_DIR}/tests/browser and its npm packages installed there
#   (playwright-core only: the browser is Debian's chromium, never a downloaded one).
# - web_page_browser: tests/integration/web_page_test.py starts two real kernels in a mesh
#   and a real lattice-web, then runs page_test.mjs in headless Chromium; screenshots in
#   ${CMAKE_BINARY_DIR}/test-artifacts/web_page. Label integration; exit 77 (skipped) when
#   Chromium or node is missing. Registered only once lattice-web is part of the build.
include_guard(GLOBAL)

set(LATTICE_BROWSER_TEST_DIR ${CMAKE_BINARY_DIR}/tests/browser)
set(_browser_source ${CMAKE_CURRENT_LIST_DIR}/browser)
set(_browser_stamp ${LATTICE_BROWSER_TEST_DIR}/node_modules/.lattice-npm-ci)
find_program(LATTICE_NODE node)
find_program(LATTICE_NPM npm)
if(NOT LATTICE_NODE OR NOT LATTICE_NPM)
  message(STATUS "browser tests not added: node and npm are needed (scripts/install-deps.sh)")
  return()
endif()

add_test(NAME web_page_unit
         COMMAND ${LATTICE_NODE} --test
                 ${CMAKE_CURRENT_LIST_DIR}/unit/web_page/format_test.mjs
                 ${CMAKE_CURRENT_LIST_DIR}/unit/web_page/key_page_test.mjs)
set_tests_properties(web_page_unit PROPERTIES LABELS unit TIMEOUT 60)

file(MAKE_DIRECTORY ${LATTICE_BROWSER_TEST_DIR})
add_custom_command(
  OUTPUT ${_browser_stamp}
  COMMAND ${CMAKE_COMMAND} -E copy_if_different
          ${_browser_source}/package.json ${_browser_source}/package-lock.json
          ${LATTICE_BROWSER_TEST_DIR}
  COMMAND ${CMAKE_COMMAND} -E env npm_config_cache=${CMAKE_BINARY_DIR}/npm-cache
          npm_config_update_notifier=false PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
          ${LATTICE_NPM} ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error
  COMMAND ${CMAKE_COMMAND} -E touch ${_browser_stamp}
  WORKING_DIRECTORY ${LATTICE_BROWSER_TEST_DIR}
  DEPENDS ${_browser_source}/package.json ${_browser_source}/package-lock.json
  COMMENT "npm ci: playwright-core for the browser tests (tests/browser/package-lock.json)"
  VERBATIM)
# The test runs from beside its node_modules, where `import 'playwright-core'` resolves.
add_custom_command(
  OUTPUT ${LATTICE_BROWSER_TEST_DIR}/page_test.mjs
  COMMAND ${CMAKE_COMMAND} -E copy_if_different ${_browser_source}/page_test.mjs
          ${LATTICE_BROWSER_TEST_DIR}/page_test.mjs
  DEPENDS ${_browser_source}/page_test.mjs
  VERBATIM)

add_custom_command(
  OUTPUT ${LATTICE_BROWSER_TEST_DIR}/openapi_check.mjs
  COMMAND ${CMAKE_COMMAND} -E copy_if_different ${_browser_source}/openapi_check.mjs
          ${LATTICE_BROWSER_TEST_DIR}/openapi_check.mjs
  DEPENDS ${_browser_source}/openapi_check.mjs
  VERBATIM)

if(NOT TARGET lattice-web)
  # Buildable by name (for running page_test.mjs by hand); the test waits for lattice-web.
  add_custom_target(lattice_browser_tests
    DEPENDS ${_browser_stamp} ${LATTICE_BROWSER_TEST_DIR}/page_test.mjs)
  message(STATUS "web_page_browser test not added: lattice-web is not part of this build")
  return()
endif()

add_custom_target(lattice_browser_tests ALL
  DEPENDS ${_browser_stamp} ${LATTICE_BROWSER_TEST_DIR}/page_test.mjs
          ${LATTICE_BROWSER_TEST_DIR}/openapi_check.mjs)

# - web_openapi_valid: the OpenAPI document lattice-web embeds, checked against the OpenAPI
#   3.1 schema by @seriousme/openapi-schema-validator (npm); label unit.
add_test(NAME web_openapi_valid
         COMMAND ${LATTICE_NODE} ${LATTICE_BROWSER_TEST_DIR}/openapi_check.mjs
                 ${CMAKE_BINARY_DIR}/lattice-web/openapi.json)
set_tests_properties(web_openapi_valid PROPERTIES LABELS unit TIMEOUT 60)
if(TARGET lattice_web_page)
  add_dependencies(lattice_browser_tests lattice_web_page)
endif()

find_program(LATTICE_WEB_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(LATTICE_WEB_PYTHON AND TARGET lattice-kernel AND TARGET lattice-ctl)
  add_test(NAME web_page_browser
           COMMAND ${LATTICE_WEB_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/web_page_test.py
                   --kernel $<TARGET_FILE:lattice-kernel>
                   --ctl $<TARGET_FILE:lattice-ctl>
                   --web $<TARGET_FILE:lattice-web>
                   --node ${LATTICE_NODE}
                   --page-test ${LATTICE_BROWSER_TEST_DIR}/page_test.mjs
                   --artifacts ${CMAKE_BINARY_DIR}/test-artifacts/web_page)
  set_tests_properties(web_page_browser PROPERTIES LABELS integration TIMEOUT 600
                       SKIP_RETURN_CODE 77)
endif()
