// IrcServer: JOIN, PART, TOPIC, NAMES, LIST and history playback (see server.h).
#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <tuple>

#include "casemap.h"
#include "limits.h"
#include "numerics.h"
#include "server_state.h"
#include "utf8.h"

namespace lattice::irc {

using namespace numeric;

namespace {

// Concurrent topic changes resolve the way the chat store resolves them: the later HLC,
// then the author, wins.
bool TopicNewer(const v1::Topic& a, const v1::Topic& b) {
  return std::make_tuple(a.hlc().wall_ms(), a.hlc().counter(), a.author()) >
         std::make_tuple(b.hlc().wall_ms(), b.hlc().counter(), b.author());
}

}  // namespace

IrcServer::Channel& IrcServer::ChannelFor(const std::string& key) {
  auto [it, inserted] = channels_.try_emplace(key);
  if (inserted) {
    it->second.name = key;
    it->second.store_channel = StoreChannelFor(key);
    it->second.created_unix = NowWallMs() / 1000;
  }
  return it->second;
}

void IrcServer::DropChannelIfUnused(const std::string& key) {
  auto it = channels_.find(key);
  if (it != channels_.end() && it->second.members.empty()) channels_.erase(it);
}

bool IrcServer::UpdateTopic(Channel& channel, const v1::Topic& topic) {
  if (!topic.set()) {
    if (channel.topic_known) return false;
    channel.topic_known = true;
    channel.topic = topic;
    return false;
  }
  if (channel.topic_known && channel.topic.set() && !TopicNewer(topic, channel.topic)) {
    return false;
  }
  channel.topic_known = true;
  channel.topic = topic;
  return true;
}

std::string IrcServer::TopicSetter(const v1::Topic& topic) {
  if (topic.author() == options_.node_id) {
    if (LocalClient* local = FindClientByNick(topic.sender());
        local != nullptr && !topic.sender().empty()) {
      return local->nick;
    }
  }
  return directory_.Resolve(topic.author(), topic.sender()).nick;
}

// ---- JOIN ------------------------------------------------------------------------------------

void IrcServer::HandleJoin(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kErrNeedMoreParams, {"JOIN", "Not enough parameters"});
    return;
  }
  if (m.params[0] == "0") {
    std::vector<std::string> keys;
    for (const auto& [key, membership] : client.channels) keys.push_back(key);
    for (const auto& key : keys) PartOne(client, key, "Left all channels", /*announce=*/true);
    return;
  }
  std::vector<std::string> names = SplitCommaList(m.params[0]);
  if (names.size() > limits::kMaxTargets) {
    Numeric(client, kErrTooManyTargets,
            {m.params[0], fmt::format("Too many channels (at most {})", limits::kMaxTargets)});
    return;
  }
  std::vector<std::string> keys;
  if (m.params.size() > 1) keys = SplitCommaList(m.params[1]);
  for (size_t i = 0; i < names.size(); ++i) {
    JoinOne(client, names[i], i < keys.size() ? keys[i] : std::string());
  }
}

void IrcServer::JoinOne(LocalClient& client, const std::string& name, const std::string& join_key) {
  if (!IsValidChannelName(name)) {
    Numeric(client, kErrNoSuchChannel,
            {name, fmt::format("No such channel (channel names start with # and have at most "
                               "{} bytes without spaces, commas or colons)",
                               limits::kMaxChannelNameBytes)});
    return;
  }
  std::string key = FoldCase(name);
  if (client.channels.count(key) != 0) return;
  if (client.channels.size() >= limits::kMaxChannelsPerClient) {
    Numeric(client, kErrTooManyChannels, {name, "You have joined too many channels"});
    return;
  }
  Channel& channel = ChannelFor(key);
  channel.members.insert(client.id);
  client.channels.emplace(key, Membership{}).first->second.join_key = join_key;
  ClientId id = client.id;
  backend_.FetchChannel(channel.store_channel, options_.history_limit,
                        Awaiting<ChannelSnapshot>(client, [this, id, key](ChannelSnapshot snapshot) {
                          CompleteJoin(id, key, std::move(snapshot));
                        }));
}

