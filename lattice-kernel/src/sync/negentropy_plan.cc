#include "sync/negentropy_plan.h"

#include <algorithm>
#include <cmath>

namespace lattice::kernel::sync {
namespace {

// The first message is this much wider than the plan's later cuts (it is paid once per
// sync, not per difference), up to kMaxFirstMessageParts: every part of it costs each side
// an index descent even when nothing differs.
constexpr uint64_t kFirstMessageWidening = 4;
constexpr uint64_t kMaxFirstMessageParts = 64;
// With dense differences the plan's final ranges hold about this many differences.
constexpr double kDifferencesPerFinalRange = 0.1;
constexpr uint64_t kMinFinalRange = 4;
// A density estimate from cut ranges counts only when their parents held this many
// differences on average (below, every parent's one difference explains the mismatches).
constexpr double kConditionedDensityFloor = 2.0;
// Past the plan, a responder whose test found no single difference of its own cuts a
// sparse range in this many parts for the initiator to test its own.
constexpr uint64_t kPastPlanResponderParts = 4;
constexpr uint64_t kMaxRoundTrips = 8;
// A range the plan lists instead of cutting holds at most this many items: a list costs 32
// bytes an item where a cut costs a fingerprint a part, so this bounds what a dense range
// costs whatever size detection covers.
constexpr uint64_t kMaxListedItems = 256;

}  // namespace

void SplitPlan::Start(uint64_t total_items) {
  if (planned_round_trips_ != 0) return;
  double ratio = static_cast<double>(total_items) /
                 static_cast<double>(std::max<uint64_t>(1, detect_max_items_));
  planned_round_trips_ = kMaxRoundTrips;
  for (uint64_t trips = 1; trips < kMaxRoundTrips; ++trips) {
    double parts = std::pow(std::max(1.0, ratio), 1.0 / static_cast<double>(2 * trips - 1));
    if (parts <= static_cast<double>(max_plan_parts_)) {
      planned_round_trips_ = trips;
      return;
    }
  }
}

// The peer's ranges cut ranges of ours that it found different, so each parent holds a
// difference: when parents held few differences (density x parent size small) the share
// only reflects that, and the earlier estimate stands.
void SplitPlan::UpdateDensity(uint64_t fingerprints, uint64_t mismatches, uint64_t items) {
  if (fingerprints < 4 || items == 0) return;
  double fraction = static_cast<double>(mismatches) / static_cast<double>(fingerprints);
  fraction = std::min(fraction, 1.0 - 0.5 / static_cast<double>(fingerprints));
  double mean_items = static_cast<double>(items) / static_cast<double>(fingerprints);
  double estimate = -std::log1p(-fraction) / std::max(1.0, mean_items);
  double parent = last_sent_range_items_;
  if (parent > 0 && estimate * parent < kConditionedDensityFloor) return;
  density_ = estimate;
}

void SplitPlan::RecordSentRanges(uint64_t fingerprints, uint64_t items) {
  last_sent_range_items_ =
      fingerprints == 0 ? 0 : static_cast<double>(items) / static_cast<double>(fingerprints);
}

double SplitPlan::FinalRangeSize() const {
  double cap = static_cast<double>(detect_max_items_);
  if (density_ <= 0) return cap;
  return std::clamp(kDifferencesPerFinalRange / density_, static_cast<double>(kMinFinalRange),
                    cap);
}

SplitPlan::Decision SplitPlan::Decide(uint64_t n, uint64_t message_index, bool initiator) const {
  if (n <= 1) return {true, 0};
  const uint64_t trips = planned_round_trips_;
  const uint64_t last_cut = 2 * trips - 2;  // the initiator's last planned message
  const double final_size = FinalRangeSize();
  const double expected_differences = density_ * static_cast<double>(n);
  uint64_t parts;
  if (message_index <= last_cut) {
    double cuts_left = static_cast<double>(last_cut - message_index + 1);
    double ratio = std::max(1.0, static_cast<double>(n) / final_size);
    parts = static_cast<uint64_t>(std::ceil(std::pow(ratio, 1.0 / cuts_left)));
    if (message_index == 0) {
      parts = std::min(parts * kFirstMessageWidening, std::max(parts, kMaxFirstMessageParts));
    }
    if (message_index == last_cut && initiator && expected_differences >= 2 &&
        n <= kMaxListedItems) {
      return {true, 0};  // dense: the parts would nearly all differ and be listed anyway
    }
  } else if (initiator) {
    // Past the plan: a list settles the range in the next round trip.
    if (static_cast<double>(n) <= 2 * final_size) return {true, 0};
    parts = static_cast<uint64_t>(std::ceil(std::sqrt(static_cast<double>(n) / final_size)));
  } else {
    // Past the plan, our own single difference was ruled out. Cut small parts for the
    // initiator to test its own, unless differences are dense (the plan's final ranges
    // were sized by density): then a list settles the range without another round trip.
    const bool dense = final_size < static_cast<double>(detect_max_items_);
    if ((n <= kPastPlanResponderParts || dense) && n <= kMaxListedItems) {
      return {true, 0};
    }
    parts = dense ? static_cast<uint64_t>(std::ceil(static_cast<double>(n) / final_size))
                  : kPastPlanResponderParts;
  }
  uint64_t widest = max_plan_parts_ * kFirstMessageWidening;
  parts = std::clamp<uint64_t>(parts, 2, std::max<uint64_t>(2, widest));
  return {false, std::min(parts, n)};
}

}  // namespace lattice::kernel::sync
