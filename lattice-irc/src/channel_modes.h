// Channel modes on lattice-irc: what each mode means, where it is kept, and the parsing of a
// MODE command's changes. No I/O: the server (server_modes.cc) applies what this decides.
//
// Where each mode lives:
// - Per gateway: operator and voice status (o, v), ban masks (b) and the invite list. They
//   belong to this gateway's clients, whose nicks are this gateway's identities, and are
//   enforced by the gateway serving the client; they are kept while the channel has members
//   here and are gone when its last local member leaves. The first local member of a channel
//   nobody here is in becomes its operator. A user of another node is never an operator or
//   voiced here, and a ban set here does not bind clients of other gateways.
// - Replicated: the channel's own settings t, n, s, i, m, k and l. They are stored with the
//   channel in the chat store (Chat.SetModes; one last-writer-wins register per mode, the
//   newest HLC winning) and so are the same on every node: a key or topic lock set on one
//   node is enforced by the gateways of all. A change takes effect when it comes back on the
//   watch (kind "modes"), like a topic change, so every client sees it in the store's order.
//   A new channel has none of them on. Without +n, clients who are not members may send to
//   a channel that has members on this gateway (elsewhere the gateway does not know its
//   settings and asks them to join first).
// A MODE line mixing both kinds is shown as two MODE lines: the per-gateway changes at once,
// the stored ones when the store has applied them. Only changes that change something are
// shown; a failed write of settings is answered with 400 naming MODE.
// Enforcement, by the gateway serving the client: a ban keeps out (474) and silences (404)
// whoever is neither operator nor voiced; an invitation lets its client past +i, +k and +l
// once, never past a ban; +l counts the members this gateway shows (its joined clients and
// the users of other nodes seen speaking). Messages to @#chan or +#chan reach this gateway's
// members of that status and are not stored, since the store's messages go to everyone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transport.h"

namespace lattice::irc {

// The modes of ISUPPORT CHANMODES=b,k,l,imnst and PREFIX=(ov)@+.
inline constexpr std::string_view kReplicatedModes = "iklmnst";
inline constexpr std::string_view kPerGatewayModes = "bov";

bool IsReplicatedMode(char mode);

// One change of a MODE command, or of a stored change set.
struct ModeChange {
  char mode = 0;
  bool on = true;
  std::string arg;  // the key, limit, nick or mask; empty when the mode takes none

  bool operator==(const ModeChange& other) const {
    return mode == other.mode && on == other.on && arg == other.arg;
  }
};

// A numeric the parsing asks the server to send: `code` and its parameters after the
// client's nick.
struct ModeError {
  int code = 0;
  std::vector<std::string> params;
};

struct ParsedModes {
  std::vector<ModeChange> changes;  // in the order given, with their parameters
  bool list_bans = false;           // "b" without a mask: the ban list was asked for
  std::vector<ModeError> errors;    // 472 for unknown letters, 696 for bad parameters
};

// Parses "MODE <channel> <modestring> <params...>": `modestring` may hold several "+..."
// and "-..." runs; each mode taking a parameter consumes the next one from `params`. At
// most limits::kMaxModeParams changes that take a parameter are kept (MODES=); later ones
// are ignored and consume nothing, as RFC 2812 allows. A missing or invalid parameter drops that
// change with a 696 (ERR_INVALIDMODEPARAM); an unknown letter is a 472 (ERR_UNKNOWNMODE).
ParsedModes ParseChannelModes(std::string_view channel, std::string_view modestring,
                              const std::vector<std::string>& params);

// "+ov-k" and its parameters {"alice", "bob", "key"} for `changes`, signs grouped in order.
std::vector<std::string> RenderModeChanges(const std::vector<ModeChange>& changes);

// A ban mask made whole: "nick" is "nick!*@*", "user@host" is "*!user@host", "nick!user" is
// "nick!user@*".
std::string NormalizeMask(std::string_view mask);

// Whether `hostmask` (nick!user@host) matches `mask` (with * and ?), under rfc1459 casemapping.
bool BanMaskMatches(std::string_view mask, std::string_view hostmask);

// The order of two changes of the same mode: the newer HLC wins, then the greater hash.
struct ModeStamp {
  uint64_t wall_ms = 0;
  uint32_t counter = 0;
  std::string hash;

  bool NewerThan(const ModeStamp& other) const;
};

struct BanEntry {
  std::string mask;
  std::string setter;  // nick!user@host of who set it
  uint64_t set_unix = 0;
};

// Everything modal about one channel on this gateway. Single-threaded, like the server.
class ChannelModes {
 public:
  // ---- Replicated settings (t n s i m k l) ----
  bool Has(char mode) const;
  // The argument of an "on" setting: the key of k, the limit of l.
  std::string Arg(char mode) const;
  // The limit of +l, or 0 when there is none.
  size_t Limit() const;
  // Applies one change as the store made it (a watch event at `cursor`), unless a newer
  // change of the same mode is already known. Returns whether the setting (on/off or
  // argument) changed.
  bool ApplyStored(const ModeChange& change, const ModeStamp& stamp, uint64_t cursor);
  // The settings the store reported as on (GetChannel), read when every watch event up to
  // `horizon` was applied: a setting on here only by such an event, and absent from `on`,
  // was switched off since.
  void ApplySnapshot(const std::vector<std::pair<ModeChange, ModeStamp>>& on, uint64_t horizon);
  // Whether `change` would change the setting as known here (the server sends only those).
  bool WouldChange(const ModeChange& change) const;
  // "+iklmnst" of the settings that are on, then their arguments when `with_args`.
  std::vector<std::string> Describe(bool with_args) const;

  // ---- Per gateway: status of local members ----
  bool IsOp(ClientId id) const { return ops_.count(id) != 0; }
  bool IsVoiced(ClientId id) const { return voiced_.count(id) != 0; }
  // Returns whether the status changed.
  bool SetStatus(char mode, ClientId id, bool on);
  // "@+" (all, for multi-prefix) or the highest one ("@"), or "".
  std::string Prefixes(ClientId id, bool all) const;
  // The client left: its status and invitation go.
  void Forget(ClientId id);

  // ---- Per gateway: bans and invitations ----
  // Both return whether the list changed; AddBan refuses beyond limits::kMaxBans.
  bool AddBan(const std::string& mask, const std::string& setter, uint64_t set_unix);
  bool RemoveBan(const std::string& mask);
  bool BanListFull() const;
  bool IsBanned(std::string_view hostmask) const;
  const std::vector<BanEntry>& bans() const { return bans_; }
  void Invite(ClientId id);
  bool IsInvited(ClientId id) const { return invited_.count(id) != 0; }
  // A JOIN used the invitation.
  void UseInvite(ClientId id) { invited_.erase(id); }

 private:
  struct Register {
    bool on = false;
    std::string arg;
    ModeStamp stamp;
    uint64_t cursor = 0;  // of the watch event that set it; 0: from a snapshot
  };
  std::map<char, Register> settings_;
  std::set<ClientId> ops_;
  std::set<ClientId> voiced_;
  std::vector<BanEntry> bans_;
  std::set<ClientId> invited_;
};

}  // namespace lattice::irc
