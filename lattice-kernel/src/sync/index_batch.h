// A KvWriter for one write batch: it forwards each Put and Delete to the caller's batch (a
// leveldb::WriteBatch, say) and remembers it, so later Adds of the same batch read it back
// over the committed state. The kernel's store uses its own writer (store/index_writer.h);
// this one serves the index's tests and benchmarks.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "leveldb/write_batch.h"
#include "storage/kv_view.h"
#include "sync/resident_trie.h"

namespace lattice::kernel::sync {

// Owned by the thread that builds the batch; lives as long as that batch.
// REQUIRES: nothing else writes the keys this writer reads during the batch's life (the
// index's own table), since only its own puts are overlaid on `committed`.
class IndexBatch : public KvWriter {
 public:
  // Forwards the writes into `batch`, which must outlive this writer.
  IndexBatch(const KvReader& committed, leveldb::WriteBatch* batch)
      : committed_(committed), batch_(batch) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;
  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;

  size_t buffered_writes() const { return overlay_.size(); }
  // What the batch changes in the index under `options`, which added `items_added` items
  // (the Adds that returned true), for ResidentTrie::Publish once the batch is committed.
  IndexUpdate Update(uint64_t items_added, const RangeIndexOptions& options = {}) const;

 private:
  const KvReader& committed_;
  leveldb::WriteBatch* batch_;
  std::map<std::string, std::optional<std::string>, std::less<>> overlay_;
};

}  // namespace lattice::kernel::sync
