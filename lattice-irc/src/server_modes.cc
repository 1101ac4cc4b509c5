// IrcServer: MODE (channel and user), KICK, INVITE, the modes' checks on JOIN and on
// speaking, and the replicated settings as they come off the watch. Which modes are kept by
// this gateway and which are stored with the channel is said in channel_modes.h.
#include <fmt/format.h>

#include "casemap.h"
#include "channel_modes.h"
#include "limits.h"
#include "numerics.h"
#include "server_state.h"
#include "utf8.h"

namespace lattice::irc {

using namespace numeric;

namespace {

constexpr char kNotOperator[] = "You're not channel operator";

}  // namespace

bool IrcServer::IsJoined(const LocalClient& client, const std::string& key) const {
  auto it = client.channels.find(key);
  return it != client.channels.end() && !it->second.joining;
}

std::string IrcServer::MemberPrefix(const LocalClient& asker, const Channel& channel,
                                    ClientId member) {
  return channel.modes.Prefixes(member, (asker.caps & kCapMultiPrefix) != 0);
}

// ---- MODE ------------------------------------------------------------------------------------

void IrcServer::QueryStoredModes(LocalClient& client, const std::string& name) {
  // Nobody here is in the channel, but it may live on other nodes: ask the store rather
  // than call it missing. Its key stays hidden from a non-member; its creation time (329)
  // is a gateway's own and unknown here.
  ClientId id = client.id;
  backend_.FetchChannel(
      StoreChannelFor(FoldCase(name)), /*history_limit=*/0,
      Awaiting<ChannelSnapshot>(client, [this, id, name](ChannelSnapshot snapshot) {
        LocalClient* asker = FindClient(id);
        if (asker == nullptr) return;
        if (!snapshot.status.ok()) {
          Numeric(*asker, kErrUnknownError,
                  {"MODE", fmt::format("Cannot read the settings of {} right now: {}", name,
                                       std::string(snapshot.status.message()))});
          return;
        }
        if (snapshot.messages == 0 && snapshot.modes.empty()) {
          Numeric(*asker, kErrNoSuchChannel, {name, "No such channel"});
          return;
        }
        Channel stored;
        stored.name = name;
        ApplySnapshotModes(stored, snapshot);
        std::vector<std::string> params{name};
        for (auto& part : stored.modes.Describe(/*with_args=*/false)) {
          params.push_back(std::move(part));
        }
        Numeric(*asker, kRplChannelModeIs, std::move(params));
      }));
}

void IrcServer::HandleMode(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    Numeric(client, kErrNeedMoreParams, {"MODE", "Not enough parameters"});
    return;
  }
  if (m.params[0][0] == '#') return HandleChannelMode(client, m);
  HandleUserMode(client, m);
}

