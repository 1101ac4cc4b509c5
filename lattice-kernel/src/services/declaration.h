// Declarations (DESIGN §8 Registry): "run service ID for these stores, placed by this
// policy, with these settings". The mesh's are JSON values at /services/{id}/config in its
// root store, written by any member and so read as hostile: size, shape, ids and policy are
// checked here, the settings against the descriptor later (settings.h). LocalOnly
// declarations have the same shape and live in the node database.
//
//   {"enabled": true, "policy": "TaggedNodes(gateway)", "stores": ["<uuid>", ...],
//    "settings": {"port": 6667}}
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace lattice::services {

enum class PolicyKind { kGlobal, kTaggedNodes, kLocalOnly };

struct Policy {
  PolicyKind kind = PolicyKind::kGlobal;
  std::string tag;  // kTaggedNodes only
  bool operator==(const Policy&) const = default;
};

// "Global", "LocalOnly", "TaggedNodes(TAG)" or "TaggedNodes:TAG" (the command line's form).
absl::StatusOr<Policy> ParsePolicy(std::string_view text);
// "Global", "LocalOnly", "TaggedNodes(TAG)".
std::string FormatPolicy(const Policy& policy);

struct Declaration {
  bool enabled = true;
  Policy policy;
  std::vector<std::string> stores;            // canonical UUIDs, no duplicates
  nlohmann::json settings = nlohmann::json::object();
};

// Parses a declaration's JSON. `local`: one from the node database, whose policy is
// LocalOnly (and a mesh declaration may not claim LocalOnly). Errors say what is wrong
// with it for `service list`.
absl::StatusOr<Declaration> ParseDeclaration(std::string_view text, bool local);
std::string SerializeDeclaration(const Declaration& declaration);

// Tags: 1 to 64 of [a-z0-9_-], starting with a letter or digit.
bool IsValidTag(std::string_view tag);
// "a,b,c" as written at /nodes/{node}/tags: valid tags, deduplicated, in order, at most
// limits::kMaxTagsPerNode; anything else is dropped.
std::vector<std::string> ParseTags(std::string_view text);
std::string FormatTags(const std::vector<std::string>& tags);

// The root-store key of a declaration, and the service id in such a key ("" when the key
// is not one).
std::string DeclarationKey(std::string_view service_id);
std::string ServiceIdOfDeclarationKey(std::string_view key);
inline constexpr std::string_view kDeclarationPrefix = "/services/";

}  // namespace lattice::services
