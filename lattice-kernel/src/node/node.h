// The node: its identity, its node database, its meshes and every store it holds. Child
// stores are listed in their mesh's root store (/stores/{id}/name|type|status), so the
// registry replicates with the mesh; the node database only remembers which meshes it is in.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dag/hlc.h"
#include "lattice/common/crypto.h"
#include "node/token_store.h"
#include "storage/database.h"
#include "store/store.h"

namespace lattice::kernel {

struct NodeOptions {
  std::string data_dir;
  std::string name;             // empty: keep the stored name, or the host name on first start
  uint64_t min_free_bytes = 0;
};

struct StoreDescriptor {
  std::string id;       // 16 raw bytes
  std::string name;
  StoreType type = StoreType::kKv;
  std::string status;   // active | archived
  std::string mesh_id;  // 16 raw bytes of the mesh's root store
};

// Thread-safe.
class Node {
 public:
  static absl::StatusOr<std::unique_ptr<Node>> Open(const NodeOptions& options);
  ~Node();

  const KeyPair& identity() const { return identity_; }
  std::string node_id_hex() const;
  std::string name() const;
  const std::string& own_mesh_id() const { return own_mesh_id_; }
  const std::string& data_dir() const { return options_.data_dir; }
  HybridClock& clock() { return clock_; }
  TokenStore& tokens() { return *tokens_; }

  absl::StatusOr<StoreDescriptor> CreateStore(const std::string& name, StoreType type,
                                              const std::string& mesh_id);
  absl::StatusOr<StoreDescriptor> SetStoreStatus(const std::string& name_or_id,
                                                 const std::string& status);
  std::vector<StoreDescriptor> ListStores(bool include_archived);

  // Resolves a store's canonical id or its name. NOT_FOUND, or INVALID_ARGUMENT when a
  // name is ambiguous.
  absl::StatusOr<StoreDescriptor> Resolve(const std::string& name_or_id);
  Store* StoreById(const std::string& id);

  // Authors of any store that equivocated, as hex.
  std::vector<std::string> ForkedAuthors();

 private:
  explicit Node(NodeOptions options) : options_(std::move(options)) {}
  absl::Status Start();
  absl::Status OpenMesh(const v1::MeshRecord& mesh);
  absl::StatusOr<Store*> OpenStore(const std::string& id, StoreType type,
                                   const std::string& mesh_id);
  bool IsMember(const std::string& mesh_id, std::string_view author);
  void RefreshRegistry();
  Store* RootOf(const std::string& mesh_id);

  NodeOptions options_;
  KeyPair identity_;
  HybridClock clock_;
  std::unique_ptr<Database> node_db_;
  std::unique_ptr<TokenStore> tokens_;
  std::string own_mesh_id_;

  mutable std::shared_mutex mutex_;
  std::map<std::string, v1::MeshRecord> meshes_;                 // by root store id
  std::map<std::string, std::unique_ptr<Store>> stores_;         // by store id
  std::map<std::string, StoreDescriptor> registry_;              // by store id
  std::map<std::string, uint64_t> registry_witness_;             // root witness it reflects
  std::mutex create_mutex_;
};

}  // namespace lattice::kernel
