# What the shared drive sends when a large file changes a little, and the chunker's and chunk
# store's throughput (issue 15): lattice-chunks-bench [--mib 1024] [--store-mib 256].
add_executable(lattice-chunks-bench ${CMAKE_CURRENT_LIST_DIR}/chunks_bench.cc)
target_link_libraries(lattice-chunks-bench PRIVATE lattice_kernel_core lattice_common fmt::fmt)
lattice_warnings(lattice-chunks-bench)
