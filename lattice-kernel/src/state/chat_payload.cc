#include "state/chat_payload.h"

#include <fmt/format.h>

#include <string_view>

#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/common/utf8.h"

#include <string>
#include <utility>

namespace lattice::kernel {
namespace {

// These are malformed requests rather than a lack of room, so INVALID_ARGUMENT throughout.
absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

bool HasAnyOf(std::string_view text, std::string_view forbidden) {
  return text.find_first_of(forbidden) != std::string_view::npos;
}

constexpr std::string_view kNameForbidden{"\0\r\n ", 4};
constexpr std::string_view kArgForbidden{"\0\r\n", 3};

// A tag key or mode name: 1..max bytes of UTF-8, nothing that ends a word or a line.
absl::Status CheckName(std::string_view what, std::string_view name, size_t max) {
  if (name.empty()) return Invalid(fmt::format("{} must not be empty", what));
  if (name.size() > max) {
    return Invalid(fmt::format("{} {} is {} bytes; the limit is {}", what, Quote(name),
                               name.size(), max));
  }
  if (!IsValidUtf8(name)) return Invalid(fmt::format("{} {} is not valid UTF-8", what, Quote(name)));
  if (HasAnyOf(name, kNameForbidden)) {
    return Invalid(fmt::format("{} {} must not contain NUL, CR, LF or space", what, Quote(name)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckChatTags(const google::protobuf::RepeatedPtrField<v1::ChatTag>& tags) {
  if (static_cast<size_t>(tags.size()) > limits::kMaxChatTags) {
    return Invalid(fmt::format("a chat message carries {} tags; the limit is {}", tags.size(),
                               limits::kMaxChatTags));
  }
  size_t total = 0;
  for (const v1::ChatTag& tag : tags) {
    std::string_view key(tag.key().data(), tag.key().size());
    std::string_view value(tag.value().data(), tag.value().size());
    if (absl::Status s = CheckName("chat tag key", key, limits::kMaxChatTagKeyBytes); !s.ok()) return s;
    if (!IsValidUtf8(value)) {
      return Invalid(fmt::format("the value of chat tag {} is not valid UTF-8", Quote(key)));
    }
    total += key.size() + value.size();
  }
  if (total > limits::kMaxChatTagsBytes) {
    return Invalid(fmt::format("a chat message's tags take {} bytes (keys and values); the limit "
                               "is {}", total, limits::kMaxChatTagsBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckChatModeChanges(
    const google::protobuf::RepeatedPtrField<v1::ChatModeChange>& changes) {
  if (changes.empty()) return Invalid("a channel mode change names no mode");
  if (static_cast<size_t>(changes.size()) > limits::kMaxChatModeChanges) {
    return Invalid(fmt::format("{} channel mode changes at once; the limit is {}", changes.size(),
                               limits::kMaxChatModeChanges));
  }
  for (const v1::ChatModeChange& change : changes) {
    std::string_view mode(change.mode().data(), change.mode().size());
    std::string_view arg(change.arg().data(), change.arg().size());
    if (absl::Status s = CheckName("channel mode name", mode, limits::kMaxChatModeNameBytes);
        !s.ok()) {
      return s;
    }
    if (arg.size() > limits::kMaxChatModeArgBytes) {
      return Invalid(fmt::format("the argument of channel mode {} is {} bytes; the limit is {}",
                                 Quote(mode), arg.size(), limits::kMaxChatModeArgBytes));
    }
    if (!IsValidUtf8(arg)) {
      return Invalid(fmt::format("the argument of channel mode {} is not valid UTF-8", Quote(mode)));
    }
    if (HasAnyOf(arg, kArgForbidden)) {
      return Invalid(fmt::format("the argument of channel mode {} must not contain NUL, CR or LF",
                                 Quote(mode)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckChatMsgid(std::string_view msgid) {
  if (msgid.empty()) return absl::OkStatus();
  if (msgid.size() > limits::kMaxChatMsgidBytes) {
    return Invalid(fmt::format("msgid is {} bytes; the limit is {}", msgid.size(),
                               limits::kMaxChatMsgidBytes));
  }
  constexpr std::string_view kAllowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:";
  if (msgid.find_first_not_of(kAllowed) != std::string_view::npos) {
    return Invalid(fmt::format("msgid {} may hold only letters, digits, '-', '_', '.' and ':'",
                               Quote(msgid)));
  }
  if (ParseHash(msgid)) {
    return Invalid(fmt::format("msgid {} has the form of a message hash", Quote(msgid)));
  }
  return absl::OkStatus();
}

}  // namespace lattice::kernel
