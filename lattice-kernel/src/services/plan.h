// From what the meshes declare and what this node's owner decided to the instances this node
// should run, each with its checked settings and planned ports, and for every instance it
// will not run, the reason. Pure but for looking up binaries: the facts are read by the
// ServiceManager and passed in.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/catalog.h"
#include "services/registry.h"
#include "services/should_run.h"
#include "services/supervisor.h"

namespace lattice::kernel {

struct StoreFacts {
  std::string uuid;
  std::string name;
  std::string type;       // kv | chat | root | fs
  std::string mesh_uuid;
  bool archived = false;
};

struct MeshFacts {
  std::string mesh_uuid;
  std::vector<std::string> own_tags;
  std::vector<MeshDeclaration> declarations;
  std::map<std::string, services::Consent> consents;  // by service id; absent: manual
};

struct PlanInputs {
  const services::Catalog* catalog = nullptr;
  std::string bin_dir;
  std::vector<MeshFacts> meshes;
  std::map<std::string, StoreFacts> stores;  // by uuid
  std::map<services::InstanceKey, std::string> local_declarations;
  std::map<services::InstanceKey, nlohmann::json> overrides;
  std::map<services::InstanceKey, services::Control> controls;
  // What running instances were started with: one on a port keeps it.
  std::map<services::InstanceKey, services::SettingValues> running_values;
};

struct PlannedInstance {
  services::InstanceKey key;
  std::string mesh_uuid;              // "" when the store is unknown here
  bool run = false;
  bool refused = false;               // its configuration is invalid here
  std::string reason;
  services::Control control = services::Control::kNone;
  services::DesiredInstance desired;  // when run
};

std::vector<PlannedInstance> PlanInstances(const PlanInputs& in);

}  // namespace lattice::kernel
