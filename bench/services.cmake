# ServiceManager benchmarks (DESIGN §8), included from bench/CMakeLists.txt: latency from a
# registry or consent change (local, and written on another node) to the daemon accepting
# connections, from a daemon crash to its replacement serving, and the kernel's CPU and
# memory with 20 idle supervised instances beside none. Real kernels and real lattice-irc.
#   build-*/bench/lattice-services-bench [--rounds N] [--idle-seconds S]
if(NOT TARGET lattice-irc)
  return()
endif()
add_executable(lattice-services-bench
  ${CMAKE_CURRENT_LIST_DIR}/services_bench.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/peer_kernels.cc)
target_link_libraries(lattice-services-bench PRIVATE lattice_bench_support CLI11::CLI11)
target_compile_definitions(lattice-services-bench PRIVATE
  LATTICE_KERNEL_BINARY="$<TARGET_FILE:lattice-kernel>")
add_dependencies(lattice-services-bench lattice-kernel lattice-irc)
lattice_warnings(lattice-services-bench)
