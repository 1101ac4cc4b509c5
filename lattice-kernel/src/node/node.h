// The node: its identity, its node database, its meshes and every store it holds. Child
// stores are listed in their mesh's root store (/stores/{id}/name|type|status), so the
// registry replicates with the mesh; the node database only remembers which meshes it is in.
#pragma once

#include <condition_variable>
#include <functional>
#include <deque>
#include <map>
#include <optional>
#include <thread>
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
  size_t write_buffer_bytes = Database::kDefaultWriteBufferBytes;  // of each database
  // Tests of chunk replication: every store keeps chunks, not only fs stores.
  bool chunks_in_every_store = false;
  // Chunk garbage collection of fs stores (Store::Options).
  uint64_t chunk_gc_interval_ms = 5 * 60 * 1000;
  uint64_t chunk_gc_grace_ms = 10 * 60 * 1000;
  uint64_t chunk_gc_touch_ms = 10 * 60 * 1000;
  // The file system below the node database and every store's database (Database::Open);
  // nullptr for the real one. Power-cut tests put a fault-injecting one here.
  leveldb::Env* env = nullptr;
  // Where fs stores publish their last witness number for mounts (WitnessDirForSocket):
  // made if missing, and left out (mounts then ask the kernel at every open) when it is not
  // a private directory. Empty: not published.
  std::string witness_dir = {};
};

struct StoreDescriptor {
  std::string id;       // 16 raw bytes
  std::string name;
  StoreType type = StoreType::kKv;
  std::string status;   // active | archived
  std::string mesh_id;  // 16 raw bytes of the mesh's root store
};

// A member of a mesh as its root store records it under /nodes/{node}/.
struct MemberInfo {
  std::string node_id;                 // 32 raw bytes
  std::string name;
  std::string status;                  // active | revoked
  std::vector<std::string> addresses;  // /nodes/{node}/addrs, comma-separated HOST:PORT
  std::vector<std::string> tags;       // /nodes/{node}/tags, comma-separated
  std::string revoked_by;              // raw id of the revoker, while revoked
  uint64_t revoked_at_ms = 0;          // when, by the revocation's clock
};

// "node 3f2a… was revoked from mesh … by 9c1d… at …", for messages to people.
std::string RevocationText(const MemberInfo& member, std::string_view mesh_id);

struct MemberStanding;
using StandingMap = std::map<std::string, MemberStanding>;  // by raw node id

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

  // ---- meshes (replication) ----
  std::vector<v1::MeshRecord> Meshes() const;
  std::optional<v1::MeshRecord> MeshRecordOf(const std::string& mesh_id) const;
  // Remembers a joined mesh durably and opens its root store (empty until bootstrapped).
  // ALREADY_EXISTS when this node is in the mesh already.
  absl::Status AddMesh(const v1::MeshRecord& mesh);
  Store* RootOf(const std::string& mesh_id);
  // The name node `node_id` (32 raw bytes) gave itself in the mesh's root store; empty when
  // it has none or the mesh is unknown here.
  std::string MemberName(const std::string& mesh_id, std::string_view node_id);
  // Sets this node's name in the mesh: in its root store, and for a joined mesh in the
  // mesh's record too, so the name announced there (Replicator::AnnounceSelf) stays.
  absl::Status RenameSelf(const std::string& mesh_id, const std::string& name);
  // Calls `listener(mesh_id)` after each mesh this node joins (AddMesh), on the joining
  // thread. Returns an id for RemoveMeshListener. The listener must be quick.
  uint64_t AddMeshListener(std::function<void(const std::string& mesh_id)> listener);
  void RemoveMeshListener(uint64_t id);
  // The mesh `store_id` belongs to, or "" when the store is unknown here.
  std::string MeshOfStore(const std::string& store_id);
  // The stores of a mesh, its root first, archived ones included (they replicate too).
  std::vector<StoreDescriptor> StoresOfMesh(const std::string& mesh_id);
  // Members recorded in the mesh's root store, in node id order.
  std::vector<MemberInfo> Members(const std::string& mesh_id);
  std::optional<MemberInfo> Member(const std::string& mesh_id, const std::string& node_id);
  // True when `node_id` (raw) may write to the mesh: an active member, or the mesh's
  // creator or this node's inviter unless the root store says they were revoked (until the
  // root store is bootstrapped they are the only members this node knows of).
  bool IsMember(const std::string& mesh_id, std::string_view node_id);
  // Re-reads the store registries of every mesh whose root changed and opens new stores.
  // Returns the stores opened by this call.
  std::vector<StoreDescriptor> RefreshRegistry();
  Database& node_db() { return *node_db_; }

  // What `author` may write to `store_id` of `mesh_id`, from the members' standing derived
  // from the root store (state/root_rules.h): members write; a revoked member's writes
  // after the cut of its revocation are void (and so are those a re-admission did not
  // cover); anyone else is refused.
  // `root_batch`, when given, is the root store's batch being built: it is read instead of
  // the committed root (the root deciding on its own writers within one group).
  AuthorRights RightsOf(const std::string& mesh_id, const std::string& store_id,
                        std::string_view author, BatchView* root_batch = nullptr);
  // The standing of every member of the mesh with a status of record, by raw node id.
  std::shared_ptr<const StandingMap> StandingOf(const std::string& mesh_id,
                                                BatchView* root_batch = nullptr);

  // Status changes written to the mesh's root store (DESIGN §7 Revocation). A revocation
  // records, for each store, the last seq of the node this node has (its cut): what the
  // node writes after it is void. A re-admission records the same and ends those ranges
  // there. Both fail, changing nothing, when a store cannot be read. An admission refuses
  // a revoked node (FAILED_PRECONDITION naming the revocation): re-admission is explicit.
  absl::Status AdmitMember(const std::string& mesh_id, const std::string& node_id);
  absl::Status RevokeMember(const std::string& mesh_id, const std::string& node_id);
  absl::Status ReadmitMember(const std::string& mesh_id, const std::string& node_id);

 private:
  explicit Node(NodeOptions options) : options_(std::move(options)) {}
  absl::Status Start();
  absl::Status OpenMesh(const v1::MeshRecord& mesh);
  // The name of an fs store's published witness file in NodeOptions::witness_dir.
  std::string WitnessFileName(const std::string& id) const;
  absl::StatusOr<Store*> OpenStore(const std::string& id, StoreType type,
                                   const std::string& mesh_id);
  // Revocations: a root store's changes to /nodes/{n}/status queue (mesh, n), and (mesh, "")
  // for every member, for the enforcer thread, which re-examines every store of the mesh
  // (not on the root's writer).
  absl::Status WriteStatusChange(const std::string& mesh_id, const std::string& node_id,
                                 std::string_view status, bool with_cuts);
  void OnRootApplied(const std::string& mesh_id, const std::vector<DecodedIntention>& applied);
  void QueueEnforcement(const std::string& mesh_id, const std::string& node_id);
  void EnforceLoop();

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
  std::mutex open_mutex_;

  std::mutex mesh_listeners_mutex_;
  std::map<uint64_t, std::function<void(const std::string&)>> mesh_listeners_;
  uint64_t next_mesh_listener_ = 1;

  std::mutex standing_mutex_;
  // By mesh: the standing folded at the root's witness number.
  std::map<std::string, std::pair<uint64_t, std::shared_ptr<const StandingMap>>> standing_cache_;

  std::mutex enforce_mutex_;
  std::condition_variable enforce_cv_;
  std::deque<std::pair<std::string, std::string>> enforce_queue_;  // (mesh, node)
  bool enforce_stopping_ = false;
  std::thread enforcer_;
};

}  // namespace lattice::kernel
