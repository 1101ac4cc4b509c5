// Answering the peer's id list of a range with ours. Both sides learn the exact difference
// of the range from the two lists. A responder does not send its whole list back: it
// answers with Skip where both sides agree and short IdList ranges only around the
// differences, anchored on common ids (where the peer's extra ids must fall), unless its
// whole list costs no more. It falls back to the whole list when the peer's list is not in
// item order, since the anchors would then say nothing of where the peer's extras lie.
#pragma once

#include <vector>

#include "sync/negentropy_codec.h"
#include "sync/negentropy_message.h"

namespace lattice::kernel::sync {

struct IdListAnswer {
  std::vector<ItemId> need;  // the peer's ids we lack, in the peer's order
  std::vector<ItemId> have;  // our ids the peer lacks, in item order
  std::vector<Piece> reply;  // for a responder: what tells the peer the difference
};

// Compares `ours` (our items of [lower, upper), in order) with `theirs` (the peer's list of
// the range, without repeats). `reply_to` is the message the reply will be appended to, for
// its cost; null for an initiator, which sends no reply.
IdListAnswer AnswerIdList(const std::vector<Item>& ours, const std::vector<ItemId>& theirs,
                          const Bound& lower, const Bound& upper,
                          const OutgoingMessage* reply_to);

}  // namespace lattice::kernel::sync
