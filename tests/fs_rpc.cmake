# The Fs service of the Store Protocol.
#   fs_rpc_unit_tests: the planner against a real fs store, its helpers, the watch's changes
#   kernel_fs_test: the service through FsClient against a real kernel
add_executable(fs_rpc_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/rpc/fs_changes_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/rpc/fs_planner_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/rpc/fs_inode_counts_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/rpc/fs_layout_cache_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/rpc/fs_writer_tags_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/state/fs_test_support.cc
  ${CMAKE_CURRENT_LIST_DIR}/unit/store/test_store.cc)
target_include_directories(fs_rpc_unit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(fs_rpc_unit_tests PRIVATE lattice_kernel_core GTest::gtest_main)
lattice_warnings(fs_rpc_unit_tests)
gtest_discover_tests(fs_rpc_unit_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit TIMEOUT 300)

lattice_integration_test(kernel_fs_test)

# Two kernels in one mesh.
lattice_integration_test(kernel_fs_mesh_test)
target_link_libraries(kernel_fs_mesh_test PRIVATE lattice_replication_test_support)