void IrcServer::CompleteJoin(ClientId id, const std::string& key, ChannelSnapshot snapshot) {
  LocalClient* client = FindClient(id);
  if (client == nullptr || client->closing) return;
  auto it = client->channels.find(key);
  if (it == client->channels.end() || !it->second.joining) return;
  Channel& channel = ChannelFor(key);
  Membership& membership = it->second;
  if (snapshot.status.ok()) {
    UpdateTopic(channel, snapshot.topic);
    ApplySnapshotModes(channel, snapshot);
  }
  if (!AdmitJoin(*client, channel, membership.join_key)) {
    PartOne(*client, key, "", /*announce=*/false);
    return;
  }
  if (snapshot.status.ok()) ShowRecentSpeakers(channel, snapshot.history);
  ShowPresentMembers(channel);

  // The first of this gateway's clients in the channel is its operator here.
  bool first = true;
  for (ClientId other : channel.members) {
    LocalClient* member = FindClient(other);
    if (other != id && member != nullptr && IsJoined(*member, key)) first = false;
  }
  if (first) channel.modes.SetStatus('o', id, true);
  membership.joining = false;
  AnnounceMembership(*client, key);
  Outgoing join = Event(client->Prefix(), "JOIN", {channel.name}, /*trailing=*/false);
  Broadcast(channel, join);
  if (!client->away.empty()) {
    Outgoing away = Event(client->Prefix(), "AWAY", {client->away});
    Broadcast(channel, away, id, kCapAwayNotify);
  }
  SendTopic(*client, channel, /*on_join=*/true);
  SendNames(*client, channel);
  if (snapshot.status.ok()) {
    membership.horizon = snapshot.horizon;
    PlayHistory(*client, membership, channel, snapshot.history);
  } else {
    Notice(*client, fmt::format("{}: history is not available right now ({})", channel.name,
                                snapshot.status.message()));
  }
  std::vector<Delivery> held = std::move(membership.held);
  membership.held.clear();
  for (const auto& delivery : held) {
    const v1::ChatMessage& message = delivery.message;
    if (message.cursor() <= membership.horizon && membership.played.count(MsgidOf(message))) {
      continue;
    }
    SendDelivery(*client, delivery, nullptr);
  }
}

void IrcServer::ShowRecentSpeakers(Channel& channel, const std::vector<v1::ChatMessage>& history) {
  uint64_t now_wall = NowWallMs();
  for (const auto& message : history) {
    if (message.author() == options_.node_id) continue;  // local senders come and go here
    uint64_t wall = message.hlc().wall_ms();
    int64_t age = wall >= now_wall ? 0 : static_cast<int64_t>(now_wall - wall);
    if (age >= options_.remote_idle_part_ms) continue;
    ExternalUser& user = directory_.Resolve(message.author(), message.sender());
    int64_t last_seen = now_ms_ - age;
    auto found = channel.remote.find(&user);
    if (found != channel.remote.end()) {
      found->second = std::max(found->second, last_seen);
      continue;
    }
    // Members already in the channel see them arrive; the joining client sees them in NAMES.
    EnsurePresent(channel, user, last_seen);
  }
}

void IrcServer::SendStored(LocalClient& client, const v1::ChatMessage& message,
                           const std::string& channel, const std::string& batch) {
  Delivery delivery;
  delivery.message = message;
  delivery.channel = channel;
  ClientId sender = 0;
  ExternalUser* external = nullptr;
  delivery.source = SourceOf(message, /*consume=*/false, &sender, &delivery.notice, &external);
  bool tags_client = (client.caps & kCapMessageTags) != 0;
  for (auto& line : RenderDelivery(delivery, batch, tags_client)) Send(client, line);
}

void IrcServer::EndBatch(LocalClient& client, const std::string& batch) {
  if (batch.empty()) return;
  Message end;
  end.prefix = options_.server_name;
  end.command = "BATCH";
  end.params = {"-" + batch};
  Send(client, Render(end));
}

