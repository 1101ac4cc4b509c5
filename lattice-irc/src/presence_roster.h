// Presence across nodes: what this gateway announces about its clients through the kernel's
// Presence service, and what it makes of the other gateways' announcements.
//
// Every gateway announces, under a random instance id chosen at start:
//   irc/<instance>/<client>            {"nick":…,"user":…,"away":…}  while it is connected
//   irc/<instance>/<client>/<channel>  {"channel":"#Name"}           while it is in the channel
// (<channel> is the folded name). A departure is announced as the entry's last value with
// "quit" or "part" set and a short life, so other nodes show the reason at once; an entry
// that expires without one (its gateway or node died) is a departure too. Entries are not
// history: they live only in the kernels' memory and vanish when no longer renewed.
//
// PresenceRoster turns the announcements of the other gateways (on any node, this one
// included) into IRC events: a remote user JOINs, PARTs, QUITs, changes nick or goes away.
// It is pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace lattice::irc {

// How long an announcement lives unless renewed, how often it is renewed, and how long a
// departure stays visible (long enough to be relayed, the kernel's shortest life).
inline constexpr uint32_t kPresenceTtlMs = 45'000;
inline constexpr int64_t kPresenceRenewMs = 15'000;
inline constexpr uint32_t kPresenceDepartureTtlMs = 1'000;

inline constexpr std::string_view kPresencePrefix = "irc/";

struct PresenceUserValue {
  std::string nick;
  std::string user;
  std::string away;  // empty: here
  std::optional<std::string> quit;
};

struct PresenceChannelValue {
  std::string channel;  // as the user joined it, e.g. "#General"
  std::optional<std::string> part;
};

std::string PresenceUserKey(std::string_view instance, uint64_t client);
std::string PresenceChannelKey(std::string_view instance, uint64_t client,
                               std::string_view folded_channel);
std::string EncodePresenceUser(const PresenceUserValue& value);
std::string EncodePresenceChannel(const PresenceChannelValue& value);

// A remote user's change, in the order it must be shown.
struct PresenceChange {
  enum class Kind { kJoin, kPart, kQuit, kNick, kAway };
  Kind kind;
  std::string node;     // the user's node, hex
  std::string nick;     // the user's nick (for kNick, the old one)
  std::string channel;  // kJoin, kPart: the channel as announced
  std::string text;     // kPart/kQuit: the reason; kNick: the new nick; kAway: the message
};

class PresenceRoster {
 public:
  // Announcements of `own_node` under `own_instance` are this gateway's own and ignored.
  PresenceRoster(std::string own_node, std::string own_instance);

  // One entry announced, changed or gone. Malformed keys and values are ignored: they come
  // from other programs and must not stop this one.
  std::vector<PresenceChange> Apply(const std::string& node, const std::string& key,
                                    const std::string& value, bool gone);

  // A new watch's snapshot replaces everything known: users and memberships missing from it
  // depart, new ones arrive.
  struct Entry {
    std::string node;
    std::string key;
    std::string value;
  };
  std::vector<PresenceChange> Resync(const std::vector<Entry>& entries);

  // Whether the user of `node` shown as `nick` is announced in `folded_channel`.
  bool IsPresent(const std::string& node, const std::string& nick,
                 const std::string& folded_channel) const;

  // Whether a user of `node` is announced as `nick` (connected to some gateway now).
  bool IsOnline(const std::string& node, const std::string& nick) const;
  // The (node, nick as announced) of the users announced under `folded_nick` in any case.
  std::vector<std::pair<std::string, std::string>> AnnouncedAs(
      const std::string& folded_nick) const;

  struct Member {
    std::string node;
    std::string nick;
    std::string away;
  };
  // The users announced in `folded_channel`.
  std::vector<Member> MembersOf(const std::string& folded_channel) const;

  size_t session_count() const { return sessions_.size(); }
  // Moves on whenever a user comes online, goes offline or changes nick (not on renewals).
  uint64_t online_version() const { return online_version_; }

 private:
  struct Session {
    std::string node;
    bool introduced = false;  // its user entry has arrived
    PresenceUserValue user;
    std::map<std::string, std::string> channels;  // folded -> as announced
    bool seen = false;                             // during a Resync
    std::map<std::string, bool> channels_seen;
  };

  void ApplyUser(Session& session, const std::string& id, const std::string& value, bool gone,
                 std::vector<PresenceChange>* out);
  void ApplyChannel(Session& session, const std::string& id, const std::string& folded,
                    const std::string& value, bool gone, std::vector<PresenceChange>* out);

  // The (node, nick, channel) triples of an introduced session, counted in present_, so
  // IsPresent costs a lookup instead of a walk over every remote user. Every change to a
  // session happens between an Unindex and an Index of it.
  void Index(const Session& session);
  void Unindex(const Session& session);
  using Announced = std::tuple<std::string, std::string, std::string>;
  // The session's entry in announced_, when it is introduced.
  static std::optional<Announced> AnnouncedEntry(const Session& session);

  std::string own_node_;
  std::string own_instance_;
  std::map<std::string, Session> sessions_;  // node '/' instance '/' client
  std::map<std::tuple<std::string, std::string, std::string>, int> present_;
  // (folded nick, node, nick) of every introduced session, for IsOnline and AnnouncedAs.
  std::multiset<Announced> announced_;
  uint64_t online_version_ = 0;
};

}  // namespace lattice::irc
