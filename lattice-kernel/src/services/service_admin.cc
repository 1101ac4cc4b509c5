// The operator's calls of the ServiceManager (lattice-ctl service ..., node tag ...): read
// what the node knows about services, and change declarations, consent, overrides, explicit
// start/stop and tags. Each change is durable before the call waits for the loop to act on
// it, so `service list` right after shows the result.
#include <fmt/format.h>

#include <algorithm>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "services/launch.h"
#include "services/registry.h"
#include "services/service_limits.h"
#include "services/service_manager.h"
#include "services/settings.h"

namespace lattice::kernel {
namespace {

using services::InstanceKey;

std::string JsonText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

void FillSettings(const services::ServiceDescriptor* descriptor, const nlohmann::json& settings,
                  google::protobuf::RepeatedPtrField<v1::ServiceSetting>* out) {
  if (!settings.is_object()) return;
  for (const auto& [name, value] : settings.items()) {
    const services::SettingSpec* spec = descriptor ? descriptor->FindSetting(name) : nullptr;
    auto* setting = out->Add();
    setting->set_name(name);
    setting->set_value(spec != nullptr && spec->secret ? "(secret)" : JsonText(value));
  }
}

}  // namespace

absl::StatusOr<std::string> ServiceManager::ResolveMesh(const std::string& mesh) {
  if (mesh.empty()) return node_.own_mesh_id();
  LATTICE_ASSIGN_OR_RETURN(auto d, node_.Resolve(mesh));
  return d.mesh_id;
}

absl::StatusOr<std::shared_ptr<const services::ServiceDescriptor>> ServiceManager::DescriptorFor(
    const std::string& id) {
  if (!services::IsValidServiceId(id)) {
    return absl::InvalidArgumentError("a service id has 1 to 128 of a-z, 0-9, '.' and '-'");
  }
  auto descriptor = catalog_.Find(id);
  if (descriptor == nullptr) {
    return absl::NotFoundError(fmt::format(
        "no descriptor for {} on this node (lattice-ctl service list shows the known ones)", id));
  }
  return descriptor;
}

v1::ServiceDeclarationInfo ServiceManager::DeclarationInfo(
    const std::string& service_id, const std::string& mesh_uuid, bool local,
    const absl::StatusOr<services::Declaration>& declaration, const std::string& author) {
  v1::ServiceDeclarationInfo info;
  info.set_service_id(service_id);
  info.set_mesh_id(mesh_uuid);
  info.set_local(local);
  if (!author.empty()) info.set_author(ToHex(author));
  if (!declaration.ok()) {
    info.set_error(std::string(declaration.status().message()));
    return info;
  }
  info.set_enabled(declaration->enabled);
  info.set_policy(services::FormatPolicy(declaration->policy));
  for (const auto& store : declaration->stores) info.add_stores(store);
  auto descriptor = catalog_.Find(service_id);
  FillSettings(descriptor.get(), declaration->settings, info.mutable_settings());
  if (descriptor == nullptr) {
    info.set_error(fmt::format("no descriptor for {} on this node", service_id));
  } else if (auto values = services::ResolveSettings(*descriptor, declaration->settings, nullptr);
             !values.ok()) {
    info.set_error(std::string(values.status().message()));
  }
  return info;
}

v1::ServiceInstanceInfo ServiceManager::InstanceInfo(const InstanceKey& key) {
  v1::ServiceInstanceInfo info;
  info.set_service_id(key.service_id);
  info.set_store_id(key.store_id);
  if (auto d = node_.Resolve(key.store_id); d.ok()) {
    info.set_store_name(d->name);
    info.set_mesh_id(FormatStoreId(d->mesh_id));
  }
  std::lock_guard lock(view_mu_);
  std::string plan_reason;
  bool refused = false;
  for (const auto& p : plan_) {
    if (p.key != key) continue;
    plan_reason = p.reason;
    refused = p.refused;
    info.set_control(std::string(services::ControlName(p.control)));
  }
  if (auto it = views_.find(key); it != views_.end()) {
    const auto& view = it->second;
    info.set_status(std::string(services::InstanceStatusName(view.status)));
    info.set_reason(view.reason.empty() ? plan_reason : view.reason);
    info.set_pid(view.pid);
    for (const auto& e : view.endpoints) info.add_endpoints(e);
    info.set_started_ms(view.started_ms);
    info.set_restarts(view.restarts);
    info.set_next_start_in_ms(view.next_start_in_ms);
  } else {
    info.set_status(refused ? "refused" : "stopped");
    info.set_reason(plan_reason);
    info.set_next_start_in_ms(-1);
  }
  auto descriptor = catalog_.Find(key.service_id);
  FillSettings(descriptor.get(), book_.OverridesOf(key), info.mutable_overrides());
  return info;
}

absl::StatusOr<v1::ListServicesResponse> ServiceManager::List(const std::string& mesh) {
  v1::ListServicesResponse response;
  for (const auto& [id, d] : catalog_.descriptors) {
    auto* info = response.add_descriptors();
    info->set_id(id);
    info->set_description(d->description);
    info->set_binary(d->binary);
    if (auto path = services::ResolveBinary(*d, options_.bin_dir); path.ok()) {
      info->set_binary_path(*path);
    } else {
      info->set_problem(std::string(path.status().message()));
    }
    info->set_store_type(d->store_type);
    info->set_path(d->path);
    for (const auto& r : d->token_rights) info->add_rights(r);
    info->set_restart_policy(std::string(services::RestartPolicyName(d->restart.policy)));
    for (const auto& spec : d->settings) {
      auto* s = info->add_settings();
      s->set_name(spec.name);
      s->set_type(std::string(services::SettingTypeName(spec.type)));
      s->set_has_default(spec.default_value.has_value());
      if (spec.default_value) s->set_default_value(services::ShownValue(spec, *spec.default_value));
      if (spec.min || spec.max) {
        s->set_constraint(fmt::format("{}..{}", spec.min.value_or(INT64_MIN), spec.max.value_or(INT64_MAX)));
      } else {
        s->set_constraint(spec.pattern);
      }
      s->set_secret(spec.secret);
      s->set_port(spec.port);
    }
  }
  for (const auto& error : catalog_.errors) response.add_descriptor_errors(error);

  std::vector<std::string> meshes;
  if (mesh.empty()) {
    for (const auto& m : node_.Meshes()) {
      if (auto id = ParseStoreId(m.root_store_id())) meshes.push_back(*id);
    }
  } else {
    LATTICE_ASSIGN_OR_RETURN(std::string id, ResolveMesh(mesh));
    meshes.push_back(id);
  }
  auto consents = book_.Consents();
  for (const auto& mesh_id : meshes) {
    Store* root = node_.RootOf(mesh_id);
    if (root == nullptr) continue;
    std::string uuid = FormatStoreId(mesh_id);
    auto* m = response.add_meshes();
    m->set_mesh_id(uuid);
    for (const auto& tag : ReadOwnTags(*root, self_)) m->add_tags(tag);
    size_t ignored = 0;
    for (const auto& d : ReadDeclarations(*root, &ignored)) {
      *m->add_declarations() = DeclarationInfo(d.service_id, uuid, false, d.declaration, d.author);
    }
    m->set_declarations_ignored(static_cast<uint32_t>(ignored));
    for (const auto& [key, consent] : consents) {
      if (key.store_id != uuid) continue;
      auto* c = m->add_consents();
      c->set_service_id(key.service_id);
      c->set_mesh_id(uuid);
      c->set_consent(std::string(services::ConsentName(consent)));
    }
    std::map<std::string, std::string> store_names;
    for (const auto& d : node_.StoresOfMesh(mesh_id)) store_names[FormatStoreId(d.id)] = d.name;
    for (const auto& member : node_.Members(mesh_id)) {
      if (member.status != "active") continue;
      for (const auto& [service, instances] : ReadDiscovery(*root, member.node_id)) {
        for (const auto& i : instances) {
          auto* out = m->add_discovered();
          out->set_service_id(service);
          out->set_store_id(i.store_id);
          if (auto name = store_names.find(i.store_id); name != store_names.end()) out->set_store_name(name->second);
          out->set_mesh_id(uuid);
          out->set_status(i.status);
          for (const auto& e : i.endpoints) out->add_endpoints(e);
          out->set_started_ms(i.started_ms);
          out->set_restarts(i.restarts);
          out->set_node_id(ToHex(member.node_id));
          out->set_node_name(member.name);
          out->set_next_start_in_ms(-1);
        }
      }
    }
  }

  std::set<InstanceKey> keys;
  {
    std::lock_guard lock(view_mu_);
    for (const auto& p : plan_) keys.insert(p.key);
    for (const auto& [key, view] : views_) keys.insert(key);
  }
  std::set<std::string> mesh_uuids;
  for (const auto& id : meshes) mesh_uuids.insert(FormatStoreId(id));
  for (const auto& key : keys) {
    v1::ServiceInstanceInfo info = InstanceInfo(key);
    if (!mesh.empty() && !mesh_uuids.count(info.mesh_id())) continue;
    *response.add_instances() = std::move(info);
  }
  for (const auto& [key, json] : book_.LocalDeclarations()) {
    auto declaration = services::ParseDeclaration(json, /*local=*/true);
    std::string mesh_uuid;
    if (auto d = node_.Resolve(key.store_id); d.ok()) mesh_uuid = FormatStoreId(d->mesh_id);
    if (!mesh.empty() && !mesh_uuids.count(mesh_uuid)) continue;
    *response.add_local_declarations() = DeclarationInfo(key.service_id, mesh_uuid, true, declaration, "");
  }
  return response;
}

absl::StatusOr<v1::ServiceDeclarationInfo> ServiceManager::Declare(const v1::DeclareServiceRequest& request) {
  LATTICE_ASSIGN_OR_RETURN(auto descriptor, DescriptorFor(request.service_id()));
  LATTICE_ASSIGN_OR_RETURN(StoreDescriptor store, node_.Resolve(request.store()));
  std::string store_type(StoreTypeName(store.type));
  if (store_type != descriptor->store_type) {
    return absl::InvalidArgumentError(fmt::format("{} serves {} stores; {} is a {} store", descriptor->id,
                                                  descriptor->store_type, store.name, store_type));
  }
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& setting : request.settings()) {
    const services::SettingSpec* spec = descriptor->FindSetting(setting.name());
    if (spec == nullptr) {
      return absl::InvalidArgumentError(fmt::format("{} has no setting {}", descriptor->id, Quote(setting.name())));
    }
    if (spec->secret && !request.local()) {
      // The mesh's declaration is replicated to every member in clear.
      return absl::InvalidArgumentError(fmt::format(
          "setting {} is secret and is never written to the mesh; set it on each node that "
          "runs {} with `lattice-ctl service override {} --store {} {}=VALUE`",
          spec->name, descriptor->id, descriptor->id, request.store(), spec->name));
    }
    if (spec->local && !request.local()) {
      return absl::InvalidArgumentError(fmt::format(
          "setting {} is decided by each node for itself and is never written to the mesh; "
          "set it on each node that runs {} with `lattice-ctl service override {} --store {} "
          "{}=VALUE`",
          spec->name, descriptor->id, descriptor->id, request.store(), spec->name));
    }
    LATTICE_ASSIGN_OR_RETURN(services::SettingValue value,
                             services::SettingFromText(*descriptor, *spec, setting.value()));
    settings[setting.name()] = services::SettingToJson(value);
  }
  std::string uuid = FormatStoreId(store.id);
  std::string mesh_uuid = FormatStoreId(store.mesh_id);
  InstanceKey key{uuid, descriptor->id};
  services::Declaration declaration;
  if (request.local()) {
    if (!request.policy().empty() && request.policy() != "LocalOnly") {
      return absl::InvalidArgumentError("a --local declaration has no policy: it runs on this node");
    }
    auto existing = book_.LocalDeclarations();
    if (auto it = existing.find(key); it != existing.end()) {
      if (auto parsed = services::ParseDeclaration(it->second, true); parsed.ok()) declaration = *parsed;
    }
    declaration.policy = services::Policy{services::PolicyKind::kLocalOnly, ""};
    declaration.stores = {uuid};
  } else {
    LATTICE_ASSIGN_OR_RETURN(declaration.policy, services::ParsePolicy(request.policy()));
    if (declaration.policy.kind == services::PolicyKind::kLocalOnly) {
      return absl::InvalidArgumentError("LocalOnly declarations are made with --local");
    }
    Store* root = node_.RootOf(store.mesh_id);
    if (root == nullptr) return absl::NotFoundError("the store's mesh is not open");
    services::Policy policy = declaration.policy;
    if (auto value = ReadValue(*root, services::DeclarationKey(descriptor->id))) {
      if (auto parsed = services::ParseDeclaration(*value, false); parsed.ok()) declaration = *parsed;
    }
    declaration.policy = policy;
    // A secret or local setting another member wrote there is dropped, never carried forward.
    for (const auto& spec : descriptor->settings) {
      if (spec.local && declaration.settings.is_object()) declaration.settings.erase(spec.name);
    }
    if (std::find(declaration.stores.begin(), declaration.stores.end(), uuid) == declaration.stores.end()) {
      if (declaration.stores.size() >= services::limits::kMaxStoresPerDeclaration) {
        return LimitExceeded("declaration", declaration.stores.size() + 1,
                             services::limits::kMaxStoresPerDeclaration, "stores");
      }
      declaration.stores.push_back(uuid);
    }
  }
  declaration.enabled = true;
  for (const auto& [name, value] : settings.items()) declaration.settings[name] = value;
  LATTICE_RETURN_IF_ERROR(services::ResolveSettings(*descriptor, declaration.settings, nullptr).status());
  std::string json = services::SerializeDeclaration(declaration);
  if (json.size() > services::limits::kMaxDeclarationBytes) {
    return LimitExceeded("declaration", json.size(), services::limits::kMaxDeclarationBytes);
  }
  if (request.local()) {
    LATTICE_RETURN_IF_ERROR(book_.PutLocalDeclaration(key, json));
  } else {
    LATTICE_RETURN_IF_ERROR(
        node_.RootOf(store.mesh_id)->WriteKv({{services::DeclarationKey(descriptor->id), json, false}}).status());
  }
  (void)Reconciled();
  return DeclarationInfo(descriptor->id, mesh_uuid, request.local(), declaration,
                         request.local() ? "" : self_);
}