void IrcServer::PlayHistory(LocalClient& client, Membership& membership, const Channel& channel,
                            const std::vector<v1::ChatMessage>& history) {
  // A draft/chathistory client asks for history itself (CHATHISTORY LATEST after JOIN).
  if ((client.caps & kCapChatHistory) != 0) return;
  std::string batch;
  bool any = false;
  for (const auto& message : history) {
    any = any || (message.kind() != "topic" && message.kind() != "modes");
  }
  if (any && (client.caps & kCapBatch) != 0) {
    batch = fmt::format("history{}", ++batch_counter_);
    Message start;
    start.prefix = options_.server_name;
    start.command = "BATCH";
    start.params = {"+" + batch, "chathistory", channel.name};
    Send(client, Render(start));
  }
  for (const auto& message : history) {
    membership.played.insert(MsgidOf(message));
    // The current topic was sent as 332; the current modes are MODE's answer (324).
    if (message.kind() == "topic" || message.kind() == "modes") continue;
    SendStored(client, message, channel.name, batch);
  }
  EndBatch(client, batch);
}

// ---- PART ------------------------------------------------------------------------------------

void IrcServer::HandlePart(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kErrNeedMoreParams, {"PART", "Not enough parameters"});
    return;
  }
  std::string reason;
  if (m.params.size() > 1) reason = std::string(TruncateUtf8(m.params[1], limits::kMaxQuitBytes));
  for (const auto& name : SplitCommaList(m.params[0])) {
    if (!IsValidChannelName(name)) {
      Numeric(client, kErrNoSuchChannel, {name, "No such channel"});
      continue;
    }
    std::string key = FoldCase(name);
    if (client.channels.count(key) == 0) {
      Numeric(client, kErrNotOnChannel, {name, "You're not on that channel"});
      continue;
    }
    PartOne(client, key, reason, /*announce=*/true);
  }
}

void IrcServer::PartOne(LocalClient& client, const std::string& key, std::string_view reason,
                        bool announce) {
  auto it = client.channels.find(key);
  if (it == client.channels.end()) return;
  auto channel = channels_.find(key);
  if (channel != channels_.end()) {
    if (announce) {
      std::vector<std::string> params = {channel->second.name};
      if (!reason.empty()) params.emplace_back(reason);
      Outgoing part = Event(client.Prefix(), "PART", std::move(params));
      if (it->second.joining) {
        Send(client, part);
      } else {
        Broadcast(channel->second, part);
        AnnounceMembership(client, key, std::string(reason));
      }
    }
    channel->second.members.erase(client.id);
    channel->second.modes.Forget(client.id);
  }
  client.channels.erase(it);
  DropChannelIfUnused(key);
}

// ---- TOPIC -----------------------------------------------------------------------------------

void IrcServer::SendTopic(LocalClient& client, const Channel& channel, bool on_join) {
  if (channel.topic_known && channel.topic.set() && !channel.topic.text().empty()) {
    Numeric(
        client, kRplTopic,
        {channel.name, std::string(TruncateUtf8(channel.topic.text(), limits::kMaxTopicBytes))});
    Numeric(client, kRplTopicWhoTime,
            {channel.name, TopicSetter(channel.topic),
             std::to_string(channel.topic.hlc().wall_ms() / 1000)});
  } else if (!on_join) {
    Numeric(client, kRplNoTopic, {channel.name, "No topic is set"});
  }
}