void IrcServer::HandleChannelMode(LocalClient& client, const Message& m) {
  const std::string& target = m.params[0];
  std::string key = FoldCase(target);
  auto found = channels_.find(key);
  if (IsValidChannelName(target) && found == channels_.end() && m.params.size() == 1) {
    return QueryStoredModes(client, target);
  }
  if (!IsValidChannelName(target) || found == channels_.end()) {
    Numeric(client, kErrNoSuchChannel, {target, "No such channel"});
    return;
  }
  Channel& channel = found->second;
  const std::string& name = channel.name;
  bool member = IsJoined(client, key);
  if (m.params.size() == 1) {
    // The key is for members' eyes.
    std::vector<std::string> params{name};
    for (auto& part : channel.modes.Describe(member)) params.push_back(std::move(part));
    Numeric(client, kRplChannelModeIs, std::move(params));
    Numeric(client, kRplCreationTime, {name, std::to_string(channel.created_unix)});
    return;
  }
  std::vector<std::string> args(m.params.begin() + 2, m.params.end());
  ParsedModes parsed = ParseChannelModes(name, m.params[1], args);
  for (auto& error : parsed.errors) Numeric(client, error.code, std::move(error.params));
  if (parsed.list_bans) {
    for (const auto& ban : channel.modes.bans()) {
      Numeric(client, kRplBanList, {name, ban.mask, ban.setter, std::to_string(ban.set_unix)});
    }
    Numeric(client, kRplEndOfBanList, {name, "End of channel ban list"});
  }
  if (parsed.changes.empty()) return;
  if (!member) {
    Numeric(client, kErrNotOnChannel, {name, "You're not on that channel"});
    return;
  }
  if (!channel.modes.IsOp(client.id)) {
    Numeric(client, kErrChanOPrivsNeeded, {name, kNotOperator});
    return;
  }

  std::vector<ModeChange> here;    // per gateway: applied now, shown now
  std::vector<ModeChange> stored;  // replicated: written, shown when the watch returns them
  for (const auto& change : parsed.changes) {
    switch (change.mode) {
      case 'o':
      case 'v': {
        LocalClient* who = FindClientByNick(change.arg);
        if (who == nullptr || !who->registration.registered()) {
          ExternalUser* remote = directory_.FindByNick(change.arg);
          if (remote != nullptr && channel.remote.count(remote) != 0) {
            Numeric(client, kErrUserNotInChannel,
                    {remote->nick, name,
                     "is a user of another node: operator and voice status are kept by each "
                     "node's gateway for its own clients"});
          } else if (remote != nullptr) {
            Numeric(client, kErrUserNotInChannel,
                    {remote->nick, name, "They aren't on that channel"});
          } else {
            Numeric(client, kErrNoSuchNick, {change.arg, "No such nick/channel"});
          }
          break;
        }
        if (!IsJoined(*who, key)) {
          Numeric(client, kErrUserNotInChannel, {who->nick, name, "They aren't on that channel"});
          break;
        }
        if (channel.modes.SetStatus(change.mode, who->id, change.on)) {
          here.push_back(ModeChange{change.mode, change.on, who->nick});
        }
        break;
      }
      case 'b':
        if (change.on) {
          if (channel.modes.AddBan(change.arg, client.Prefix(), NowWallMs() / 1000)) {
            here.push_back(change);
          } else if (channel.modes.BanListFull()) {
            Numeric(client, kErrBanListFull,
                    {name, change.arg,
                     fmt::format("Channel ban list is full (at most {})", limits::kMaxBans)});
          }
        } else if (channel.modes.RemoveBan(change.arg)) {
          here.push_back(change);
        }
        break;
      default: {
        // The last change of a mode in the line is the one that counts ("+t-t" is -t).
        std::erase_if(stored, [&](const ModeChange& c) { return c.mode == change.mode; });
        if (channel.modes.WouldChange(change)) stored.push_back(change);
        break;
      }
    }
  }
  if (!here.empty()) {
    std::vector<std::string> params{name};
    for (auto& part : RenderModeChanges(here)) params.push_back(std::move(part));
    Outgoing line = Event(client.Prefix(), "MODE", std::move(params), /*trailing=*/false);
    Broadcast(channel, line);
  }
  if (stored.empty()) return;
  v1::SetModesRequest request;
  request.set_store(options_.store);
  request.set_channel(channel.store_channel);
  request.set_sender(client.nick);
  for (const auto& change : stored) {
    v1::ChatModeChange* out = request.add_changes();
    out->set_mode(std::string(1, change.mode));
    out->set_on(change.on);
    out->set_arg(change.arg);
  }
  v1::ChatMessage shown;
  shown.set_kind("modes");
  shown.set_channel(channel.store_channel);
  *shown.mutable_modes() = request.changes();
  SubmitWrite(client, key, WriteKind::kModes, std::move(shown),
              [&](std::function<void(PostOutcome)> done) {
                backend_.SetModes(request, client.id, std::move(done));
              });
}

