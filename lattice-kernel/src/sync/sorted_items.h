// An in-memory ItemSource over a sorted vector with prefix sums: for tests, benchmarks and
// peers that hold a small set in memory. Memory grows with the set, unlike RangeIndex.
#pragma once

#include <vector>

#include "sync/item_source.h"

namespace lattice::kernel::sync {

// Not thread-safe; immutable after Seal().
class SortedItems : public ItemSource {
 public:
  // Stamps above kMaxItemTimestamp are stored as kMaxItemTimestamp, as RangeIndex does.
  void Insert(Item item);
  // Sorts, drops duplicates and builds the prefix sums. REQUIRES: before any read.
  void Seal();
  const std::vector<Item>& items() const { return items_; }

  absl::StatusOr<Aggregate> Total() override;
  absl::StatusOr<Aggregate> Below(const Bound& bound) override;
  absl::StatusOr<RankedItem> AtRank(uint64_t rank) override;
  absl::Status ItemsIn(const Bound& lower, const Bound& upper, size_t limit,
                       std::vector<Item>* out) override;

 private:
  size_t RankOf(const Bound& bound) const;
  Aggregate PrefixOf(size_t rank) const;

  std::vector<Item> items_;
  std::vector<IdSum> prefix_sums_;  // prefix_sums_[i] = sum of items_[0..i)
};

}  // namespace lattice::kernel::sync
