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

// A value for people: "(secret)" for secret settings.
std::string ShownValue(const SettingSpec& spec, const SettingValue& value);

}  // namespace lattice::services
