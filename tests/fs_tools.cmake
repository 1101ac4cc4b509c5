# End-to-end tests of the shared drive through the real binaries, included from
# tests/CMakeLists.txt: a real lattice-kernel, lattice-ctl and a lattice-fuse mount (as root,
# with /dev/fuse; skipped otherwise, exit status 77).
# - fuse_tools_*: the tools people use on the mount and the crashes a machine sees
#   (tests/integration/fuse_tools_test.py).
# - fuse_exerciser_*: random call sequences checked against a model of POSIX.
# - fuse_mesh_*: two kernels in a mesh on loopback with a mount on each, cut apart and healed
#   (tests/integration/fuse_mesh_test.py).
include_guard(GLOBAL)

if(NOT TARGET lattice-fuse OR NOT TARGET lattice-kernel OR NOT TARGET lattice-ctl)
  message(STATUS "shared drive end-to-end tests not added: lattice-fuse is not part of this build")
  return()
endif()

set(_fs_python /usr/bin/python3)
if(NOT EXISTS ${_fs_python})
  set(_fs_python ${Python3_EXECUTABLE})
endif()

# One ctest test per scenario of `script`: NAME_PREFIX<scenario>, each with its own kernels
# and mounts.
function(lattice_fuse_scenarios script name_prefix timeout)
  cmake_parse_arguments(PARSE_ARGV 3 ARG "" "" "SCENARIOS;LABELS")
  set(_labels integration integration-fuse ${ARG_LABELS})
  foreach(_scenario ${ARG_SCENARIOS})
    add_test(NAME ${name_prefix}${_scenario}
             COMMAND ${_fs_python} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/integration/${script}
                     --kernel $<TARGET_FILE:lattice-kernel>
                     --ctl $<TARGET_FILE:lattice-ctl>
                     --fuse $<TARGET_FILE:lattice-fuse>
                     ${_scenario})
    set_tests_properties(${name_prefix}${_scenario} PROPERTIES
                         LABELS "${_labels}" TIMEOUT ${timeout}
                         SKIP_RETURN_CODE 77 RESOURCE_LOCK fuse)
  endforeach()
endfunction()

lattice_fuse_scenarios(fuse_tools_test.py fuse_tools_ 600
  SCENARIOS
    git_clone
    rsync_round_trip
    tar_round_trip
    edits
    cp_archive
    make_project
    kill_fuse_mid_copy
    kill_kernel_mid_copy
    full_disk
    public_exercisers
    stress_ng_exercisers)
# The longest tests of the suite start first (ctest runs by COST until a run has measured
# them): started last, one would run alone while the other jobs stand idle.
set_tests_properties(fuse_tools_stress_ng_exercisers PROPERTIES COST 200)
set_tests_properties(fuse_tools_public_exercisers PROPERTIES COST 35)
lattice_fuse_scenarios(fuse_mesh_test.py fuse_mesh_ 600
  SCENARIOS
    tree_replicates
    conflicting_edits
    crossed_renames
    delete_versus_edit
    rmdir_versus_create
    page_cache_sees_remote_change
    remote_rename_drops_the_old_name)
# A gigabyte through a sanitized kernel and daemon takes too long on two cores; the same code
# runs sanitized in the other scenarios.
lattice_fuse_scenarios(fuse_tools_test.py fuse_tools_ 900 LABELS no-sanitizer
  SCENARIOS
    large_file)
# The exerciser (tests/integration/fuse_exerciser_test.py): random POSIX call sequences
# checked against a model, with a fixed seed and a new one each run (printed, to replay).
lattice_fuse_scenarios(fuse_exerciser_test.py fuse_exerciser_ 600
  SCENARIOS
    fixed_seed
    random_seed)
