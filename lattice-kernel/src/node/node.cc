// Node: opening the node (identity, node database, its own mesh and the stores of every
// mesh it is in), and the meshes it joins. The store registry, membership and revocation
// are in store_registry.cc, membership.cc and revocation.cc.
#include "node/node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "identity/node_identity.h"
#include "lattice/common/crypto.h"
#include "lattice/common/files.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "node/root_values.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

constexpr std::string_view kMeshKeyPrefix = "mesh/";

std::string MeshKey(std::string_view mesh_id) { return std::string(kMeshKeyPrefix) + std::string(mesh_id); }

std::string HostName() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "lattice-node";
  return buffer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Open(const NodeOptions& options) {
  std::unique_ptr<Node> node(new Node(options));
  LATTICE_RETURN_IF_ERROR(node->Start());
  return node;
}

Node::~Node() {
  {
    std::lock_guard lock(enforce_mutex_);
    enforce_stopping_ = true;
  }
  enforce_cv_.notify_all();
  if (enforcer_.joinable()) enforcer_.join();
  std::unique_lock lock(mutex_);
  stores_.clear();  // each store drains its writer before closing
}

std::string Node::node_id_hex() const { return ToHex(identity_.public_key); }

std::string Node::name() const {
  std::shared_lock lock(mutex_);
  auto it = stores_.find(own_mesh_id_);
  if (it == stores_.end()) return {};
  return ReadRootValue(*it->second, fmt::format("/nodes/{}/name", node_id_hex())).value_or("");
}

absl::Status Node::Start() {
  LATTICE_RETURN_IF_ERROR(MakeDirsDurable(options_.data_dir));
  if (!options_.witness_dir.empty()) {
    // Its files are read by whoever may dial the socket beside it and written by the kernel
    // alone; it cannot be listed (0710), so a file is found only by the name the kernel
    // tells a client allowed to watch its store (FsWatchResponse.witness_file).
    std::string parent = std::filesystem::path(options_.witness_dir).parent_path().string();
    if (parent.empty()) parent = ".";  // beside a socket named without a directory
    absl::Status made = MakePrivateDirectory(parent, 0750, "socket directory");
    if (made.ok()) made = MakePrivateDirectory(options_.witness_dir, 0710, "fs witness directory");
    if (made.ok() && ::chmod(options_.witness_dir.c_str(), 0710) != 0) {
      made = ErrnoStatus(errno, "chmod " + options_.witness_dir);
    }
    if (!made.ok()) {
      spdlog::warn("fs stores do not publish their witness, mounts ask for every open: {}",
                   made.message());
      options_.witness_dir.clear();
    }
  }
  LATTICE_ASSIGN_OR_RETURN(identity_, LoadOrCreateIdentity(options_.data_dir + "/identity.key"));
  LATTICE_ASSIGN_OR_RETURN(node_db_, Database::Open(options_.data_dir + "/node",
                                                    options_.write_buffer_bytes, options_.env));
  tokens_ = std::make_unique<TokenStore>(*node_db_);

  std::vector<v1::MeshRecord> meshes;
  LATTICE_RETURN_IF_ERROR(node_db_->Scan(kMeshKeyPrefix, keys::PrefixEnd(kMeshKeyPrefix),
                                         [&](std::string_view, std::string_view v) {
                                           v1::MeshRecord mesh;
                                           if (mesh.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                             meshes.push_back(std::move(mesh));
                                           }
                                           return true;
                                         }));
  bool have_own = false;
  for (const auto& mesh : meshes) have_own |= mesh.own();
  if (!have_own) {
    // First start: the node's own mesh. The record is durable before the root store gets
    // its first write, and the writes below are idempotent, so a crash in between is safe.
    v1::MeshRecord mesh;
    mesh.set_root_store_id(FormatStoreId(NewStoreId()));
    mesh.set_creator(identity_.public_key);
    mesh.set_own(true);
    leveldb::WriteBatch batch;
    batch.Put(MeshKey(*ParseStoreId(mesh.root_store_id())), mesh.SerializeAsString());
    LATTICE_RETURN_IF_ERROR(node_db_->Write(&batch, /*sync=*/true));
    meshes.push_back(mesh);
    spdlog::info("created this node's own mesh {}", mesh.root_store_id());
  }
  for (const auto& mesh : meshes) {
    LATTICE_RETURN_IF_ERROR(OpenMesh(mesh));
    if (mesh.own()) own_mesh_id_ = *ParseStoreId(mesh.root_store_id());
  }

  Store* root = RootOf(own_mesh_id_);
  std::string self = node_id_hex();
  std::vector<KvWrite> announce;
  if (ReadRootValue(*root, fmt::format("/nodes/{}/status", self)) != "active") {
    announce.push_back({fmt::format("/nodes/{}/status", self), "active", false});
  }
  std::string wanted_name = options_.name;
  auto current_name = ReadRootValue(*root, fmt::format("/nodes/{}/name", self));
  if (wanted_name.empty() && !current_name) wanted_name = HostName();
  if (!wanted_name.empty() && current_name != wanted_name) {
    if (wanted_name.size() > limits::kMaxNodeNameBytes) {
      return LimitExceeded("node name", wanted_name.size(), limits::kMaxNodeNameBytes);
    }
    announce.push_back({fmt::format("/nodes/{}/name", self), wanted_name, false});
  }
  if (!announce.empty()) {
    auto announced = root->WriteKv(std::move(announce));
    // A node revoked from its own mesh still starts, and says why it cannot announce itself.
    if (announced.status().code() == absl::StatusCode::kPermissionDenied) {
      spdlog::warn("{}", announced.status().message());
    } else {
      LATTICE_RETURN_IF_ERROR(announced.status());
    }
  }
  RefreshRegistry();
  enforcer_ = std::thread([this] { EnforceLoop(); });
  // A revocation applied just before a crash may not have been enforced yet: look again.
  for (const auto& mesh : meshes) {
    auto id = *ParseStoreId(mesh.root_store_id());
    for (const auto& member : Members(id)) {
      if (member.status == "revoked") QueueEnforcement(id, member.node_id);
    }
  }
  return absl::OkStatus();
}

