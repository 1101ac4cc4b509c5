#include "services/registry.h"

#include <fmt/format.h>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "services/descriptor.h"
#include "services/printable.h"
#include "services/service_limits.h"
#include "state/kv_state.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

namespace limits = services::limits;

// The latest value `author` itself wrote among the heads (nullopt when its latest is a
// deletion or it wrote none that still stands).
std::optional<std::string> OwnValue(const v1::KvHeads& heads, std::string_view author) {
  for (const auto& head : heads.heads()) {  // winner first
    if (head.author() != author) continue;
    if (head.tombstone()) return std::nullopt;
    return head.value();
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ReadValue(const Store& root, const std::string& key) {
  auto heads = ReadHeads(root.db(), key);
  if (!heads.ok()) return std::nullopt;
  KvRead read = ResolveHeads(*heads);
  if (!read.found) return std::nullopt;
  return read.winner.value();
}

std::vector<MeshDeclaration> ReadDeclarations(const Store& root, size_t* ignored) {
  std::vector<MeshDeclaration> out;
  *ignored = 0;
  std::string prefix = KvHeadsKey(services::kDeclarationPrefix);
  (void)root.db().Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    std::string key = std::string(services::kDeclarationPrefix) + std::string(k.substr(prefix.size()));
    std::string id = services::ServiceIdOfDeclarationKey(key);
    if (id.empty()) return true;  // another key under /services/
    v1::KvHeads heads;
    if (!heads.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
    KvRead read = ResolveHeads(heads);
    if (!read.found) return true;
    if (out.size() >= limits::kMaxDeclarationsPerMesh) {
      ++*ignored;
      return true;
    }
    MeshDeclaration d;
    d.author = read.winner.author();
    if (!services::IsValidServiceId(id)) {
      d.service_id = services::PrintableExcerpt(id);
      d.declaration = absl::InvalidArgumentError("the key names no valid service id");
    } else {
      d.service_id = id;
      d.declaration = services::ParseDeclaration(read.winner.value(), /*local=*/false);
    }
    out.push_back(std::move(d));
    return true;
  });
  return out;
}

std::string TagsKey(std::string_view node_id) { return fmt::format("/nodes/{}/tags", ToHex(node_id)); }

std::vector<std::string> ReadOwnTags(const Store& root, std::string_view node_id) {
  auto heads = ReadHeads(root.db(), TagsKey(node_id));
  if (!heads.ok()) return {};
  auto value = OwnValue(*heads, node_id);
  if (!value) return {};
  return services::ParseTags(*value);
}

std::string DiscoveryPrefix(std::string_view node_id) {
  return fmt::format("/nodes/{}/services/", ToHex(node_id));
}

std::string DiscoveryKey(std::string_view node_id, std::string_view service_id) {
  return DiscoveryPrefix(node_id) + std::string(service_id);
}

std::vector<std::pair<std::string, std::vector<DiscoveredInstance>>> ReadDiscovery(
    const Store& root, std::string_view node_id) {
  std::vector<std::pair<std::string, std::vector<DiscoveredInstance>>> out;
  std::string prefix = KvHeadsKey(DiscoveryPrefix(node_id));
  size_t seen = 0;
  (void)root.db().Scan(prefix, keys::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    if (++seen > limits::kMaxDiscoveryRecordsPerNode) return false;
    std::string service(k.substr(prefix.size()));
    if (!services::IsValidServiceId(service)) return true;
    v1::KvHeads heads;
    if (!heads.ParseFromArray(v.data(), static_cast<int>(v.size()))) return true;
    SortHeads(&heads);
    auto value = OwnValue(heads, node_id);
    if (!value) return true;
    auto parsed = services::ParseDiscovery(*value);
    if (parsed.ok() && !parsed->empty()) out.emplace_back(service, *std::move(parsed));
    return true;
  });
  return out;
}

}  // namespace lattice::kernel
