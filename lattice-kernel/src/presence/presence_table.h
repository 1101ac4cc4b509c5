// The presence entries a node knows, in memory: per store, per (origin node, key), the
// announcement with the highest sequence and when it expires (counted from its arrival
// here). A withdrawn or expired entry leaves its sequence behind for a while, so that an
// older copy still travelling between peers cannot bring it back. No I/O, no clock, no lock:
// every call is told the time (milliseconds of a monotonic clock), so tests drive it.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lattice/v1/replication.pb.h"
#include "presence/presence_limits.h"

namespace lattice::kernel::presence {

// A change a watcher sees.
struct PresenceChange {
  std::string store_id;  // raw
  std::string origin;    // raw node id
  std::string key;
  std::string value;     // of a gone entry, its last value
  uint64_t expires_at_ms = 0;  // gone: 0
  bool gone = false;
};

struct PresenceTableLimits {
  size_t max_per_origin = limits::kMaxEntriesPerOrigin;
  size_t max_per_store = limits::kMaxEntriesPerStore;
  size_t max_remembered_per_store = limits::kMaxRememberedPerStore;
  uint64_t remember_ms = limits::kRememberSequenceMs;
};

class PresenceTable {
 public:
  enum class Outcome {
    kNew,        // an entry appeared (a change)
    kChanged,    // its value changed (a change)
    kRenewed,    // same value, later expiry: news for peers, not for watchers
    kWithdrawn,  // ttl 0 with a newer sequence (a change when the entry was live)
    kStale,      // a sequence not newer than the one held or remembered: ignored
    kFull,       // a new entry past the limits: ignored
  };
  struct Result {
    Outcome outcome = Outcome::kStale;
    std::optional<PresenceChange> change;
    // Whether the announcement is news to pass on to peers.
    bool news() const { return outcome != Outcome::kStale && outcome != Outcome::kFull; }
  };

  explicit PresenceTable(PresenceTableLimits limits = {}) : limits_(limits) {}

  // Takes `announcement` (already verified and bounded) if its sequence is newer than
  // what is held for its (store, origin, key). It lives `ttl_ms` from `now_ms`; 0 withdraws.
  Result Offer(const v1::PresenceAnnouncement& announcement, uint32_t ttl_ms, uint64_t now_ms);

  // Ends the entries whose time ran out by `now_ms` (their "gone" changes, in expiry order)
  // and forgets sequences remembered long enough.
  std::vector<PresenceChange> Expire(uint64_t now_ms);

  // The live entries of `store_id` whose key starts with `prefix`, by origin then key.
  std::vector<PresenceChange> Live(const std::string& store_id, std::string_view prefix) const;
  // The live announcements of `store_id` as held (signed), each with remaining_ms set to
  // its time left at `now_ms`.
  std::vector<v1::PresenceAnnouncement> LiveAnnouncements(const std::string& store_id,
                                                          uint64_t now_ms) const;
  // The earliest time something expires or is forgotten; nullopt when nothing is held.
  std::optional<uint64_t> NextDeadline() const;

  // The sequence held or remembered for (store, origin, key); 0 when none.
  uint64_t SequenceOf(const std::string& store_id, const std::string& origin,
                      const std::string& key) const;
  size_t live_count() const { return expiries_.size(); }
  size_t remembered_count() const;
  size_t LiveCountOf(const std::string& store_id, const std::string& origin) const;

 private:
  struct SlotKey {
    std::string store_id;
    std::string origin;
    std::string key;
    auto operator<=>(const SlotKey&) const = default;
  };
  enum class State { kFresh, kLive, kRemembered };
  struct Slot {
    uint64_t sequence = 0;
    State state = State::kFresh;
    uint64_t deadline_ms = 0;  // live: expiry; remembered: when the sequence is forgotten
    v1::PresenceAnnouncement announcement;  // live only
  };
  using SlotMap = std::map<SlotKey, Slot>;

  PresenceChange ChangeOf(const SlotKey& key, const Slot& slot, bool gone) const;
  void MakeLive(SlotMap::iterator it, const v1::PresenceAnnouncement& announcement,
                uint64_t deadline_ms);
  // Turns a live slot (or a new one) into a remembered sequence until now + remember_ms.
  void Remember(SlotMap::iterator it, uint64_t now_ms);
  void Unschedule(SlotMap::iterator it);
  void Erase(SlotMap::iterator it);

  PresenceTableLimits limits_;
  SlotMap slots_;
  std::set<std::pair<uint64_t, SlotKey>> expiries_;  // live slots by deadline
  // Remembered slots by deadline, per store (a full store forgets its soonest first).
  std::map<std::string, std::set<std::pair<uint64_t, SlotKey>>> forgets_;
  std::map<std::pair<std::string, std::string>, size_t> live_per_origin_;  // (store, origin)
  std::map<std::string, size_t> live_per_store_;
};

}  // namespace lattice::kernel::presence
