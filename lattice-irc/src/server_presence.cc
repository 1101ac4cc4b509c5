// Presence across nodes (presence_roster.h): announcing this gateway's clients, and showing
// the users other gateways announce as joining, parting, quitting, renaming and going away.
#include <fmt/format.h>

#include <unordered_set>

#include "casemap.h"
#include "server.h"
#include "server_state.h"

namespace lattice::irc {

void IrcServer::SetPresence(PresencePublisher* publisher) { presence_ = publisher; }

// ---- Announcing ---------------------------------------------------------------------------

void IrcServer::AnnounceUser(const LocalClient& client, std::optional<std::string> quit) {
  if (presence_ == nullptr || !client.registration.registered()) return;
  PresenceUserValue value{client.nick, client.user, client.away, std::move(quit)};
  presence_->Announce(PresenceUserKey(options_.presence_instance, client.id),
                      EncodePresenceUser(value),
                      value.quit ? kPresenceDepartureTtlMs : kPresenceTtlMs);
}

void IrcServer::AnnounceMembership(const LocalClient& client, const std::string& key,
                                   std::optional<std::string> part) {
  if (presence_ == nullptr || !client.registration.registered()) return;
  auto channel = channels_.find(key);
  PresenceChannelValue value{channel != channels_.end() ? channel->second.name : key,
                             std::move(part)};
  presence_->Announce(PresenceChannelKey(options_.presence_instance, client.id, key),
                      EncodePresenceChannel(value),
                      value.part ? kPresenceDepartureTtlMs : kPresenceTtlMs);
}

void IrcServer::AnnounceQuit(const LocalClient& client, std::string_view reason) {
  if (presence_ == nullptr || !client.registration.registered()) return;
  // The user's departure first, so other nodes show one QUIT rather than a PART per channel.
  AnnounceUser(client, std::string(reason));
  for (const auto& [key, membership] : client.channels) {
    if (membership.joining) continue;
    presence_->Announce(PresenceChannelKey(options_.presence_instance, client.id, key), "", 0);
  }
}

void IrcServer::RenewPresence(int64_t now_ms) {
  if (presence_ == nullptr || now_ms - last_presence_renewal_ms_ < kPresenceRenewMs) return;
  last_presence_renewal_ms_ = now_ms;
  for (const auto& [id, client] : clients_) {
    if (!client->registration.registered() || client->closing) continue;
    AnnounceUser(*client);
    for (const auto& [key, membership] : client->channels) {
      if (!membership.joining) AnnounceMembership(*client, key);
    }
  }
}

// ---- Showing ------------------------------------------------------------------------------

void IrcServer::OnPresence(PresenceEventBatch batch, int64_t now_ms) {
  now_ms_ = now_ms;
  const uint64_t online_before = roster_.online_version();
  std::vector<PresenceChange> changes;
  if (batch.snapshot) {
    std::vector<PresenceRoster::Entry> entries;
    entries.reserve(batch.events.size());
    for (auto& event : batch.events) {
      if (!event.gone) entries.push_back({event.node, event.key, event.value});
    }
    changes = roster_.Resync(entries);
  } else {
    for (const auto& event : batch.events) {
      auto more = roster_.Apply(event.node, event.key, event.value, event.gone);
      changes.insert(changes.end(), more.begin(), more.end());
    }
  }
  for (const auto& change : changes) ShowPresenceChange(change);
  if (roster_.online_version() != online_before && !monitored_.empty()) RefreshAllMonitored();
}

void IrcServer::ShowPresenceChange(const PresenceChange& change) {
  ExternalUser& user = directory_.Resolve(change.node, change.nick);
  switch (change.kind) {
    case PresenceChange::Kind::kJoin: {
      auto channel = channels_.find(FoldCase(change.channel));
      if (channel == channels_.end()) return;  // nobody here is in it: NAMES shows them later
      EnsurePresent(channel->second, user, now_ms_);
      return;
    }
    case PresenceChange::Kind::kPart: {
      auto channel = channels_.find(FoldCase(change.channel));
      if (channel == channels_.end() || channel->second.remote.erase(&user) == 0) return;
      std::vector<std::string> params = {channel->second.name};
      if (!change.text.empty()) params.push_back(change.text);
      Outgoing part = Event(user.Prefix(), "PART", std::move(params));
      Broadcast(channel->second, part);
      return;
    }
    case PresenceChange::Kind::kQuit:
    case PresenceChange::Kind::kNick: {
      std::vector<Channel*> shared = ChannelsShowing(user);
      ExternalUser* renamed = nullptr;
      if (change.kind == PresenceChange::Kind::kNick) {
        renamed = &directory_.Resolve(change.node, change.text);
        renamed->away = user.away;
      }
      Outgoing line = renamed == nullptr
                          ? Event(user.Prefix(), "QUIT", {change.text})
                          : Event(user.Prefix(), "NICK", {renamed->nick}, /*trailing=*/false);
      for (Channel* channel : shared) {
        int64_t seen = channel->remote[&user];
        channel->remote.erase(&user);
        if (renamed != nullptr) channel->remote[renamed] = seen;
      }
      SendToMembers(shared, line, 0);
      return;
    }
    case PresenceChange::Kind::kAway: {
      if (user.away == change.text) return;
      user.away = change.text;
      std::vector<std::string> params;
      if (!user.away.empty()) params.push_back(user.away);
      Outgoing away = Event(user.Prefix(), "AWAY", std::move(params));
      std::unordered_set<ClientId> told = SendToMembers(ChannelsShowing(user), away, kCapAwayNotify);
      SendToMonitors(user.nick, away, kCapAwayNotify, told);
      return;
    }
  }
}

std::vector<IrcServer::Channel*> IrcServer::ChannelsShowing(ExternalUser& user) {
  std::vector<Channel*> shown;
  for (auto& [key, channel] : channels_) {
    if (channel.remote.count(&user) != 0) shown.push_back(&channel);
  }
  return shown;
}

std::unordered_set<ClientId> IrcServer::SendToMembers(const std::vector<Channel*>& channels,
                                                      Outgoing& line, CapSet required) {
  std::unordered_set<ClientId> sent;
  for (Channel* channel : channels) {
    for (ClientId id : channel->members) {
      if (!sent.insert(id).second) continue;
      LocalClient* client = FindClient(id);
      if (client == nullptr || (client->caps & required) != required) continue;
      auto membership = client->channels.find(channel->name);
      if (membership == client->channels.end() || membership->second.joining) continue;
      Send(*client, line);
    }
  }
  return sent;
}

void IrcServer::ShowPresentMembers(Channel& channel) {
  for (const auto& member : roster_.MembersOf(channel.name)) {
    ExternalUser& user = directory_.Resolve(member.node, member.nick);
    user.away = member.away;
    EnsurePresent(channel, user, now_ms_);
  }
}

bool IrcServer::AnnouncedIn(const ExternalUser& user, const std::string& key) const {
  return roster_.IsPresent(user.author, user.sender, key);
}

}  // namespace lattice::irc
