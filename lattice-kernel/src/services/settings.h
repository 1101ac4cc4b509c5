// Setting values against a descriptor's schema: from JSON (a declaration in the mesh, a local
// override) or from text (lattice-ctl --set KEY=VALUE), and the merge of defaults, the
// declaration's values and the node's overrides into what one instance runs with. Every
// value is checked on the node that uses it, whoever wrote it.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "services/descriptor.h"

namespace lattice::services {

// name -> value; only settings that have a value (a default, a declared value or an override).
using SettingValues = std::map<std::string, SettingValue>;

// Checks `value` against `spec`: type, range, pattern, size, no control characters; a port
// below 1024 only when the descriptor allows privileged ports; port 0 only when it allows
// zero. INVALID_ARGUMENT naming the setting otherwise.
absl::Status CheckSettingValue(const ServiceDescriptor& descriptor, const SettingSpec& spec,
                               const SettingValue& value);

// A JSON value of the setting's type (integers as JSON numbers, not strings), checked.
absl::StatusOr<SettingValue> SettingFromJson(const ServiceDescriptor& descriptor,
                                             const SettingSpec& spec, const nlohmann::json& value);
// Text from a command line ("6667", "true", "127.0.0.1"), checked.
absl::StatusOr<SettingValue> SettingFromText(const ServiceDescriptor& descriptor,
                                             const SettingSpec& spec, std::string_view text);
nlohmann::json SettingToJson(const SettingValue& value);

// Defaults, then `declared` (a JSON object of the declaration), then `overrides` (a JSON
// object of the node's local overrides). An unknown name or a bad value in either is an
// error naming it, and nothing is half-applied.
absl::StatusOr<SettingValues> ResolveSettings(const ServiceDescriptor& descriptor,
                                              const nlohmann::json& declared,
                                              const nlohmann::json& overrides);

// Whether `value` of `spec` opens the daemon to other hosts: a listen address other than a
// loopback one (127.0.0.0/8, ::1), or a privileged port (1..1023).
bool ExposesToNetwork(const SettingSpec& spec, const SettingValue& value);

// What a mesh's declaration may decide for this node, before its settings are used here
// (`declared` its settings, `overrides` this node's local overrides of them):
// - a secret setting never: secrets are never replicated, only a local override sets one;
// - a local setting never either: only this node says where on it a daemon acts;
// - a setting that exposes the store to the network (ExposesToNetwork) only when this node
//   overrides that setting itself or consents `always` to the service.
// PERMISSION_DENIED naming the setting and the command that allows it.
absl::Status CheckMeshSettings(const ServiceDescriptor& descriptor, const std::string& store_id,
                               const nlohmann::json& declared, const nlohmann::json& overrides,
                               bool consent_always);

// A value for people: "(secret)" for secret settings.
std::string ShownValue(const SettingSpec& spec, const SettingValue& value);

}  // namespace lattice::services
