# Replication benchmarks (DESIGN §7), included from bench/CMakeLists.txt: bootstrap
# throughput against the Ed25519 verify rate, and put-to-watch latency across a full mesh,
# with real lattice-kernel processes on loopback. See bench/README.md.
#   build-*/bench/lattice-replication-bench            100,000 intentions, meshes of 3 and 5
#   build-*/bench/lattice-replication-bench --quick    a smoke run
add_executable(lattice-replication-bench
  ${CMAKE_CURRENT_LIST_DIR}/replication_bench.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/bootstrap_bench.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/peer_kernels.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/replication_latency.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/tcp_traffic.cc)
target_link_libraries(lattice-replication-bench PRIVATE lattice_bench_support CLI11::CLI11)
target_compile_definitions(lattice-replication-bench PRIVATE
  LATTICE_KERNEL_BINARY="$<TARGET_FILE:lattice-kernel>")
add_dependencies(lattice-replication-bench lattice-kernel)
lattice_warnings(lattice-replication-bench)
