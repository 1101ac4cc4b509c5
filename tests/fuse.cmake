# Tests of lattice-fuse, included from tests/CMakeLists.txt (GTest is found there):
# - fuse_unit_tests: byte-range sets, the commit plan, the write buffer, the write-back
#   queue, the directory attribute cache and the known names (no mount).
# - fuse_*: integration tests (tests/integration/fuse_mount_test.py) that run the real
#   lattice-kernel, lattice-ctl and lattice-fuse on a temporary mount as root and check
#   POSIX behaviour with ordinary system calls; label integration-fuse. They skip (exit 77)
#   when not root or without /dev/fuse.
include_guard(GLOBAL)
include(GoogleTest)

if(NOT TARGET lattice_fuse_lib)
  message(STATUS "lattice-fuse tests not added: lattice-fuse is not part of this build")
  return()
endif()

add_executable(fuse_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/overlay_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/link_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/removals_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/creates_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/write_back_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/dir_attrs_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/known_names_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/entry_inodes_test.cc
                               ${CMAKE_CURRENT_LIST_DIR}/unit/fuse/kept_content_test.cc)
target_link_libraries(fuse_unit_tests PRIVATE lattice_fuse_lib GTest::gtest_main)
lattice_warnings(fuse_unit_tests)
gtest_discover_tests(fuse_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)

find_program(LATTICE_FUSE_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
set(LATTICE_FUSE_SCENARIOS
  files_and_content rename_and_links attributes special_files xattrs mmap_and_locks
  sync_and_statfs stop_signal_on_any_thread big_directory unlink_while_open kernel_restart stale_mount
  differential_fixed_seed differential_random_seed last_link_removed_after_an_edit
  closed_then_synced_survive_a_kernel_kill closed_file_seen_elsewhere
  many_closed_files_seen_elsewhere names_made_elsewhere_on_this_node unlinks_answered_here
  unlinks_stamp_their_directory_here files_written_here_read_back_without_the_kernel
  unlinks_refused_to_a_read_only_token other_clients_of_this_node_heard
  attributes_set_after_writing_go_with_the_commit attributes_of_files_in_use_answered_here
  renames_of_files_followed_here link_counts_after_unlinks_answered_here
  unlinks_answered_here_remove_only_what_was_unlinked trees_fixed_seed
  trees_random_seed creates_answered_here create_of_a_name_taken_meanwhile_kept
  renames_of_new_files_answered_here directories_made_here renames_over_files_answered_here
  directories_listed_here_known
  opens_answered_here times_shown_at_close_kept reads_close_without_a_flush
  files_written_here_reopened_from_the_page_cache lookups_of_known_files_answered_here
  renames_through_the_kernel_keep_held_attributes)
if(LATTICE_FUSE_PYTHON AND TARGET lattice-kernel AND TARGET lattice-ctl)
  foreach(_scenario ${LATTICE_FUSE_SCENARIOS})
    add_test(NAME fuse_${_scenario}
             COMMAND ${LATTICE_FUSE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/fuse_mount_test.py
                     --kernel $<TARGET_FILE:lattice-kernel>
                     --ctl $<TARGET_FILE:lattice-ctl>
                     --fuse $<TARGET_FILE:lattice-fuse>
                     ${_scenario})
    set_tests_properties(fuse_${_scenario} PROPERTIES LABELS "integration;integration-fuse"
                         TIMEOUT 180 SKIP_RETURN_CODE 77 RESOURCE_LOCK fuse)
  endforeach()
endif()
