#include "replication/connection_table.h"

#include "lattice/common/ids.h"

#include "lattice/common/status.h"
#include "state/root_rules.h"

namespace lattice::kernel::replication {
namespace {

// The direction both ends prefer: links dialed by the node with the smaller id.
bool Preferred(const PeerConnection& conn, const std::string& self_id) {
  bool self_smaller = self_id < conn.peer_id();
  return conn.dialed() == self_smaller;
}

}  // namespace

ConnectionPtr ConnectionTable::Add(ConnectionPtr conn) {
  std::lock_guard lock(mu_);
  auto& slot = by_peer_[conn->peer_id()];
  if (!slot || !slot->open()) {
    slot = std::move(conn);
    return nullptr;
  }
  // A new link wins unless only the old one is of the preferred direction: a node dials
  // again only when its old link is gone, which the peer may not have noticed yet.
  if (Preferred(*slot, self_id_) && !Preferred(*conn, self_id_)) return conn;
  std::swap(slot, conn);
  return conn;  // the old one
}

void ConnectionTable::Remove(const PeerConnection* conn) {
  std::lock_guard lock(mu_);
  auto it = by_peer_.find(conn->peer_id());
  if (it != by_peer_.end() && it->second.get() == conn) by_peer_.erase(it);
}

ConnectionPtr ConnectionTable::Get(const std::string& peer_id) const {
  std::lock_guard lock(mu_);
  auto it = by_peer_.find(peer_id);
  if (it == by_peer_.end() || !it->second->open()) return nullptr;
  return it->second;
}

bool ConnectionTable::Empty() const {
  std::lock_guard lock(mu_);
  return by_peer_.empty();
}

std::vector<ConnectionPtr> ConnectionTable::All() const {
  std::lock_guard lock(mu_);
  std::vector<ConnectionPtr> out;
  for (const auto& [peer, conn] : by_peer_) {
    if (conn->open()) out.push_back(conn);
  }
  return out;
}

Membership::Entry Membership::EntryOf(const std::string& mesh_id) {
  Store* root = node_.RootOf(mesh_id);
  if (root == nullptr) return {};
  uint64_t witness = root->last_witness();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(mesh_id);
    if (it != cache_.end() && it->second.valid && it->second.witness == witness) {
      return it->second;
    }
  }
  Entry entry{witness, true, {}, {}};
  std::set<std::string> recorded;
  const std::string& self = node_.identity().public_key;
  bool self_revoked = false;
  for (const auto& member : node_.Members(mesh_id)) {
    recorded.insert(member.node_id);
    if (member.status == kMemberActive) entry.active.insert(member.node_id);
    if (member.status == kMemberRevoked) {
      entry.revoked.insert(member.node_id);
      self_revoked |= member.node_id == self;
    }
  }
  // The creator and this node's inviter count as members until the root store says
  // otherwise, as Node::IsMember has it.
  if (auto mesh = node_.MeshRecordOf(mesh_id)) {
    for (const std::string& id : {mesh->creator(), mesh->inviter()}) {
      if (!id.empty() && !recorded.count(id)) entry.active.insert(id);
    }
  }
  if (self_revoked) {
    // A revoked node shares nothing with the mesh; what it has left to do is hear of news
    // (a re-admission needs a new join), which every member's revocation notice brings.
    entry.revoked.insert(entry.active.begin(), entry.active.end());
    entry.active.clear();
  }
  std::lock_guard lock(mu_);
  cache_[mesh_id] = entry;
  return entry;
}

std::set<std::string> Membership::Active(const std::string& mesh_id) {
  return EntryOf(mesh_id).active;
}

std::vector<std::string> Membership::SharedMeshes(const std::string& node_id) {
  std::vector<std::string> out;
  for (const auto& mesh : node_.Meshes()) {
    std::string id = *ParseStoreId(mesh.root_store_id());
    if (IsActive(id, node_id)) out.push_back(id);
  }
  return out;
}

std::vector<std::string> Membership::RevokedIn(const std::string& node_id) {
  std::vector<std::string> out;
  for (const auto& mesh : node_.Meshes()) {
    std::string id = *ParseStoreId(mesh.root_store_id());
    if (EntryOf(id).revoked.count(node_id)) out.push_back(id);
  }
  return out;
}

}  // namespace lattice::kernel::replication
