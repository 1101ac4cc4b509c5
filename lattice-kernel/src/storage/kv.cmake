# lattice_kernel_kv: storage's ordered key-value interfaces (storage/kv_view.h), the merge of
# buffered writes over a reader (storage/merged_scan.h), and a reader over a LevelDB database
# (storage/leveldb_kv.h). Included from lattice-kernel/CMakeLists.txt; paths are relative to
# this file. The sync index (lattice_kernel_sync) builds on these alone, and the rest of
# storage (Database, BatchView, in lattice_kernel_core) implements them.
add_library(lattice_kernel_kv STATIC ${CMAKE_CURRENT_LIST_DIR}/leveldb_kv.cc)
target_include_directories(lattice_kernel_kv PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(lattice_kernel_kv
  PUBLIC lattice_common leveldb::leveldb absl::status absl::statusor
  PRIVATE fmt::fmt)
lattice_warnings(lattice_kernel_kv)
