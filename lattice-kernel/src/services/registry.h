// The services part of a mesh's root store (DESIGN §5, §8): declarations at
// /services/{id}/config, each node's tags at /nodes/{node}/tags and discovery records at
// /nodes/{node}/services/{id}. Reading treats everything as written by a hostile member:
// sizes and counts are capped, and a node's tags and discovery records count only when that
// node wrote them itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/declaration.h"
#include "services/discovery_record.h"
#include "services/supervisor.h"
#include "store/store.h"

namespace lattice::kernel {

struct MeshDeclaration {
  std::string service_id;                         // as in the key (escaped when invalid)
  absl::StatusOr<services::Declaration> declaration = absl::UnknownError("unread");
  std::string author;                             // raw node id of the winning write
};

// The declarations in `root`, at most services::limits::kMaxDeclarationsPerMesh; `ignored`
// gets how many more there are.
std::vector<MeshDeclaration> ReadDeclarations(const Store& root, size_t* ignored);
// The current value at `key` (winner), or nullopt.
std::optional<std::string> ReadValue(const Store& root, const std::string& key);
// Node `node_id`'s tags as that node itself wrote them.
std::vector<std::string> ReadOwnTags(const Store& root, std::string_view node_id);
std::string TagsKey(std::string_view node_id);

using services::DiscoveredInstance;

std::string DiscoveryKey(std::string_view node_id, std::string_view service_id);
std::string DiscoveryPrefix(std::string_view node_id);

// service id -> instances, from the records `node_id` wrote about itself in `root`.
std::vector<std::pair<std::string, std::vector<DiscoveredInstance>>> ReadDiscovery(
    const Store& root, std::string_view node_id);

}  // namespace lattice::kernel
