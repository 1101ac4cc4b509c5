#include "src/metrics_route.h"

namespace lattice::web {

Gateway::MetricsHandler MetricsRoute(ApiContext& context, std::function<size_t()> connections) {
  (void)context;
  (void)connections;
  return {};
}

}  // namespace lattice::web