absl::StatusOr<v1::ServiceDeclarationInfo> ServiceManager::Undeclare(const v1::UndeclareServiceRequest& request) {
  if (!services::IsValidServiceId(request.service_id())) {
    return absl::InvalidArgumentError("a service id has 1 to 128 of a-z, 0-9, '.' and '-'");
  }
  LATTICE_ASSIGN_OR_RETURN(StoreDescriptor store, node_.Resolve(request.store()));
  std::string uuid = FormatStoreId(store.id);
  std::string mesh_uuid = FormatStoreId(store.mesh_id);
  InstanceKey key{uuid, request.service_id()};
  if (request.local()) {
    auto existing = book_.LocalDeclarations();
    if (!existing.count(key)) {
      return absl::NotFoundError(fmt::format("no local declaration of {} for {}", key.service_id, store.name));
    }
    LATTICE_RETURN_IF_ERROR(book_.DeleteLocalDeclaration(key));
    (void)Reconciled();
    return DeclarationInfo(key.service_id, mesh_uuid, true, absl::NotFoundError("undeclared"), "");
  }
  Store* root = node_.RootOf(store.mesh_id);
  if (root == nullptr) return absl::NotFoundError("the store's mesh is not open");
  std::string declaration_key = services::DeclarationKey(key.service_id);
  auto value = ReadValue(*root, declaration_key);
  if (!value) {
    return absl::NotFoundError(fmt::format("{} is not declared in mesh {}", key.service_id, mesh_uuid));
  }
  auto parsed = services::ParseDeclaration(*value, false);
  KvWrite write{declaration_key, "", true};
  absl::StatusOr<services::Declaration> result = absl::NotFoundError("undeclared");
  if (parsed.ok()) {
    auto& stores = parsed->stores;
    if (std::find(stores.begin(), stores.end(), uuid) == stores.end()) {
      return absl::NotFoundError(fmt::format("{} is not declared for {}", key.service_id, store.name));
    }
    stores.erase(std::remove(stores.begin(), stores.end(), uuid), stores.end());
    if (!stores.empty()) {
      write = KvWrite{declaration_key, services::SerializeDeclaration(*parsed), false};
      result = *parsed;
    }
  }
  LATTICE_RETURN_IF_ERROR(root->WriteKv({write}).status());
  (void)Reconciled();
  return DeclarationInfo(key.service_id, mesh_uuid, false, result, self_);
}

