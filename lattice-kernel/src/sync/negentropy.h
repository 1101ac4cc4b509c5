// A Negentropy V1 reconciliation session, either role, over any ItemSource (the store's
// persistent RangeIndex in the kernel). It speaks the authors' wire format byte for byte,
// so a peer built from their reference implementation can take either role opposite it,
// and it uses the room V1 leaves to save bytes and round trips:
//
// - Splitting follows a plan instead of a fixed 16-way split: the number of round trips
//   is fixed from the set size at the start, and each message cuts mismatched ranges so
//   that they reach a small size exactly when the plan ends, with a wider first message
//   (its cost is paid once, not per difference). A density estimate (how many received
//   fingerprints mismatched) shrinks the final ranges when differences are dense
//   (negentropy_plan.h; the cuts themselves, negentropy_split.h).
// - Single-difference detection: when our fingerprint of a small range differs, we test
//   whether the peer's fingerprint is ours less one of our items (one SHA-256 per item).
//   If so, that item is probably the whole difference, but sums collide (ids sharing long
//   prefixes make it likely), so the guess is never taken on trust: either side answers
//   with that one id between two tight bounds and a fingerprint of the rest of the range
//   on either side, which the peer checks like any other range (negentropy_detect.h).
// - Id lists are answered tightly: a responder that receives the initiator's ids answers
//   with Skip where both sides agree and short IdList ranges only around the differences
//   (anchoring on common ids where the peer's extra ids must fall), not its whole list.
//   It falls back to the full list when the peer's list is not in item order
//   (negentropy_id_list.h).
// - Frame limits: a message never exceeds frame_size_limit; what did not fit is covered by
//   one fingerprint of the rest, after an explicit Skip over what was processed
//   (negentropy_message.h).
//
// Every input from the peer is bounded (message bytes, ranges, rounds, id lists) and a
// malformed message is an INVALID_ARGUMENT naming the fault; nothing in it can make the
// session allocate more than the message's own size or run without bound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/item_source.h"
#include "sync/negentropy_codec.h"
#include "sync/negentropy_plan.h"
#include "sync/sync_limits.h"

namespace lattice::kernel::sync {

enum class Role { kInitiator, kResponder };

struct NegentropyOptions {
  // Largest message this side sends; 0 means none (like the reference), otherwise at least
  // limits::kMinFrameSizeLimit.
  size_t frame_size_limit = limits::kDefaultFrameSizeLimit;
  size_t max_incoming_bytes = limits::kMaxIncomingMessageBytes;
  size_t max_ranges = limits::kMaxRangesPerMessage;
  // Messages a session receives at most; an initiator also sends at most this many, ending
  // the session as incomplete instead (ReconcileResult::incomplete).
  size_t max_rounds = limits::kMaxRounds;
  // Ranges of at most this many of our items are tested for a single difference, and the
  // plan aims for ranges of this size at its end (CPU: one SHA-256 per item tested). Twice
  // the range index's leaf capacity: a final range of about one leaf is cut inside a leaf,
  // which both sides must then read, where a range of about two mostly ends on a bucket
  // edge that both hold in memory. Sparse differences then cost a side about one leaf read
  // each instead of three, and a sync fewer bytes (bench/README.md).
  uint64_t detect_max_items = 128;
  // The plan's widest cut per message (the first message may cut up to 4x this).
  uint64_t max_plan_parts = 32;
};

// What one received message taught this side, and what to send back.
struct ReconcileResult {
  // The message to send. Always set for the responder; unset when the initiator is done.
  std::optional<std::string> reply;
  // Ids we hold that the peer lacks, and ids the peer holds that we lack, each reported
  // once per session. The initiator learns every difference by the end; the responder
  // reports those it happens to learn (from id lists and its own detections).
  std::vector<ItemId> have;
  std::vector<ItemId> need;
  // The initiator stopped because one more message would pass the session's message budget
  // (max_rounds, which the peer's session enforces too) before every difference was found.
  // What it reported is exact as far as it goes; a new session, started once those
  // differences are resolved, finds the rest.
  bool incomplete = false;
};

struct NegentropyStats {
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

// One reconciliation with one peer. Owned by one thread; each call reads `items`, which
// must show one consistent state for the duration of that call (a RangeIndexReader made
// for the call, over a snapshot).
class NegentropySession {
 public:
  // INVALID_ARGUMENT for a frame_size_limit below limits::kMinFrameSizeLimit.
  static absl::StatusOr<NegentropySession> Create(Role role, NegentropyOptions options = {});

  // The initiator's first message. FAILED_PRECONDITION for a responder or a second call.
  absl::StatusOr<std::string> Initiate(ItemSource& items);

  // Processes the peer's message. Errors: INVALID_ARGUMENT (malformed message, or one the
  // protocol does not allow now), RESOURCE_EXHAUSTED (a limit), FAILED_PRECONDITION (the
  // peer speaks another protocol version; the initiator cannot downgrade), ABORTED (the
  // item source did not show one state during the call: retry on a snapshot), and the
  // item source's errors. After an error the session is finished.
  absl::StatusOr<ReconcileResult> Reconcile(ItemSource& items, std::string_view message);

  Role role() const { return role_; }
  bool done() const { return done_; }
  const NegentropyStats& stats() const { return stats_; }

 private:
  NegentropySession(Role role, NegentropyOptions options)
      : role_(role),
        options_(options),
        next_message_index_(role == Role::kInitiator ? 0 : 1),
        plan_(options.detect_max_items, options.max_plan_parts) {}

  Role role_;
  NegentropyOptions options_;
  bool started_ = false;
  bool done_ = false;
  uint64_t next_message_index_;  // of our next message: 0 = the initiator's first, 1 = its reply
  SplitPlan plan_;
  NegentropyStats stats_;
  std::unordered_set<ItemId, ItemIdHash> reported_;

  // Answers one message (negentropy_round.h), reading and updating the session's state.
  friend class MessageRound;
};

}  // namespace lattice::kernel::sync
