// The live peer connections of the node, one per peer, and which meshes each peer shares
// with us (read from the meshes' root stores, cached until a root store changes).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "node/node.h"
#include "replication/peer_connection.h"

namespace lattice::kernel::replication {

// Thread-safe.
class ConnectionTable {
 public:
  explicit ConnectionTable(std::string self_id) : self_id_(std::move(self_id)) {}

  // Adds `conn`. When a link to the same peer is open already, both nodes keep the link
  // dialed by the node with the smaller id (so they agree without talking), else the newer
  // one, and the other is returned for the caller to close; nullptr when none needs closing.
  ConnectionPtr Add(ConnectionPtr conn);
  // Forgets `conn` if it is still the peer's connection.
  void Remove(const PeerConnection* conn);
  ConnectionPtr Get(const std::string& peer_id) const;
  std::vector<ConnectionPtr> All() const;
  // True when no peer is linked (open or closing): a cheap check for the write path.
  bool Empty() const;

 private:
  std::string self_id_;
  mutable std::mutex mu_;
  std::map<std::string, ConnectionPtr> by_peer_;
};

// Active members of each mesh, cached per root store witness. Thread-safe.
class Membership {
 public:
  explicit Membership(Node& node) : node_(node) {}

  std::set<std::string> Active(const std::string& mesh_id);
  bool IsActive(const std::string& mesh_id, const std::string& node_id) {
    return Active(mesh_id).count(node_id) > 0;
  }
  // Meshes of this node in which `node_id` is an active member.
  std::vector<std::string> SharedMeshes(const std::string& node_id);
  // Meshes of this node in which `node_id` is revoked, or in which this node is revoked and
  // `node_id` a member: the two have revocations to trade, nothing else.
  std::vector<std::string> RevokedIn(const std::string& node_id);

 private:
  struct Entry {
    uint64_t witness = 0;
    bool valid = false;
    std::set<std::string> active;   // empty when this node itself is revoked
    std::set<std::string> revoked;  // and, when this node is revoked, every member
  };
  Entry EntryOf(const std::string& mesh_id);
  Node& node_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;
};

}  // namespace lattice::kernel::replication
