// How a Negentropy session cuts the ranges that differ, planned instead of a fixed 16-way
// split: the number of round trips is fixed from the set's size at the start, and each
// message cuts ranges so that they reach the size single-difference detection covers
// exactly when the plan ends, with a wider first message (paid once, not per difference).
// A density estimate (how many of the peer's fingerprints mismatched) shrinks the final
// ranges when differences are dense. Pure arithmetic over what the session has seen; the
// cutting itself is SplitRange's (negentropy_split.h).
#pragma once

#include <cstdint>

namespace lattice::kernel::sync {

// One session's plan, kept across its messages.
class SplitPlan {
 public:
  // `detect_max_items`: the size of the plan's final ranges; `max_plan_parts`: its widest
  // cut per message. REQUIRES: detect_max_items >= 1, max_plan_parts >= 2.
  SplitPlan(uint64_t detect_max_items, uint64_t max_plan_parts)
      : detect_max_items_(detect_max_items), max_plan_parts_(max_plan_parts) {}

  // Fixes the round trips from the set's size, at the session's first message.
  void Start(uint64_t total_items);

  // Estimates differences per item from the share of the peer's fingerprints that
  // mismatched (`mismatches` of `fingerprints`, covering `items` of ours).
  void UpdateDensity(uint64_t fingerprints, uint64_t mismatches, uint64_t items);
  // Remembers the size of the fingerprint ranges our message sends (`fingerprints` of
  // them, holding `items` of ours): the parents of the peer's next ranges.
  void RecordSentRanges(uint64_t fingerprints, uint64_t items);

  struct Decision {
    bool id_list = false;
    uint64_t parts = 0;
  };
  // How to answer a range of `n` of our items that differs and that detection did not
  // settle, in the message of index `message_index` (0: the initiator's first): list it,
  // or cut it in parts for the next round.
  Decision Decide(uint64_t n, uint64_t message_index, bool initiator) const;

 private:
  // The size the plan aims for at its end: what single-difference detection covers, or
  // smaller when differences are dense.
  double FinalRangeSize() const;

  uint64_t detect_max_items_;
  uint64_t max_plan_parts_;
  uint64_t planned_round_trips_ = 0;
  double density_ = 0;  // estimated differences per item
  // Mean count of our items in the fingerprint ranges of our last message: the parents of
  // the peer's next ranges, used to tell whether its mismatches say anything about density.
  double last_sent_range_items_ = 0;
};

}  // namespace lattice::kernel::sync
