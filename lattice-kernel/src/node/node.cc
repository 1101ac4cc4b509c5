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
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "state/kv_state.h"
#include "state/root_rules.h"
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
          "store name {} may contain only letters, digits, '-', '_' and '.'", Quote(name)));
    }
  }
  if (ParseStoreId(name) || name == kRootStoreName) {
    return absl::InvalidArgumentError(fmt::format("{} is reserved as a store name", Quote(name)));
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
  LATTICE_ASSIGN_OR_RETURN(identity_, LoadOrCreateIdentity(options_.data_dir + "/identity.key"));
  LATTICE_ASSIGN_OR_RETURN(node_db_, Database::Open(options_.data_dir + "/node",
                                                          options_.write_buffer_bytes));
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
  options.chunk_gc_interval_ms = options_.chunk_gc_interval_ms;
  options.chunk_gc_grace_ms = options_.chunk_gc_grace_ms;
  options.chunk_gc_touch_ms = options_.chunk_gc_touch_ms;
  // fs stores keep their file content as chunks.
  options.keep_chunks = type == StoreType::kFs || options_.chunks_in_every_store;
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

Store* Node::RootOf(const std::string& mesh_id) {
  std::shared_lock lock(mutex_);
  auto it = stores_.find(mesh_id);
  return it == stores_.end() ? nullptr : it->second.get();
}

std::string Node::MemberName(const std::string& mesh_id, std::string_view node_id) {
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return {};
  return ReadRootValue(*root, fmt::format("/nodes/{}/name", ToHex(node_id))).value_or("");
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
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return false;
  auto status = ReadRootValue(*root, fmt::format("/nodes/{}/status", ToHex(author)));
  if (status) return *status == "active";
  return author == mesh.creator() || (!mesh.inviter().empty() && author == mesh.inviter());
}

std::vector<StoreDescriptor> Node::RefreshRegistry() {
  std::vector<StoreDescriptor> opened;
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
        } else {
          opened.push_back(d);
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
  return opened;
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
  if (matches.empty()) return absl::NotFoundError(fmt::format("no store named {}", Quote(name_or_id)));
  if (matches.size() > 1) {
    return absl::InvalidArgumentError(fmt::format(
        "the name {} belongs to {} stores; use the store's id", Quote(name_or_id), matches.size()));
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

namespace lattice::kernel {
namespace {

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace

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

std::string Node::MeshOfStore(const std::string& store_id) {
  {
    std::shared_lock lock(mutex_);
    if (meshes_.count(store_id)) return store_id;
    if (auto it = registry_.find(store_id); it != registry_.end()) return it->second.mesh_id;
  }
  RefreshRegistry();
  std::shared_lock lock(mutex_);
  if (auto it = registry_.find(store_id); it != registry_.end()) return it->second.mesh_id;
  return {};
}

std::vector<StoreDescriptor> Node::StoresOfMesh(const std::string& mesh_id) {
  RefreshRegistry();
  std::shared_lock lock(mutex_);
  std::vector<StoreDescriptor> out;
  if (auto it = registry_.find(mesh_id); it != registry_.end()) out.push_back(it->second);
  for (const auto& [id, d] : registry_) {
    if (d.mesh_id == mesh_id && id != mesh_id) out.push_back(d);
  }
  return out;
}

std::vector<MemberInfo> Node::Members(const std::string& mesh_id) {
  std::vector<MemberInfo> out;
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return out;
  std::map<std::string, MemberInfo> by_id;
  std::string prefix = KvHeadsKey("/nodes/");
  (void)root->db().Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    std::string_view path = k.substr(prefix.size());  // "{hex}/{field}"
    size_t slash = path.find('/');
    if (slash == std::string_view::npos) return true;
    auto id = ParseNodeId(path.substr(0, slash));
    if (!id) return true;
    std::string_view field = path.substr(slash + 1);
    if (field != "status" && field != "name" && field != "addrs" && field != "tags") return true;
    v1::KvHeads heads;
    if (!heads.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
    KvRead read = ResolveHeads(heads);
    if (!read.found) return true;
    MemberInfo& m = by_id[*id];
    m.node_id = *id;
    const std::string& value = read.winner.value();
    if (field == "status") m.status = value;
    if (field == "name") m.name = value;
    if (field == "addrs") m.addresses = SplitList(value);
    if (field == "tags") m.tags = SplitList(value);
    return true;
  });
  // The status is the derived standing (root_rules.h), not the last value written: a
  // revocation stays until an explicit re-admission, whatever else was written.
  // Held here: a range-for over `*StandingOf(...)` would outlive the returned pointer, and
  // the cache may drop the map it points to while the loop runs.
  std::shared_ptr<const StandingMap> standings = StandingOf(mesh_id);
  for (const auto& [id, standing] : *standings) {
    MemberInfo& m = by_id[id];
    m.node_id = id;
    m.status = standing.status;
    m.revoked_by = standing.revoked_by;
    m.revoked_at_ms = standing.revoked_at_ms;
  }
  for (auto& [id, m] : by_id) {
    if (!m.status.empty()) out.push_back(std::move(m));
  }
  return out;
}

std::optional<MemberInfo> Node::Member(const std::string& mesh_id, const std::string& node_id) {
  for (auto& m : Members(mesh_id)) {
    if (m.node_id == node_id) return m;
  }
  return std::nullopt;
}

}  // namespace lattice::kernel

namespace lattice::kernel {
namespace {

constexpr std::string_view kNodesPrefix = "/nodes/";

std::string StatusKey(std::string_view node_id) {
  return fmt::format("/nodes/{}/status", ToHex(node_id));
}

std::string CutKey(std::string_view node_id, std::string_view store_id) {
  return fmt::format("/nodes/{}/cut/{}", ToHex(node_id), FormatStoreId(store_id));
}

// Reads the root intentions indexed as status changes into the fold's input.
void AddStandingInput(std::string_view standing_key, std::optional<std::string> stored,
                      std::vector<StandingInput>* out) {
  v1::StoredIntention record;
  if (!stored || !record.ParseFromString(*stored)) return;
  auto decoded = DecodeTrusted(record.intention());
  if (!decoded.ok()) return;
  StandingInput input;
  input.hlc = decoded->hlc();
  input.hash = std::string(standing_key.substr(1 + 8 + 4));
  input.author = decoded->body.author();
  input.seq = decoded->body.seq();
  input.changes = StandingChangesOf(*decoded);
  out->push_back(std::move(input));
}

}  // namespace

std::string RevocationText(const MemberInfo& member, std::string_view mesh_id) {
  return fmt::format("node {} was revoked from mesh {} by {} at {} (unix ms)",
                     ShortHex(member.node_id), FormatStoreId(mesh_id), ShortHex(member.revoked_by),
                     member.revoked_at_ms);
}

std::shared_ptr<const StandingMap> Node::StandingOf(const std::string& mesh_id,
                                                    BatchView* root_batch) {
  std::optional<v1::MeshRecord> mesh = MeshRecordOf(mesh_id);
  Store* root = RootOf(mesh_id);
  if (!mesh || (root == nullptr && root_batch == nullptr)) {
    return std::make_shared<const StandingMap>();
  }
  uint64_t witness = root != nullptr ? root->last_witness() : 0;
  if (root_batch == nullptr) {
    std::lock_guard lock(standing_mutex_);
    auto it = standing_cache_.find(mesh_id);
    if (it != standing_cache_.end() && it->second.first == witness) return it->second.second;
  }
  std::vector<StandingInput> inputs;
  std::string prefix = keys::Table(keys::kStanding);
  if (root_batch != nullptr) {
    std::vector<std::string> found;
    root_batch->ScanPrefix(prefix, [&](std::string_view k, std::string_view) {
      found.emplace_back(k);
      return true;
    });
    for (const auto& k : found) {
      AddStandingInput(k, root_batch->Get(keys::Intention(k.substr(1 + 8 + 4))), &inputs);
    }
  } else {
    (void)root->db().Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
      auto stored = root->db().Get(keys::Intention(k.substr(1 + 8 + 4)));
      AddStandingInput(k, stored.ok() ? *stored : std::nullopt, &inputs);
      return true;
    });
  }
  auto standing = std::make_shared<const StandingMap>(
      FoldStanding(std::move(inputs), mesh_id, mesh->creator()));
  if (root_batch == nullptr) {
    std::lock_guard lock(standing_mutex_);
    standing_cache_[mesh_id] = {witness, standing};
  }
  return standing;
}

AuthorRights Node::RightsOf(const std::string& mesh_id, const std::string& store_id,
                            std::string_view author, BatchView* root_batch) {
  std::optional<v1::MeshRecord> mesh = MeshRecordOf(mesh_id);
  if (!mesh) return AuthorRights(false);
  auto standing = StandingOf(mesh_id, root_batch);
  auto it = standing->find(std::string(author));
  if (it == standing->end()) {
    // A status written before its root store indexed status changes still counts.
    bool recorded_active = false;
    if (root_batch == nullptr) {
      if (Store* root = RootOf(mesh_id)) {
        recorded_active = ReadRootValue(*root, StatusKey(author)) == kMemberActive;
      }
    }
    return AuthorRights(recorded_active || author == mesh->creator() ||
                        (!mesh->inviter().empty() && author == mesh->inviter()));
  }
  AuthorRights rights(true);
  if (auto ranges = it->second.void_ranges.find(store_id); ranges != it->second.void_ranges.end()) {
    rights.void_ranges = ranges->second;
  }
  bool open = std::any_of(rights.void_ranges.begin(), rights.void_ranges.end(),
                          [](const SeqRange& r) { return r.before == UINT64_MAX; });
  // Revoked without a cut for this store (one its revoker did not know): nothing counts.
  if (it->second.status == kMemberRevoked && !open) {
    rights.void_ranges.push_back(SeqRange{0, UINT64_MAX});
  }
  if (it->second.status == kMemberRevoked) {
    MemberInfo member;
    member.node_id = it->first;
    member.revoked_by = it->second.revoked_by;
    member.revoked_at_ms = it->second.revoked_at_ms;
    rights.void_reason = RevocationText(member, mesh_id);
  }
  return rights;
}

absl::Status Node::WriteStatusChange(const std::string& mesh_id, const std::string& node_id,
                                     std::string_view status, bool with_cuts) {
  Store* root = RootOf(mesh_id);
  if (root == nullptr) return absl::NotFoundError("this node is in no such mesh");
  std::vector<KvWrite> writes;
  writes.push_back({StatusKey(node_id), std::string(status), false});
  if (with_cuts) {
    for (const auto& d : StoresOfMesh(mesh_id)) {
      Store* store = StoreById(d.id);
      if (store == nullptr) continue;
      // A cut read wrongly would void what the member wrote before: fail instead.
      auto tip = store->TipSeqOf(node_id);
      if (!tip.ok()) {
        return absl::Status(tip.status().code(),
                            fmt::format("reading what node {} wrote to store {} failed, so its "
                                        "status was not changed: {}",
                                        ShortHex(node_id), FormatStoreId(d.id),
                                        tip.status().message()));
      }
      writes.push_back({CutKey(node_id, d.id), FormatCut(*tip), false});
    }
  }
  if (writes.size() > limits::kMaxBatchOps) {
    return LimitExceeded("status change", writes.size(), limits::kMaxBatchOps, "stores");
  }
  return root->WriteKv(std::move(writes)).status();
}

absl::Status Node::AdmitMember(const std::string& mesh_id, const std::string& node_id) {
  if (auto member = Member(mesh_id, node_id); member && member->status == kMemberRevoked) {
    return absl::FailedPreconditionError(fmt::format(
        "{}; only an invite made with `lattice-ctl peer invite --readmit {}` admits it again",
        RevocationText(*member, mesh_id), ToHex(node_id).substr(0, 16)));
  }
  return WriteStatusChange(mesh_id, node_id, kMemberActive, /*with_cuts=*/false);
}

absl::Status Node::RevokeMember(const std::string& mesh_id, const std::string& node_id) {
  return WriteStatusChange(mesh_id, node_id, kMemberRevoked, /*with_cuts=*/true);
}

absl::Status Node::ReadmitMember(const std::string& mesh_id, const std::string& node_id) {
  return WriteStatusChange(mesh_id, node_id, kMemberActive, /*with_cuts=*/true);
}

void Node::OnRootApplied(const std::string& mesh_id, const std::vector<DecodedIntention>& applied) {
  // On the root's writer: find the members whose standing may have changed, nothing more.
  // One status change can change another member's standing (a revocation that voids the
  // revoked member's own revocation of someone else), so every member is looked at again.
  bool changed = false;
  ForEachKeyWritten(applied, [&](std::string_view key) {
    if (key.substr(0, kNodesPrefix.size()) != kNodesPrefix) return true;
    std::string_view rest = key.substr(kNodesPrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash + 1) != "status") return true;
    changed = true;
    if (auto id = ParseNodeId(rest.substr(0, slash))) QueueEnforcement(mesh_id, *id);
    return true;
  });
  if (changed) QueueEnforcement(mesh_id, "");
}

void Node::QueueEnforcement(const std::string& mesh_id, const std::string& node_id) {
  {
    std::lock_guard lock(enforce_mutex_);
    auto item = std::make_pair(mesh_id, node_id);
    if (std::find(enforce_queue_.begin(), enforce_queue_.end(), item) == enforce_queue_.end()) {
      enforce_queue_.push_back(std::move(item));
    }
  }
  enforce_cv_.notify_one();
}

void Node::EnforceLoop() {
  while (true) {
    std::pair<std::string, std::string> item;
    {
      std::unique_lock lock(enforce_mutex_);
      enforce_cv_.wait(lock, [&] { return enforce_stopping_ || !enforce_queue_.empty(); });
      if (enforce_stopping_) return;
      item = std::move(enforce_queue_.front());
      enforce_queue_.pop_front();
    }
    const auto& [mesh_id, node] = item;
    std::vector<std::string> nodes;
    if (!node.empty()) {
      nodes.push_back(node);
    } else {
      // Every member with a standing of record (an empty node id asks for all of them).
      std::shared_ptr<const StandingMap> standings = StandingOf(mesh_id);
      for (const auto& [id, standing] : *standings) nodes.push_back(id);
    }
    for (const auto& node_id : nodes) {
      for (const auto& d : StoresOfMesh(mesh_id)) {
        Store* store = StoreById(d.id);
        if (store == nullptr) continue;
        auto changed = store->Reexamine(node_id, RightsOf(mesh_id, d.id, node_id));
        if (!changed.ok()) {
          spdlog::error("store {}: enforcing the standing of {} failed: {}", FormatStoreId(d.id),
                        ShortHex(node_id), changed.status().message());
        } else if (*changed > 0) {
          spdlog::info("store {}: {} intentions of {} changed standing", FormatStoreId(d.id),
                       *changed, ShortHex(node_id));
        }
      }
    }
  }
}

}  // namespace lattice::kernel
