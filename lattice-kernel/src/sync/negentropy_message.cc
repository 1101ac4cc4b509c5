#include "sync/negentropy_message.h"

namespace lattice::kernel::sync {
namespace {

// Room kept free in a limited frame for the Skip and the Fingerprint of what did not fit.
constexpr size_t kTruncationReserve = 64;

}  // namespace

Piece TightPiece(const Bound& lower, const Bound& upper, const std::vector<Item>& items,
                 size_t begin, size_t end) {
  Piece piece;
  piece.mode = Mode::kIdList;
  piece.lower = begin == 0 ? lower : Bound::Between(items[begin - 1], items[begin]);
  piece.upper = end == items.size() ? upper : Bound::Between(items[end - 1], items[end]);
  for (size_t i = begin; i < end; ++i) piece.ids.push_back(items[i].id);
  return piece;
}

Piece FingerprintPiece(const Bound& lower, const Bound& upper, const std::vector<Item>& items,
                       size_t begin, size_t end) {
  Aggregate aggregate;
  for (size_t i = begin; i < end; ++i) aggregate.Add(items[i]);
  Piece piece{lower, upper, Mode::kFingerprint, {}, {}};
  piece.fingerprint = FingerprintOf(aggregate);
  return piece;
}

size_t OutgoingMessage::CostOf(const std::vector<Piece>& pieces) const {
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

bool OutgoingMessage::Fits(size_t cost) const {
  return limit_ == 0 || writer_.size() + cost + kTruncationReserve <= limit_;
}

void OutgoingMessage::Append(const std::vector<Piece>& pieces) {
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

void OutgoingMessage::AppendRemainder(const Bound& lower, const Fingerprint& fingerprint) {
  SkipTo(lower);
  writer_.AppendBound(Bound::Infinity());
  writer_.AppendMode(Mode::kFingerprint);
  writer_.AppendFingerprint(fingerprint);
  last_upper_ = Bound::Infinity();
}

void OutgoingMessage::SkipTo(const Bound& lower) {
  if (lower == last_upper_) return;
  writer_.AppendBound(lower);
  writer_.AppendMode(Mode::kSkip);
  last_upper_ = lower;
}

}  // namespace lattice::kernel::sync
