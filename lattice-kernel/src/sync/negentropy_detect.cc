#include "sync/negentropy_detect.h"

#include <utility>

namespace lattice::kernel::sync {

std::optional<size_t> FindSingleExtra(const std::vector<Item>& items, const Aggregate& ours,
                                      const Fingerprint& theirs) {
  if (items.empty()) return std::nullopt;
  Aggregate rest;
  rest.count = ours.count - 1;
  for (size_t i = 0; i < items.size(); ++i) {
    rest.sum = ours.sum;
    rest.sum.Subtract(items[i].id);
    if (FingerprintOf(rest) == theirs) return i;
  }
  return std::nullopt;
}

std::vector<Piece> ConfirmSingleExtra(const Bound& lower, const Bound& upper,
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

}  // namespace lattice::kernel::sync
