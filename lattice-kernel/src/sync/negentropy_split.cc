#include "sync/negentropy_split.h"

#include <algorithm>

#include "lattice/common/status.h"

namespace lattice::kernel::sync {
namespace {

// A cut may move up to 1/kCutReachDivisor of a part, and no part grows past
// 1 + 1/kPartGrowthDivisor of its share: parts that are cut again stay near equal, since a
// difference falls more often in a larger part. Parts of the plan's final size are tested,
// not cut again: any cut that keeps them within detect_max_items and an eighth will do,
// which leaves the tester its margin of a quarter for the peer's own extras.
constexpr uint64_t kCutReachDivisor = 8;
constexpr uint64_t kPartGrowthDivisor = 8;

}  // namespace

absl::StatusOr<std::vector<Piece>> SplitRange(ItemSource& items, const RangeState& state,
                                              const Bound& upper, uint64_t parts,
                                              uint64_t detect_max_items, SentFingerprints* sent) {
  const uint64_t n = state.count;
  parts = std::min(parts, std::max<uint64_t>(n, 1));
  std::vector<Piece> pieces;
  Bound lower = state.lower;
  Aggregate lower_aggregate = state.lower_aggregate;
  const uint64_t share = n / parts;
  const uint64_t detect = detect_max_items;
  const bool final_parts = (n + parts - 1) / parts <= detect;
  const uint64_t reach = final_parts ? share : share / kCutReachDivisor;
  const uint64_t largest = std::max((n + parts - 1) / parts + share / kPartGrowthDivisor,
                                    final_parts ? detect + detect / kPartGrowthDivisor : 0);
  const uint64_t end = state.lower_aggregate.count + n;
  for (uint64_t i = 1; i < parts; ++i) {
    // The window keeps this part and every part after it within `largest`, and leaves
    // each part after it an item at least.
    const uint64_t left = parts - i;
    const uint64_t last = lower_aggregate.count;
    uint64_t rank = state.lower_aggregate.count + (i * n) / parts;
    uint64_t lowest = std::max({rank - std::min(rank, reach), last + 1,
                                end - std::min(end, largest * left)});
    uint64_t highest = std::min({rank + reach, last + largest, end - left});
    if (lowest > highest) lowest = highest = std::clamp(rank, last + 1, end - left);
    rank = std::clamp(rank, lowest, highest);
    LATTICE_ASSIGN_OR_RETURN(CutPoint cut, items.CutNear(rank, lowest, highest));
    Piece piece{lower, cut.bound, Mode::kFingerprint, {}, {}};
    piece.fingerprint = FingerprintOf(Aggregate::Difference(cut.below, lower_aggregate));
    sent->ranges += 1;
    sent->items += cut.below.count - lower_aggregate.count;
    pieces.push_back(std::move(piece));
    lower = cut.bound;
    lower_aggregate = cut.below;
  }
  Piece last{lower, upper, Mode::kFingerprint, {}, {}};
  if (n == 0) {
    last.mode = Mode::kIdList;  // an empty list says "nothing here" in fewer bytes
  } else {
    last.fingerprint =
        FingerprintOf(Aggregate::Difference(state.upper_aggregate, lower_aggregate));
    sent->ranges += 1;
    sent->items += state.upper_aggregate.count - lower_aggregate.count;
  }
  pieces.push_back(std::move(last));
  return pieces;
}

}  // namespace lattice::kernel::sync
