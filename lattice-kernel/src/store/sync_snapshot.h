// The sync index of one store as an ItemSource pinned to one state of its database: what a
// Negentropy session reads for one message (sync/negentropy.h). Its descents start in the
// store's resident levels of the index (sync/resident_trie.h) when they show that state.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "storage/database.h"
#include "sync/item_source.h"
#include "sync/range_index.h"

namespace lattice::kernel {

class Store;

// Owned by one thread; keep it for one message only (it holds a LevelDB snapshot).
class SyncSnapshot : public sync::ItemSource {
 public:
  // Over the store's resident levels and its database: what reconciliation reads.
  static absl::StatusOr<std::unique_ptr<SyncSnapshot>> Open(const Store& store);
  // Over the database alone (what verification reads: the index as it lies on disk).
  static absl::StatusOr<std::unique_ptr<SyncSnapshot>> Open(const Database& db);

  absl::StatusOr<sync::Aggregate> Total() override { return reader_.Total(); }
  absl::StatusOr<sync::Aggregate> Below(const sync::Bound& bound) override {
    return reader_.Below(bound);
  }
  absl::StatusOr<sync::RankedItem> AtRank(uint64_t rank) override { return reader_.AtRank(rank); }
  absl::StatusOr<sync::CutPoint> CutNear(uint64_t rank, uint64_t lowest,
                                         uint64_t highest) override {
    return reader_.CutNear(rank, lowest, highest);
  }
  absl::Status ItemsIn(const sync::Bound& lower, const sync::Bound& upper, size_t limit,
                       std::vector<sync::Item>* out) override {
    return reader_.ItemsIn(lower, upper, limit, out);
  }

 private:
  SyncSnapshot(std::unique_ptr<KvReader> pinned,
               std::shared_ptr<const sync::ResidentLevels> levels)
      : pinned_(std::move(pinned)), reader_(*pinned_, std::move(levels)) {}

  std::unique_ptr<KvReader> pinned_;
  sync::RangeIndexReader reader_;
};

}  // namespace lattice::kernel
