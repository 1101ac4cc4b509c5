// The chat state machine (op_type chat.v1): per channel, an append-only log of posts (with
// their tags), replies, reactions, topic changes and mode changes, ordered causally (a reply or
// reaction after its parent) and then by (hlc, hash); plus each channel's current topic and,
// per mode name, the last change of that mode (a last-writer-wins register by (hlc, hash)).
// A payload over the bounds of ParseChatPayload is a no-op, wherever it comes from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/store_protocol.pb.h"
#include "state/state_machine.h"
#include "storage/database.h"

namespace lattice::kernel {

class ChatStateMachine final : public StateMachine {
 public:
  std::string_view op_type() const override;
  absl::Status Apply(BatchView& view, const DecodedIntention& intention,
                     Freshness freshness) override;
};

// Parses a chat payload and checks it against its bounds (limits.h, chat_payload.h).
absl::StatusOr<v1::ChatPayload> ParseChatPayload(std::string_view payload);

// The committed log entry an intention produced; NOT_FOUND for no-ops and non-chat hashes.
// The message's cursor is left for the caller to fill.
absl::StatusOr<v1::ChatMessage> ReadChatMessage(const Database& db, std::string_view hash);

// The message `ref` names: a hash in hex, or the msgid its client gave it (the first post in
// the log's order that carries it). NOT_FOUND when none; INVALID_ARGUMENT when `ref` is
// neither form.
absl::StatusOr<v1::ChatMessage> FindChatMessage(const Database& db, std::string_view ref);

struct ChatPage {
  std::vector<v1::ChatMessage> messages;  // oldest first
  std::string next_before;                // opaque; empty when nothing older remains
};

// The newest `limit` entries of `channel` strictly older than `before` (empty = newest),
// from every name it may be stored under (lattice/common/chat_channel.h), each message
// showing the canonical name; fewer when they would take more than
// limits::kMaxStreamPageBytes (but at least one), so every page fits in one gRPC message
// and next_before pages on.
absl::StatusOr<ChatPage> ReadChatHistory(const Database& db, std::string_view channel,
                                         uint32_t limit, std::string_view before);

// The newest topic of `channel` under any name it may be stored under.
absl::StatusOr<v1::Topic> ReadTopic(const Database& db, std::string_view channel);

// The modes of `channel` that are on, by name, as the newest change of each left them. Stored
// under the canonical name (lattice/common/chat_channel.h), whatever name a change gave.
absl::StatusOr<std::vector<v1::ChannelMode>> ReadChannelModes(const Database& db,
                                                              std::string_view channel);

// One channel, by its canonical name: messages under each of its names, topic and modes. An
// unknown channel is an empty one.
absl::StatusOr<v1::ChannelInfo> ReadChannel(const Database& db, std::string_view channel);

// Every channel by its canonical name, counting the messages stored under each of its names,
// with its topic and modes.
absl::StatusOr<std::vector<v1::ChannelInfo>> ReadChannels(const Database& db);

}  // namespace lattice::kernel
