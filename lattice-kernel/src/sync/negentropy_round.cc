#include "sync/negentropy_round.h"

#include <algorithm>
#include <utility>

#include "lattice/common/status.h"
#include "sync/negentropy_detect.h"
#include "sync/negentropy_id_list.h"

namespace lattice::kernel::sync {

absl::Status MessageRound::Begin() {
  LATTICE_ASSIGN_OR_RETURN(total_, items_.Total());
  session_.plan_.Start(total_.count);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MessageRound::Initiate() {
  RangeState whole;
  whole.upper_aggregate = total_;
  whole.count = total_.count;
  LATTICE_ASSIGN_OR_RETURN(auto pieces, Cut(whole, Bound::Infinity(), total_.count));
  LATTICE_RETURN_IF_ERROR(AppendOrTruncate(whole, pieces));
  session_.plan_.RecordSentRanges(sent_.ranges, sent_.items);
  return out_.Take();
}

absl::StatusOr<std::optional<std::string>> MessageRound::Process(
    const std::vector<ReceivedRange>& ranges) {
  // First pass: our aggregates and which fingerprints match, for the density estimate.
  std::vector<RangeState> states(ranges.size());
  Bound lower;
  Aggregate lower_aggregate;
  uint64_t fingerprints = 0, mismatches = 0, fingerprint_items = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    RangeState& state = states[i];
    state.lower = lower;
    state.lower_aggregate = lower_aggregate;
    if (ranges[i].upper.is_infinity()) {
      state.upper_aggregate = total_;
    } else {
      LATTICE_ASSIGN_OR_RETURN(state.upper_aggregate, items_.Below(ranges[i].upper));
    }
    if (state.upper_aggregate.count < lower_aggregate.count ||
        state.upper_aggregate.count > total_.count) {
      return absl::AbortedError("the item set changed while a message was being answered");
    }
    state.count = state.upper_aggregate.count - lower_aggregate.count;
    if (ranges[i].mode == Mode::kFingerprint) {
      Fingerprint ours =
          FingerprintOf(Aggregate::Difference(state.upper_aggregate, lower_aggregate));
      state.fingerprint_matches = ours == ranges[i].fingerprint;
      ++fingerprints;
      fingerprint_items += state.count;
      if (!state.fingerprint_matches) ++mismatches;
    }
    lower = ranges[i].upper;
    lower_aggregate = state.upper_aggregate;
  }
  session_.plan_.UpdateDensity(fingerprints, mismatches, fingerprint_items);

  for (size_t i = 0; i < ranges.size(); ++i) {
    const ReceivedRange& range = ranges[i];
    const RangeState& state = states[i];
    std::vector<Piece> pieces;
    switch (range.mode) {
      case Mode::kSkip:
        break;
      case Mode::kFingerprint:
        if (!state.fingerprint_matches) {
          LATTICE_ASSIGN_OR_RETURN(pieces, AnswerMismatch(state, range));
        }
        break;
      case Mode::kIdList:
        LATTICE_ASSIGN_OR_RETURN(pieces, AnswerIdList(state, range));
        break;
    }
    if (pieces.empty()) continue;
    absl::Status appended = AppendOrTruncate(state, pieces);
    if (absl::IsResourceExhausted(appended)) break;  // truncated: the rest waits
    LATTICE_RETURN_IF_ERROR(appended);
  }
  session_.plan_.RecordSentRanges(sent_.ranges, sent_.items);
  if (session_.role_ == Role::kInitiator && out_.empty()) return std::nullopt;
  return out_.Take();
}

absl::StatusOr<std::vector<Piece>> MessageRound::AnswerMismatch(const RangeState& state,
                                                                const ReceivedRange& range) {
  Aggregate ours = Aggregate::Difference(state.upper_aggregate, state.lower_aggregate);
  // The plan cuts the peer's ranges to detect_max_items of its items; ours may hold a few
  // more (our own extras), hence the margin.
  const uint64_t detect = session_.options_.detect_max_items;
  uint64_t detect_limit = detect + detect / 4;
  if (state.count >= 1 && state.count <= detect_limit) {
    std::vector<Item> items;
    LATTICE_RETURN_IF_ERROR(items_.ItemsIn(state.lower, range.upper, state.count, &items));
    auto extra = FindSingleExtra(items, ours, range.fingerprint);
    if (extra && items.size() <= 2) {
      // The peer's range holds at most one item, and the fingerprint names it exactly
      // (the sum of one id is that id): no guess, nothing to confirm.
      Report(items[*extra].id, /*have=*/true);
      if (session_.role_ == Role::kInitiator) return std::vector<Piece>();
      return std::vector<Piece>{TightPiece(state.lower, range.upper, items, *extra, *extra + 1)};
    }
    if (extra) return ConfirmSingleExtra(state.lower, range.upper, items, *extra);
  }
  return Cut(state, range.upper, state.count);
}

absl::StatusOr<std::vector<Piece>> MessageRound::AnswerIdList(const RangeState& state,
                                                              const ReceivedRange& range) {
  if (state.count > limits::kMaxItemsPerIdListRange) {
    // Too many of ours to compare at once: ask for the range in parts instead.
    return Split(state, range.upper, session_.options_.max_plan_parts);
  }
  std::vector<Item> items;
  LATTICE_RETURN_IF_ERROR(items_.ItemsIn(state.lower, range.upper, state.count, &items));
  const bool initiator = session_.role_ == Role::kInitiator;
  IdListAnswer answer =
      sync::AnswerIdList(items, range.ids, state.lower, range.upper, initiator ? nullptr : &out_);
  for (const ItemId& id : answer.need) Report(id, /*have=*/false);
  for (const ItemId& id : answer.have) Report(id, /*have=*/true);
  return std::move(answer.reply);
}

absl::StatusOr<std::vector<Piece>> MessageRound::Cut(const RangeState& state,
                                                     const Bound& upper, uint64_t n) {
  SplitPlan::Decision decision =
      session_.plan_.Decide(n, message_index_, session_.role_ == Role::kInitiator);
  if (decision.id_list && n <= limits::kMaxItemsPerIdListRange) {
    std::vector<Item> items;
    LATTICE_RETURN_IF_ERROR(items_.ItemsIn(state.lower, upper, n, &items));
    Piece piece{state.lower, upper, Mode::kIdList, {}, {}};
    for (const Item& item : items) piece.ids.push_back(item.id);
    return std::vector<Piece>{std::move(piece)};
  }
  return Split(state, upper, std::max<uint64_t>(2, decision.parts));
}

absl::StatusOr<std::vector<Piece>> MessageRound::Split(const RangeState& state,
                                                       const Bound& upper, uint64_t parts) {
  return SplitRange(items_, state, upper, parts, session_.options_.detect_max_items, &sent_);
}

absl::Status MessageRound::AppendOrTruncate(const RangeState& state, std::vector<Piece> pieces) {
  size_t cost = out_.CostOf(pieces);
  if (out_.Fits(cost)) {
    out_.Append(pieces);
    return absl::OkStatus();
  }
  if (out_.empty()) {
    // Nothing sent yet: answer this range with a cut small enough to fit, so every
    // round makes progress.
    const Bound upper = pieces.back().upper;  // a copy: `pieces` is replaced below
    for (uint64_t parts = 16; parts >= 2; parts /= 2) {
      LATTICE_ASSIGN_OR_RETURN(pieces, Split(state, upper, parts));
      if (out_.Fits(out_.CostOf(pieces))) {
        out_.Append(pieces);
        return absl::OkStatus();
      }
    }
    return absl::InternalError("negentropy frame limit leaves no room for a range");
  }
  out_.AppendRemainder(state.lower,
                       FingerprintOf(Aggregate::Difference(total_, state.lower_aggregate)));
  return absl::ResourceExhaustedError("frame full");
}

void MessageRound::Report(const ItemId& id, bool have) {
  if (!session_.reported_.insert(id).second) return;
  (have ? result_->have : result_->need).push_back(id);
}

}  // namespace lattice::kernel::sync
