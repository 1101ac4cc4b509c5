// GET /metrics: the kernel's figures (Admin.Metrics, judged by the kernel: the caller's token
// needs the metrics right, or is the admin cookie) and lattice-web's own, in Prometheus's
// text format.
#pragma once

#include <functional>

#include "src/api/gateway.h"

namespace lattice::web {

Gateway::MetricsHandler MetricsRoute(ApiContext& context, std::function<size_t()> connections);

}  // namespace lattice::web
