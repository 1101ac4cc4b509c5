# lattice-irc benchmarks, included from bench/CMakeLists.txt (built with LATTICE_BENCH=ON).
# irc_bench is a harness that starts a kernel and a gateway and prints figures:
#   build/bench/irc_bench [--clients 200] [--senders 10] [--messages 2000] [--samples 500]
include_guard(GLOBAL)
if(TARGET lattice-irc AND TARGET lattice-kernel)
  add_executable(irc_bench ${CMAKE_CURRENT_LIST_DIR}/irc_bench.cc)
  target_link_libraries(irc_bench PRIVATE lattice_client)
  target_compile_definitions(irc_bench PRIVATE
    LATTICE_KERNEL_BINARY="$<TARGET_FILE:lattice-kernel>"
    LATTICE_IRC_BINARY="$<TARGET_FILE:lattice-irc>")
  lattice_warnings(irc_bench)
endif()
