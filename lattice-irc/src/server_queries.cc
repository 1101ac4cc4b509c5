// IrcServer: WHO, WHOIS, AWAY, ISON and USERHOST (see server.h; MODE is in server_modes.cc).
#include <fmt/format.h>

#include <algorithm>

#include "casemap.h"
#include "channel_modes.h"
#include "limits.h"
#include "numerics.h"
#include "server_state.h"
#include "utf8.h"

namespace lattice::irc {

using namespace numeric;

void IrcServer::HandleWho(LocalClient& client, const Message& m) {
  std::string mask = m.params.empty() ? "*" : m.params[0];
  // `prefix`: the member's status in the channel asked about ("@", "@+", ...).
  auto reply_local = [&](const std::string& channel, const LocalClient& who,
                         const std::string& prefix) {
    Numeric(client, kRplWhoReply,
            {channel, who.user, who.host, options_.server_name, who.nick,
             (who.away.empty() ? "H" : "G") + prefix, "0 " + who.realname});
  };
  auto reply_external = [&](const std::string& channel, const ExternalUser& who) {
    Numeric(client, kRplWhoReply,
            {channel, who.user, who.host, who.host, who.nick, "H",
             "1 " + (who.sender.empty() ? who.nick : who.sender)});
  };
  if (!mask.empty() && mask[0] == '#') {
    auto channel = channels_.find(FoldCase(mask));
    if (channel != channels_.end() &&
        (!channel->second.modes.Has('s') || client.channels.count(channel->first) != 0)) {
      for (ClientId id : channel->second.members) {
        LocalClient* member = FindClient(id);
        if (member == nullptr) continue;
        auto it = member->channels.find(channel->first);
        if (member != &client && (it == member->channels.end() || it->second.joining)) continue;
        reply_local(channel->second.name, *member, MemberPrefix(client, channel->second, id));
      }
      for (const auto& [user, last_seen] : channel->second.remote) {
        reply_external(channel->second.name, *user);
      }
    }
  } else if (LocalClient* who = FindClientByNick(mask);
             who != nullptr && who->registration.registered()) {
    reply_local("*", *who, "");
  } else if (ExternalUser* external = directory_.FindByNick(mask)) {
    reply_external("*", *external);
  } else if (mask == "0" || mask.find_first_of("*?") != std::string::npos) {
    // A glob over nicks or hostmasks ("0" is "*"): the local users it matches that the asker
    // may see, as on any IRC server (user mode +i hides a user from those sharing no channel
    // with it). Users of other nodes are listed by channel or by nick only.
    std::string glob = mask == "0" ? "*" : mask;
    for (const auto& [id, other] : clients_) {
      if (!other->registration.registered() || !VisibleTo(client, *other)) continue;
      if (BanMaskMatches(glob, other->nick) || BanMaskMatches(glob, other->Prefix())) {
        reply_local("*", *other, "");
      }
    }
  }
  Numeric(client, kRplEndOfWho, {mask, "End of /WHO list."});
}

bool IrcServer::VisibleTo(const LocalClient& asker, const LocalClient& other) const {
  if (&asker == &other || other.modes.find('i') == std::string::npos) return true;
  for (const auto& [key, membership] : other.channels) {
    auto shared = asker.channels.find(key);
    if (!membership.joining && shared != asker.channels.end() && !shared->second.joining) {
      return true;
    }
  }
  return false;
}

void IrcServer::HandleWhois(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params.back().empty()) {
    Numeric(client, kErrNoNicknameGiven, {"No nickname given"});
    return;
  }
  // "WHOIS server nick" and "WHOIS nick" both name the nick last; only the first of a list.
  std::vector<std::string> nicks = SplitCommaList(m.params.back());
  std::string nick = nicks.empty() ? m.params.back() : nicks.front();
  if (LocalClient* who = FindClientByNick(nick); who != nullptr && who->registration.registered()) {
    Numeric(client, kRplWhoisUser, {who->nick, who->user, who->host, "*", who->realname});
    std::string channels;
    for (const auto& [key, membership] : who->channels) {
      if (membership.joining) continue;
      auto channel = channels_.find(key);
      if (channel == channels_.end()) continue;
      // A secret channel shows only to its members (and to the user asking about itself).
      if (channel->second.modes.Has('s') && who != &client && client.channels.count(key) == 0) {
        continue;
      }
      if (!channels.empty()) channels.push_back(' ');
      channels += MemberPrefix(client, channel->second, who->id) + key;
    }
    if (!channels.empty()) Numeric(client, kRplWhoisChannels, {who->nick, channels});
    Numeric(client, kRplWhoisServer,
            {who->nick, options_.server_name,
             fmt::format("Lattice IRC gateway of node {}", options_.node_id.substr(0, 8))});
    if (!who->away.empty()) Numeric(client, kRplAway, {who->nick, who->away});
    Numeric(client, kRplWhoisIdle,
            {who->nick, std::to_string(std::max<int64_t>(0, now_ms_ - who->last_message_ms) / 1000),
             std::to_string(who->signon_unix), "seconds idle, signon time"});
    Numeric(client, kRplEndOfWhois, {who->nick, "End of /WHOIS list."});
    return;
  }
  if (ExternalUser* who = directory_.FindByNick(nick)) {
    Numeric(client, kRplWhoisUser,
            {who->nick, who->user, who->host, "*", who->sender.empty() ? who->nick : who->sender});
    std::string channels;
    for (const auto& [key, channel] : channels_) {
      if (channel.remote.count(who) == 0) continue;
      if (!channels.empty()) channels.push_back(' ');
      channels += key;
    }
    if (!channels.empty()) Numeric(client, kRplWhoisChannels, {who->nick, channels});
    bool same_node = who->author == options_.node_id;
    Numeric(client, kRplWhoisServer,
            {who->nick, who->host,
             same_node ? fmt::format("writes on this node ({}) without this gateway", who->author)
                       : fmt::format("a user of node {}", who->author)});
    Numeric(client, kRplEndOfWhois, {who->nick, "End of /WHOIS list."});
    return;
  }
  Numeric(client, kErrNoSuchNick, {nick, "No such nick/channel"});
  Numeric(client, kRplEndOfWhois, {nick, "End of /WHOIS list."});
}

