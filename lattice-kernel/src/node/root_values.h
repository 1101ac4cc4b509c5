// Reads of a mesh's root store shared by the node's parts (node.cc, store_registry.cc,
// membership.cc, revocation.cc): the winning value of a key, and the keys of a member's status.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

#include "lattice/common/hex.h"
#include "state/kv_state.h"
#include "store/store.h"

namespace lattice::kernel {

inline constexpr std::string_view kRootStoreName = "root";

// The value of `key` in the root store, or nothing when it is unset, deleted or unreadable.
inline std::optional<std::string> ReadRootValue(const Store& root, const std::string& key) {
  auto heads = ReadHeads(root.db(), key);
  if (!heads.ok()) return std::nullopt;
  KvRead read = ResolveHeads(*heads);
  if (!read.found) return std::nullopt;
  return read.winner.value();
}

inline std::string StatusKey(std::string_view node_id) {
  return fmt::format("/nodes/{}/status", ToHex(node_id));
}

}  // namespace lattice::kernel
