#include "node/node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>

#include "identity/node_identity.h"
#include "lattice/common/files.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/status.h"
#include "state/kv_state.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

constexpr std::string_view kMeshKeyPrefix = "mesh/";
constexpr std::string_view kRootStoreName = "root";

std::string MeshKey(std::string_view mesh_id) { return std::string(kMeshKeyPrefix) + std::string(mesh_id); }

std::optional<std::string> ReadRootValue(const Store& root, const std::string& key) {
  auto heads = ReadHeads(root.db(), key);
  if (!heads.ok()) return std::nullopt;
  KvRead read = ResolveHeads(*heads);
  if (!read.found) return std::nullopt;
  return read.winner.value();
}

std::string HostName() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "lattice-node";
  return buffer;
}

absl::Status CheckStoreName(const std::string& name) {
  if (name.empty() || name.size() > limits::kMaxStoreNameBytes) {
    return absl::InvalidArgumentError("a store name must have 1 to 128 characters");
  }
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') {
      return absl::InvalidArgumentError(fmt::format(
          "store name \"{}\" may contain only letters, digits, '-', '_' and '.'", name));
    }
  }
  if (ParseStoreId(name) || name == kRootStoreName) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is reserved as a store name", name));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Open(const NodeOptions& options) {
  std::unique_ptr<Node> node(new Node(options));
  LATTICE_RETURN_IF_ERROR(node->Start());
  return node;
}

Node::~Node() {
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
  LATTICE_ASSIGN_OR_RETURN(identity_, LoadOrCreateIdentity(options_.data_dir + "/identity.key"));
  LATTICE_ASSIGN_OR_RETURN(node_db_, Database::Open(options_.data_dir + "/node"));
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
  if (!announce.empty()) LATTICE_RETURN_IF_ERROR(root->WriteKv(std::move(announce)).status());
  RefreshRegistry();
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
  options.may_write = [this, mesh_id](std::string_view author) { return IsMember(mesh_id, author); };
  LATTICE_ASSIGN_OR_RETURN(auto store, Store::Open(std::move(options)));
  std::unique_lock lock(mutex_);
  auto [it, inserted] = stores_.emplace(id, std::move(store));
  return it->second.get();
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

bool Node::IsMember(const std::string& mesh_id, std::string_view author) {
  v1::MeshRecord mesh;
  {
    std::shared_lock lock(mutex_);
    auto it = meshes_.find(mesh_id);
    if (it == meshes_.end()) return false;
    mesh = it->second;
  }
  if (author == mesh.creator()) return true;
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return false;
  return ReadRootValue(*root, fmt::format("/nodes/{}/status", ToHex(author))) == "active";
}

void Node::RefreshRegistry() {
  std::vector<std::string> mesh_ids;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [id, mesh] : meshes_) mesh_ids.push_back(id);
  }
  for (const auto& mesh_id : mesh_ids) {
    Store* root = RootOf(mesh_id);
    if (root == nullptr) continue;
    uint64_t witness = root->last_witness();
    {
      std::shared_lock lock(mutex_);
      auto it = registry_witness_.find(mesh_id);
      if (it != registry_witness_.end() && it->second == witness) continue;
    }
    std::map<std::string, StoreDescriptor> found;
    StoreDescriptor root_descriptor{mesh_id, std::string(kRootStoreName), StoreType::kRoot,
                                    "active", mesh_id};
    if (mesh_id != own_mesh_id_) root_descriptor.name = "root-" + FormatStoreId(mesh_id).substr(0, 8);
    found[mesh_id] = root_descriptor;
    std::string prefix = KvHeadsKey("/stores/");
    (void)root->db().Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
      std::string_view path = k.substr(prefix.size());  // "{uuid}/{field}"
      size_t slash = path.find('/');
      if (slash == std::string_view::npos) return true;
      auto id = ParseStoreId(path.substr(0, slash));
      if (!id) return true;
      v1::KvHeads heads;
      heads.ParseFromArray(v.data(), static_cast<int>(v.size()));
      KvRead read = ResolveHeads(heads);
      if (!read.found) return true;
      StoreDescriptor& d = found[*id];
      d.id = *id;
      d.mesh_id = mesh_id;
      std::string_view field = path.substr(slash + 1);
      if (field == "name") d.name = read.winner.value();
      if (field == "type") d.type = ParseStoreType(read.winner.value()).value_or(StoreType::kKv);
      if (field == "status") d.status = read.winner.value();
      return true;
    });
    for (auto& [id, d] : found) {
      if (d.status.empty()) d.status = "active";
      if (!StoreById(id)) {
        if (auto s = OpenStore(id, d.type, mesh_id); !s.ok()) {
          spdlog::error("cannot open store {}: {}", FormatStoreId(id), s.status().message());
        }
      }
    }
    std::unique_lock lock(mutex_);
    for (auto it = registry_.begin(); it != registry_.end();) {
      it = it->second.mesh_id == mesh_id ? registry_.erase(it) : std::next(it);
    }
    registry_.merge(found);
    registry_witness_[mesh_id] = witness;
  }
}

