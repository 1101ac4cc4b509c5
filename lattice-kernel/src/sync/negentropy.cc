#include "sync/negentropy.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "lattice/common/status.h"

namespace lattice::kernel::sync {
namespace {

// Room kept free in a limited frame for the Skip and the Fingerprint of what did not fit.
constexpr size_t kTruncationReserve = 64;
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
// A cut need not fall where the parts are exactly equal: the set's source may cut where it
// needs no items (the persistent index, at the edge of a bucket it holds in memory, where
// the peer's index also finds the aggregate below in memory). A cut may move up to
// 1/kCutReachDivisor of a part, and no part grows past 1 + 1/kPartGrowthDivisor of its
// share: parts that are cut again stay near equal, since a difference falls more often in
// a larger part. Parts of the plan's final size are tested, not cut again: any cut that
// keeps them within detect_max_items and an eighth will do, which leaves the tester its
// margin of a quarter for the peer's own extras.
constexpr uint64_t kCutReachDivisor = 8;
constexpr uint64_t kPartGrowthDivisor = 8;

struct Piece {
  Bound lower;
  Bound upper;
  Mode mode = Mode::kSkip;
  Fingerprint fingerprint{};
  std::vector<ItemId> ids;
};

// The message being built: pieces are appended in order, and the gaps between them are
// Skip ranges (adjacent skips thus coalesce, and a trailing skip is left implicit).
class OutgoingMessage {
 public:
  explicit OutgoingMessage(size_t limit) : limit_(limit) {}

  size_t CostOf(const std::vector<Piece>& pieces) const {
    uint64_t last_timestamp = writer_.last_timestamp();
    Bound last_upper = last_upper_;
    size_t cost = 0;
    for (const Piece& piece : pieces) {
      if (piece.lower != last_upper) cost += EncodedBoundLength(piece.lower, &last_timestamp) + 1;
      cost += EncodedBoundLength(piece.upper, &last_timestamp) + 1;
      if (piece.mode == Mode::kFingerprint) cost += kFingerprintBytes;
      if (piece.mode == Mode::kIdList) {
        cost += VarintLength(piece.ids.size()) + piece.ids.size() * kIdBytes;
      }
      last_upper = piece.upper;
    }
    return cost;
  }

  bool Fits(size_t cost) const {
    return limit_ == 0 || writer_.size() + cost + kTruncationReserve <= limit_;
  }

  void Append(const std::vector<Piece>& pieces) {
    for (const Piece& piece : pieces) {
      SkipTo(piece.lower);
      writer_.AppendBound(piece.upper);
      writer_.AppendMode(piece.mode);
      if (piece.mode == Mode::kFingerprint) writer_.AppendFingerprint(piece.fingerprint);
      if (piece.mode == Mode::kIdList) {
        writer_.AppendIdCount(piece.ids.size());
        for (const ItemId& id : piece.ids) writer_.AppendId(id);
      }
      last_upper_ = piece.upper;
    }
  }

  // Ends the message at `lower`: a Skip over what was processed, then one fingerprint of
  // our items from `lower` to infinity for the peer to take up in the next round.
  void AppendRemainder(const Bound& lower, const Fingerprint& fingerprint) {
    SkipTo(lower);
    writer_.AppendBound(Bound::Infinity());
    writer_.AppendMode(Mode::kFingerprint);
    writer_.AppendFingerprint(fingerprint);
    last_upper_ = Bound::Infinity();
  }

  bool empty() const { return writer_.size() == 1; }
  std::string Take() { return writer_.Take(); }

 private:
  void SkipTo(const Bound& lower) {
    if (lower == last_upper_) return;
    writer_.AppendBound(lower);
    writer_.AppendMode(Mode::kSkip);
    last_upper_ = lower;
  }

