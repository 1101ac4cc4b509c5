// Client-only tags, their limits, and tags added to rendered lines (see message_tags.h).
#include "message_tags.h"

namespace lattice::irc {
namespace {

size_t TagBytes(const Tag& tag) {
  size_t bytes = tag.key.size();
  if (!tag.value.empty()) bytes += 1 + EscapeTagValue(tag.value).size();
  return bytes;
}

}  // namespace

size_t TagDataBytes(const std::vector<Tag>& tags) {
  size_t bytes = 0;
  for (const auto& tag : tags) bytes += TagBytes(tag) + (bytes == 0 ? 0 : 1);
  return bytes;
}

std::vector<Tag> ClientOnlyTags(const Message& message) {
  std::vector<Tag> tags;
  for (const auto& tag : message.tags) {
    if (!tag.key.empty() && tag.key[0] == '+') tags.push_back(tag);
  }
  return tags;
}

std::vector<v1::ChatTag> StorableTags(const std::vector<Tag>& tags) {
  std::vector<v1::ChatTag> stored;
  for (const auto& tag : tags) {
    if (stored.size() == kMaxStoredTags) break;
    if (tag.key.empty() || tag.key[0] != '+' || tag.key.size() > kMaxStoredTagKeyBytes) continue;
    v1::ChatTag& out = stored.emplace_back();
    out.set_key(tag.key);
    out.set_value(tag.value);
  }
  return stored;
}

std::vector<Tag> ShowableTags(const google::protobuf::RepeatedPtrField<v1::ChatTag>& stored) {
  std::vector<Tag> tags;
  size_t bytes = 0;
  for (const auto& chat_tag : stored) {
    std::string_view key(chat_tag.key().data(), chat_tag.key().size());
    if (key.empty() || key[0] != '+' || !IsValidTagKey(key)) continue;
    Tag tag{chat_tag.key(), chat_tag.value()};
    size_t more = TagBytes(tag) + (bytes == 0 ? 0 : 1);
    if (bytes + more > kMaxClientTagDataBytes) break;
    bytes += more;
    tags.push_back(std::move(tag));
  }
  return tags;
}

bool HasTag(std::string_view line, std::string_view key) {
  if (line.empty() || line[0] != '@') return false;
  std::string_view tags = line.substr(1, line.find(' ') - 1);
  size_t pos = 0;
  while (pos <= tags.size()) {
    size_t end = tags.find(';', pos);
    if (end == std::string_view::npos) end = tags.size();
    std::string_view item = tags.substr(pos, end - pos);
    if (item.substr(0, item.find('=')) == key) return true;
    pos = end + 1;
  }
  return false;
}

std::string WithTag(std::string_view line, std::string_view key, std::string_view value) {
  std::string tag(key);
  if (!value.empty()) {
    tag.push_back('=');
    tag += EscapeTagValue(value);
  }
  if (!line.empty() && line[0] == '@') {
    return "@" + tag + ";" + std::string(line.substr(1));
  }
  return "@" + tag + " " + std::string(line);
}

}  // namespace lattice::irc