void IrcServer::HandleUserMode(LocalClient& client, const Message& m) {
  const std::string& target = m.params[0];
  if (!EqualsFolded(target, client.nick)) {
    if (FindClientByNick(target) != nullptr || directory_.FindByNick(target) != nullptr) {
      Numeric(client, kErrUsersDontMatch, {"Can't change mode for other users"});
    } else {
      Numeric(client, kErrNoSuchNick, {target, "No such nick/channel"});
    }
    return;
  }
  if (m.params.size() == 1) {
    Numeric(client, kRplUmodeIs, {"+" + client.modes});
    return;
  }
  bool adding = true;
  std::string added, removed;
  bool unknown = false;
  for (char c : m.params[1]) {
    if (c == '+' || c == '-') {
      adding = c == '+';
      continue;
    }
    if (c != 'i' && c != 'w') {
      unknown = true;
      continue;
    }
    bool has = client.modes.find(c) != std::string::npos;
    if (adding && !has) {
      client.modes.push_back(c);
      added.push_back(c);
    } else if (!adding && has) {
      client.modes.erase(client.modes.find(c), 1);
      removed.push_back(c);
    }
  }
  if (unknown) Numeric(client, kErrUmodeUnknownFlag, {"Unknown MODE flag"});
  if (!added.empty() || !removed.empty()) {
    std::string change;
    if (!added.empty()) change += "+" + added;
    if (!removed.empty()) change += "-" + removed;
    Message out;
    out.prefix = client.Prefix();
    out.command = "MODE";
    out.params = {client.nick, change};
    Send(client, Render(out, true));
  }
}

// ---- Replicated settings from the store -------------------------------------------------------

void IrcServer::DeliverModesEvent(const v1::ChatMessage& message, const std::string& key,
                                  const std::string& source) {
  Channel& channel = channels_.at(key);
  ModeStamp stamp{message.hlc().wall_ms(), message.hlc().counter(), message.hash()};
  std::vector<ModeChange> shown;
  for (const auto& stored : message.modes()) {
    // Settings of other tools, named otherwise, are none of IRC's business.
    if (stored.mode().size() != 1 || !IsReplicatedMode(stored.mode()[0])) continue;
    ModeChange change{stored.mode()[0], stored.on(), stored.arg()};
    if (!channel.modes.ApplyStored(change, stamp, message.cursor())) continue;
    if (change.mode == 'k') {
      change.arg = change.on ? channel.modes.Arg('k') : "*";  // k takes a parameter both ways
    } else if (change.mode == 'l') {
      change.arg = change.on ? channel.modes.Arg('l') : "";
    } else {
      change.arg.clear();
    }
    if (change.mode == 'l' && change.on && change.arg.empty()) continue;
    shown.push_back(std::move(change));
  }
  if (shown.empty()) return;
  Message out;
  out.prefix = source;
  out.command = "MODE";
  out.params = {channel.name};
  for (auto& part : RenderModeChanges(shown)) out.params.push_back(std::move(part));
  Outgoing line(std::move(out), /*trailing=*/false, message.hlc().wall_ms(), MsgidOf(message));
  Broadcast(channel, line);
}

void IrcServer::ApplySnapshotModes(Channel& channel, const ChannelSnapshot& snapshot) {
  std::vector<std::pair<ModeChange, ModeStamp>> on;
  for (const auto& mode : snapshot.modes) {
    if (mode.mode().size() != 1) continue;
    on.emplace_back(ModeChange{mode.mode()[0], true, mode.arg()},
                    ModeStamp{mode.hlc().wall_ms(), mode.hlc().counter(), ""});
  }
  channel.modes.ApplySnapshot(on, snapshot.horizon);
}

// ---- Checks -----------------------------------------------------------------------------------