  size_t limit_;
  MessageWriter writer_;
  Bound last_upper_;
};

struct IdHashLocal {
  size_t operator()(const ItemId& id) const {
    uint64_t v;
    std::memcpy(&v, id.data(), sizeof(v));
    return static_cast<size_t>(v);
  }
};

// The index in `items` of an item whose removal turns our aggregate into the peer's
// fingerprint: that item is then the only difference in the range.
std::optional<size_t> FindSingleExtra(const std::vector<Item>& items, const Aggregate& ours,
                                      const Fingerprint& theirs) {
  if (items.empty()) return std::nullopt;
  uint8_t input[kIdBytes + 10];
  std::string count;
  AppendVarint(&count, ours.count - 1);
  std::memcpy(input + kIdBytes, count.data(), count.size());
  uint8_t hash[crypto_hash_sha256_BYTES];
  for (size_t i = 0; i < items.size(); ++i) {
    IdSum sum = ours.sum;
    sum.Subtract(items[i].id);
    ItemId bytes = sum.Bytes();
    std::memcpy(input, bytes.data(), kIdBytes);
    crypto_hash_sha256(hash, input, kIdBytes + count.size());
    if (std::memcmp(hash, theirs.data(), kFingerprintBytes) == 0) return i;
  }
  return std::nullopt;
}

struct RangeState {
  Bound lower;
  Aggregate lower_aggregate;
  Aggregate upper_aggregate;
  uint64_t count = 0;  // our items in the range
  bool fingerprint_matches = false;
};

}  // namespace

size_t NegentropySession::IdHash::operator()(const ItemId& id) const {
  return IdHashLocal()(id);
}

// The processing of one message: reads the set, plans, and builds the answer.
class MessageRound {
 public:
  MessageRound(NegentropySession& session, ItemSource& items, ReconcileResult* result)
      : session_(session),
        items_(items),
        result_(result),
        out_(session.options_.frame_size_limit),
        message_index_(session.next_message_index_) {}

