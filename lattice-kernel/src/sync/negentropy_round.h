// The processing of one message of a Negentropy session, in either role: it reads our set
// once (our aggregate of each range the peer sent), answers each range (nothing where the
// fingerprints match, a single-difference guess or a cut where they differ, a comparison
// where the peer listed ids), and builds the reply within the frame limit, ending a full
// message with one fingerprint of the rest. What it learns goes into the session (the plan's
// density, the ids reported) and the call's ReconcileResult. The session (negentropy.h)
// checks the message's framing and the session's limits before a round starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/item_source.h"
#include "sync/negentropy.h"
#include "sync/negentropy_message.h"
#include "sync/negentropy_split.h"

namespace lattice::kernel::sync {

// Lives for one call of the session, on its thread.
class MessageRound {
 public:
  MessageRound(NegentropySession& session, ItemSource& items, ReconcileResult* result)
      : session_(session),
        items_(items),
        result_(result),
        out_(session.options_.frame_size_limit),
        message_index_(session.next_message_index_) {}

  // Reads the set's total, and plans the session at its first message.
  absl::Status Begin();
  // The initiator's first message: the whole set cut as the plan says.
  absl::StatusOr<std::string> Initiate();
  // The answer to the peer's `ranges`; nullopt when an initiator has nothing left to say.
  absl::StatusOr<std::optional<std::string>> Process(const std::vector<ReceivedRange>& ranges);

 private:
  // Answers a range whose fingerprints differ.
  absl::StatusOr<std::vector<Piece>> AnswerMismatch(const RangeState& state,
                                                    const ReceivedRange& range);
  // Answers the peer's id list of a range.
  absl::StatusOr<std::vector<Piece>> AnswerIdList(const RangeState& state,
                                                  const ReceivedRange& range);
  // Cuts [state.lower, upper), of `n` of our items, as the plan decides: an id list, or
  // fingerprints of parts.
  absl::StatusOr<std::vector<Piece>> Cut(const RangeState& state, const Bound& upper,
                                         uint64_t n);
  absl::StatusOr<std::vector<Piece>> Split(const RangeState& state, const Bound& upper,
                                           uint64_t parts);
  // Appends the answer to one received range; when it does not fit the frame, ends the
  // message with the remainder's fingerprint and returns RESOURCE_EXHAUSTED.
  absl::Status AppendOrTruncate(const RangeState& state, std::vector<Piece> pieces);
  // Reports `id` once per session: as ours the peer lacks (`have`) or the reverse.
  void Report(const ItemId& id, bool have);

  NegentropySession& session_;
  ItemSource& items_;
  ReconcileResult* result_;
  OutgoingMessage out_;
  uint64_t message_index_;
  Aggregate total_;
  SentFingerprints sent_;
};

}  // namespace lattice::kernel::sync