bool IrcServer::AdmitJoin(LocalClient& client, Channel& channel, const std::string& key) {
  const ChannelModes& modes = channel.modes;
  bool invited = modes.IsInvited(client.id);
  if (modes.IsBanned(client.Prefix())) {
    Numeric(client, kErrBannedFromChan, {channel.name, "Cannot join channel (+b)"});
    return false;
  }
  // An invitation opens +i, +k and +l, not a ban.
  if (!invited) {
    if (modes.Has('i')) {
      Numeric(client, kErrInviteOnlyChan, {channel.name, "Cannot join channel (+i)"});
      return false;
    }
    if (modes.Has('k') && key != modes.Arg('k')) {
      Numeric(client, kErrBadChannelKey, {channel.name, "Cannot join channel (+k)"});
      return false;
    }
    size_t limit = modes.Limit();
    if (limit != 0) {
      // Who this gateway shows in the channel: its joined clients and the remote users seen.
      size_t present = channel.remote.size();
      for (ClientId id : channel.members) {
        LocalClient* member = FindClient(id);
        if (member != nullptr && member != &client && IsJoined(*member, channel.name)) ++present;
      }
      if (present >= limit) {
        Numeric(client, kErrChannelIsFull, {channel.name, "Cannot join channel (+l)"});
        return false;
      }
    }
  }
  channel.modes.UseInvite(client.id);
  return true;
}

std::string IrcServer::CannotSendReason(const LocalClient& client, const std::string& key) {
  auto found = channels_.find(key);
  bool member = client.channels.count(key) != 0;
  if (found == channels_.end()) return "Cannot send to channel (join it first)";
  const ChannelModes& modes = found->second.modes;
  if (!member && modes.Has('n')) return "Cannot send to channel (+n)";
  bool privileged = modes.IsOp(client.id) || modes.IsVoiced(client.id);
  if (privileged) return "";
  if (modes.Has('m')) return "Cannot send to channel (+m)";
  if (modes.IsBanned(client.Prefix())) return "Cannot send to channel (+b)";
  return "";
}

// ---- STATUSMSG ---------------------------------------------------------------------------------

void IrcServer::SendStatusMessage(LocalClient& client, const std::string& target,
                                  const std::string& text, bool notice) {
  char status = target[0];
  std::string name = target.substr(1);
  std::string key = FoldCase(name);
  auto found = channels_.find(key);
  if (!IsValidChannelName(name) || found == channels_.end()) {
    if (!notice) Numeric(client, kErrNoSuchChannel, {target, "No such channel"});
    return;
  }
  Channel& channel = found->second;
  std::string reason = CannotSendReason(client, key);
  if (!reason.empty()) {
    if (!notice) Numeric(client, kErrCannotSendToChan, {target, reason});
    return;
  }
  Message out;
  out.prefix = client.Prefix();
  out.command = notice ? "NOTICE" : "PRIVMSG";
  out.params = {std::string(1, status) + channel.name, text};
  Outgoing line(std::move(out), true, NowWallMs());
  for (ClientId id : channel.members) {
    LocalClient* member = FindClient(id);
    if (member == nullptr || !IsJoined(*member, key)) continue;
    if (id == client.id && (client.caps & kCapEchoMessage) == 0) continue;
    bool op = channel.modes.IsOp(id);
    if (status == '@' ? !op : !(op || channel.modes.IsVoiced(id))) continue;
    Send(*member, line);
  }
}

// ---- KICK, INVITE ------------------------------------------------------------------------------

