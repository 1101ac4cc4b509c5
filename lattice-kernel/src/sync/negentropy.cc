// The session: the checks every message passes before a MessageRound answers it (size,
// round budget, protocol version and framing), the downgrade answer to a peer of another
// version, and the accounting of messages and bytes.
#include "sync/negentropy.h"

#include <utility>

#include "lattice/common/status.h"
#include "sync/negentropy_round.h"

namespace lattice::kernel::sync {

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
