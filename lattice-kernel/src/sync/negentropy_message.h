// The message a Negentropy session is building, and the pieces it is built from. Each
// answer to a range is a list of pieces (a fingerprint or an id list between two bounds);
// the message appends them in order and makes the gaps between them Skip ranges. It knows
// what a list of pieces would cost before appending it, so that a session can keep every
// message within its frame limit, ending a full one with a fingerprint of what is left.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sync/negentropy_codec.h"

namespace lattice::kernel::sync {

// One range of an outgoing message: [lower, upper) said as `mode`.
struct Piece {
  Bound lower;
  Bound upper;
  Mode mode = Mode::kSkip;
  Fingerprint fingerprint{};
  std::vector<ItemId> ids;
};

// An IdList piece holding items[begin, end) alone, between the shortest bounds that
// separate it from our neighbouring items (or the range's own bounds, lower and upper).
Piece TightPiece(const Bound& lower, const Bound& upper, const std::vector<Item>& items,
                 size_t begin, size_t end);
// A Fingerprint piece of items[begin, end) over [lower, upper).
Piece FingerprintPiece(const Bound& lower, const Bound& upper, const std::vector<Item>& items,
                       size_t begin, size_t end);

// Pieces are appended in order, and the gaps between them are Skip ranges (adjacent skips
// thus coalesce, and a trailing skip is left implicit). `limit` is the frame size limit in
// bytes; 0 means none.
class OutgoingMessage {
 public:
  explicit OutgoingMessage(size_t limit) : limit_(limit) {}

  // Bytes that Append(pieces) would add now.
  size_t CostOf(const std::vector<Piece>& pieces) const;
  // Whether `cost` more bytes fit, leaving room for AppendRemainder.
  bool Fits(size_t cost) const;
  void Append(const std::vector<Piece>& pieces);
  // Ends the message at `lower`: a Skip over what was processed, then one fingerprint of
  // our items from `lower` to infinity for the peer to take up in the next round.
  void AppendRemainder(const Bound& lower, const Fingerprint& fingerprint);

  bool empty() const { return writer_.size() == 1; }
  std::string Take() { return writer_.Take(); }

 private:
  void SkipTo(const Bound& lower);

  size_t limit_;
  MessageWriter writer_;
  Bound last_upper_;
};

}  // namespace lattice::kernel::sync