void IrcServer::HandleKick(LocalClient& client, const Message& m) {
  if (m.params.size() < 2 || m.params[0].empty() || m.params[1].empty()) {
    Numeric(client, kErrNeedMoreParams, {"KICK", "Not enough parameters"});
    return;
  }
  const std::string& name = m.params[0];
  std::string key = FoldCase(name);
  auto found = channels_.find(key);
  if (!IsValidChannelName(name) || found == channels_.end()) {
    Numeric(client, kErrNoSuchChannel, {name, "No such channel"});
    return;
  }
  if (!IsJoined(client, key)) {
    Numeric(client, kErrNotOnChannel, {found->second.name, "You're not on that channel"});
    return;
  }
  if (!found->second.modes.IsOp(client.id)) {
    Numeric(client, kErrChanOPrivsNeeded, {found->second.name, kNotOperator});
    return;
  }
  std::string reason = client.nick;
  if (m.params.size() > 2 && !m.params[2].empty()) {
    reason = std::string(TruncateUtf8(m.params[2], limits::kMaxQuitBytes));
  }
  std::vector<std::string> nicks = SplitCommaList(m.params[1]);
  if (nicks.size() > limits::kMaxTargets) nicks.resize(limits::kMaxTargets);
  for (const auto& nick : nicks) {
    found = channels_.find(key);  // a kick of the last member drops the channel
    if (found == channels_.end()) return;
    Channel& channel = found->second;
    LocalClient* who = FindClientByNick(nick);
    if (who == nullptr || who->channels.count(key) == 0) {
      ExternalUser* remote = directory_.FindByNick(nick);
      if (remote != nullptr && channel.remote.count(remote) != 0) {
        Numeric(client, kErrUserNotInChannel,
                {remote->nick, channel.name,
                 "is a user of another node: only its own gateway can remove it"});
      } else if (who == nullptr && remote == nullptr) {
        Numeric(client, kErrNoSuchNick, {nick, "No such nick/channel"});
      } else {
        Numeric(client, kErrUserNotInChannel, {nick, channel.name, "They aren't on that channel"});
      }
      continue;
    }
    Outgoing kick = Event(client.Prefix(), "KICK", {channel.name, who->nick, reason});
    bool joined = IsJoined(*who, key);
    if (!joined) Send(*who, kick);
    Broadcast(channel, kick);
    // Other nodes see the kicked user part (presence carries no KICK).
    if (joined) AnnounceMembership(*who, key, "Kicked by " + client.nick + ": " + reason);
    PartOne(*who, key, "", /*announce=*/false);
  }
}

void IrcServer::HandleInvite(LocalClient& client, const Message& m) {
  if (m.params.empty()) {
    // The channels this client is invited to (modern.ircdocs INVITE without parameters).
    for (const auto& [key, channel] : channels_) {
      if (channel.modes.IsInvited(client.id)) Numeric(client, kRplInviteList, {channel.name});
    }
    Numeric(client, kRplEndOfInviteList, {"End of /INVITE list"});
    return;
  }
  if (m.params.size() < 2 || m.params[0].empty() || m.params[1].empty()) {
    Numeric(client, kErrNeedMoreParams, {"INVITE", "Not enough parameters"});
    return;
  }
  const std::string& nick = m.params[0];
  const std::string& name = m.params[1];
  LocalClient* who = FindClientByNick(nick);
  if (who == nullptr || !who->registration.registered()) {
    if (directory_.FindByNick(nick) != nullptr) {
      Numeric(client, kErrNoSuchNick,
              {nick, "is on another node: invitations are kept by each node's gateway"});
    } else {
      Numeric(client, kErrNoSuchNick, {nick, "No such nick/channel"});
    }
    return;
  }
  std::string key = FoldCase(name);
  auto found = channels_.find(key);
  if (!IsValidChannelName(name)) {
    Numeric(client, kErrNoSuchChannel, {name, "No such channel"});
    return;
  }
  if (found == channels_.end() || !IsJoined(client, key)) {
    Numeric(client, kErrNotOnChannel, {name, "You're not on that channel"});
    return;
  }
  Channel& channel = found->second;
  if (who->channels.count(key) != 0) {
    Numeric(client, kErrUserOnChannel, {who->nick, channel.name, "is already on channel"});
    return;
  }
  if (channel.modes.Has('i') && !channel.modes.IsOp(client.id)) {
    Numeric(client, kErrChanOPrivsNeeded, {channel.name, kNotOperator});
    return;
  }
  channel.modes.Invite(who->id);
  Numeric(client, kRplInviting, {who->nick, channel.name});
  if (!who->away.empty()) Numeric(client, kRplAway, {who->nick, who->away});
  Outgoing invite = Event(client.Prefix(), "INVITE", {who->nick, channel.name}, /*trailing=*/false);
  Send(*who, invite);
}

}  // namespace lattice::irc
