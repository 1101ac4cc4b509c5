# Negentropy reconciliation benchmark (issues 7 and 18), included from bench/CMakeLists.txt.
#   build-*/bench/lattice-negentropy-bench     the index beside memory on the issue's three sets
#   build-*/bench/lattice-negentropy-bench --sets 100000:10 --rounds 5
add_executable(lattice-negentropy-bench ${CMAKE_CURRENT_LIST_DIR}/negentropy_bench.cc)
target_link_libraries(lattice-negentropy-bench PRIVATE
  lattice_kernel_core lattice_kernel_sync leveldb::leveldb CLI11::CLI11 fmt::fmt)
lattice_warnings(lattice-negentropy-bench)
