// Announcements of IRC presence and the roster of remote users (see presence_roster.h).
#include "presence_roster.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "casemap.h"

namespace lattice::irc {
namespace {

using Json = nlohmann::json;

struct ParsedKey {
  std::string instance;
  std::string client;
  std::string channel;  // folded; empty for a user entry
};

// "irc/<instance>/<client>[/<channel>]"; the channel part may itself hold '/'.
std::optional<ParsedKey> ParseKey(std::string_view key) {
  if (key.substr(0, kPresencePrefix.size()) != kPresencePrefix) return std::nullopt;
  key.remove_prefix(kPresencePrefix.size());
  size_t slash = key.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  ParsedKey parsed;
  parsed.instance = std::string(key.substr(0, slash));
  key.remove_prefix(slash + 1);
  slash = key.find('/');
  parsed.client = std::string(key.substr(0, slash));
  if (parsed.client.empty() ||
      parsed.client.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    parsed.channel = std::string(key.substr(slash + 1));
    if (parsed.channel.empty()) return std::nullopt;
  }
  return parsed;
}

std::optional<Json> ParseObject(const std::string& value) {
  Json json = Json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  return json;
}

std::string StringField(const Json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::optional<std::string> OptionalField(const Json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

std::string PresenceUserKey(std::string_view instance, uint64_t client) {
  return fmt::format("{}{}/{}", kPresencePrefix, instance, client);
}

std::string PresenceChannelKey(std::string_view instance, uint64_t client,
                               std::string_view folded_channel) {
  return fmt::format("{}{}/{}/{}", kPresencePrefix, instance, client, folded_channel);
}

std::string EncodePresenceUser(const PresenceUserValue& value) {
  Json json = {{"nick", value.nick}, {"user", value.user}};
  if (!value.away.empty()) json["away"] = value.away;
  if (value.quit) json["quit"] = *value.quit;
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string EncodePresenceChannel(const PresenceChannelValue& value) {
  Json json = {{"channel", value.channel}};
  if (value.part) json["part"] = *value.part;
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

PresenceRoster::PresenceRoster(std::string own_node, std::string own_instance)
    : own_node_(std::move(own_node)), own_instance_(std::move(own_instance)) {}

std::vector<PresenceChange> PresenceRoster::Apply(const std::string& node,
                                                  const std::string& key,
                                                  const std::string& value, bool gone) {
  std::vector<PresenceChange> out;
  auto parsed = ParseKey(key);
  if (!parsed) return out;
  if (node == own_node_ && parsed->instance == own_instance_) return out;
  std::string id = node + "/" + parsed->instance + "/" + parsed->client;
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    // Departures of someone never seen need no words.
    if (gone) return out;
    it = sessions_.emplace(id, Session{}).first;
    it->second.node = node;
  }
  Session& session = it->second;
  session.seen = true;
  std::optional<Announced> before = AnnouncedEntry(session);
  Unindex(session);
  if (parsed->channel.empty()) {
    ApplyUser(session, id, value, gone, &out);
  } else {
    session.channels_seen[parsed->channel] = true;
    ApplyChannel(session, id, parsed->channel, value, gone, &out);
  }
  // Either may have erased the session.
  std::optional<Announced> after;
  if (auto kept = sessions_.find(id); kept != sessions_.end()) {
    Index(kept->second);
    after = AnnouncedEntry(kept->second);
  }
  if (before != after) ++online_version_;
  return out;
}

std::optional<PresenceRoster::Announced> PresenceRoster::AnnouncedEntry(const Session& session) {
  if (!session.introduced) return std::nullopt;
  return Announced{FoldCase(session.user.nick), session.node, session.user.nick};
}

void PresenceRoster::Index(const Session& session) {
  if (!session.introduced) return;
  announced_.insert(*AnnouncedEntry(session));
  for (const auto& entry : session.channels) {
    ++present_[{session.node, session.user.nick, entry.first}];
  }
}

void PresenceRoster::Unindex(const Session& session) {
  if (!session.introduced) return;
  if (auto it = announced_.find(*AnnouncedEntry(session)); it != announced_.end()) {
    announced_.erase(it);
  }
  for (const auto& entry : session.channels) {
    auto it = present_.find({session.node, session.user.nick, entry.first});
    if (it != present_.end() && --it->second == 0) present_.erase(it);
  }
}

void PresenceRoster::ApplyUser(Session& session, const std::string& id, const std::string& value,
                               bool gone, std::vector<PresenceChange>* out) {
  std::optional<std::string> quit;
  PresenceUserValue next = session.user;
  if (gone) {
    quit = "Connection lost";
  } else {
    auto json = ParseObject(value);
    if (!json) return;
    next.nick = StringField(*json, "nick");
    next.user = StringField(*json, "user");
    next.away = StringField(*json, "away");
    quit = OptionalField(*json, "quit");
    if (next.nick.empty()) return;
  }
  if (quit) {
    if (session.introduced) {
      out->push_back({PresenceChange::Kind::kQuit, session.node, session.user.nick, "", *quit});
    }
    sessions_.erase(id);
    return;
  }
  if (!session.introduced) {
    session.user = next;
    session.introduced = true;
    // Memberships announced before the user entry wait for it.
    for (const auto& [folded, channel] : session.channels) {
      out->push_back({PresenceChange::Kind::kJoin, session.node, next.nick, channel, ""});
    }
    if (!next.away.empty()) {
      out->push_back({PresenceChange::Kind::kAway, session.node, next.nick, "", next.away});
    }
    return;
  }
  if (next.nick != session.user.nick) {
    out->push_back({PresenceChange::Kind::kNick, session.node, session.user.nick, "", next.nick});
  }
  if (next.away != session.user.away) {
    out->push_back({PresenceChange::Kind::kAway, session.node, next.nick, "", next.away});
  }
  session.user = next;
}

void PresenceRoster::ApplyChannel(Session& session, const std::string& id,
                                  const std::string& folded, const std::string& value, bool gone,
                                  std::vector<PresenceChange>* out) {
  auto member = session.channels.find(folded);
  std::optional<std::string> part;
  std::string channel;
  if (gone) {
    part = "Connection lost";
  } else {
    auto json = ParseObject(value);
    if (!json) return;
    channel = StringField(*json, "channel");
    part = OptionalField(*json, "part");
    if (channel.empty()) return;
  }
  if (part) {
    if (member == session.channels.end()) return;
    if (session.introduced) {
      out->push_back(
          {PresenceChange::Kind::kPart, session.node, session.user.nick, member->second, *part});
    }
    session.channels.erase(member);
    if (!session.introduced && session.channels.empty()) sessions_.erase(id);
    return;
  }
  if (member != session.channels.end()) return;
  session.channels.emplace(folded, channel);
  if (session.introduced) {
    out->push_back({PresenceChange::Kind::kJoin, session.node, session.user.nick, channel, ""});
  }
}

std::vector<PresenceChange> PresenceRoster::Resync(const std::vector<Entry>& entries) {
  for (auto& [id, session] : sessions_) {
    session.seen = false;
    session.channels_seen.clear();
  }
  std::vector<PresenceChange> out;
  // User entries first, so memberships of new users join at once.
  for (int pass = 0; pass < 2; ++pass) {
    for (const Entry& entry : entries) {
      auto parsed = ParseKey(entry.key);
      if (!parsed || parsed->channel.empty() != (pass == 0)) continue;
      auto changes = Apply(entry.node, entry.key, entry.value, /*gone=*/false);
      out.insert(out.end(), changes.begin(), changes.end());
    }
  }
  // What the snapshot no longer holds has gone.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& session = it->second;
    Unindex(session);
    if (!session.seen) {
      if (session.introduced) {
        out.push_back(
            {PresenceChange::Kind::kQuit, session.node, session.user.nick, "", "Connection lost"});
        ++online_version_;
      }
      it = sessions_.erase(it);
      continue;
    }
    for (auto member = session.channels.begin(); member != session.channels.end();) {
      if (session.channels_seen.count(member->first) != 0) {
        ++member;
        continue;
      }
      if (session.introduced) {
        out.push_back({PresenceChange::Kind::kPart, session.node, session.user.nick,
                       member->second, "Connection lost"});
      }
      member = session.channels.erase(member);
    }
    Index(session);
    ++it;
  }
  return out;
}

bool PresenceRoster::IsPresent(const std::string& node, const std::string& nick,
                               const std::string& folded_channel) const {
  return present_.count({node, nick, folded_channel}) != 0;
}

bool PresenceRoster::IsOnline(const std::string& node, const std::string& nick) const {
  return announced_.count({FoldCase(nick), node, nick}) != 0;
}

std::vector<std::pair<std::string, std::string>> PresenceRoster::AnnouncedAs(
    const std::string& folded_nick) const {
  std::vector<std::pair<std::string, std::string>> found;
  for (auto it = announced_.lower_bound({folded_nick, "", ""});
       it != announced_.end() && std::get<0>(*it) == folded_nick; ++it) {
    found.emplace_back(std::get<1>(*it), std::get<2>(*it));
  }
  return found;
}

std::vector<PresenceRoster::Member> PresenceRoster::MembersOf(
    const std::string& folded_channel) const {
  std::vector<Member> members;
  for (const auto& [id, session] : sessions_) {
    if (session.introduced && session.channels.count(folded_channel) != 0) {
      members.push_back({session.node, session.user.nick, session.user.away});
    }
  }
  return members;
}

}  // namespace lattice::irc