std::vector<StoreDescriptor> Node::ListStores(bool include_archived) {
  RefreshRegistry();
  std::shared_lock lock(mutex_);
  std::vector<StoreDescriptor> out;
  for (const auto& [id, d] : registry_) {
    if (include_archived || d.status != "archived") out.push_back(d);
  }
  return out;
}

absl::StatusOr<StoreDescriptor> Node::Resolve(const std::string& name_or_id) {
  RefreshRegistry();
  std::shared_lock lock(mutex_);
  if (auto id = ParseStoreId(name_or_id)) {
    auto it = registry_.find(*id);
    if (it == registry_.end()) return absl::NotFoundError(fmt::format("no store {}", name_or_id));
    return it->second;
  }
  std::vector<const StoreDescriptor*> matches;
  for (const auto& [id, d] : registry_) {
    if (d.name == name_or_id) matches.push_back(&d);
  }
  if (matches.empty()) return absl::NotFoundError(fmt::format("no store named \"{}\"", name_or_id));
  if (matches.size() > 1) {
    return absl::InvalidArgumentError(fmt::format(
        "the name \"{}\" belongs to {} stores; use the store's id", name_or_id, matches.size()));
  }
  return *matches.front();
}

absl::StatusOr<StoreDescriptor> Node::CreateStore(const std::string& name, StoreType type,
                                                  const std::string& mesh_id) {
  LATTICE_RETURN_IF_ERROR(CheckStoreName(name));
  if (type == StoreType::kRoot) {
    return absl::InvalidArgumentError("root stores are created with their mesh, not by hand");
  }
  std::lock_guard create_lock(create_mutex_);
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return absl::NotFoundError("no such mesh on this node");
  for (const auto& d : ListStores(true)) {
    if (d.mesh_id == mesh_id && d.name == name) {
      return absl::AlreadyExistsError(
          fmt::format("a store named \"{}\" already exists ({})", name, FormatStoreId(d.id)));
    }
  }
  std::string id = NewStoreId();
  // The store's database exists (durably) before the mesh announces it.
  LATTICE_RETURN_IF_ERROR(OpenStore(id, type, mesh_id).status());
  std::string base = fmt::format("/stores/{}/", FormatStoreId(id));
  LATTICE_RETURN_IF_ERROR(root->WriteKv({{base + "name", name, false},
                                         {base + "type", std::string(StoreTypeName(type)), false},
                                         {base + "status", "active", false}})
                              .status());
  spdlog::info("created {} store {} ({})", StoreTypeName(type), name, FormatStoreId(id));
  return Resolve(FormatStoreId(id));
}

absl::StatusOr<StoreDescriptor> Node::SetStoreStatus(const std::string& name_or_id,
                                                     const std::string& status) {
  LATTICE_ASSIGN_OR_RETURN(StoreDescriptor d, Resolve(name_or_id));
  if (d.type == StoreType::kRoot) {
    return absl::FailedPreconditionError("a mesh's root store cannot be archived");
  }
  if (d.status == status) return d;
  Store* root = RootOf(d.mesh_id);
  if (root == nullptr) return absl::NotFoundError("the store's mesh is not open");
  LATTICE_RETURN_IF_ERROR(
      root->WriteKv({{fmt::format("/stores/{}/status", FormatStoreId(d.id)), status, false}})
          .status());
  return Resolve(FormatStoreId(d.id));
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

}  // namespace lattice::kernel
