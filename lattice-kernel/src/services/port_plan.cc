#include "lattice/common/status.h"
#include "services/port_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>

namespace lattice::services {

std::vector<PortAssignment> PlanPorts(const std::vector<PortClaim>& claims) {
  std::vector<size_t> order(claims.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const PortClaim& x = claims[a];
    const PortClaim& y = claims[b];
    return std::make_tuple(!x.running_on_it, !x.overridden, x.instance) <
           std::make_tuple(!y.running_on_it, !y.overridden, y.instance);
  });
  std::vector<PortAssignment> out(claims.size());
  std::map<int64_t, std::string> taken;  // port -> instance
  for (size_t i : order) {
    const PortClaim& claim = claims[i];
    PortAssignment& assigned = out[i];
    assigned.port = claim.port;
    if (claim.port == 0) continue;
    auto it = taken.find(claim.port);
    if (it == taken.end()) {
      taken[claim.port] = claim.instance;
      continue;
    }
    if (claim.allow_zero) {
      assigned.port = 0;
      assigned.note = fmt::format("port {} is taken by {}; the OS picks one", claim.port, it->second);
    } else {
      assigned.refused = true;
      assigned.note = fmt::format("port {} clashes with {}; set a local override: {}", claim.port,
                                  it->second, claim.override_hint);
    }
  }
  return out;
}

}  // namespace lattice::services