absl::Status Node::OpenMesh(const v1::MeshRecord& mesh) {
  auto id = ParseStoreId(mesh.root_store_id());
  if (!id) return absl::DataLossError("node database holds a malformed mesh id");
  {
    std::unique_lock lock(mutex_);
    meshes_[*id] = mesh;
  }
  return OpenStore(*id, StoreType::kRoot, *id).status();
}

absl::StatusOr<Store*> Node::OpenStore(const std::string& id, StoreType type,
                                       const std::string& mesh_id) {
  // One opener at a time: two threads refreshing the registry must not both open it.
  std::lock_guard open_lock(open_mutex_);
  {
    std::shared_lock lock(mutex_);
    if (auto it = stores_.find(id); it != stores_.end()) return it->second.get();
  }
  Store::Options options;
  options.dir = fmt::format("{}/stores/{}", options_.data_dir, FormatStoreId(id));
  options.id = id;
  options.type = type;
  options.identity = &identity_;
  options.clock = &clock_;
  options.min_free_bytes = options_.min_free_bytes;
  options.write_buffer_bytes = options_.write_buffer_bytes;
  options.env = options_.env;
  options.chunk_gc_interval_ms = options_.chunk_gc_interval_ms;
  options.chunk_gc_grace_ms = options_.chunk_gc_grace_ms;
  options.chunk_gc_touch_ms = options_.chunk_gc_touch_ms;
  // fs stores keep their file content as chunks.
  options.keep_chunks = type == StoreType::kFs || options_.chunks_in_every_store;
  if (type == StoreType::kFs && !options_.witness_dir.empty()) {
    options.published_witness_path = fmt::format("{}/{}", options_.witness_dir, WitnessFileName(id));
  }
  options.may_write = [this, mesh_id, id](std::string_view author, BatchView& own) {
    return RightsOf(mesh_id, id, author, id == mesh_id ? &own : nullptr);
  };
  LATTICE_ASSIGN_OR_RETURN(auto store, Store::Open(std::move(options)));
  if (type == StoreType::kRoot) {
    store->Subscribe([this, mesh_id](const std::vector<DecodedIntention>& applied) {
      OnRootApplied(mesh_id, applied);
    });
  }
  std::unique_lock lock(mutex_);
  auto [it, inserted] = stores_.emplace(id, std::move(store));
  return it->second.get();
}

