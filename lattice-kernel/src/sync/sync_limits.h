// Every size and count that Negentropy reconciliation accepts from a peer or sends to one,
// named in one place. Errors that enforce them name the limit (LimitExceeded in status.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lattice::kernel::sync::limits {

// The smallest frame size limit a session accepts, as in the authors' implementation:
// below it a split of one range might not fit in a message.
inline constexpr size_t kMinFrameSizeLimit = 4096;
// What a session sends at most per message unless told otherwise; 0 would mean no limit.
inline constexpr size_t kDefaultFrameSizeLimit = 512 * 1024;
// The largest message a session parses from a peer.
inline constexpr size_t kMaxIncomingMessageBytes = 4 * 1024 * 1024;
// Ranges in one incoming message: each costs an index descent, so this bounds the work a
// peer can ask for with one message.
inline constexpr size_t kMaxRangesPerMessage = 65'536;
// Messages a session answers before giving up. An initiator ends its session as incomplete
// before its peer would refuse, and the reconciler starts another for the rest.
inline constexpr size_t kMaxRounds = 256;
// Items of ours this side lists or compares for one range; a larger range is split instead.
inline constexpr uint64_t kMaxItemsPerIdListRange = 65'536;

}  // namespace lattice::kernel::sync::limits