  absl::Status Begin() {
    LATTICE_ASSIGN_OR_RETURN(total_, items_.Total());
    if (session_.planned_round_trips_ == 0) session_.planned_round_trips_ = PlanRoundTrips();
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Initiate() {
    RangeState whole;
    whole.upper_aggregate = total_;
    whole.count = total_.count;
    LATTICE_ASSIGN_OR_RETURN(auto pieces, Cut(whole, Bound::Infinity(), total_.count));
    LATTICE_RETURN_IF_ERROR(AppendOrTruncate(whole, pieces));
    RecordSentRanges();
    return out_.Take();
  }

  absl::StatusOr<std::optional<std::string>> Process(const std::vector<ReceivedRange>& ranges) {
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
    UpdateDensity(fingerprints, mismatches, fingerprint_items);

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
    RecordSentRanges();
    if (session_.role_ == Role::kInitiator && out_.empty()) return std::nullopt;
    return out_.Take();
  }

 private:
  uint64_t PlanRoundTrips() const {
    double ratio = static_cast<double>(total_.count) /
                   static_cast<double>(std::max<uint64_t>(1, session_.options_.detect_max_items));
    for (uint64_t trips = 1; trips < 8; ++trips) {
      double parts = std::pow(std::max(1.0, ratio), 1.0 / static_cast<double>(2 * trips - 1));
      if (parts <= static_cast<double>(session_.options_.max_plan_parts)) return trips;
    }
    return 8;
  }

  // Estimates differences per item from the share of the peer's fingerprints that
  // mismatched. The peer's ranges cut ranges of ours that it found different, so each
  // parent holds a difference: when parents held few differences (density x parent size
  // small) the share only reflects that, and the earlier estimate stands.
  void UpdateDensity(uint64_t fingerprints, uint64_t mismatches, uint64_t items) {
    if (fingerprints < 4 || items == 0) return;
    double fraction = static_cast<double>(mismatches) / static_cast<double>(fingerprints);
    fraction = std::min(fraction, 1.0 - 0.5 / static_cast<double>(fingerprints));
    double mean_items = static_cast<double>(items) / static_cast<double>(fingerprints);
    double estimate = -std::log1p(-fraction) / std::max(1.0, mean_items);
    double parent = session_.last_sent_range_items_;
    if (parent > 0 && estimate * parent < kConditionedDensityFloor) return;
    session_.density_ = estimate;
  }

  // The size the plan aims for at its end: what single-difference detection covers, or
  // smaller when differences are dense.
  double FinalRangeSize() const {
    double cap = static_cast<double>(session_.options_.detect_max_items);
    if (session_.density_ <= 0) return cap;
    return std::clamp(kDifferencesPerFinalRange / session_.density_,
                      static_cast<double>(kMinFinalRange), cap);
  }

  struct Decision {
    bool id_list = false;
    uint64_t parts = 0;
  };

  // How to answer a range of `n` of our items that differs and that detection did not
  // settle: list it, or cut it in parts for the next round.
  Decision Decide(uint64_t n) const {
    if (n <= 1) return {true, 0};
    const uint64_t trips = session_.planned_round_trips_;
    const uint64_t last_cut = 2 * trips - 2;  // the initiator's last planned message
    const double final_size = FinalRangeSize();
    const bool initiator = session_.role_ == Role::kInitiator;
    const double expected_differences = session_.density_ * static_cast<double>(n);
    uint64_t parts;
    if (message_index_ <= last_cut) {
      double cuts_left = static_cast<double>(last_cut - message_index_ + 1);
      double ratio = std::max(1.0, static_cast<double>(n) / final_size);
      parts = static_cast<uint64_t>(std::ceil(std::pow(ratio, 1.0 / cuts_left)));
      if (message_index_ == 0) {
        parts = std::min(parts * kFirstMessageWidening,
                         std::max(parts, kMaxFirstMessageParts));
      }
      if (message_index_ == last_cut && initiator && expected_differences >= 2 &&
          n <= 4 * session_.options_.detect_max_items) {
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
      const bool dense = final_size < static_cast<double>(session_.options_.detect_max_items);
      if ((n <= kPastPlanResponderParts || dense) && n <= 4 * session_.options_.detect_max_items) {
        return {true, 0};
      }
      parts = dense ? static_cast<uint64_t>(std::ceil(static_cast<double>(n) / final_size))
                    : kPastPlanResponderParts;
    }
    uint64_t widest = session_.options_.max_plan_parts * kFirstMessageWidening;
    parts = std::clamp<uint64_t>(parts, 2, std::max<uint64_t>(2, widest));
    return {false, std::min(parts, n)};
  }

  // Answers a range whose fingerprints differ.
  absl::StatusOr<std::vector<Piece>> AnswerMismatch(const RangeState& state,
                                                    const ReceivedRange& range) {
    Aggregate ours = Aggregate::Difference(state.upper_aggregate, state.lower_aggregate);
    // The plan cuts the peer's ranges to detect_max_items of its items; ours may hold a few
    // more (our own extras), hence the margin.
    uint64_t detect_limit = session_.options_.detect_max_items +
                            session_.options_.detect_max_items / 4;
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

  // A matching sum says that the peer's range holds ours less items[extra] only if the sums
  // did not collide, and ids that share long prefixes make them collide often. So the
  // guess is put to the peer instead of trusted: items[extra] listed alone between tight
  // bounds, and a fingerprint of our items on either side of it. When the guess is right
  // the peer finds both fingerprints equal and learns from the list that items[extra] is
  // the difference (a responder also answers with its own, empty, list of the tight range,
  // which tells the initiator); when it is wrong, a mismatching side is reconciled like
  // any other range.
  static std::vector<Piece> ConfirmSingleExtra(const Bound& lower, const Bound& upper,
                                               const std::vector<Item>& items, size_t extra) {
    Piece single = TightPiece(lower, upper, items, extra, extra + 1);
    std::vector<Piece> pieces;
    if (extra > 0) pieces.push_back(FingerprintPiece(lower, single.lower, items, 0, extra));
    Bound after = single.upper;
    pieces.push_back(std::move(single));
    if (extra + 1 < items.size()) {
      pieces.push_back(FingerprintPiece(after, upper, items, extra + 1, items.size()));
    }
    return pieces;
  }

  static Piece FingerprintPiece(const Bound& lower, const Bound& upper,
                                const std::vector<Item>& items, size_t begin, size_t end) {
    Aggregate aggregate;
    for (size_t i = begin; i < end; ++i) aggregate.Add(items[i]);
    Piece piece{lower, upper, Mode::kFingerprint, {}, {}};
    piece.fingerprint = FingerprintOf(aggregate);
    return piece;
  }

  // Cuts [state.lower, upper) as Decide says: an id list, or fingerprints of parts.
  absl::StatusOr<std::vector<Piece>> Cut(const RangeState& state, const Bound& upper,
                                         uint64_t n) {
    Decision decision = Decide(n);
    if (decision.id_list && n <= limits::kMaxItemsPerIdListRange) {
      std::vector<Item> items;
      LATTICE_RETURN_IF_ERROR(items_.ItemsIn(state.lower, upper, n, &items));
      Piece piece{state.lower, upper, Mode::kIdList, {}, {}};
      for (const Item& item : items) piece.ids.push_back(item.id);
      return std::vector<Piece>{std::move(piece)};
    }
    return Split(state, upper, std::max<uint64_t>(2, decision.parts));
  }

  // Fingerprints of `parts` sub-ranges of about equal counts, cut where the source finds
  // cheapest near the equal split (exactly there, at the shortest bounds, for an in-memory
  // set).
  absl::StatusOr<std::vector<Piece>> Split(const RangeState& state, const Bound& upper,
                                           uint64_t parts) {
    const uint64_t n = state.count;
    parts = std::min(parts, std::max<uint64_t>(n, 1));
    std::vector<Piece> pieces;
    Bound lower = state.lower;
    Aggregate lower_aggregate = state.lower_aggregate;
    const uint64_t share = n / parts;
    const uint64_t detect = session_.options_.detect_max_items;
    const bool final_parts = (n + parts - 1) / parts <= detect;
    const uint64_t reach = final_parts ? share : share / kCutReachDivisor;
    const uint64_t largest =
        std::max((n + parts - 1) / parts + share / kPartGrowthDivisor,
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
      LATTICE_ASSIGN_OR_RETURN(CutPoint cut, items_.CutNear(rank, lowest, highest));
      Piece piece{lower, cut.bound, Mode::kFingerprint, {}, {}};
      piece.fingerprint = FingerprintOf(Aggregate::Difference(cut.below, lower_aggregate));
      sent_fingerprints_ += 1;
      sent_fingerprint_items_ += cut.below.count - lower_aggregate.count;
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
      sent_fingerprints_ += 1;
      sent_fingerprint_items_ += state.upper_aggregate.count - lower_aggregate.count;
    }
    pieces.push_back(std::move(last));
    return pieces;
  }

  // An IdList piece holding items[begin, end) alone, between the shortest bounds that
  // separate it from our neighbouring items (or the range's own bounds).
  static Piece TightPiece(const Bound& lower, const Bound& upper, const std::vector<Item>& items,
                          size_t begin, size_t end) {
    Piece piece;
    piece.mode = Mode::kIdList;
    piece.lower = begin == 0 ? lower : Bound::Between(items[begin - 1], items[begin]);
    piece.upper = end == items.size() ? upper : Bound::Between(items[end - 1], items[end]);
    for (size_t i = begin; i < end; ++i) piece.ids.push_back(items[i].id);
    return piece;
  }

  absl::StatusOr<std::vector<Piece>> AnswerIdList(const RangeState& state,
                                                  const ReceivedRange& range) {
    if (state.count > limits::kMaxItemsPerIdListRange) {
      // Too many of ours to compare at once: ask for the range in parts instead.
      return Split(state, range.upper, session_.options_.max_plan_parts);
    }
    std::vector<Item> items;
    LATTICE_RETURN_IF_ERROR(items_.ItemsIn(state.lower, range.upper, state.count, &items));
    std::unordered_map<ItemId, size_t, IdHashLocal> our_index;
    our_index.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) our_index.emplace(items[i].id, i);

    // Which of their ids we hold, and whether the ones we share come in our order.
    std::vector<bool> common(items.size(), false);
    std::vector<int64_t> their_match(range.ids.size(), -1);
    bool in_order = true;
    int64_t last_common = -1;
    for (size_t p = 0; p < range.ids.size(); ++p) {
      auto it = our_index.find(range.ids[p]);
      if (it == our_index.end()) {
        Report(range.ids[p], /*have=*/false);
        continue;
      }
      their_match[p] = static_cast<int64_t>(it->second);
      common[it->second] = true;
      if (static_cast<int64_t>(it->second) <= last_common) in_order = false;
      last_common = static_cast<int64_t>(it->second);
    }
    for (size_t i = 0; i < items.size(); ++i) {
      if (!common[i]) Report(items[i].id, /*have=*/true);
    }
    if (session_.role_ == Role::kInitiator) return std::vector<Piece>();

    Piece full{state.lower, range.upper, Mode::kIdList, {}, {}};
    for (const Item& item : items) full.ids.push_back(item.id);
    if (!in_order) return std::vector<Piece>{std::move(full)};

    // Gaps between consecutive common items ("anchors"): gap g lies between anchor g-1 and
    // anchor g. Our extra items fall in known gaps; so do theirs, by their list's order.
    std::vector<size_t> anchors;
    for (size_t i = 0; i < items.size(); ++i) {
      if (common[i]) anchors.push_back(i);
    }
    const size_t gaps = anchors.size() + 1;
    std::vector<bool> gap_has_theirs(gaps, false), gap_has_ours(gaps, false);
    size_t commons_seen = 0;
    for (size_t p = 0; p < range.ids.size(); ++p) {
      if (their_match[p] >= 0) {
        ++commons_seen;
      } else {
        gap_has_theirs[commons_seen] = true;
      }
    }
    commons_seen = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (common[i]) {
        ++commons_seen;
      } else {
        gap_has_ours[commons_seen] = true;
      }
    }
    std::vector<Piece> pieces;
    for (size_t g = 0; g < gaps; ++g) {
      if (gap_has_theirs[g]) {
        // Their extras may lie anywhere in the gap: cover it from anchor to anchor,
        // listing both anchors, so the bounds fall where no item of theirs can hide.
        size_t last = g;
        while (last + 1 < gaps && gap_has_theirs[last + 1]) ++last;
        size_t begin = g > 0 ? anchors[g - 1] : 0;
        size_t end = last < anchors.size() ? anchors[last] + 1 : items.size();
        pieces.push_back(TightPiece(state.lower, range.upper, items, begin, end));
        g = last;
      } else if (gap_has_ours[g]) {
        size_t begin = g > 0 ? anchors[g - 1] + 1 : 0;
        size_t end = g < anchors.size() ? anchors[g] : items.size();
        pieces.push_back(TightPiece(state.lower, range.upper, items, begin, end));
      }
    }
    std::vector<Piece> full_answer{std::move(full)};
    if (out_.CostOf(full_answer) <= out_.CostOf(pieces)) return full_answer;
    return pieces;
  }

  // Appends the answer to one received range; when it does not fit the frame, ends the
  // message with the remainder's fingerprint and returns RESOURCE_EXHAUSTED.
  absl::Status AppendOrTruncate(const RangeState& state, std::vector<Piece> pieces) {
    size_t cost = out_.CostOf(pieces);
    if (out_.Fits(cost)) {
      out_.Append(pieces);
      return absl::OkStatus();
    }
    if (out_.empty()) {
      // Nothing sent yet: answer this range with a cut small enough to fit, so every
      // round makes progress.
      const Bound& upper = pieces.back().upper;
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

  // Remembers the size of the ranges this message sends, for the next density estimate.
  void RecordSentRanges() {
    session_.last_sent_range_items_ =
        sent_fingerprints_ == 0 ? 0
                                : static_cast<double>(sent_fingerprint_items_) /
                                      static_cast<double>(sent_fingerprints_);
  }

  void Report(const ItemId& id, bool have) {
    if (!session_.reported_.insert(id).second) return;
    (have ? result_->have : result_->need).push_back(id);
  }

  NegentropySession& session_;
  ItemSource& items_;
  ReconcileResult* result_;
  OutgoingMessage out_;
  uint64_t message_index_;
  Aggregate total_;
  uint64_t sent_fingerprints_ = 0;
  uint64_t sent_fingerprint_items_ = 0;
};

absl::StatusOr<NegentropySession> NegentropySession::Create(Role role,
                                                            NegentropyOptions options) {
  if (options.frame_size_limit != 0 && options.frame_size_limit < limits::kMinFrameSizeLimit) {
    return absl::InvalidArgumentError(
        fmt::format("negentropy frame size limit of {} bytes is below the minimum of {}",
                    options.frame_size_limit, limits::kMinFrameSizeLimit));
  }
  if (options.detect_max_items == 0) options.detect_max_items = 1;
  if (options.max_plan_parts < 2) options.max_plan_parts = 2;
  return NegentropySession(role, options);
}

absl::StatusOr<std::string> NegentropySession::Initiate(ItemSource& items) {
  if (role_ != Role::kInitiator) {
    return absl::FailedPreconditionError("a negentropy responder cannot initiate");
  }
  if (started_) return absl::FailedPreconditionError("negentropy session already initiated");
  started_ = true;
  ReconcileResult unused;
  MessageRound round(*this, items, &unused);
  absl::Status begun = round.Begin();
  if (!begun.ok()) {
    done_ = true;
    return begun;
  }
  auto message = round.Initiate();
  if (!message.ok()) {
    done_ = true;
    return message.status();
  }
  next_message_index_ += 2;
  ++stats_.messages_sent;
  stats_.bytes_sent += message->size();
  return message;
}

absl::StatusOr<ReconcileResult> NegentropySession::Reconcile(ItemSource& items,
                                                             std::string_view message) {
  if (done_) return absl::FailedPreconditionError("negentropy session is finished");
  if (role_ == Role::kInitiator && !started_) {
    return absl::FailedPreconditionError("negentropy initiator must initiate first");
  }
  started_ = true;
  auto fail = [&](absl::Status status) {
    done_ = true;
    return status;
  };
  ++stats_.messages_received;
  stats_.bytes_received += message.size();
  if (message.size() > options_.max_incoming_bytes) {
    return fail(LimitExceeded("negentropy message", message.size(), options_.max_incoming_bytes));
  }
  if (stats_.messages_received > options_.max_rounds) {
    return fail(LimitExceeded("negentropy session", stats_.messages_received, options_.max_rounds,
                              "messages"));
  }
  if (message.empty()) return fail(absl::InvalidArgumentError("empty negentropy message"));
  uint8_t version = static_cast<uint8_t>(message[0]);
  if (version < 0x60 || version > 0x6f) {
    return fail(absl::InvalidArgumentError(
        fmt::format("not a negentropy message: version byte 0x{:02x}", version)));
  }
  ReconcileResult result;
  if (version != kProtocolVersion) {
    if (role_ == Role::kInitiator) {
      return fail(absl::FailedPreconditionError(fmt::format(
          "peer speaks negentropy protocol version {} only; this side speaks version 1",
          version - 0x60)));
    }
    // The responder names the version it speaks and lets the initiator retry.
    result.reply = std::string(1, static_cast<char>(kProtocolVersion));
    ++stats_.messages_sent;
    stats_.bytes_sent += 1;
    return result;
  }
  auto ranges = ParseRanges(message.substr(1), options_.max_ranges);
  if (!ranges.ok()) return fail(ranges.status());

  MessageRound round(*this, items, &result);
  absl::Status begun = round.Begin();
  if (!begun.ok()) return fail(begun);
  auto reply = round.Process(*ranges);
  if (!reply.ok()) return fail(reply.status());
  result.reply = std::move(*reply);
  if (result.reply.has_value() && role_ == Role::kInitiator &&
      stats_.messages_sent >= options_.max_rounds) {
    // The peer would refuse this message: end here, exact so far, and let a new session
    // take up the rest.
    result.reply.reset();
    result.incomplete = true;
  }
  if (result.reply.has_value()) {
    next_message_index_ += 2;  // the peer's answer comes in between
    ++stats_.messages_sent;
    stats_.bytes_sent += result.reply->size();
  } else {
    done_ = true;
  }
  return result;
}

}  // namespace lattice::kernel::sync
