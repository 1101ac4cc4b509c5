// The node's presence (Presence.Announce / Presence.Watch, DESIGN §6): its PresenceTable
// behind a lock, the node's own announcements (signed with its key, sequenced), the watchers
// that see every change, and a thread that expires entries on time. Peers are reached
// through a sender the replicator installs (replication/presence_gossip.h); without one,
// presence is local to the node. Nothing here touches disk.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/common/crypto.h"
#include "presence/presence_table.h"

namespace lattice::kernel::presence {

// Sends announcements of one store to every connected peer of that store except
// `except_peer` ("" = none).
using PresenceSender = std::function<void(const std::string& store_id,
                                          const std::vector<v1::PresenceAnnouncement>& entries,
                                          const std::string& except_peer)>;
// Called under the hub's lock with each change of the watched store and prefix: it must
// be quick and must not call the hub.
using PresenceWatcher = std::function<void(const PresenceChange& change)>;

struct PresenceHubOptions {
  // Milliseconds of a monotonic clock (expiry) and microseconds of the wall clock
  // (sequences); tests replace them.
  std::function<uint64_t()> now_ms;
  std::function<uint64_t()> wall_us;
  // Expire on a thread of the hub's own; tests turn it off and call ExpireNow().
  bool expiry_thread = true;
  PresenceTableLimits limits;
};

// Thread-safe.
class PresenceHub {
 public:
  PresenceHub(KeyPair identity, PresenceHubOptions options = {});
  ~PresenceHub();
  PresenceHub(const PresenceHub&) = delete;
  PresenceHub& operator=(const PresenceHub&) = delete;

  // Checks the request (INVALID_ARGUMENT for a key, value or ttl outside the limits), signs
  // this node's announcement of `key` in `store_id` (raw id) with the next sequence, takes
  // it (RESOURCE_EXHAUSTED past the table's limits) and sends it to the peers. ttl_ms 0
  // withdraws the entry.
  absl::Status Announce(const std::string& store_id, const std::string& key,
                        const std::string& value, uint32_t ttl_ms);

  // Takes announcements a peer sent (each already verified: signature, membership, sizes)
  // and passes on to the other peers those that were news. Returns how many were.
  size_t Receive(const std::string& from_peer, const std::vector<v1::PresenceAnnouncement>& entries);

  // The live announcements of `store_id`, each with its time left (for a new link).
  std::vector<v1::PresenceAnnouncement> LiveAnnouncements(const std::string& store_id);

  // Registers `watcher` for the changes of `store_id` under `prefix`, and fills `snapshot`
  // with the live entries it matches at that moment (no change is missed or seen twice).
  // Returns an id for Unwatch.
  uint64_t Watch(const std::string& store_id, const std::string& prefix, PresenceWatcher watcher,
                 std::vector<PresenceChange>* snapshot);
  void Unwatch(uint64_t id);

  // Installs (or with nullptr removes) the peers' sender. Removal waits for sends in
  // progress, so the sender may go away once this returns.
  void SetSender(PresenceSender sender);

  // Expires what is due now (the expiry thread does this on time).
  void ExpireNow();
  uint64_t NowMs() const { return options_.now_ms(); }
  const std::string& self_id() const { return identity_.public_key; }

  // For tests and metrics.
  size_t live_count() const;

 private:
  struct WatchEntry {
    std::string store_id;
    std::string prefix;
    PresenceWatcher watcher;
  };
  void Notify(const PresenceChange& change);  // mu_ held
  void Send(const std::string& store_id, const std::vector<v1::PresenceAnnouncement>& entries,
            const std::string& except_peer);
  void RunExpiry();
  // Wakes the expiry thread when `deadline_ms` comes before the time it sleeps until.
  void ExpireBy(uint64_t deadline_ms);

  KeyPair identity_;
  PresenceHubOptions options_;

  mutable std::mutex mu_;
  PresenceTable table_;
  uint64_t last_sequence_ = 0;
  std::map<uint64_t, WatchEntry> watchers_;
  uint64_t next_watch_id_ = 1;

  std::mutex sender_mu_;
  PresenceSender sender_;

  std::mutex expiry_mu_;
  std::condition_variable expiry_cv_;
  bool stopping_ = false;
  bool deadline_moved_ = false;
  uint64_t planned_wake_ms_ = 0;
  std::thread expiry_thread_;
};

}  // namespace lattice::kernel::presence