void IrcServer::HandleTopic(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kErrNeedMoreParams, {"TOPIC", "Not enough parameters"});
    return;
  }
  const std::string& name = m.params[0];
  if (!IsValidChannelName(name)) {
    Numeric(client, kErrNoSuchChannel, {name, "No such channel"});
    return;
  }
  std::string key = FoldCase(name);
  if (m.params.size() == 1) {
    auto channel = channels_.find(key);
    if (channel != channels_.end() && channel->second.topic_known) {
      SendTopic(client, channel->second, /*on_join=*/false);
      return;
    }
    ClientId id = client.id;
    backend_.FetchTopic(StoreChannelFor(key), Awaiting<TopicAnswer>(client, [this, id, key](
                                                                      TopicAnswer answer) {
      LocalClient* asker = FindClient(id);
      if (asker == nullptr) return;
      if (!answer.status.ok()) {
        Numeric(*asker, kErrUnknownError,
                {"TOPIC", fmt::format("Cannot read the topic of {} right now: {}", key,
                                      answer.status.message())});
        return;
      }
      auto existing = channels_.find(key);
      if (existing != channels_.end()) {
        UpdateTopic(existing->second, answer.topic);
        SendTopic(*asker, existing->second, /*on_join=*/false);
        return;
      }
      Channel snapshot;
      snapshot.name = key;
      snapshot.topic_known = true;
      snapshot.topic = answer.topic;
      SendTopic(*asker, snapshot, /*on_join=*/false);
    }));
    return;
  }
  if (client.channels.count(key) == 0) {
    Numeric(client, kErrNotOnChannel, {name, "You're not on that channel"});
    return;
  }
  if (auto channel = channels_.find(key); channel != channels_.end() &&
                                          channel->second.modes.Has('t') &&
                                          !channel->second.modes.IsOp(client.id)) {
    Numeric(client, kErrChanOPrivsNeeded, {channel->second.name, "You're not channel operator"});
    return;
  }
  std::string text(TruncateUtf8(m.params[1], limits::kMaxTopicBytes));
  v1::SetTopicRequest request;
  request.set_store(options_.store);
  request.set_channel(StoreChannelFor(key));
  request.set_text(text);
  request.set_sender(client.nick);
  v1::ChatMessage shown;
  shown.set_kind("topic");
  shown.set_text(text);
  SubmitWrite(client, key, WriteKind::kTopic, std::move(shown),
              [&](std::function<void(PostOutcome)> done) {
                backend_.SetTopic(request, client.id, std::move(done));
              });
}

// ---- NAMES, LIST -------------------------------------------------------------------------------

void IrcServer::SendNames(LocalClient& client, const Channel& channel) {
  bool userhost = (client.caps & kCapUserhostInNames) != 0;
  std::vector<std::string> nicks;
  for (ClientId id : channel.members) {
    LocalClient* member = FindClient(id);
    if (member == nullptr) continue;
    auto it = member->channels.find(channel.name);
    if (member != &client && (it == member->channels.end() || it->second.joining)) continue;
    nicks.push_back(MemberPrefix(client, channel, id) +
                    (userhost ? member->Prefix() : member->nick));
  }
  for (const auto& [user, last_seen] : channel.remote) {
    nicks.push_back(userhost ? user->Prefix() : user->nick);
  }
  // RFC 2812 §3.2.5: "@" marks a secret channel.
  std::string kind = channel.modes.Has('s') ? "@" : "=";
  // Keep each 353 line well inside 512 bytes.
  constexpr size_t kNamesBytes = 400;
  std::string line;
  auto flush = [&] {
    if (line.empty()) return;
    Numeric(client, kRplNamReply, {kind, channel.name, line});
    line.clear();
  };
  for (const auto& nick : nicks) {
    if (line.size() + nick.size() + 1 > kNamesBytes) flush();
    if (!line.empty()) line.push_back(' ');
    line += nick;
  }
  flush();
  Numeric(client, kRplEndOfNames, {channel.name, "End of /NAMES list."});
}

void IrcServer::HandleNames(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kRplEndOfNames, {"*", "End of /NAMES list."});
    return;
  }
  for (const auto& name : SplitCommaList(m.params[0])) {
    auto channel = channels_.find(FoldCase(name));
    if (channel == channels_.end() ||
        (channel->second.modes.Has('s') && client.channels.count(channel->first) == 0)) {
      Numeric(client, kRplEndOfNames, {name, "End of /NAMES list."});
      continue;
    }
    SendNames(client, channel->second);
  }
}

