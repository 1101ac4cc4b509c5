// Presence between nodes (replication.proto PresenceGossip): the node's presence hub
// (presence/presence_hub.h) reaches the connected peers of a store through this, and what
// peers send enters the hub only through OnGossip, which keeps an announcement only when
// the store is held here, the sending peer and the announcing origin are both active
// members of its mesh, and the signature is the origin's. A new link is sent every live
// entry of the stores the two nodes share, and a node that has just bootstrapped a store asks
// for its live entries, so a node that connects late sees the present.
#pragma once

#include <string>
#include <vector>

#include "presence/presence_hub.h"
#include "replication/replication_context.h"

namespace lattice::kernel::replication {

struct PresenceGossipStats {
  uint64_t received = 0;   // announcements peers sent
  uint64_t accepted = 0;   // of them, news kept here
  uint64_t rejected = 0;   // dropped: unknown store, non-member, bad signature
};

// Thread-safe. Installs itself as the hub's sender; the destructor removes it.
class PresenceGossip {
 public:
  PresenceGossip(ReplicationContext& ctx, presence::PresenceHub& hub);
  ~PresenceGossip();
  PresenceGossip(const PresenceGossip&) = delete;
  PresenceGossip& operator=(const PresenceGossip&) = delete;

  // A PresenceGossip `from` sent (already bounded by ParsePeerMessage).
  void OnGossip(const ConnectionPtr& from, const v1::PresenceGossip& gossip);
  // Sends `conn` every live entry of the stores this node shares with its peer.
  void OnLinked(const ConnectionPtr& conn);
  // This node has just come to hold `store_id`: asks its connected peers of the store for
  // their live entries (their links may have come up before it held the store).
  void OnStoreArrived(const std::string& store_id);

  PresenceGossipStats stats() const;

 private:
  // Sends `entries` of `store_id` to every connected active member of its mesh but
  // `except_peer` (the hub's sender).
  void SendToPeers(const std::string& store_id,
                   const std::vector<v1::PresenceAnnouncement>& entries,
                   const std::string& except_peer);
  static void SendTo(PeerConnection& conn, const std::vector<v1::PresenceAnnouncement>& entries);
  // Sends `conn` the live entries of `store_id` if its peer is an active member of the
  // store's mesh.
  void SendLive(const ConnectionPtr& conn, const std::string& store_id);

  ReplicationContext& ctx_;
  presence::PresenceHub& hub_;
  mutable std::mutex mu_;
  PresenceGossipStats stats_;
};

}  // namespace lattice::kernel::replication
