// What this node's owner decided about services, in the node database (never replicated):
// consent per service and mesh, local overrides of settings per instance, LocalOnly
// declarations, explicit start/stop, and the journal of running daemons. Thread-safe (the
// database is); every write is durable before it returns.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "lattice/v1/node_records.pb.h"
#include "services/should_run.h"
#include "services/supervisor.h"
#include "storage/database.h"

namespace lattice::kernel {

class ServiceBook {
 public:
  explicit ServiceBook(Database& db) : db_(db) {}

  // Keys are (mesh or store id as a canonical UUID, service id).
  services::Consent ConsentOf(const std::string& mesh_id, const std::string& service_id) const;
  // Every consent set, by (mesh, service).
  std::map<services::InstanceKey, services::Consent> Consents() const;
  // kManual clears it (manual is the default).
  absl::Status SetConsent(const std::string& mesh_id, const std::string& service_id,
                          services::Consent consent);

  // Overrides are a JSON object of setting name -> value; an empty one is removed.
  nlohmann::json OverridesOf(const services::InstanceKey& key) const;
  std::map<services::InstanceKey, nlohmann::json> Overrides() const;
  absl::Status SetOverrides(const services::InstanceKey& key, const nlohmann::json& overrides);

  // LocalOnly declarations as their JSON text (services/declaration.h).
  std::map<services::InstanceKey, std::string> LocalDeclarations() const;
  absl::Status PutLocalDeclaration(const services::InstanceKey& key, const std::string& json);
  absl::Status DeleteLocalDeclaration(const services::InstanceKey& key);

  std::map<services::InstanceKey, services::Control> Controls() const;
  // kNone clears it.
  absl::Status SetControl(const services::InstanceKey& key, services::Control control);

  std::vector<v1::ServiceRunRecord> RunRecords() const;
  absl::Status PutRunRecord(const v1::ServiceRunRecord& record);
  absl::Status DeleteRunRecord(const services::InstanceKey& key);

 private:
  // (uuid, service) -> value for every key under `kind`, at most limits::kMaxLocalRecords.
  std::map<services::InstanceKey, std::string> ScanKind(std::string_view kind) const;
  absl::Status Put(std::string_view kind, const services::InstanceKey& key, const std::string& value);
  absl::Status Delete(std::string_view kind, const services::InstanceKey& key);

  Database& db_;
};

}  // namespace lattice::kernel
