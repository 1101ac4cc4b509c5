// The value of a discovery record, /nodes/{node}/services/{id} in a mesh's root store
// (DESIGN §8): the instances of one service that one node runs for the mesh's stores.
//   {"instances":[{"store":"<uuid>","status":"running","endpoints":["tcp://127.0.0.1:6667"],
//                  "started_at":1700000000000,"restarts":0}]}
// Other nodes read it, so parsing treats it as hostile: sizes and counts are capped and
// malformed entries are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lattice::services {

struct DiscoveredInstance {
  std::string store_id;     // canonical UUID
  std::string status;
  std::vector<std::string> endpoints;
  uint64_t started_ms = 0;  // wall clock of the run's start, not tied to a pid
  uint32_t restarts = 0;
};

std::string SerializeDiscovery(const std::vector<DiscoveredInstance>& instances);
absl::StatusOr<std::vector<DiscoveredInstance>> ParseDiscovery(std::string_view text);

}  // namespace lattice::services
