// IRCv3 message tags beyond parsing (message.h parses and renders them): the client-only
// tags a client attaches to a message, their size limit, what of a stored message's tags may
// be shown again, and adding a server tag (label, batch) to a line already rendered.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lattice/v1/store_protocol.pb.h"
#include "message.h"

namespace lattice::irc {

// message-tags: a client's tag data (without '@' and the space after it) is at most 4094
// bytes; more is refused with 417 ERR_INPUTTOOLONG.
inline constexpr size_t kMaxClientTagDataBytes = 4094;
// What the chat store keeps of one post's client-only tags (lattice/common/limits.h).
inline constexpr size_t kMaxStoredTags = 32;
inline constexpr size_t kMaxStoredTagKeyBytes = 256;

// The bytes `tags` take on the wire, escaped, with their ';' separators.
size_t TagDataBytes(const std::vector<Tag>& tags);

// The client-only tags ('+' keys) of `message`, in the order sent.
std::vector<Tag> ClientOnlyTags(const Message& message);

// `tags` as the chat store keeps them: the first kMaxStoredTags with keys it accepts.
std::vector<v1::ChatTag> StorableTags(const std::vector<Tag>& tags);

// The stored tags of a message that may be sent to clients: well-formed client-only keys
// (stored data comes from any node and tool, and a key is written to the line as it is),
// while the tag data stays within kMaxClientTagDataBytes.
std::vector<Tag> ShowableTags(const google::protobuf::RepeatedPtrField<v1::ChatTag>& stored);

// Whether the rendered `line` has a tag `key`.
bool HasTag(std::string_view line, std::string_view key);

// `line` (rendered, with or without tags) with `key=value` added to its tags.
std::string WithTag(std::string_view line, std::string_view key, std::string_view value);

}  // namespace lattice::irc
