#include "services/declaration.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "services/descriptor.h"
#include "services/printable.h"
#include "services/service_limits.h"

namespace lattice::services {
namespace {

constexpr std::string_view kConfigSuffix = "/config";

}  // namespace

absl::StatusOr<Policy> ParsePolicy(std::string_view text) {
  if (text == "Global") return Policy{PolicyKind::kGlobal, ""};
  if (text == "LocalOnly") return Policy{PolicyKind::kLocalOnly, ""};
  std::string_view tag;
  constexpr std::string_view kTagged = "TaggedNodes";
  if (text.substr(0, kTagged.size()) == kTagged) {
    std::string_view rest = text.substr(kTagged.size());
    if (rest.size() >= 2 && rest.front() == '(' && rest.back() == ')') {
      tag = rest.substr(1, rest.size() - 2);
    } else if (!rest.empty() && rest.front() == ':') {
      tag = rest.substr(1);
    } else {
      return absl::InvalidArgumentError("policy TaggedNodes needs a tag: TaggedNodes:TAG");
    }
    if (!IsValidTag(tag)) {
      return absl::InvalidArgumentError("a tag has 1 to 64 of a-z, 0-9, '_' and '-'");
    }
    return Policy{PolicyKind::kTaggedNodes, std::string(tag)};
  }
  return absl::InvalidArgumentError("policy is Global, TaggedNodes:TAG or LocalOnly");
}

std::string FormatPolicy(const Policy& policy) {
  switch (policy.kind) {
    case PolicyKind::kGlobal: return "Global";
    case PolicyKind::kLocalOnly: return "LocalOnly";
    case PolicyKind::kTaggedNodes: return "TaggedNodes(" + policy.tag + ")";
  }
  return "unknown";
}

absl::StatusOr<Declaration> ParseDeclaration(std::string_view text, bool local) {
  if (text.size() > limits::kMaxDeclarationBytes) {
    return LimitExceeded("declaration", text.size(), limits::kMaxDeclarationBytes);
  }
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError("declaration is not valid JSON");
  if (!json.is_object()) return absl::InvalidArgumentError("declaration must be a JSON object");
  Declaration d;
  d.policy.kind = local ? PolicyKind::kLocalOnly : PolicyKind::kGlobal;
  bool have_policy = false;
  for (const auto& [key, value] : json.items()) {
    if (key == "enabled") {
      if (!value.is_boolean()) return absl::InvalidArgumentError("\"enabled\" must be true or false");
      d.enabled = value.get<bool>();
    } else if (key == "policy") {
      if (!value.is_string()) return absl::InvalidArgumentError("\"policy\" must be a string");
      LATTICE_ASSIGN_OR_RETURN(d.policy, ParsePolicy(value.get<std::string>()));
      have_policy = true;
    } else if (key == "stores") {
      if (!value.is_array()) return absl::InvalidArgumentError("\"stores\" must be an array of store ids");
      if (value.size() > limits::kMaxStoresPerDeclaration) {
        return LimitExceeded("\"stores\"", value.size(), limits::kMaxStoresPerDeclaration, "stores");
      }
      std::set<std::string> seen;
      for (const auto& store : value) {
        if (!store.is_string() || !ParseStoreId(store.get<std::string>())) {
          return absl::InvalidArgumentError("\"stores\" must hold store ids (canonical UUIDs)");
        }
        if (seen.insert(store.get<std::string>()).second) d.stores.push_back(store.get<std::string>());
      }
    } else if (key == "settings") {
      if (!value.is_object()) return absl::InvalidArgumentError("\"settings\" must be an object");
      for (const auto& [name, setting] : value.items()) {
        if (!IsValidSettingName(name)) {
          return absl::InvalidArgumentError("a setting name must be [a-z][a-z0-9_]*, at most 64 bytes");
        }
        if (!setting.is_primitive() || setting.is_null()) {
          return absl::InvalidArgumentError(fmt::format("setting {} must be a number, string or bool", name));
        }
      }
      d.settings = value;
    } else {
      // Notably "binary", "args", "command": a declaration chooses none of them.
      std::string shown = PrintableExcerpt(key, 40);
      return absl::InvalidArgumentError(fmt::format(
          "unknown key \"{}\" (a declaration has enabled, policy, stores, settings; the binary "
          "and its arguments come only from this node's descriptor)", shown));
    }
  }
  if (local && have_policy && d.policy.kind != PolicyKind::kLocalOnly) {
    return absl::InvalidArgumentError("a local declaration's policy is LocalOnly");
  }
  if (!local && d.policy.kind == PolicyKind::kLocalOnly) {
    return absl::InvalidArgumentError(
        "policy LocalOnly belongs in a node's own database, not in the mesh");
  }
  if (d.stores.empty()) return absl::InvalidArgumentError("declaration names no store");
  return d;
}

std::string SerializeDeclaration(const Declaration& d) {
  nlohmann::json json{{"enabled", d.enabled},
                      {"policy", FormatPolicy(d.policy)},
                      {"stores", d.stores},
                      {"settings", d.settings.is_object() ? d.settings : nlohmann::json::object()}};
  return json.dump();
}

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > limits::kMaxTagBytes) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(tag.front())) return false;
  return std::all_of(tag.begin(), tag.end(), [&](char c) { return alnum(c) || c == '_' || c == '-'; });
}

std::vector<std::string> ParseTags(std::string_view text) {
  std::vector<std::string> tags;
  size_t start = 0;
  while (start <= text.size() && tags.size() < limits::kMaxTagsPerNode) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view tag = text.substr(start, comma - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (IsValidTag(tag) && std::find(tags.begin(), tags.end(), tag) == tags.end()) {
      tags.emplace_back(tag);
    }
    start = comma + 1;
  }
  return tags;
}

std::string FormatTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& tag : tags) {
    if (!out.empty()) out += ",";
    out += tag;
  }
  return out;
}

std::string DeclarationKey(std::string_view service_id) {
  return fmt::format("{}{}{}", kDeclarationPrefix, service_id, kConfigSuffix);
}

std::string ServiceIdOfDeclarationKey(std::string_view key) {
  if (key.substr(0, kDeclarationPrefix.size()) != kDeclarationPrefix) return "";
  key.remove_prefix(kDeclarationPrefix.size());
  if (key.size() <= kConfigSuffix.size() || key.substr(key.size() - kConfigSuffix.size()) != kConfigSuffix) {
    return "";
  }
  return std::string(key.substr(0, key.size() - kConfigSuffix.size()));
}

}  // namespace lattice::services
