// Node: the store registry. A mesh's stores are listed in its root store
// (/stores/{id}/name|type|status), so the registry replicates with the mesh; this node keeps
// a copy per mesh, re-read when the root's witness moves, and opens the stores it lists.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>

#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "node/node.h"
#include "node/root_values.h"
#include "state/kv_state.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

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

}  // namespace lattice::kernel
