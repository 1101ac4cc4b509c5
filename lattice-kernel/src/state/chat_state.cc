#include "state/chat_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "lattice/common/chat_channel.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "state/chat_payload.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

constexpr char kLogTable = 'c';      // S c channel \0 be64(wall) be32(counter) hash -> ChatMessage
constexpr char kByHashTable = 'h';   // S h hash -> the log key of its entry
constexpr char kTopicTable = 't';    // S t channel -> Topic (with the hash that set it)
constexpr char kCountTable = 'n';    // S n channel -> be64(entries)
// S m canonical channel \0 mode -> ChatMessage: the change (modes[0]) that last set or cleared
// that mode, with its sender, author, hlc and hash
constexpr char kModeTable = 'm';
// S i msgid -> the log key of the post that carries it (the first in (hlc, hash) order when
// several do)
constexpr char kByMsgidTable = 'i';

std::string TableKey(char table, std::string_view rest) {
  std::string k{keys::kState, table};
  k.append(rest);
  return k;
}

std::string ChannelPrefix(std::string_view channel) {
  std::string k = TableKey(kLogTable, channel);
  k.push_back('\0');
  return k;
}

// What follows the channel in a log key: its order stamp and hash, which compare as the log
// orders its entries.
std::string_view LogOrderPart(std::string_view log_key) {
  size_t channel_end = log_key.find('\0', 2);
  return channel_end == std::string_view::npos ? log_key : log_key.substr(channel_end + 1);
}

HlcStamp OrderAfter(HlcStamp parent) {
  if (parent.counter == std::numeric_limits<uint32_t>::max()) return {parent.wall_ms + 1, 0};
  return {parent.wall_ms, parent.counter + 1};
}

std::string ModePrefix(std::string_view canonical_channel) {
  std::string k = TableKey(kModeTable, canonical_channel);
  k.push_back('\0');
  return k;
}

std::string LogKey(std::string_view channel, HlcStamp order, std::string_view hash) {
  std::string k = ChannelPrefix(channel);
  keys::AppendBigEndian64(&k, order.wall_ms);
  keys::AppendBigEndian32(&k, order.counter);
  k.append(hash);
  return k;
}

// The order stamp is encoded right after the channel prefix.
HlcStamp OrderOfLogKey(std::string_view log_key, size_t prefix_size) {
  std::string_view rest = log_key.substr(prefix_size);
  return {keys::ReadBigEndian64(rest), keys::ReadBigEndian32(rest.substr(8))};
}

absl::Status CheckText(std::string_view what, std::string_view text, size_t limit) {
  if (text.size() > limit) return LimitExceeded(what, text.size(), limit);
  return absl::OkStatus();
}

absl::Status CheckChannel(std::string_view channel) {
  if (channel.empty()) return absl::InvalidArgumentError("chat channel must not be empty");
  if (channel.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("chat channel must not contain NUL");
  }
  return CheckText("chat channel", channel, limits::kMaxChannelBytes);
}

// Concurrent topic changes resolve by (hlc, author, hash), the same on every node.
bool TopicNewer(const v1::ChatMessage& a, const v1::ChatMessage& b) {
  return std::make_tuple(a.hlc().wall_ms(), a.hlc().counter(), a.author(), a.hash()) >
         std::make_tuple(b.hlc().wall_ms(), b.hlc().counter(), b.author(), b.hash());
}

// Each mode of a channel is a last-writer-wins register: the change of the highest (hlc, hash)
// holds, so every node ends with the same settings whatever order the changes arrive in.
bool ModeChangeNewer(const v1::ChatMessage& a, const v1::ChatMessage& b) {
  return std::make_tuple(a.hlc().wall_ms(), a.hlc().counter(), a.hash()) >
         std::make_tuple(b.hlc().wall_ms(), b.hlc().counter(), b.hash());
}

