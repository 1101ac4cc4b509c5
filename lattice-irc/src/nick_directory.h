// The people who write to the chat store without being connected to this gateway (users of
// other nodes, or of this node through other tools) and the nicknames they are shown under.
//
// Naming scheme: a sender is identified by (node id, sender name). Its nickname is the
// sender name made into a valid nick (other characters become '_'; an empty sender is
// "node-<8 hex>"). When that nick is held by a client of this gateway or by another sender,
// the sender is shown as "<nick>|<first 8 hex of its node id>" (e.g. "alice|a1b2c3d4"), and
// in the unlikely case that is taken too, "<nick>|<8 hex>-2", "-3", .... Clients of this
// gateway have priority: when one takes a nick a sender is shown under, the sender is renamed
// to its suffixed form (the server announces it with NICK). Nicks of that suffixed form are
// reserved for senders (IsReservedRemoteNick). Hostmasks are "<nick>!<user>@<8 hex>.lattice".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lattice::irc {

struct ExternalUser {
  std::string author;  // node id, hex
  std::string sender;  // the sender name as stored
  std::string nick;    // shown to IRC clients
  std::string user;    // user part of the hostmask
  std::string host;    // "<8 hex of the node id>.lattice"
  int attempt = 0;     // which naming candidate `nick` is
  std::string away;    // as its gateway announces it (presence); empty: here

  std::string Prefix() const { return nick + "!" + user + "@" + host; }
};

// The nick for `sender` before any collision is resolved.
std::string BaseNick(std::string_view sender, std::string_view author_hex);
// The naming candidate number `attempt` (0: the base; 1: base|hex8; n: base|hex8-n), cut so
// it fits limits::kMaxNickBytes.
std::string NickCandidate(std::string_view base, std::string_view author_hex, int attempt);
// "<first 8 hex>.lattice".
std::string HostForNode(std::string_view author_hex);

// Owned by the server on the event loop; not thread-safe.
class NickDirectory {
 public:
  // Tells whether a client of this gateway holds the (folded) nick.
  using LocalNickTaken = std::function<bool(const std::string& folded_nick)>;
  explicit NickDirectory(LocalNickTaken local_taken) : local_taken_(std::move(local_taken)) {}

  // The sender (author, sender), named on first sight. The reference stays valid for the
  // directory's lifetime.
  ExternalUser& Resolve(std::string_view author, std::string_view sender);

  // The sender shown under `nick` (any case), or nullptr.
  ExternalUser* FindByNick(std::string_view nick);

  // A client of this gateway is taking `nick`: the sender shown under it, if any, moves to
  // its next free candidate. Returns that sender and its old nick.
  std::optional<std::pair<ExternalUser*, std::string>> YieldNick(std::string_view nick);

  size_t size() const { return by_key_.size(); }

 private:
  bool Taken(const std::string& folded) const;
  void AssignNick(ExternalUser& user, int first_attempt);

  LocalNickTaken local_taken_;
  std::map<std::string, std::unique_ptr<ExternalUser>> by_key_;  // author '\0' sender
  std::unordered_map<std::string, ExternalUser*> by_nick_;       // folded nick
};

}  // namespace lattice::irc
