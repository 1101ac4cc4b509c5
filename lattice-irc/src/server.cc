// IrcServer: connections, registration, command dispatch and timers (see server.h).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include "casemap.h"
#include "isupport.h"
#include "limits.h"
#include "numerics.h"
#include "server_state.h"
#include "text_lines.h"
#include "utf8.h"

namespace lattice::irc {

using namespace numeric;

IrcServer::IrcServer(ServerOptions options, ClientTransport& transport, ChatBackend& backend)
    : options_(std::move(options)),
      transport_(transport),
      backend_(backend),
      directory_([this](const std::string& folded) { return nicks_.count(folded) != 0; }),
      roster_(options_.node_id, options_.presence_instance) {
  if (!options_.wall_clock_ms) {
    options_.wall_clock_ms = [] {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    };
  }
  std::time_t now = static_cast<std::time_t>(NowWallMs() / 1000);
  std::tm utc{};
  gmtime_r(&now, &utc);
  created_ = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", utc.tm_year + 1900,
                         utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

IrcServer::~IrcServer() = default;

uint64_t IrcServer::NowWallMs() const { return options_.wall_clock_ms(); }

IrcServer::LocalClient* IrcServer::FindClient(ClientId id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

IrcServer::LocalClient* IrcServer::FindClientByNick(std::string_view nick) {
  auto it = nicks_.find(FoldCase(nick));
  return it == nicks_.end() ? nullptr : FindClient(it->second);
}

// ---- Output ----------------------------------------------------------------------------

std::string IrcServer::Target(const LocalClient& client) const {
  return client.nick.empty() ? std::string("*") : client.nick;
}

void IrcServer::Send(LocalClient& client, const std::string& line) {
  if (client.closing) return;
  if (client.current_label != 0 && SendLabeled(client, line)) return;
  transport_.Send(client.id, line);
}

void IrcServer::Send(LocalClient& client, Outgoing& message) {
  Send(client, message.For(client.caps));
}

void IrcServer::Numeric(LocalClient& client, int code, std::vector<std::string> params) {
  Message m;
  m.prefix = options_.server_name;
  m.command = fmt::format("{:03}", code);
  m.params.reserve(params.size() + 1);
  m.params.push_back(Target(client));
  for (auto& param : params) m.params.push_back(std::move(param));
  Send(client, Render(m, /*trailing=*/true));
}

Outgoing IrcServer::Event(const std::string& source, std::string command,
                          std::vector<std::string> params, bool trailing) {
  Message m;
  m.prefix = source;
  m.command = std::move(command);
  m.params = std::move(params);
  return Outgoing(std::move(m), trailing, NowWallMs());
}

void IrcServer::Notice(LocalClient& client, const std::string& text) {
  Message m;
  m.prefix = options_.server_name;
  m.command = "NOTICE";
  m.params = {Target(client), text};
  Send(client, Render(m, true));
}

void IrcServer::Broadcast(Channel& channel, Outgoing& message, ClientId except,
                          CapSet required) {
  for (ClientId id : channel.members) {
    if (id == except) continue;
    LocalClient* member = FindClient(id);
    if (member == nullptr || (member->caps & required) != required) continue;
    auto it = member->channels.find(channel.name);
    if (it == member->channels.end() || it->second.joining) continue;
    Send(*member, message);
  }
}

std::unordered_set<ClientId> IrcServer::BroadcastToPeers(LocalClient& client, Outgoing& message,
                                                         bool include_self, CapSet required) {
  std::unordered_set<ClientId> sent;
  if (include_self && (client.caps & required) == required) {
    Send(client, message);
  }
  sent.insert(client.id);
  for (const auto& [key, membership] : client.channels) {
    if (membership.joining) continue;
    auto channel = channels_.find(key);
    if (channel == channels_.end()) continue;
    for (ClientId id : channel->second.members) {
      if (!sent.insert(id).second) continue;
      LocalClient* peer = FindClient(id);
      if (peer == nullptr || (peer->caps & required) != required) continue;
      auto it = peer->channels.find(key);
      if (it == peer->channels.end() || it->second.joining) continue;
      Send(*peer, message);
    }
  }
  return sent;
}

// ---- Connections -------------------------------------------------------------------------

void IrcServer::OnConnect(ClientId id, int64_t now_ms) {
  now_ms_ = now_ms;
  auto client = std::make_unique<LocalClient>();
  client->id = id;
  client->registration = Registration(options_.password);
  client->host = HostForNode(options_.node_id);
  client->connected_ms = now_ms;
  client->last_input_ms = now_ms;
  client->last_message_ms = now_ms;
  client->signon_unix = NowWallMs() / 1000;
  clients_.emplace(id, std::move(client));
}

void IrcServer::CloseClient(LocalClient& client, std::string_view reason) {
  if (client.closing) return;
  transport_.Close(client.id, reason);
  client.closing = true;
}

void IrcServer::OnDisconnect(ClientId id, std::string_view reason) {
  LocalClient* client = FindClient(id);
  if (client == nullptr) return;
  if (client->registration.registered()) {
    Outgoing quit = Event(client->Prefix(), "QUIT", {std::string(reason)});
    BroadcastToPeers(*client, quit, /*include_self=*/false);
    AnnounceQuit(*client, reason);
    --registered_clients_;
  }
  std::vector<std::string> keys;
  for (const auto& [key, membership] : client->channels) keys.push_back(key);
  for (const auto& key : keys) PartOne(*client, key, "", /*announce=*/false);
  if (!client->nick.empty()) {
    auto it = nicks_.find(FoldCase(client->nick));
    if (it != nicks_.end() && it->second == id) nicks_.erase(it);
  }
  StopMonitoringAll(*client);
  std::string nick = client->registration.registered() ? client->nick : "";
  clients_.erase(id);
  if (!nick.empty()) RefreshMonitored(nick);
}

void IrcServer::OnLineTooLong(ClientId id) {
  LocalClient* client = FindClient(id);
  if (client == nullptr) return;
  Numeric(*client, kErrInputTooLong, {"Input line was too long"});
}

void IrcServer::OnLine(ClientId id, std::string_view line, int64_t now_ms) {
  now_ms_ = now_ms;
  LocalClient* client = FindClient(id);
  if (client == nullptr || client->closing) return;
  client->last_input_ms = now_ms;
  client->ping_sent_ms = 0;
  if (client->waiting > 0 || !client->held_lines.empty()) {
    if (client->held_bytes + line.size() > options_.max_held_input_bytes) {
      CloseClient(*client, fmt::format("Excess Flood: more than {} bytes of input sent while an "
                                       "earlier command waited",
                                       options_.max_held_input_bytes));
      return;
    }
    client->held_bytes += line.size();
    client->held_lines.emplace_back(line);
    return;
  }
  ProcessLine(*client, line);
}

// ---- Waiting for the kernel ------------------------------------------------------------------

void IrcServer::BeginWait(LocalClient& client) {
  if (client.waiting++ == 0) transport_.HoldInput(client.id, true);
}

void IrcServer::EndWait(ClientId id) {
  LocalClient* client = FindClient(id);
  if (client == nullptr || client->waiting == 0) return;
  --client->waiting;
  // An answer that comes while held lines are being handled (a backend that answers at
  // once) leaves the rest to the loop below, which keeps their order.
  if (client->resuming) return;
  client->resuming = true;
  while (client->waiting == 0 && !client->held_lines.empty() && !client->closing) {
    std::string line = std::move(client->held_lines.front());
    client->held_lines.pop_front();
    client->held_bytes -= line.size();
    ProcessLine(*client, line);
  }
  client->resuming = false;
  if (client->waiting == 0 && !client->closing) transport_.HoldInput(id, false);
}

namespace {

// Commands whose last parameter is free text people type: invalid UTF-8 there is replaced
// (with a WARN); anywhere else the command is refused (with a FAIL).
bool LastParamIsText(const std::string& command) {
  return command == "PRIVMSG" || command == "NOTICE" || command == "TOPIC" ||
         command == "PART" || command == "QUIT" || command == "AWAY" || command == "USER" ||
         command == "KICK";
}

}  // namespace

void IrcServer::ProcessLine(LocalClient& client, std::string_view line) {
  if (!line.empty() && line[0] == '@') {
    size_t space = line.find(' ');
    size_t tags = space == std::string_view::npos ? line.size() : space + 1;
    if (tags > limits::kMaxClientTagsBytes) {
      Numeric(client, kErrInputTooLong, {"Input line was too long"});
      return;
    }
  }
  ParseResult parsed = ParseLine(line);
  switch (parsed.error) {
    case ParseError::kNone:
      break;
    case ParseError::kEmpty:
    case ParseError::kNoCommand:
      return;
    case ParseError::kTagsTooLong:
    case ParseError::kLineTooLong:
      Numeric(client, kErrInputTooLong, {"Input line was too long"});
      return;
    case ParseError::kBadCommand:
    case ParseError::kTooManyParams:
      Numeric(client, kErrUnknownError,
              {"*", fmt::format("Malformed line: {}", DescribeParseError(parsed.error))});
      return;
  }
  Message& m = parsed.message;
  if (!IsValidUtf8(line)) {
    // UTF8ONLY (IRCv3 utf8-only): text is repaired and the client warned; a name or a key
    // in invalid UTF-8 cannot be repaired into what the client meant, so it is refused.
    bool repairable = LastParamIsText(m.command) && !m.params.empty();
    for (size_t i = 0; repairable && i + 1 < m.params.size(); ++i) {
      repairable = IsValidUtf8(m.params[i]);
    }
    if (!repairable) {
      StandardReply(client, "FAIL", m.command, "INVALID_UTF8",
                    "Command not handled: its parameters are not valid UTF-8, and this server "
                    "speaks UTF-8 only (UTF8ONLY)");
      return;
    }
    m.params.back() = ScrubUtf8(m.params.back());
    for (auto& tag : m.tags) {
      if (!IsValidUtf8(tag.value)) tag.value = ScrubUtf8(tag.value);
    }
    StandardReply(client, "WARN", m.command, "INVALID_UTF8",
                  "Invalid UTF-8 in your message was replaced with U+FFFD: this server speaks "
                  "UTF-8 only (UTF8ONLY), please set your client's charset to UTF-8");
  }
  uint64_t label = BeginLabel(client, m);
  Dispatch(client, m, now_ms_);
  EndLabel(client, label);
}

void IrcServer::StandardReply(LocalClient& client, const std::string& type,
                              const std::string& command, const std::string& code,
                              const std::string& description) {
  Message m;
  m.prefix = options_.server_name;
  m.command = type;
  m.params = {command.empty() ? std::string("*") : command, code, description};
  Send(client, Render(m, true));
}

void IrcServer::Dispatch(LocalClient& client, const Message& m, int64_t now_ms) {
  const std::string& cmd = m.command;
  // What a connection may say before it is welcomed.
  if (cmd == "CAP") return HandleCap(client, m);
  if (cmd == "PASS") return HandlePass(client, m);
  if (cmd == "NICK") return HandleNick(client, m);
  if (cmd == "USER") return HandleUser(client, m);
  if (cmd == "PING") return HandlePing(client, m);
  if (cmd == "PONG") return;  // any input already counts as an answer
  if (cmd == "QUIT") return HandleQuit(client, m);
  if (!client.registration.registered()) {
    Numeric(client, kErrNotRegistered, {"You have not registered"});
    return;
  }
  if (cmd == "PRIVMSG" || cmd == "NOTICE") {
    client.last_message_ms = now_ms;
    return HandleMessage(client, m, cmd == "NOTICE");
  }
  if (cmd == "TAGMSG") return HandleTagMsg(client, m);
  if (cmd == "CHATHISTORY") return HandleChatHistory(client, m);
  if (cmd == "JOIN") return HandleJoin(client, m);
  if (cmd == "PART") return HandlePart(client, m);
  if (cmd == "TOPIC") return HandleTopic(client, m);
  if (cmd == "NAMES") return HandleNames(client, m);
  if (cmd == "LIST") return HandleList(client, m);
  if (cmd == "WHO") return HandleWho(client, m);
  if (cmd == "WHOIS") return HandleWhois(client, m);
  if (cmd == "MODE") return HandleMode(client, m);
  if (cmd == "KICK") return HandleKick(client, m);
  if (cmd == "INVITE") return HandleInvite(client, m);
  if (cmd == "AWAY") return HandleAway(client, m);
  if (cmd == "ISON") return HandleIson(client, m);
  if (cmd == "MONITOR") return HandleMonitor(client, m);
  if (cmd == "USERHOST") return HandleUserhost(client, m);
  if (cmd == "MOTD") return SendMotd(client);
  if (cmd == "VERSION") {
    Numeric(client, kRplVersion,
            {"lattice-irc-" + options_.version, options_.server_name,
             "Lattice IRC gateway for chat store " + options_.store});
    return;
  }
  if (cmd == "TIME") {
    Numeric(client, kRplTime, {options_.server_name, FormatServerTime(NowWallMs())});
    return;
  }
  if (cmd == "LUSERS") return HandleLusers(client);
  Numeric(client, kErrUnknownCommand, {cmd, "Unknown command"});
}

// ---- Registration --------------------------------------------------------------------------

void IrcServer::HandleCap(LocalClient& client, const Message& m) {
  if (m.params.empty()) {
    Numeric(client, kErrNeedMoreParams, {"CAP", "Not enough parameters"});
    return;
  }
  std::string sub = m.params[0];
  for (char& c : sub) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto reply = [&](const std::string& verb, const std::string& list) {
    Message out;
    out.prefix = options_.server_name;
    out.command = "CAP";
    out.params = {Target(client), verb, list};
    Send(client, Render(out, true));
  };
  if (sub == "LS") {
    client.registration.OnCapStart();
    reply("LS", CapNames(kAllCaps));
  } else if (sub == "LIST") {
    reply("LIST", CapNames(client.caps));
  } else if (sub == "REQ") {
    client.registration.OnCapStart();
    std::string list = m.params.size() > 1 ? m.params[1] : "";
    CapRequest request = ParseCapRequest(list);
    if (!request.ok) {
      reply("NAK", list);
      return;
    }
    client.caps = (client.caps | request.enable) & ~request.disable;
    reply("ACK", list);
  } else if (sub == "END") {
    client.registration.OnCapEnd();
    MaybeCompleteRegistration(client);
  } else {
    Numeric(client, kErrInvalidCapCmd, {m.params[0], "Invalid CAP command"});
  }
}

void IrcServer::HandlePass(LocalClient& client, const Message& m) {
  if (client.registration.registered()) {
    Numeric(client, kErrAlreadyRegistered, {"You may not reregister"});
    return;
  }
  if (m.params.empty()) {
    Numeric(client, kErrNeedMoreParams, {"PASS", "Not enough parameters"});
    return;
  }
  client.registration.OnPass(m.params[0]);
}

void IrcServer::HandleNick(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kErrNoNicknameGiven, {"No nickname given"});
    return;
  }
  const std::string& nick = m.params[0];
  if (!IsValidNick(nick)) {
    Numeric(client, kErrErroneusNickname, {nick, "Erroneous nickname"});
    return;
  }
  if (IsReservedRemoteNick(nick)) {
    Numeric(client, kErrErroneusNickname,
            {nick, "Nicknames ending in |<8 hex digits> name users of other nodes"});
    return;
  }
  std::string folded = FoldCase(nick);
  auto holder = nicks_.find(folded);
  if (holder != nicks_.end()) {
    if (holder->second == client.id) {
      if (nick != client.nick && client.registration.registered())
        ChangeNick(client, nick);
      else if (!client.registration.registered())
        client.nick = nick;
      return;
    }
    Numeric(client, kErrNicknameInUse, {nick, "Nickname is already in use"});
    return;
  }
  if (!client.registration.registered()) {
    if (!client.nick.empty()) nicks_.erase(FoldCase(client.nick));
    nicks_[folded] = client.id;
    client.nick = nick;
    client.registration.OnNick(nick);
    // A sender of another node shown under this nick moves aside now, so the welcome and
    // every later message are unambiguous.
    if (auto moved = directory_.YieldNick(nick)) {
      auto [user, old_nick] = *moved;
      Outgoing rename = Event(old_nick + "!" + user->user + "@" + user->host, "NICK", {user->nick},
                              /*trailing=*/false);
      for (auto& [key, channel] : channels_) {
        if (channel.remote.count(user) != 0) Broadcast(channel, rename);
      }
    }
    MaybeCompleteRegistration(client);
    return;
  }
  ChangeNick(client, nick);
}

void IrcServer::ChangeNick(LocalClient& client, const std::string& nick) {
  std::string old_prefix = client.Prefix();
  std::string folded = FoldCase(nick);
  std::string old_folded = FoldCase(client.nick);
  if (folded != old_folded) {
    nicks_.erase(old_folded);
    nicks_[folded] = client.id;
    if (auto moved = directory_.YieldNick(nick)) {
      auto [user, old_nick] = *moved;
      Outgoing rename = Event(old_nick + "!" + user->user + "@" + user->host, "NICK", {user->nick},
                              /*trailing=*/false);
      for (auto& [key, channel] : channels_) {
        if (channel.remote.count(user) != 0) Broadcast(channel, rename);
      }
    }
  }
  std::string old_nick = client.nick;
  client.nick = nick;
  Outgoing change = Event(old_prefix, "NICK", {nick}, /*trailing=*/false);
  BroadcastToPeers(client, change, /*include_self=*/true);
  AnnounceUser(client);
  RefreshMonitored(old_nick);
  RefreshMonitored(nick);
}

void IrcServer::HandleUser(LocalClient& client, const Message& m) {
  if (client.registration.registered() || client.registration.has_user()) {
    Numeric(client, kErrAlreadyRegistered, {"You may not reregister"});
    return;
  }
  // modern.ircdocs: an empty realname is "not enough parameters" too.
  if (m.params.size() < 4 || m.params[0].empty() || m.params[3].empty()) {
    Numeric(client, kErrNeedMoreParams, {"USER", "Not enough parameters"});
    return;
  }
  client.registration.OnUser(m.params[0], m.params[3]);
  MaybeCompleteRegistration(client);
}

void IrcServer::MaybeCompleteRegistration(LocalClient& client) {
  switch (client.registration.state()) {
    case Registration::State::kPending:
    case Registration::State::kRegistered:
      return;
    case Registration::State::kPasswordMismatch:
      Numeric(client, kErrPasswdMismatch, {"Password incorrect"});
      CloseClient(client, "Bad password");
      return;
    case Registration::State::kReady:
      break;
  }
  client.registration.MarkRegistered();
  client.user = client.registration.user();
  client.realname = client.registration.realname();
  SendWelcome(client);
  RefreshMonitored(client.nick);
}

void IrcServer::SendWelcome(LocalClient& client) {
  ++registered_clients_;
  max_local_users_ = std::max(max_local_users_, registered_clients_);
  AnnounceUser(client);
  Numeric(
      client, kRplWelcome,
      {fmt::format("Welcome to the {} IRC gateway, {}", options_.network_name, client.Prefix())});
  Numeric(client, kRplYourHost,
          {fmt::format("Your host is {}, running lattice-irc {}", options_.server_name,
                       options_.version)});
  Numeric(client, kRplCreated, {"This server was created " + created_});
  {
    Message m;
    m.prefix = options_.server_name;
    m.command = "004";
    m.params = {Target(client), options_.server_name, "lattice-irc-" + options_.version, "iw"};
    // Channel modes, then those that take a parameter (channel_modes.h).
    m.params.push_back("biklmnostv");
    m.params.push_back("bklov");
    Send(client, Render(m));
  }
  for (auto& tokens : IsupportLines(IsupportTokens(options_.network_name))) {
    tokens.push_back("are supported by this server");
    Numeric(client, kRplIsupport, std::move(tokens));
  }
  SendMotd(client);
}

void IrcServer::SendMotd(LocalClient& client) {
  if (options_.motd.empty()) {
    Numeric(client, kErrNoMotd, {"MOTD File is missing"});
    return;
  }
  Numeric(client, kRplMotdStart, {fmt::format("- {} Message of the day -", options_.server_name)});
  for (const auto& line : options_.motd) {
    Numeric(client, kRplMotd, {"- " + std::string(TruncateUtf8(line, 400))});
  }
  Numeric(client, kRplEndOfMotd, {"End of /MOTD command."});
}

void IrcServer::HandlePing(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kErrNoOrigin, {"No origin specified"});
    return;
  }
  Message pong;
  pong.prefix = options_.server_name;
  pong.command = "PONG";
  pong.params = {options_.server_name, m.params[0]};
  Send(client, Render(pong, true));
}