// Keeps each change of the log entry `entry` (kind "modes") whose register it wins.
void KeepNewerModes(BatchView& view, const v1::ChatMessage& entry) {
  const std::string prefix = ModePrefix(CanonicalChatChannel(entry.channel()));
  // Within one change set, the last change of a mode is the one that counts.
  std::map<std::string, const v1::ChatModeChange*> last;
  for (const v1::ChatModeChange& change : entry.modes()) last[change.mode()] = &change;
  for (const auto& [mode, change] : last) {
    std::string key = prefix + mode;
    if (auto stored = view.Get(key)) {
      v1::ChatMessage current;
      if (current.ParseFromString(*stored) && !ModeChangeNewer(entry, current)) continue;
    }
    v1::ChatMessage kept;
    kept.set_hash(entry.hash());
    kept.set_author(entry.author());
    *kept.mutable_hlc() = entry.hlc();
    kept.set_sender(entry.sender());
    v1::ChatModeChange* value = kept.add_modes();
    *value = *change;
    if (!value->on()) value->clear_arg();
    view.Put(key, kept.SerializeAsString());
  }
}

}  // namespace

absl::StatusOr<v1::ChatPayload> ParseChatPayload(std::string_view payload) {
  v1::ChatPayload parsed;
  if (!parsed.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("chat payload is not a valid ChatPayload message");
  }
  switch (parsed.op_case()) {
    case v1::ChatPayload::kPost:
      LATTICE_RETURN_IF_ERROR(CheckChannel(parsed.post().channel()));
      LATTICE_RETURN_IF_ERROR(CheckText("chat text", parsed.post().text(),
                                        limits::kMaxChatTextBytes));
      LATTICE_RETURN_IF_ERROR(CheckText("chat sender", parsed.post().sender(),
                                        limits::kMaxSenderBytes));
      LATTICE_RETURN_IF_ERROR(CheckChatTags(parsed.post().tags()));
      LATTICE_RETURN_IF_ERROR(CheckChatMsgid(parsed.post().msgid()));
      return parsed;
    case v1::ChatPayload::kReply:
      if (parsed.reply().ref().size() != kHashBytes) {
        return absl::InvalidArgumentError("chat reply must name a 32-byte parent hash");
      }
      LATTICE_RETURN_IF_ERROR(CheckText("chat text", parsed.reply().text(),
                                        limits::kMaxChatTextBytes));
      LATTICE_RETURN_IF_ERROR(CheckText("chat sender", parsed.reply().sender(),
                                        limits::kMaxSenderBytes));
      return parsed;
    case v1::ChatPayload::kReact:
      if (parsed.react().ref().size() != kHashBytes) {
        return absl::InvalidArgumentError("chat reaction must name a 32-byte parent hash");
      }
      if (parsed.react().emoji().empty()) {
        return absl::InvalidArgumentError("chat reaction must not be empty");
      }
      LATTICE_RETURN_IF_ERROR(CheckText("chat reaction", parsed.react().emoji(),
                                        limits::kMaxEmojiBytes));
      LATTICE_RETURN_IF_ERROR(CheckText("chat sender", parsed.react().sender(),
                                        limits::kMaxSenderBytes));
      return parsed;
    case v1::ChatPayload::kTopic:
      LATTICE_RETURN_IF_ERROR(CheckChannel(parsed.topic().channel()));
      LATTICE_RETURN_IF_ERROR(CheckText("chat topic", parsed.topic().text(),
                                        limits::kMaxChatTextBytes));
      LATTICE_RETURN_IF_ERROR(CheckText("chat sender", parsed.topic().sender(),
                                        limits::kMaxSenderBytes));
      return parsed;
    case v1::ChatPayload::kModes:
      LATTICE_RETURN_IF_ERROR(CheckChannel(parsed.modes().channel()));
      if (CanonicalChatChannel(parsed.modes().channel()).empty()) {
        return absl::InvalidArgumentError("chat channel must name a channel, not \"#\" alone");
      }
      LATTICE_RETURN_IF_ERROR(CheckChatModeChanges(parsed.modes().changes()));
      LATTICE_RETURN_IF_ERROR(CheckText("chat sender", parsed.modes().sender(),
                                        limits::kMaxSenderBytes));
      return parsed;
    case v1::ChatPayload::OP_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("chat payload names no operation");
}

std::string_view ChatStateMachine::op_type() const { return kOpChat; }

absl::Status ChatStateMachine::Apply(BatchView& view, const DecodedIntention& intention,
                                     Freshness /*freshness*/) {
  if (intention.body.op_type() != kOpChat) {
    return absl::InvalidArgumentError(fmt::format(
        "op_type \"{}\" is not understood by a chat store", intention.body.op_type()));
  }
  LATTICE_ASSIGN_OR_RETURN(v1::ChatPayload payload, ParseChatPayload(intention.body.payload()));

  v1::ChatMessage message;
  message.set_hash(ToHex(intention.hash));
  message.set_author(ToHex(intention.body.author()));
  *message.mutable_hlc() = intention.body.hlc();
  HlcStamp order = intention.hlc();

  auto attach_to_parent = [&](const std::string& ref) -> absl::Status {
    // The parent must be a causal dependency, so every node has applied it first: among the
    // deps, or the author's own previous intention (a reply to its own last message, which
    // its chain already follows and so its deps leave out).
    bool cited = intention.body.prev() == ref ||
                 std::find(intention.body.deps().begin(), intention.body.deps().end(), ref) !=
                     intention.body.deps().end();
    if (!cited) return absl::InvalidArgumentError("chat reply or reaction does not cite its parent");
    auto parent_key = view.Get(TableKey(kByHashTable, ref));
    if (!parent_key) return absl::InvalidArgumentError("chat reply or reaction to an unknown message");
    std::string_view log_key = *parent_key;
    size_t channel_end = log_key.find('\0', 2);
    if (channel_end == std::string_view::npos) return absl::DataLossError("chat index is corrupt");
    message.set_channel(std::string(log_key.substr(2, channel_end - 2)));
    message.set_ref(ToHex(ref));
    if (auto stored = view.Get(log_key)) {
      v1::ChatMessage parent;
      if (parent.ParseFromString(*stored)) message.set_ref_msgid(parent.msgid());
    }
    order = std::max(order, OrderAfter(OrderOfLogKey(log_key, channel_end + 1)));
    return absl::OkStatus();
  };

  switch (payload.op_case()) {
    case v1::ChatPayload::kPost:
      message.set_kind("post");
      message.set_channel(payload.post().channel());
      message.set_text(payload.post().text());
      message.set_sender(payload.post().sender());
      message.set_action(payload.post().action());
      *message.mutable_tags() = payload.post().tags();
      message.set_msgid(payload.post().msgid());
      message.set_time_ms(payload.post().time_ms());
      break;
    case v1::ChatPayload::kReply:
      message.set_kind("reply");
      message.set_text(payload.reply().text());
      message.set_sender(payload.reply().sender());
      LATTICE_RETURN_IF_ERROR(attach_to_parent(payload.reply().ref()));
      break;
    case v1::ChatPayload::kReact:
      message.set_kind("react");
      message.set_text(payload.react().emoji());
      message.set_sender(payload.react().sender());
      LATTICE_RETURN_IF_ERROR(attach_to_parent(payload.react().ref()));
      break;
    case v1::ChatPayload::kTopic: {
      message.set_kind("topic");
      message.set_channel(payload.topic().channel());
      message.set_text(payload.topic().text());
      message.set_sender(payload.topic().sender());
      std::string topic_key = TableKey(kTopicTable, message.channel());
      bool replace = true;
      if (auto stored = view.Get(topic_key)) {
        v1::ChatMessage current;
        current.ParseFromString(*stored);
        replace = TopicNewer(message, current);
      }
      if (replace) view.Put(topic_key, message.SerializeAsString());
      break;
    }
    case v1::ChatPayload::kModes:
      message.set_kind("modes");
      message.set_channel(payload.modes().channel());
      message.set_sender(payload.modes().sender());
      *message.mutable_modes() = payload.modes().changes();
      KeepNewerModes(view, message);
      break;
    case v1::ChatPayload::OP_NOT_SET:
      return absl::InvalidArgumentError("chat payload names no operation");
  }

  std::string log_key = LogKey(message.channel(), order, intention.hash);
  view.Put(log_key, message.SerializeAsString());
  view.Put(TableKey(kByHashTable, intention.hash), log_key);
  if (!message.msgid().empty()) {
    // The same msgid on two posts (a client's mistake, or a writer's mischief) names the
    // first of them in the log's order, whichever this node applied first.
    std::string msgid_key = TableKey(kByMsgidTable, message.msgid());
    auto holder = view.Get(msgid_key);
    if (!holder || LogOrderPart(log_key) < LogOrderPart(*holder)) view.Put(msgid_key, log_key);
  }
  std::string count_key = TableKey(kCountTable, message.channel());
  uint64_t count = 0;
  if (auto stored = view.Get(count_key)) count = keys::ReadBigEndian64(*stored);
  std::string encoded;
  keys::AppendBigEndian64(&encoded, count + 1);
  view.Put(count_key, encoded);
  return absl::OkStatus();
}

namespace {

absl::StatusOr<v1::ChatMessage> ReadIndexedChatMessage(const Database& db, char table,
                                                       std::string_view id) {
  LATTICE_ASSIGN_OR_RETURN(auto log_key, db.Get(TableKey(table, id)));
  if (!log_key) return absl::NotFoundError("no chat entry for that id");
  LATTICE_ASSIGN_OR_RETURN(auto stored, db.Get(*log_key));
  v1::ChatMessage message;
  if (!stored || !message.ParseFromString(*stored)) {
    return absl::DataLossError("chat index names a missing entry");
  }
  return message;
}

}  // namespace

absl::StatusOr<v1::ChatMessage> ReadChatMessage(const Database& db, std::string_view hash) {
  return ReadIndexedChatMessage(db, kByHashTable, hash);
}

absl::StatusOr<v1::ChatMessage> FindChatMessage(const Database& db, std::string_view ref) {
  if (auto hash = ParseHash(ref)) return ReadChatMessage(db, *hash);
  if (ref.empty() || !CheckChatMsgid(ref).ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{} is neither a message hash nor a msgid", Quote(ref)));
  }
  return ReadIndexedChatMessage(db, kByMsgidTable, ref);
}

absl::StatusOr<ChatPage> ReadChatHistory(const Database& db, std::string_view channel,
                                         uint32_t limit, std::string_view before) {
  std::string before_suffix;
  if (!before.empty()) {
    auto raw = FromHex(before);
    if (!raw) return absl::InvalidArgumentError("history page token is malformed");
    before_suffix = *raw;
  }
  // The newest `limit` of each name the channel is stored under, keyed by what follows the
  // channel in the log key (order stamp, hash): the same order under every name.
  std::vector<std::pair<std::string, v1::ChatMessage>> entries;
  bool more = false;
  const std::string canonical = CanonicalChatChannel(channel);
  for (const std::string& name : StoredChatChannelNames(channel)) {
    std::string prefix = ChannelPrefix(name);
    std::string end = before.empty() ? keys::PrefixEnd(prefix) : prefix + before_suffix;
    size_t taken = 0;
    LATTICE_RETURN_IF_ERROR(db.ScanReverse(prefix, end, [&](std::string_view k, std::string_view v) {
      if (taken == limit) {
        more = true;
        return false;
      }
      v1::ChatMessage message;
      message.ParseFromArray(v.data(), static_cast<int>(v.size()));
      message.set_channel(canonical);
      entries.emplace_back(std::string(k.substr(prefix.size())), std::move(message));
      ++taken;
      return true;
    }));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  if (entries.size() > limit) {
    more = true;
    entries.resize(limit);
  }
  ChatPage page;
  // Newest first until the page would pass its byte cap, keeping at least one message.
  size_t bytes = 0;
  size_t kept = 0;
  for (; kept < entries.size(); ++kept) {
    if (kept > 0 && bytes >= limits::kMaxStreamPageBytes) {
      more = true;
      break;
    }
    bytes += entries[kept].second.ByteSizeLong();
  }
  entries.resize(kept);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    page.messages.push_back(std::move(it->second));
  }
  if (more && !entries.empty()) page.next_before = ToHex(entries.back().first);
  return page;
}

absl::StatusOr<v1::Topic> ReadTopic(const Database& db, std::string_view channel) {
  v1::Topic topic;
  v1::ChatMessage newest;
  for (const std::string& name : StoredChatChannelNames(channel)) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db.Get(TableKey(kTopicTable, name)));
    if (!stored) continue;
    v1::ChatMessage message;
    if (!message.ParseFromString(*stored)) return absl::DataLossError("stored topic does not parse");
    if (topic.set() && !TopicNewer(message, newest)) continue;
    topic.set_set(true);
    newest = std::move(message);
  }
  if (!topic.set()) return topic;
  topic.set_text(newest.text());
  topic.set_sender(newest.sender());
  topic.set_author(newest.author());
  *topic.mutable_hlc() = newest.hlc();
  return topic;
}

