#include "services/discovery_record.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "services/printable.h"
#include "services/service_limits.h"

namespace lattice::services {

std::string SerializeDiscovery(const std::vector<DiscoveredInstance>& instances) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : instances) {
    list.push_back({{"store", i.store_id},
                    {"status", i.status},
                    {"endpoints", i.endpoints},
                    {"started_at", i.started_ms},
                    {"restarts", i.restarts}});
  }
  return nlohmann::json{{"instances", list}}.dump();
}

absl::StatusOr<std::vector<DiscoveredInstance>> ParseDiscovery(std::string_view text) {
  if (text.size() > limits::kMaxDiscoveryBytes) {
    return LimitExceeded("discovery record", text.size(), limits::kMaxDiscoveryBytes);
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("instances") || !json["instances"].is_array()) {
    return absl::InvalidArgumentError("not a discovery record");
  }
  std::vector<DiscoveredInstance> out;
  for (const auto& item : json["instances"]) {
    if (out.size() >= limits::kMaxStoresPerDeclaration) break;
    if (!item.is_object()) continue;
    auto store = item.find("store");
    auto status = item.find("status");
    if (store == item.end() || !store->is_string() || !ParseStoreId(store->get<std::string>())) continue;
    if (status == item.end() || !status->is_string() || status->get<std::string>().size() > 16) continue;
    DiscoveredInstance i;
    i.store_id = store->get<std::string>();
    i.status = PrintableExcerpt(status->get<std::string>());
    if (auto e = item.find("endpoints"); e != item.end() && e->is_array()) {
      for (const auto& endpoint : *e) {
        if (i.endpoints.size() >= limits::kMaxEndpointsPerInstance) break;
        if (endpoint.is_string()) i.endpoints.push_back(PrintableExcerpt(endpoint.get<std::string>()));
      }
    }
    if (auto s = item.find("started_at"); s != item.end() && s->is_number_unsigned()) {
      i.started_ms = s->get<uint64_t>();
    }
    if (auto r = item.find("restarts"); r != item.end() && r->is_number_unsigned()) {
      i.restarts = static_cast<uint32_t>(std::min<uint64_t>(r->get<uint64_t>(), UINT32_MAX));
    }
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace lattice::services
