#include "replication/connection_table.h"

#include "lattice/common/ids.h"

#include "lattice/common/status.h"

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

std::set<std::string> Membership::Active(const std::string& mesh_id) {
  Store* root = node_.RootOf(mesh_id);
  if (root == nullptr) return {};
  uint64_t witness = root->last_witness();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(mesh_id);
    if (it != cache_.end() && it->second.valid && it->second.witness == witness) {
      return it->second.active;
    }
  }
  std::set<std::string> active;
  std::set<std::string> recorded;
  for (const auto& member : node_.Members(mesh_id)) {
    recorded.insert(member.node_id);
    if (member.status == "active") active.insert(member.node_id);
  }
  // The creator and this node's inviter count as members until the root store says
  // otherwise, as Node::IsMember has it.
  if (auto mesh = node_.MeshRecordOf(mesh_id)) {
    for (const std::string& id : {mesh->creator(), mesh->inviter()}) {
      if (!id.empty() && !recorded.count(id)) active.insert(id);
    }
  }
  std::lock_guard lock(mu_);
  cache_[mesh_id] = Entry{witness, true, active};
  return active;
}

std::vector<std::string> Membership::SharedMeshes(const std::string& node_id) {
  std::vector<std::string> out;
  for (const auto& mesh : node_.Meshes()) {
    std::string id = *ParseStoreId(mesh.root_store_id());
    if (IsActive(id, node_id)) out.push_back(id);
  }
  return out;
}

}  // namespace lattice::kernel::replication