absl::StatusOr<v1::ServiceConsentInfo> ServiceManager::SetConsent(const v1::SetServiceConsentRequest& request) {
  if (!services::IsValidServiceId(request.service_id())) {
    return absl::InvalidArgumentError("a service id has 1 to 128 of a-z, 0-9, '.' and '-'");
  }
  LATTICE_ASSIGN_OR_RETURN(services::Consent consent, services::ParseConsent(request.consent()));
  LATTICE_ASSIGN_OR_RETURN(std::string mesh, ResolveMesh(request.mesh()));
  LATTICE_RETURN_IF_ERROR(book_.SetConsent(FormatStoreId(mesh), request.service_id(), consent));
  (void)Reconciled();
  v1::ServiceConsentInfo info;
  info.set_service_id(request.service_id());
  info.set_mesh_id(FormatStoreId(mesh));
  info.set_consent(std::string(services::ConsentName(consent)));
  return info;
}

absl::StatusOr<v1::ServiceOverridesResponse> ServiceManager::SetOverride(
    const v1::SetServiceOverrideRequest& request) {
  LATTICE_ASSIGN_OR_RETURN(auto descriptor, DescriptorFor(request.service_id()));
  LATTICE_ASSIGN_OR_RETURN(StoreDescriptor store, node_.Resolve(request.store()));
  InstanceKey key{FormatStoreId(store.id), descriptor->id};
  const services::SettingSpec* spec = descriptor->FindSetting(request.key());
  if (spec == nullptr) {
    return absl::InvalidArgumentError(fmt::format("{} has no setting {}", descriptor->id, Quote(request.key())));
  }
  nlohmann::json overrides = book_.OverridesOf(key);
  if (request.clear()) {
    overrides.erase(request.key());
  } else {
    LATTICE_ASSIGN_OR_RETURN(services::SettingValue value,
                             services::SettingFromText(*descriptor, *spec, request.value()));
    overrides[request.key()] = services::SettingToJson(value);
  }
  LATTICE_RETURN_IF_ERROR(book_.SetOverrides(key, overrides));
  (void)Reconciled();
  v1::ServiceOverridesResponse response;
  response.set_service_id(key.service_id);
  response.set_store_id(key.store_id);
  FillSettings(descriptor.get(), overrides, response.mutable_overrides());
  return response;
}

