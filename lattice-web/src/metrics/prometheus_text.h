// GET /metrics: the kernel's counters (Admin.Metrics) and lattice-web's own, rendered in
// Prometheus's text exposition format 0.0.4. A pure function of its inputs, so the HTTP
// handler only fetches the kernel's response and counts its own connections.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::web::metrics {

// The Content-Type of RenderPrometheus's text.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// lattice-web's own figures, as its HTTP server counts them.
struct WebCounters {
  uint64_t open_http_connections = 0;  // gauge
  uint64_t open_sse_streams = 0;       // gauge: live event streams being served
  // Counter: responses sent, by status class; [0] is 1xx, [1] 2xx ... [4] 5xx. Unset while
  // the server does not count them: the family is left out rather than shown as zeros.
  std::optional<std::array<uint64_t, 5>> requests_by_class;
};

// Every family has its # HELP and # TYPE lines followed by all its samples; names start with
// `lattice_`; label values are escaped; each histogram has its _bucket series ending in
// le="+Inf" (= _count), then _sum and _count. Families:
//   lattice_kernel_info{node_id,node_name,version} 1, lattice_kernel_uptime_seconds,
//   lattice_kernel_start_time_seconds, lattice_peers_connected,
//   lattice_store_intentions_applied_total, lattice_store_intentions_floating,
//   lattice_store_noops_total {store_id,store,type,mesh_id},
//   lattice_peer_connected, lattice_peer_sync_sent_bytes_total,
//   lattice_peer_sync_received_bytes_total, lattice_peer_sync_round_trips_total {peer,peer_name},
//   lattice_watch_streams_open{kind},
//   lattice_rpc_calls_total, lattice_rpc_errors_total, lattice_rpc_in_flight,
//   lattice_rpc_latency_seconds (histogram, unary methods) {service,method},
//   lattice_service_restarts_total, lattice_service_instance_status (1 for its status)
//   {service,store_id[,status]},
//   lattice_web_http_connections_open, lattice_web_sse_streams_open,
//   lattice_web_http_requests_total{class="1xx".."5xx"} (when WebCounters has them).
std::string RenderPrometheus(const lattice::v1::MetricsResponse& metrics, const WebCounters& web);

// A label value as the format writes it between quotes: backslash, double quote and line
// feed escaped as \\, \" and \n.
std::string EscapeLabelValue(std::string_view value);
// A sample value: the shortest text that reads back as `value`; +Inf, -Inf and NaN as the
// format spells them.
std::string FormatSampleValue(double value);

}  // namespace lattice::web::metrics