absl::StatusOr<std::vector<v1::ChannelMode>> ReadChannelModes(const Database& db,
                                                              std::string_view channel) {
  std::vector<v1::ChannelMode> modes;
  const std::string prefix = ModePrefix(CanonicalChatChannel(channel));
  absl::Status corrupt;
  LATTICE_RETURN_IF_ERROR(
      db.Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
        v1::ChatMessage kept;
        if (!kept.ParseFromArray(v.data(), static_cast<int>(v.size())) || kept.modes_size() != 1) {
          corrupt = absl::DataLossError("stored channel mode does not parse");
          return false;
        }
        const v1::ChatModeChange& change = kept.modes(0);
        if (!change.on()) return true;
        v1::ChannelMode mode;
        mode.set_mode(change.mode());
        mode.set_arg(change.arg());
        mode.set_sender(kept.sender());
        mode.set_author(kept.author());
        *mode.mutable_hlc() = kept.hlc();
        modes.push_back(std::move(mode));
        return true;
      }));
  LATTICE_RETURN_IF_ERROR(corrupt);
  return modes;  // by name: the keys sort so
}

absl::StatusOr<v1::ChannelInfo> ReadChannel(const Database& db, std::string_view channel) {
  v1::ChannelInfo info;
  info.set_name(CanonicalChatChannel(channel));
  uint64_t messages = 0;
  for (const std::string& name : StoredChatChannelNames(channel)) {
    LATTICE_ASSIGN_OR_RETURN(auto stored, db.Get(TableKey(kCountTable, name)));
    if (stored) messages += keys::ReadBigEndian64(*stored);
  }
  info.set_messages(messages);
  LATTICE_ASSIGN_OR_RETURN(v1::Topic topic, ReadTopic(db, channel));
  *info.mutable_topic() = std::move(topic);
  LATTICE_ASSIGN_OR_RETURN(auto modes, ReadChannelModes(db, channel));
  for (auto& mode : modes) *info.add_modes() = std::move(mode);
  return info;
}

absl::StatusOr<std::vector<v1::ChannelInfo>> ReadChannels(const Database& db) {
  // By canonical name: a channel stored under an earlier form of its name is one channel.
  std::map<std::string, uint64_t> counts;
  std::string prefix = TableKey(kCountTable, "");
  LATTICE_RETURN_IF_ERROR(
      db.Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
        counts[ListedChatChannel(k.substr(prefix.size()))] += keys::ReadBigEndian64(v);
        return true;
      }));
  std::vector<v1::ChannelInfo> channels;
  for (const auto& [name, messages] : counts) {
    v1::ChannelInfo info;
    info.set_name(name);
    info.set_messages(messages);
    LATTICE_ASSIGN_OR_RETURN(v1::Topic topic, ReadTopic(db, name));
    *info.mutable_topic() = std::move(topic);
    LATTICE_ASSIGN_OR_RETURN(auto modes, ReadChannelModes(db, name));
    for (auto& mode : modes) *info.add_modes() = std::move(mode);
    channels.push_back(std::move(info));
  }
  return channels;
}

}  // namespace lattice::kernel
