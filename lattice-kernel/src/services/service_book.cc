#include "lattice/common/status.h"
#include "services/service_book.h"

#include <fmt/format.h>

#include "services/service_limits.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

using services::InstanceKey;

constexpr std::string_view kConsent = "consent";
constexpr std::string_view kOverride = "override";
constexpr std::string_view kLocal = "local";
constexpr std::string_view kControl = "control";
constexpr std::string_view kRun = "run";

std::string Prefix(std::string_view kind) { return fmt::format("svc/{}/", kind); }

std::string Key(std::string_view kind, const InstanceKey& key) {
  return fmt::format("svc/{}/{}/{}", kind, key.store_id, key.service_id);
}

}  // namespace

std::map<InstanceKey, std::string> ServiceBook::ScanKind(std::string_view kind) const {
  std::map<InstanceKey, std::string> out;
  std::string prefix = Prefix(kind);
  (void)db_.Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    std::string_view rest = k.substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return true;
    out[InstanceKey{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))}] = std::string(v);
    return out.size() < services::limits::kMaxLocalRecords;
  });
  return out;
}

absl::Status ServiceBook::Put(std::string_view kind, const InstanceKey& key, const std::string& value) {
  leveldb::WriteBatch batch;
  batch.Put(Key(kind, key), value);
  return db_.Write(&batch, /*sync=*/true);
}

absl::Status ServiceBook::Delete(std::string_view kind, const InstanceKey& key) {
  leveldb::WriteBatch batch;
  batch.Delete(Key(kind, key));
  return db_.Write(&batch, /*sync=*/true);
}

services::Consent ServiceBook::ConsentOf(const std::string& mesh_id, const std::string& service_id) const {
  auto value = db_.Get(Key(kConsent, InstanceKey{mesh_id, service_id}));
  if (!value.ok() || !*value) return services::Consent::kManual;
  return services::ParseConsent(**value).value_or(services::Consent::kManual);
}

std::map<InstanceKey, services::Consent> ServiceBook::Consents() const {
  std::map<InstanceKey, services::Consent> out;
  for (const auto& [key, value] : ScanKind(kConsent)) {
    if (auto consent = services::ParseConsent(value); consent.ok()) out[key] = *consent;
  }
  return out;
}

absl::Status ServiceBook::SetConsent(const std::string& mesh_id, const std::string& service_id,
                                     services::Consent consent) {
  InstanceKey key{mesh_id, service_id};
  if (consent == services::Consent::kManual) return Delete(kConsent, key);
  return Put(kConsent, key, std::string(services::ConsentName(consent)));
}

nlohmann::json ServiceBook::OverridesOf(const InstanceKey& key) const {
  auto value = db_.Get(Key(kOverride, key));
  if (!value.ok() || !*value) return nlohmann::json::object();
  auto json = nlohmann::json::parse(**value, nullptr, false);
  return json.is_object() ? json : nlohmann::json::object();
}

std::map<InstanceKey, nlohmann::json> ServiceBook::Overrides() const {
  std::map<InstanceKey, nlohmann::json> out;
  for (const auto& [key, value] : ScanKind(kOverride)) {
    auto json = nlohmann::json::parse(value, nullptr, false);
    if (json.is_object()) out[key] = std::move(json);
  }
  return out;
}

absl::Status ServiceBook::SetOverrides(const InstanceKey& key, const nlohmann::json& overrides) {
  if (!overrides.is_object() || overrides.empty()) return Delete(kOverride, key);
  return Put(kOverride, key, overrides.dump());
}

std::map<InstanceKey, std::string> ServiceBook::LocalDeclarations() const { return ScanKind(kLocal); }

absl::Status ServiceBook::PutLocalDeclaration(const InstanceKey& key, const std::string& json) {
  return Put(kLocal, key, json);
}

absl::Status ServiceBook::DeleteLocalDeclaration(const InstanceKey& key) { return Delete(kLocal, key); }

std::map<InstanceKey, services::Control> ServiceBook::Controls() const {
  std::map<InstanceKey, services::Control> out;
  for (const auto& [key, value] : ScanKind(kControl)) {
    if (value == "start") out[key] = services::Control::kStart;
    if (value == "stop") out[key] = services::Control::kStop;
  }
  return out;
}

absl::Status ServiceBook::SetControl(const InstanceKey& key, services::Control control) {
  if (control == services::Control::kNone) return Delete(kControl, key);
  return Put(kControl, key, std::string(services::ControlName(control)));
}

std::vector<v1::ServiceRunRecord> ServiceBook::RunRecords() const {
  std::vector<v1::ServiceRunRecord> out;
  for (const auto& [key, value] : ScanKind(kRun)) {
    v1::ServiceRunRecord record;
    if (record.ParseFromString(value)) out.push_back(std::move(record));
  }
  return out;
}

absl::Status ServiceBook::PutRunRecord(const v1::ServiceRunRecord& record) {
  return Put(kRun, InstanceKey{record.store_id(), record.service_id()}, record.SerializeAsString());
}

absl::Status ServiceBook::DeleteRunRecord(const InstanceKey& key) { return Delete(kRun, key); }

}  // namespace lattice::kernel
