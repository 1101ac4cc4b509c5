// What the parts of replication (gossip, fetch, reconciliation, bootstrap) share: the node,
// its live connections and who may replicate which store.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "node/node.h"
#include "replication/connection_table.h"

namespace lattice::kernel::replication {

// Outlives every part that borrows it. Thread-safe.
class ReplicationContext {
 public:
  ReplicationContext(Node& node, ConnectionTable& connections, Membership& membership)
      : node(node), connections(connections), membership(membership) {}

  // The local store `store_id` when `peer_id` may replicate it: this node holds the store
  // and the peer is an active member of its mesh. nullptr otherwise.
  Store* StoreFor(const std::string& peer_id, const std::string& store_id);
  // Open connections to active members of the store's mesh.
  std::vector<ConnectionPtr> PeersOf(const std::string& store_id);
  // The active members of the store's mesh (raw node ids); empty for an unknown store.
  std::set<std::string> MembersOf(const std::string& store_id);
  // Stores this node shares with `peer_id` (every store of every mesh the peer is active in).
  std::vector<StoreDescriptor> SharedStores(const std::string& peer_id);

  Node& node;
  ConnectionTable& connections;
  Membership& membership;
};

}  // namespace lattice::kernel::replication
