#include "format_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <vector>

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
  nlohmann::json stores = nlohmann::json::array();
  for (const auto& s : metrics.stores()) {
    stores.push_back({{"store_id", s.store_id()},
                      {"name", s.name()},
                      {"type", s.type()},
                      {"mesh_id", s.mesh_id()},
                      {"intentions_applied", s.intentions_applied()},
                      {"floating", s.floating()},
                      {"noops", s.noops()}});
  }
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& p : metrics.peers()) {
    peers.push_back({{"node_id", p.node_id()},
                     {"name", p.name()},
                     {"connected", p.connected()},
                     {"sync_bytes_sent", p.sync_bytes_sent()},
                     {"sync_bytes_received", p.sync_bytes_received()},
                     {"sync_round_trips", p.sync_round_trips()}});
  }
  nlohmann::json watches = nlohmann::json::array();
  for (const auto& w : metrics.watch_streams()) {
    watches.push_back({{"kind", w.kind()}, {"open", w.open()}});
  }
  nlohmann::json rpcs = nlohmann::json::array();
  for (const auto& r : metrics.rpcs()) {
    nlohmann::json rpc = {{"service", r.service()}, {"method", r.method()},
                          {"calls", r.calls()},     {"errors", r.errors()},
                          {"in_flight", r.in_flight()}};
    if (r.has_latency_seconds()) {
      const auto& h = r.latency_seconds();
      rpc["latency_seconds"] = {
          {"upper_bounds", std::vector<double>(h.upper_bounds().begin(), h.upper_bounds().end())},
          {"cumulative_counts",
           std::vector<uint64_t>(h.cumulative_counts().begin(), h.cumulative_counts().end())},
          {"count", h.count()},
          {"sum", h.sum()}};
    }
    rpcs.push_back(std::move(rpc));
  }
  nlohmann::json instances = nlohmann::json::array();
  for (const auto& i : metrics.service_instances()) {
    instances.push_back({{"service_id", i.service_id()},
                         {"store_id", i.store_id()},
                         {"status", i.status()},
                         {"restarts", i.restarts()}});
  }
  return nlohmann::json{{"node_id", metrics.node_id()},
                        {"node_name", metrics.node_name()},
                        {"version", metrics.version()},
                        {"uptime_ms", metrics.uptime_ms()},
                        {"started_ms", metrics.started_ms()},
                        {"peers_connected", metrics.peers_connected()},
                        {"stores", std::move(stores)},
                        {"peers", std::move(peers)},
                        {"watch_streams", std::move(watches)},
                        {"rpcs", std::move(rpcs)},
                        {"service_instances", std::move(instances)}};
}

}  // namespace lattice::ctl