absl::StatusOr<v1::ServiceInstanceInfo> ServiceManager::Control(const v1::ControlServiceRequest& request) {
  LATTICE_ASSIGN_OR_RETURN(auto descriptor, DescriptorFor(request.service_id()));
  LATTICE_ASSIGN_OR_RETURN(StoreDescriptor store, node_.Resolve(request.store()));
  InstanceKey key{FormatStoreId(store.id), descriptor->id};
  const std::string& action = request.action();
  if (action == "start") {
    if (book_.ConsentOf(FormatStoreId(store.mesh_id), key.service_id) == services::Consent::kBlock) {
      return absl::FailedPreconditionError(fmt::format(
          "consent for {} in mesh {} is block; change it with service consent first", key.service_id,
          FormatStoreId(store.mesh_id)));
    }
    std::string store_type(StoreTypeName(store.type));
    if (store_type != descriptor->store_type) {
      return absl::InvalidArgumentError(fmt::format("{} serves {} stores; {} is a {} store", descriptor->id,
                                                    descriptor->store_type, store.name, store_type));
    }
    LATTICE_RETURN_IF_ERROR(book_.SetControl(key, services::Control::kStart));
  } else if (action == "stop") {
    LATTICE_RETURN_IF_ERROR(book_.SetControl(key, services::Control::kStop));
  } else if (action == "reset") {
    LATTICE_RETURN_IF_ERROR(book_.SetControl(key, services::Control::kNone));
    Post([this, key] { supervisor_->Reset(key, std::chrono::steady_clock::now()); });
  } else {
    return absl::InvalidArgumentError("the action is start, stop or reset");
  }
  LATTICE_RETURN_IF_ERROR(Reconciled());
  return InstanceInfo(key);
}

