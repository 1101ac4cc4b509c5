// A KvWriter for one write batch: it forwards each Put to the caller's batch (for the
// kernel, BatchView::Put) and remembers it, so later Adds of the same batch read it back
// over the committed state. This is how the index is updated in the intention's batch.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "storage/kv_view.h"
#include "sync/resident_trie.h"

namespace lattice::kernel::sync {

// Owned by the thread that builds the batch; lives as long as that batch.
// REQUIRES: nothing else writes the keys this writer reads during the batch's life (the
// index's own table), since only its own puts are overlaid on `committed`.
class IndexBatch : public KvWriter {
 public:
  using PutSink = std::function<void(std::string_view key, std::string_view value)>;
  IndexBatch(const KvReader& committed, PutSink sink)
      : committed_(committed), sink_(std::move(sink)) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Scan(std::string_view start, std::string_view end,
                    const Visitor& visit) const override;
  void Put(std::string_view key, std::string_view value) override;

  size_t buffered_puts() const { return overlay_.size(); }
  // What the batch changes in the index under `options` (for ResidentTrie::Publish once
  // the batch is committed).
  IndexUpdate Update(const RangeIndexOptions& options = {}) const;

 private:
  const KvReader& committed_;
  PutSink sink_;
  std::map<std::string, std::string, std::less<>> overlay_;
};

}  // namespace lattice::kernel::sync
