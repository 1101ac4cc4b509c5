# lattice_kernel_sync: Negentropy V1 set reconciliation and its persistent range index.
# Included from lattice-kernel/CMakeLists.txt; paths are relative to this file.
# Code includes "sync/negentropy.h" (include root: lattice-kernel/src). The index reads and
# writes through storage's KvReader/KvWriter interfaces (storage/kv_view.h, in
# lattice_kernel_kv), so this library does not depend on lattice_kernel_core.
add_library(lattice_kernel_sync STATIC
  ${CMAKE_CURRENT_LIST_DIR}/index_batch.cc
  ${CMAKE_CURRENT_LIST_DIR}/item_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/legacy_item_table.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_codec.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_detect.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_id_list.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_message.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_plan.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_round.cc
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_split.cc
  ${CMAKE_CURRENT_LIST_DIR}/range_index.cc
  ${CMAKE_CURRENT_LIST_DIR}/range_index_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/resident_trie.cc
  ${CMAKE_CURRENT_LIST_DIR}/sorted_items.cc
  ${CMAKE_CURRENT_LIST_DIR}/trie_layout.cc)
target_include_directories(lattice_kernel_sync PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(lattice_kernel_sync
  PUBLIC lattice_kernel_kv lattice_common leveldb::leveldb absl::status absl::statusor
  PRIVATE PkgConfig::SODIUM fmt::fmt)
lattice_warnings(lattice_kernel_sync)
