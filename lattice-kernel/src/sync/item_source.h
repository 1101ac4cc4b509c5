// What the Negentropy engine reads of a set: aggregates below a bound, the item at a rank,
// a cut near a rank and the items of a small range. The persistent RangeIndex and the
// in-memory SortedItems both provide it, so the engine never knows where the set lives.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/negentropy_codec.h"

namespace lattice::kernel::sync {

struct RankedItem {
  Item item;
  Aggregate before;               // every item below `item`
  std::optional<Item> previous;  // the item just below, when the source had it at hand
};

// A place to cut the set: the items below `bound` are those below the cut, and they add up
// to `below`.
struct CutPoint {
  Bound bound;
  Aggregate below;
};

// A sorted set of items seen consistently for the duration of one engine call (one
// message). Implementations may cache; they are used by one thread at a time.
class ItemSource {
 public:
  virtual ~ItemSource() = default;

  // Count and id sum of the whole set.
  virtual absl::StatusOr<Aggregate> Total() = 0;
  // Count and id sum of the items below `bound`.
  virtual absl::StatusOr<Aggregate> Below(const Bound& bound) = 0;
  // The item of rank `rank` (0 is the smallest). REQUIRES: rank < Total().count.
  virtual absl::StatusOr<RankedItem> AtRank(uint64_t rank) = 0;
  // A cut with between `lowest` and `highest` items below it: at `rank`, or wherever in
  // that window the source finds one cheaper. The default is the exact cut at `rank`, at
  // the shortest bound between the items of ranks rank - 1 and rank.
  // REQUIRES: 0 < lowest <= rank <= highest < Total().count.
  virtual absl::StatusOr<CutPoint> CutNear(uint64_t rank, uint64_t lowest, uint64_t highest);
  // Appends the items in [lower, upper), in order, stopping after `limit` of them.
  virtual absl::Status ItemsIn(const Bound& lower, const Bound& upper, size_t limit,
                               std::vector<Item>* out) = 0;
};

}  // namespace lattice::kernel::sync
