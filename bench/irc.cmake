# lattice-irc benchmarks, included from bench/CMakeLists.txt (built with LATTICE_BENCH=ON).
# irc_bench is a harness that starts kernels and gateways and prints figures: fan-out to 200
# clients of one gateway with its CPU and memory, client-to-client latency on one node and
# across two nodes of a mesh:
#   build/bench/irc_bench [--clients 200] [--senders 10] [--messages 2000] [--samples 500]
#                         [--no-mesh]
include_guard(GLOBAL)
if(TARGET lattice-irc AND TARGET lattice-kernel)
  add_executable(irc_bench ${CMAKE_CURRENT_LIST_DIR}/irc_bench.cc)
  target_link_libraries(irc_bench PRIVATE lattice_client)
  target_compile_definitions(irc_bench PRIVATE
    LATTICE_KERNEL_BINARY="$<TARGET_FILE:lattice-kernel>"
    LATTICE_IRC_BINARY="$<TARGET_FILE:lattice-irc>")
  add_dependencies(irc_bench lattice-kernel lattice-irc)
  lattice_warnings(irc_bench)
endif()