void IrcServer::HandleAway(LocalClient& client, const Message& m) {
  if (m.params.empty() || m.params[0].empty()) {
    client.away.clear();
    AnnounceUser(client);
    Numeric(client, kRplUnaway, {"You are no longer marked as being away"});
    NotifyAway(client);
    return;
  }
  client.away = std::string(TruncateUtf8(m.params[0], limits::kMaxAwayBytes));
  AnnounceUser(client);
  Numeric(client, kRplNowAway, {"You have been marked as being away"});
  NotifyAway(client);
}

void IrcServer::NotifyAway(LocalClient& client) {
  std::vector<std::string> params;
  if (!client.away.empty()) params.push_back(client.away);
  Outgoing away = Event(client.Prefix(), "AWAY", std::move(params));
  std::unordered_set<ClientId> told =
      BroadcastToPeers(client, away, /*include_self=*/false, kCapAwayNotify);
  SendToMonitors(client.nick, away, kCapAwayNotify, told);
}

ExternalUser* IrcServer::OnlineRemoteUser(const std::string& nick) {
  // The directory names everyone who ever wrote to the store, and only those this gateway
  // has shown so far: a user some gateway announces now is on IRC, whether shown yet or not.
  if (ExternalUser* known = directory_.FindByNick(nick);
      known != nullptr && roster_.IsOnline(known->author, known->sender)) {
    return known;
  }
  std::string folded = FoldCase(nick);
  for (const auto& [node, announced] : roster_.AnnouncedAs(folded)) {
    ExternalUser& user = directory_.Resolve(node, announced);
    if (FoldCase(user.nick) == folded) return &user;
  }
  return nullptr;
}

void IrcServer::HandleIson(LocalClient& client, const Message& m) {
  if (m.params.empty()) {
    Numeric(client, kErrNeedMoreParams, {"ISON", "Not enough parameters"});
    return;
  }
  std::string online;
  for (const auto& param : m.params) {
    size_t pos = 0;
    while (pos < param.size()) {
      size_t end = param.find(' ', pos);
      if (end == std::string::npos) end = param.size();
      std::string nick = param.substr(pos, end - pos);
      pos = end + 1;
      if (nick.empty()) continue;
      std::string shown;
      if (LocalClient* who = FindClientByNick(nick);
          who != nullptr && who->registration.registered()) {
        shown = who->nick;
      } else if (ExternalUser* remote = OnlineRemoteUser(nick)) {
        shown = remote->nick;
      }
      if (shown.empty()) continue;
      if (!online.empty()) online.push_back(' ');
      online += shown;
    }
  }
  Numeric(client, kRplIson, {online});
}

void IrcServer::HandleUserhost(LocalClient& client, const Message& m) {
  if (m.params.empty()) {
    Numeric(client, kErrNeedMoreParams, {"USERHOST", "Not enough parameters"});
    return;
  }
  std::string reply;
  for (size_t i = 0; i < m.params.size() && i < 5; ++i) {
    LocalClient* who = FindClientByNick(m.params[i]);
    if (who == nullptr || !who->registration.registered()) continue;
    if (!reply.empty()) reply.push_back(' ');
    reply +=
        fmt::format("{}={}{}@{}", who->nick, who->away.empty() ? '+' : '-', who->user, who->host);
  }
  Numeric(client, kRplUserhost, {reply});
}

void IrcServer::HandleLusers(LocalClient& client) {
  size_t local = registered_clients_;
  size_t global = local + roster_.session_count();
  max_global_users_ = std::max(max_global_users_, global);
  Numeric(client, kRplLuserClient,
          {fmt::format("There are {} users and 0 invisible on 1 servers", global)});
  if (clients_.size() > local) {
    Numeric(client, kRplLuserUnknown,
            {std::to_string(clients_.size() - local), "unknown connection(s)"});
  }
  Numeric(client, kRplLuserChannels, {std::to_string(channels_.size()), "channels formed"});
  Numeric(client, kRplLuserMe, {fmt::format("I have {} clients and 0 servers", local)});
  Numeric(client, kRplLocalUsers,
          {std::to_string(local), std::to_string(max_local_users_),
           fmt::format("Current local users {}, max {}", local, max_local_users_)});
  Numeric(client, kRplGlobalUsers,
          {std::to_string(global), std::to_string(max_global_users_),
           fmt::format("Current global users {}, max {}", global, max_global_users_)});
}

}  // namespace lattice::irc
