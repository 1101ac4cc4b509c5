// The sync index of one store as an ItemSource pinned to one state of its database: what a
// Negentropy session reads for one message (sync/negentropy.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "storage/database.h"
#include "sync/item_source.h"
#include "sync/range_index.h"

namespace lattice::kernel {

// Owned by one thread; keep it for one message only (it holds a LevelDB snapshot).
class SyncSnapshot : public sync::ItemSource {
 public:
  static absl::StatusOr<std::unique_ptr<SyncSnapshot>> Open(const Database& db);

  absl::StatusOr<sync::Aggregate> Total() override { return reader_.Total(); }
  absl::StatusOr<sync::Aggregate> Below(const sync::Bound& bound) override {
    return reader_.Below(bound);
  }
  absl::StatusOr<sync::RankedItem> AtRank(uint64_t rank) override { return reader_.AtRank(rank); }
  absl::Status ItemsIn(const sync::Bound& lower, const sync::Bound& upper, size_t limit,
                       std::vector<sync::Item>* out) override {
    return reader_.ItemsIn(lower, upper, limit, out);
  }

 private:
  explicit SyncSnapshot(std::unique_ptr<sync::KvReader> pinned)
      : pinned_(std::move(pinned)), reader_(*pinned_) {}

  std::unique_ptr<sync::KvReader> pinned_;
  sync::RangeIndexReader reader_;
};

}  // namespace lattice::kernel
