// The kernel's own Node and Store, opened inside the benchmark process on a data directory
// that a lattice-kernel process can open afterwards. Used to fill a store with many
// intentions quickly (the start-up benchmark) and to time the store without the socket,
// which shows how much of a put's cost is the RPC.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "load_generator.h"
#include "node/node.h"

namespace lattice::bench {

// Owns a kernel::Node; not for use while a kernel process holds the same data directory.
// Thread-safe as kernel::Node and kernel::Store are.
class InProcessNode {
 public:
  // Opens (or creates) the node at `data_dir` and the kv store `store_name` in its own mesh.
  static absl::StatusOr<std::unique_ptr<InProcessNode>> Open(const std::string& data_dir,
                                                             const std::string& node_name,
                                                             const std::string& store_name);
  ~InProcessNode();

  kernel::Store& store() { return *store_; }
  // Canonical id of the store, as clients name it.
  const std::string& store_id() const { return store_id_; }

  // Writes one single-put intention per key with `threads` writers (group commit gathers
  // them) until the store holds `intentions` of them. Keys are "fill/<n>"; values are
  // `value_bytes` long. `progress` is called now and then with the count so far.
  absl::Status FillTo(uint64_t intentions, int threads, size_t value_bytes,
                      const std::function<void(uint64_t)>& progress);

  // Store::WriteKv of one key per call through the common load generator, `clients` threads.
  absl::StatusOr<LoadResult> MeasureWrites(const LoadOptions& load, size_t value_bytes,
                                           const std::string& key_prefix);

 private:
  InProcessNode() = default;

  std::unique_ptr<kernel::Node> node_;
  kernel::Store* store_ = nullptr;
  std::string store_id_;
};

}  // namespace lattice::bench
