# lattice_kernel_net: the peer transport (handshake, encrypted links, TCP and in-memory
# transports). Included from lattice-kernel/CMakeLists.txt; paths are relative to this file.
# Code includes "net/..." (include root: lattice-kernel/src).
add_library(lattice_kernel_net STATIC
  ${CMAKE_CURRENT_LIST_DIR}/address.cc
  ${CMAKE_CURRENT_LIST_DIR}/frame_cipher.cc
  ${CMAKE_CURRENT_LIST_DIR}/frame_decoder.cc
  ${CMAKE_CURRENT_LIST_DIR}/frame_receiver.cc
  ${CMAKE_CURRENT_LIST_DIR}/handshake.cc
  ${CMAKE_CURRENT_LIST_DIR}/handshake_gate.cc
  ${CMAKE_CURRENT_LIST_DIR}/handshake_runner.cc
  ${CMAKE_CURRENT_LIST_DIR}/invite_proof.cc
  ${CMAKE_CURRENT_LIST_DIR}/link_registry.cc
  ${CMAKE_CURRENT_LIST_DIR}/memory_stream.cc
  ${CMAKE_CURRENT_LIST_DIR}/memory_transport.cc
  ${CMAKE_CURRENT_LIST_DIR}/peer_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/stream_link.cc
  ${CMAKE_CURRENT_LIST_DIR}/tcp_stream.cc
  ${CMAKE_CURRENT_LIST_DIR}/tcp_transport.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_bucket.cc)
target_include_directories(lattice_kernel_net PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(lattice_kernel_net
  PUBLIC lattice_common lattice_proto PkgConfig::SODIUM Threads::Threads
  PRIVATE spdlog::spdlog fmt::fmt)
lattice_warnings(lattice_kernel_net)
