#include "format_metrics.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "output.h"

namespace lattice::ctl {
namespace {

std::string StoresTable(const v1::MetricsResponse& metrics) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& store : metrics.stores()) {
    rows.push_back({EscapeForLine(store.name()), store.type(), AbbreviateId(store.store_id(), 8),
                    std::to_string(store.intentions_applied()), std::to_string(store.floating()),
                    std::to_string(store.noops())});
  }
  return FormatTable({"STORE", "TYPE", "ID", "APPLIED", "FLOATING", "NOOPS"}, rows);
}

std::string PeersTable(const v1::MetricsResponse& metrics) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& peer : metrics.peers()) {
    rows.push_back({AbbreviateId(peer.node_id()), EscapeForLine(peer.name()),
                    peer.connected() ? "yes" : "no", FormatByteCount(peer.sync_bytes_sent()),
                    FormatByteCount(peer.sync_bytes_received()),
                    std::to_string(peer.sync_round_trips())});
  }
  return FormatTable({"PEER", "NAME", "CONNECTED", "SENT", "RECEIVED", "ROUND TRIPS"}, rows);
}

// Only methods that were called: a kernel serves some seventy.
std::string RpcTable(const v1::MetricsResponse& metrics) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& rpc : metrics.rpcs()) {
    if (rpc.calls() == 0 && rpc.in_flight() == 0) continue;
    const auto& latency = rpc.latency_seconds();
    std::string mean =
        latency.count() == 0 ? "-" : FormatSeconds(latency.sum() / static_cast<double>(latency.count()));
    rows.push_back({rpc.service() + "." + rpc.method(), std::to_string(rpc.calls()),
                    std::to_string(rpc.errors()), std::to_string(rpc.in_flight()),
                    FormatLatencyBound(HistogramQuantileBound(latency, 0.5)),
                    FormatLatencyBound(HistogramQuantileBound(latency, 0.99)), mean});
  }
  return FormatTable({"METHOD", "CALLS", "ERRORS", "IN FLIGHT", "P50", "P99", "MEAN"}, rows);
}

std::string ServicesTable(const v1::MetricsResponse& metrics) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& instance : metrics.service_instances()) {
    rows.push_back({instance.service_id(), AbbreviateId(instance.store_id(), 8),
                    instance.status(), std::to_string(instance.restarts())});
  }
  return FormatTable({"SERVICE", "STORE", "STATUS", "RESTARTS"}, rows);
}

}  // namespace

double HistogramQuantileBound(const v1::Histogram& histogram, double quantile) {
  if (histogram.count() == 0) return -1;
  // The rank of the observation that answers: at least one, at most every one.
  double rank = std::max(1.0, std::ceil(quantile * static_cast<double>(histogram.count())));
  int n = std::min(histogram.upper_bounds_size(), histogram.cumulative_counts_size());
  for (int i = 0; i < n; ++i) {
    if (static_cast<double>(histogram.cumulative_counts(i)) >= rank) return histogram.upper_bounds(i);
  }
  return std::numeric_limits<double>::infinity();
}

std::string FormatSeconds(double seconds) {
  if (seconds >= 1) return fmt::format("{:.3g}s", seconds);
  if (seconds >= 0.001) return fmt::format("{:.3g}ms", seconds * 1e3);
  return fmt::format("{:.3g}us", seconds * 1e6);
}

std::string FormatLatencyBound(double seconds) {
  if (seconds < 0) return "-";
  if (std::isinf(seconds)) return "beyond the largest bucket";
  return "<=" + FormatSeconds(seconds);
}

std::string FormatByteCount(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string MetricsText(const v1::MetricsResponse& metrics) {
  std::string watches;
  for (const auto& watch : metrics.watch_streams()) {
    if (!watches.empty()) watches += ", ";
    watches += fmt::format("{} {}", watch.kind(), watch.open());
  }
  std::string out = FormatFields({
      {"node", fmt::format("{} ({})", EscapeForLine(metrics.node_name()),
                           AbbreviateId(metrics.node_id()))},
      {"version", metrics.version()},
      {"uptime", FormatDurationMs(metrics.uptime_ms())},
      {"peers connected", std::to_string(metrics.peers_connected())},
      {"open watches", watches.empty() ? "none" : watches},
  });
  out += "\n" + StoresTable(metrics);
  if (!metrics.peers().empty()) out += "\n" + PeersTable(metrics);
  out += "\n" + RpcTable(metrics);
  if (!metrics.service_instances().empty()) out += "\n" + ServicesTable(metrics);
  return out;
}

nlohmann::json MetricsJson(const v1::MetricsResponse& metrics) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(metrics, &text, options);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace lattice::ctl
