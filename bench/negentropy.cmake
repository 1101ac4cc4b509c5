# Negentropy reconciliation benchmark (issue 7), included from bench/CMakeLists.txt.
#   build-*/bench/lattice-negentropy-bench            the issue's table on the LevelDB index
#   build-*/bench/lattice-negentropy-bench --storage memory --items 100000
add_executable(lattice-negentropy-bench ${CMAKE_CURRENT_LIST_DIR}/negentropy_bench.cc)
target_link_libraries(lattice-negentropy-bench PRIVATE
  lattice_kernel_sync leveldb::leveldb CLI11::CLI11 fmt::fmt)
lattice_warnings(lattice-negentropy-bench)
