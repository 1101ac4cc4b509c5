#include "sync/sorted_items.h"

#include <algorithm>

namespace lattice::kernel::sync {

void SortedItems::Insert(Item item) {
  item.timestamp = std::min(item.timestamp, kMaxItemTimestamp);
  items_.push_back(item);
}

void SortedItems::Seal() {
  std::sort(items_.begin(), items_.end());
  items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
  prefix_sums_.assign(items_.size() + 1, IdSum());
  for (size_t i = 0; i < items_.size(); ++i) {
    prefix_sums_[i + 1] = prefix_sums_[i];
    prefix_sums_[i + 1].Add(items_[i].id);
  }
}

size_t SortedItems::RankOf(const Bound& bound) const {
  auto it = std::partition_point(items_.begin(), items_.end(),
                                 [&](const Item& item) { return ItemBelow(item, bound); });
  return static_cast<size_t>(it - items_.begin());
}

Aggregate SortedItems::PrefixOf(size_t rank) const {
  Aggregate out;
  out.count = rank;
  out.sum = prefix_sums_.empty() ? IdSum() : prefix_sums_[rank];
  return out;
}

absl::StatusOr<Aggregate> SortedItems::Total() { return PrefixOf(items_.size()); }

absl::StatusOr<Aggregate> SortedItems::Below(const Bound& bound) {
  return PrefixOf(RankOf(bound));
}

absl::StatusOr<RankedItem> SortedItems::AtRank(uint64_t rank) {
  if (rank >= items_.size()) return absl::OutOfRangeError("rank beyond the set");
  RankedItem out{items_[rank], PrefixOf(rank), std::nullopt};
  if (rank > 0) out.previous = items_[rank - 1];
  return out;
}

absl::Status SortedItems::ItemsIn(const Bound& lower, const Bound& upper, size_t limit,
                                  std::vector<Item>* out) {
  size_t begin = RankOf(lower);
  size_t end = RankOf(upper);
  for (size_t i = begin; i < end && limit > 0; ++i, --limit) out->push_back(items_[i]);
  return absl::OkStatus();
}

}  // namespace lattice::kernel::sync