namespace {

// What LIST shows (modern.ircdocs LIST, with ELIST=MNU): without parameters, channels with
// at least one user known to this gateway (its clients and the users of other nodes it
// shows); "#a,#b" names channels (shown even when empty); conditions, comma-separated:
// ">n" / "<n" (more / fewer than n users), a mask ("*" for every channel, empty ones too) and
// "!mask" (not matching).
struct ListFilter {
  std::set<std::string> names;  // folded
  std::vector<std::string> masks;
  std::vector<std::string> not_masks;
  size_t min_users = 1;  // more than min_users - 1
  size_t max_users = SIZE_MAX;
};

bool MaskMatches(std::string_view mask, std::string_view text) {
  // '*' any run, '?' one character; iterative with one backtrack point.
  size_t m = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (m < mask.size() && (mask[m] == '?' || mask[m] == text[t])) {
      ++m;
      ++t;
    } else if (m < mask.size() && mask[m] == '*') {
      star = m++;
      mark = t;
    } else if (star != std::string_view::npos) {
      m = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (m < mask.size() && mask[m] == '*') ++m;
  return m == mask.size();
}

ListFilter ParseListFilter(const Message& m) {
  ListFilter filter;
  if (m.params.empty()) return filter;
  for (const auto& item : SplitCommaList(m.params[0])) {
    if (item.empty()) continue;
    if (item[0] == '#' && item.find_first_of("*?") == std::string::npos) {
      filter.names.insert(FoldCase(item));
    } else if ((item[0] == '>' || item[0] == '<') && item.size() > 1 &&
               item.find_first_not_of("0123456789", 1) == std::string::npos && item.size() < 10) {
      size_t n = std::stoul(item.substr(1));
      if (item[0] == '>') {
        filter.min_users = n + 1;
      } else {
        filter.min_users = 0;
        filter.max_users = n == 0 ? 0 : n - 1;
      }
    } else if (item[0] == '!') {
      filter.not_masks.push_back(FoldCase(item.substr(1)));
    } else {
      filter.masks.push_back(FoldCase(item));
      filter.min_users = 0;
    }
  }
  if (!filter.names.empty()) filter.min_users = 0;
  return filter;
}

bool ListShows(const ListFilter& filter, const std::string& name, size_t users) {
  if (!filter.names.empty() && filter.names.count(name) == 0) return false;
  if (users < filter.min_users || users > filter.max_users) return false;
  if (!filter.masks.empty()) {
    bool any = false;
    for (const auto& mask : filter.masks) any = any || MaskMatches(mask, name);
    if (!any) return false;
  }
  for (const auto& mask : filter.not_masks) {
    if (MaskMatches(mask, name)) return false;
  }
  return true;
}

}  // namespace

void IrcServer::HandleList(LocalClient& client, const Message& m) {
  ListFilter filter = ParseListFilter(m);
  ClientId id = client.id;
  backend_.ListChannels(Awaiting<ChannelList>(client, [this, id, filter](ChannelList list) {
    // Secret channels (+s) are listed to their members only.
    std::set<std::string> secret;
    LocalClient* asker = FindClient(id);
    if (asker == nullptr) return;
    struct Row {
      size_t users = 0;
      std::string topic;
    };
    std::map<std::string, Row> rows;
    if (list.status.ok()) {
      for (const auto& info : list.channels) {
        std::string name = IrcChannelFor(info.name());
        if (name.empty()) continue;
        for (const auto& mode : info.modes()) {
          if (mode.mode() == "s") secret.insert(name);
        }
        Row& row = rows[name];
        if (info.topic().set()) row.topic = info.topic().text();
      }
    } else {
      Notice(*asker, fmt::format("LIST shows only the channels joined on this gateway: {}",
                                 list.status.message()));
    }
    for (const auto& [key, channel] : channels_) {
      if (channel.modes.Has('s')) {
        secret.insert(key);
      } else {
        secret.erase(key);  // this gateway has seen it switched off since
      }
      Row& row = rows[key];
      row.users = channel.members.size() + channel.remote.size();
      if (channel.topic_known && channel.topic.set()) row.topic = channel.topic.text();
    }
    Numeric(*asker, kRplListStart, {"Channel", "Users  Name"});
    for (const auto& [name, row] : rows) {
      if (!ListShows(filter, name, row.users)) continue;
      if (secret.count(name) != 0 && asker->channels.count(name) == 0) continue;
      Numeric(*asker, kRplList,
              {name, std::to_string(row.users),
               std::string(TruncateUtf8(row.topic, limits::kMaxTopicBytes))});
    }
    Numeric(*asker, kRplListEnd, {"End of /LIST"});
  }));
}

}  // namespace lattice::irc