void IrcServer::HandleQuit(LocalClient& client, const Message& m) {
  std::string reason = "Quit";
  if (!m.params.empty() && !m.params[0].empty()) {
    reason = "Quit: " + std::string(TruncateUtf8(m.params[0], limits::kMaxQuitBytes));
  }
  CloseClient(client, reason);
}

void IrcServer::OnWatchFailed(std::string_view reason) {
  for (auto& [id, client] : clients_) {
    Notice(*client,
           fmt::format("The gateway lost the chat store for good and is stopping: {}", reason));
  }
}

// ---- Timers --------------------------------------------------------------------------------

void IrcServer::OnTick(int64_t now_ms) {
  now_ms_ = now_ms;
  for (auto& [id, client] : clients_) {
    if (client->closing) continue;
    if (!client->registration.registered()) {
      if (now_ms - client->connected_ms >= options_.registration_timeout_ms) {
        CloseClient(*client, "Registration timed out");
      }
      continue;
    }
    // A client whose command waits for the kernel is not silent: its input is held (and
    // its PONG with it) until the kernel answers.
    if (client->waiting > 0) continue;
    if (client->ping_sent_ms != 0) {
      if (now_ms - client->ping_sent_ms >= options_.ping_timeout_ms) {
        CloseClient(*client, fmt::format("Ping timeout: {} seconds",
                                         (now_ms - client->last_input_ms) / 1000));
      }
    } else if (now_ms - client->last_input_ms >= options_.ping_interval_ms) {
      client->ping_sent_ms = now_ms;
      Message ping;
      ping.command = "PING";
      ping.params = {options_.server_name};
      Send(*client, Render(ping, true));
    }
  }
  RenewPresence(now_ms);
  // Users of other nodes who have been quiet for long leave the channel list, unless their
  // gateway announces them in it.
  std::vector<std::string> emptied;
  for (auto& [key, channel] : channels_) {
    for (auto it = channel.remote.begin(); it != channel.remote.end();) {
      if (now_ms - it->second < options_.remote_idle_part_ms || AnnouncedIn(*it->first, key)) {
        ++it;
        continue;
      }
      Outgoing part = Event(it->first->Prefix(), "PART", {channel.name, "idle"});
      Broadcast(channel, part);
      it = channel.remote.erase(it);
    }
    if (channel.members.empty() && channel.remote.empty()) emptied.push_back(key);
  }
  for (const auto& key : emptied) DropChannelIfUnused(key);
}

}  // namespace lattice::irc