absl::StatusOr<v1::NodeTagsResponse> ServiceManager::Tag(const v1::TagNodeRequest& request) {
  if (!services::IsValidTag(request.tag())) {
    return absl::InvalidArgumentError("a tag has 1 to 64 of a-z, 0-9, '_' and '-'");
  }
  LATTICE_ASSIGN_OR_RETURN(std::string mesh, ResolveMesh(request.mesh()));
  Store* root = node_.RootOf(mesh);
  if (root == nullptr) return absl::NotFoundError("this node is in no such mesh");
  std::vector<std::string> tags = ReadOwnTags(*root, self_);
  auto it = std::find(tags.begin(), tags.end(), request.tag());
  if (request.remove() && it != tags.end()) tags.erase(it);
  if (!request.remove() && it == tags.end()) {
    if (tags.size() >= services::limits::kMaxTagsPerNode) {
      return LimitExceeded("tags", tags.size() + 1, services::limits::kMaxTagsPerNode, "tags");
    }
    tags.push_back(request.tag());
  }
  LATTICE_RETURN_IF_ERROR(root->WriteKv({{TagsKey(self_), services::FormatTags(tags), tags.empty()}}).status());
  (void)Reconciled();
  v1::NodeTagsResponse response;
  response.set_mesh_id(FormatStoreId(mesh));
  response.set_node_id(ToHex(self_));
  for (const auto& tag : tags) response.add_tags(tag);
  return response;
}

}  // namespace lattice::kernel
