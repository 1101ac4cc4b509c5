#include "replication/replication_context.h"

#include <algorithm>

#include "lattice/common/status.h"

namespace lattice::kernel::replication {

Store* ReplicationContext::StoreFor(const std::string& peer_id, const std::string& store_id) {
  Store* store = node.StoreById(store_id);
  if (store == nullptr) return nullptr;
  std::string mesh = node.MeshOfStore(store_id);
  if (mesh.empty()) return nullptr;
  if (membership.IsActive(mesh, peer_id)) return store;
  // Root intentions are signed and judged by their authors: a revoked node still hears
  // them from its mesh, and so learns of a re-admission.
  if (store_id == mesh) {
    auto revoked = membership.RevokedIn(peer_id);
    if (std::find(revoked.begin(), revoked.end(), mesh) != revoked.end()) return store;
  }
  return nullptr;
}

std::vector<ConnectionPtr> ReplicationContext::PeersOf(const std::string& store_id) {
  std::string mesh = node.MeshOfStore(store_id);
  std::vector<ConnectionPtr> out;
  if (mesh.empty()) return out;
  auto active = membership.Active(mesh);
  for (auto& conn : connections.All()) {
    if (active.count(conn->peer_id())) out.push_back(std::move(conn));
  }
  return out;
}

std::set<std::string> ReplicationContext::MembersOf(const std::string& store_id) {
  std::string mesh = node.MeshOfStore(store_id);
  return mesh.empty() ? std::set<std::string>{} : membership.Active(mesh);
}

std::vector<StoreDescriptor> ReplicationContext::SharedStores(const std::string& peer_id) {
  std::vector<StoreDescriptor> out;
  for (const auto& mesh : membership.SharedMeshes(peer_id)) {
    for (auto& d : node.StoresOfMesh(mesh)) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace lattice::kernel::replication
