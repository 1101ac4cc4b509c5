// Cutting one range of ours into parts of about equal counts, each sent as a fingerprint for
// the peer to compare. A cut need not fall where the parts are exactly equal: the set's
// source may cut where it reads nothing (the persistent index, at the edge of a bucket it
// holds in memory, where the peer's index also finds the aggregate below in memory), so
// each cut gets a window around its equal share, kept narrow enough that the parts that
// are cut again stay near equal. How many parts to cut is SplitPlan's decision.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "sync/item_source.h"
#include "sync/negentropy_message.h"

namespace lattice::kernel::sync {

// A received range as our set shows it: [lower, the range's upper bound).
struct RangeState {
  Bound lower;
  Aggregate lower_aggregate;  // our items below `lower`
  Aggregate upper_aggregate;  // our items below the range's upper bound
  uint64_t count = 0;         // our items in the range
  bool fingerprint_matches = false;
};

// What the fingerprints a message sends cover, for the plan's next density estimate.
struct SentFingerprints {
  uint64_t ranges = 0;
  uint64_t items = 0;  // of ours, over all those ranges
};

// Fingerprints of `parts` sub-ranges of [state.lower, upper), about equal in count, cut
// where `items` finds cheapest near the equal split (exactly there, at the shortest
// bounds, for an in-memory set). Parts small enough for single-difference detection
// (`detect_max_items`) may be cut anywhere that keeps them within that size. An empty
// range is one empty id list. Adds what the fingerprints cover to `sent`.
absl::StatusOr<std::vector<Piece>> SplitRange(ItemSource& items, const RangeState& state,
                                              const Bound& upper, uint64_t parts,
                                              uint64_t detect_max_items, SentFingerprints* sent);

}  // namespace lattice::kernel::sync
