// Bounds on what a chat post's tags and a channel's mode changes may hold. The Chat service
// refuses a request over them (INVALID_ARGUMENT) and the chat state machine makes an
// intention over them from a peer a no-op, so every node stores the same bounded thing.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "lattice/v1/intention.pb.h"

namespace lattice::limits {

// A post's client-only tags (IRCv3 "+name=value"): how many, each key, and the keys and
// values of one post together. (Beside limits.h rather than in it, as only the chat state
// machine and the Chat service use them.)
inline constexpr size_t kMaxChatTags = 32;
inline constexpr size_t kMaxChatTagKeyBytes = 256;
inline constexpr size_t kMaxChatTagsBytes = 4096;
// One ChatModes change set: how many changes, a mode's name, its argument.
inline constexpr size_t kMaxChatModeChanges = 16;
inline constexpr size_t kMaxChatModeNameBytes = 16;
inline constexpr size_t kMaxChatModeArgBytes = 256;
// The id a client gives a post (PostRequest.msgid).
inline constexpr size_t kMaxChatMsgidBytes = 64;

}  // namespace lattice::limits

namespace lattice::kernel {

// At most limits::kMaxChatTags tags; each key 1..kMaxChatTagKeyBytes bytes of UTF-8 without
// NUL, CR, LF or space; each value UTF-8; keys and values kMaxChatTagsBytes in all.
absl::Status CheckChatTags(const google::protobuf::RepeatedPtrField<v1::ChatTag>& tags);

// 1..limits::kMaxChatModeChanges changes; each mode name 1..kMaxChatModeNameBytes bytes of
// UTF-8 without NUL, CR, LF or space; each argument at most kMaxChatModeArgBytes bytes of UTF-8
// without NUL, CR or LF.
absl::Status CheckChatModeChanges(
    const google::protobuf::RepeatedPtrField<v1::ChatModeChange>& changes);

// Empty, or 1..limits::kMaxChatMsgidBytes bytes of ASCII letters, digits, '-', '_', '.' and
// ':' (nothing an IRC tag value or a CHATHISTORY parameter must escape) that are not 64 hex
// digits, so a msgid is never taken for a message's hash.
absl::Status CheckChatMsgid(std::string_view msgid);

}  // namespace lattice::kernel
