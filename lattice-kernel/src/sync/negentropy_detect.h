// Single-difference detection: when our fingerprint of a small range differs from the
// peer's, test whether the peer's is ours less one of our items (one SHA-256 per item). If
// so, that item is probably the whole difference, found a round trip or more before cutting
// would find it. Sums collide (ids sharing long prefixes make it likely), so the guess is
// never taken on trust: it is put to the peer as pieces the peer checks like any others.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "sync/negentropy_codec.h"
#include "sync/negentropy_message.h"

namespace lattice::kernel::sync {

// The index in `items` (our items of a range, adding up to `ours`) of an item whose removal
// turns our aggregate into the peer's fingerprint `theirs`.
std::optional<size_t> FindSingleExtra(const std::vector<Item>& items, const Aggregate& ours,
                                      const Fingerprint& theirs);

// The guess that items[extra] is the one difference in [lower, upper), put to the peer:
// items[extra] listed alone between tight bounds, and a fingerprint of our items on either
// side of it. When the guess is right the peer finds both fingerprints equal and learns
// from the list that items[extra] is the difference (a responder also answers with its own,
// empty, list of the tight range, which tells the initiator); when it is wrong, a
// mismatching side is reconciled like any other range.
std::vector<Piece> ConfirmSingleExtra(const Bound& lower, const Bound& upper,
                                      const std::vector<Item>& items, size_t extra);

}  // namespace lattice::kernel::sync