std::string Node::WitnessFileName(const std::string& id) const {
  // A keyed hash of the id (keyed by the node's secret seed, under a label of its own): stable
  // across restarts, so mounts keep their mapping, and not guessable from the store's id.
  std::string seed = identity_.secret_key.substr(0, 32);
  return ToHex(Blake2b256Keyed(seed, std::string("lattice fs witness file\0", 24) + id).substr(0, 16));
}

Store* Node::RootOf(const std::string& mesh_id) {
  std::shared_lock lock(mutex_);
  auto it = stores_.find(mesh_id);
  return it == stores_.end() ? nullptr : it->second.get();
}

Store* Node::StoreById(const std::string& id) {
  std::shared_lock lock(mutex_);
  auto it = stores_.find(id);
  return it == stores_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Node::ForkedAuthors() {
  std::set<std::string> authors;
  std::vector<Store*> stores;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [id, store] : stores_) stores.push_back(store.get());
  }
  for (Store* store : stores) {
    auto proofs = store->ForkProofs();
    if (!proofs.ok()) continue;
    for (const auto& proof : *proofs) {
      v1::Intention body;
      if (body.ParseFromString(proof.first().body())) authors.insert(ToHex(body.author()));
    }
  }
  return {authors.begin(), authors.end()};
}

std::vector<v1::MeshRecord> Node::Meshes() const {
  std::shared_lock lock(mutex_);
  std::vector<v1::MeshRecord> out;
  for (const auto& [id, mesh] : meshes_) out.push_back(mesh);
  return out;
}

absl::Status Node::AddMesh(const v1::MeshRecord& mesh) {
  auto id = ParseStoreId(mesh.root_store_id());
  if (!id) return absl::InvalidArgumentError("malformed mesh id");
  {
    std::shared_lock lock(mutex_);
    if (meshes_.count(*id)) {
      return absl::AlreadyExistsError(
          fmt::format("this node is already in mesh {}", mesh.root_store_id()));
    }
  }
  v1::MeshRecord record = mesh;
  record.set_own(false);
  leveldb::WriteBatch batch;
  batch.Put(MeshKey(*id), record.SerializeAsString());
  LATTICE_RETURN_IF_ERROR(node_db_->Write(&batch, /*sync=*/true));
  LATTICE_RETURN_IF_ERROR(OpenMesh(record));
  spdlog::info("joined mesh {}", mesh.root_store_id());
  std::lock_guard lock(mesh_listeners_mutex_);
  for (const auto& [listener_id, listener] : mesh_listeners_) listener(*id);
  return absl::OkStatus();
}

absl::Status Node::RenameSelf(const std::string& mesh_id, const std::string& name) {
  Store* root = RootOf(mesh_id);
  std::optional<v1::MeshRecord> mesh = MeshRecordOf(mesh_id);
  if (root == nullptr || !mesh) return absl::NotFoundError("this node is in no such mesh");
  if (!mesh->own()) {
    mesh->set_name(name);
    leveldb::WriteBatch batch;
    batch.Put(MeshKey(mesh_id), mesh->SerializeAsString());
    LATTICE_RETURN_IF_ERROR(node_db_->Write(&batch, /*sync=*/true));
    std::unique_lock lock(mutex_);
    meshes_[mesh_id] = *mesh;
  }
  return root->WriteKv({{fmt::format("/nodes/{}/name", node_id_hex()), name, false}}).status();
}

uint64_t Node::AddMeshListener(std::function<void(const std::string& mesh_id)> listener) {
  std::lock_guard lock(mesh_listeners_mutex_);
  mesh_listeners_[next_mesh_listener_] = std::move(listener);
  return next_mesh_listener_++;
}

void Node::RemoveMeshListener(uint64_t listener_id) {
  std::lock_guard lock(mesh_listeners_mutex_);
  mesh_listeners_.erase(listener_id);
}

std::optional<v1::MeshRecord> Node::MeshRecordOf(const std::string& mesh_id) const {
  std::shared_lock lock(mutex_);
  auto it = meshes_.find(mesh_id);
  if (it == meshes_.end()) return std::nullopt;
  return it->second;
}

}  // namespace lattice::kernel
