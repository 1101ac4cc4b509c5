// GET /metrics: the kernel's figures (Admin.Metrics, judged by the kernel: the caller's token
// needs the metrics right, or is the admin cookie) and lattice-web's own, in Prometheus's
// text format.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "src/api/gateway.h"

namespace lattice::web {

// What the HTTP server counts, read at each scrape.
struct ServerFigures {
  std::function<size_t()> connections;
  std::function<std::array<uint64_t, 5>()> responses_by_class;  // [0] 1xx ... [4] 5xx
};

Gateway::MetricsHandler MetricsRoute(ApiContext& context, ServerFigures server);

}  // namespace lattice::web
