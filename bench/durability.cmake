# Writes acknowledged once applied against once synced (DESIGN §4), included from
# bench/CMakeLists.txt: puts/s of one client through a real kernel, and their ratio.
#   build-*/bench/lattice-durability-bench [--seconds S] [--value-bytes N]
add_executable(lattice-durability-bench ${CMAKE_CURRENT_LIST_DIR}/durability_bench.cc)
target_link_libraries(lattice-durability-bench PRIVATE lattice_bench_support CLI11::CLI11)
target_compile_definitions(lattice-durability-bench PRIVATE
  LATTICE_KERNEL_BINARY="$<TARGET_FILE:lattice-kernel>")
add_dependencies(lattice-durability-bench lattice-kernel)
lattice_warnings(lattice-durability-bench)
