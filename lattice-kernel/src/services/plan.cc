#include "lattice/common/status.h"
#include "services/plan.h"

#include <fmt/format.h>

#include <set>

#include "services/launch.h"
#include "services/port_plan.h"
#include "services/service_limits.h"
#include "services/settings.h"

namespace lattice::kernel {
namespace {

using services::InstanceKey;

struct Candidate {
  const MeshDeclaration* mesh_declaration = nullptr;  // names this store
  std::optional<absl::StatusOr<services::Declaration>> local;
};

}  // namespace

std::vector<PlannedInstance> PlanInstances(const PlanInputs& in) {
  std::map<InstanceKey, Candidate> candidates;
  std::map<std::string, const MeshFacts*> mesh_by_id;
  for (const auto& mesh : in.meshes) {
    mesh_by_id[mesh.mesh_uuid] = &mesh;
    for (const auto& d : mesh.declarations) {
      if (!d.declaration.ok()) continue;
      for (const auto& store : d.declaration->stores) {
        auto it = in.stores.find(store);
        // A mesh declares only for its own stores.
        if (it != in.stores.end() && it->second.mesh_uuid != mesh.mesh_uuid) continue;
        candidates[InstanceKey{store, d.service_id}].mesh_declaration = &d;
      }
    }
  }
  for (const auto& [key, json] : in.local_declarations) {
    candidates[key].local = services::ParseDeclaration(json, /*local=*/true);
  }
  for (const auto& [key, control] : in.controls) candidates[key];

  std::vector<PlannedInstance> out;
  std::vector<size_t> runnable;
  for (const auto& [key, candidate] : candidates) {
    PlannedInstance p;
    p.key = key;
    if (auto c = in.controls.find(key); c != in.controls.end()) p.control = c->second;
    auto refuse = [&](std::string reason) {
      p.refused = true;
      p.reason = std::move(reason);
      out.push_back(std::move(p));
    };
    auto store = in.stores.find(key.store_id);
    if (store == in.stores.end()) {
      p.reason = fmt::format("store {} is not on this node (yet)", key.store_id);
      out.push_back(std::move(p));
      continue;
    }
    p.mesh_uuid = store->second.mesh_uuid;
    if (store->second.archived) {
      p.reason = "the store is archived";
      out.push_back(std::move(p));
      continue;
    }
    auto descriptor = in.catalog->Find(key.service_id);
    if (descriptor == nullptr) {
      refuse(fmt::format("no descriptor for {} on this node", key.service_id));
      continue;
    }
    if (descriptor->store_type != store->second.type) {
      refuse(fmt::format("{} serves {} stores; {} is a {} store", key.service_id,
                         descriptor->store_type, store->second.name, store->second.type));
      continue;
    }
    services::RunInputs inputs;
    auto mesh = mesh_by_id.find(p.mesh_uuid);
    if (mesh != mesh_by_id.end()) {
      if (auto c = mesh->second->consents.find(key.service_id); c != mesh->second->consents.end()) {
        inputs.consent = c->second;
      }
    }
    inputs.control = p.control;
    nlohmann::json declared = nlohmann::json::object();
    if (candidate.local) {
      if (!candidate.local->ok()) {
        refuse("the local declaration is invalid: " + std::string(candidate.local->status().message()));
        continue;
      }
      inputs.declared_locally = true;
      inputs.local_enabled = (*candidate.local)->enabled;
      declared = (*candidate.local)->settings;
    } else if (candidate.mesh_declaration != nullptr) {
      const auto& d = *candidate.mesh_declaration->declaration;
      inputs.declared_by_mesh = true;
      inputs.mesh_enabled = d.enabled;
      inputs.mesh_policy = d.policy;
      if (mesh != mesh_by_id.end() && d.policy.kind == services::PolicyKind::kTaggedNodes) {
        const auto& tags = mesh->second->own_tags;
        inputs.node_has_tag = std::find(tags.begin(), tags.end(), d.policy.tag) != tags.end();
      }
      declared = d.settings;
    }
    services::RunDecision decision = services::ShouldRun(inputs);
    p.reason = decision.reason;
    if (!decision.run) {
      out.push_back(std::move(p));
      continue;
    }
    const nlohmann::json overrides =
        in.overrides.count(key) ? in.overrides.at(key) : nlohmann::json::object();
    if (inputs.declared_by_mesh) {
      auto allowed = services::CheckMeshSettings(*descriptor, key.store_id, declared, overrides,
                                                 inputs.consent == services::Consent::kAlways);
      if (!allowed.ok()) {
        refuse(std::string(allowed.message()));
        continue;
      }
    }
    auto values = services::ResolveSettings(*descriptor, declared, overrides);
    if (!values.ok()) {
      refuse(std::string(values.status().message()));
      continue;
    }
    auto binary = services::ResolveBinary(*descriptor, in.bin_dir);
    if (!binary.ok()) {
      refuse(std::string(binary.status().message()));
      continue;
    }
    p.run = true;
    p.desired = services::DesiredInstance{key, descriptor, *binary, *std::move(values)};
    runnable.push_back(out.size());
    out.push_back(std::move(p));
  }

  // Ports, across every instance about to run.
  std::vector<services::PortClaim> claims;
  std::vector<std::pair<size_t, std::string>> claim_of;  // (planned index, setting)
  for (size_t i : runnable) {
    PlannedInstance& p = out[i];
    if (claims.size() >= services::limits::kMaxInstances * 2) break;
    for (const auto& spec : p.desired.descriptor->settings) {
      if (!spec.port) continue;
      auto value = p.desired.values.find(spec.name);
      if (value == p.desired.values.end()) continue;
      services::PortClaim claim;
      claim.instance = p.key.Name();
      claim.override_hint = fmt::format("lattice-ctl service override {} --store {} {}=PORT",
                                        p.key.service_id, p.key.store_id, spec.name);
      claim.port = std::get<int64_t>(value->second);
      auto running = in.running_values.find(p.key);
      claim.running_on_it = running != in.running_values.end() && running->second.count(spec.name) &&
                            running->second.at(spec.name) == value->second;
      auto overrides = in.overrides.find(p.key);
      claim.overridden = overrides != in.overrides.end() && overrides->second.contains(spec.name);
      claim.allow_zero = p.desired.descriptor->allow_zero_port;
      claims.push_back(std::move(claim));
      claim_of.emplace_back(i, spec.name);
    }
  }
  auto assigned = services::PlanPorts(claims);
  for (size_t c = 0; c < claims.size(); ++c) {
    PlannedInstance& p = out[claim_of[c].first];
    if (assigned[c].refused) {
      p.run = false;
      p.refused = true;
      p.reason = assigned[c].note;
    } else if (assigned[c].port != claims[c].port) {
      p.desired.values[claim_of[c].second] = assigned[c].port;
      p.reason += "; " + assigned[c].note;
    }
  }
  size_t running = 0;
  for (auto& p : out) {
    if (!p.run) continue;
    if (++running > services::limits::kMaxInstances) {
      p.run = false;
      p.refused = true;
      p.reason = fmt::format("this node runs at most {} instances", services::limits::kMaxInstances);
    }
  }
  return out;
}

}  // namespace lattice::kernel
