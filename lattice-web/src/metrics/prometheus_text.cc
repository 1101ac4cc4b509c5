#include "src/metrics/prometheus_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <utility>

namespace lattice::web::metrics {
namespace {

using Label = std::pair<std::string_view, std::string_view>;

// Writes families one after the other; a family's samples follow its # HELP and # TYPE.
class Exposition {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name,
                   EscapeHelp(help), name, type);
  }

  void Sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value) {
    WriteSeries(name, labels, {});
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }

  void Sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    WriteSeries(name, labels, {});
    out_ += ' ';
    out_ += FormatSampleValue(value);
    out_ += '\n';
  }

  // A histogram's series: `labels` and then le="<bound>".
  void Bucket(std::string_view name, std::initializer_list<Label> labels, std::string_view le,
              uint64_t value) {
    WriteSeries(name, labels, le);
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }

  std::string Take() { return std::move(out_); }

 private:
  // HELP text escapes only backslash and line feed.
  static std::string EscapeHelp(std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    return out;
  }

  void WriteSeries(std::string_view name, std::initializer_list<Label> labels,
                   std::string_view le) {
    out_ += name;
    if (labels.size() == 0 && le.empty()) return;
    out_ += '{';
    bool first = true;
    auto add = [&](std::string_view key, std::string_view value) {
      if (!first) out_ += ',';
      first = false;
      out_ += key;
      out_ += "=\"";
      out_ += EscapeLabelValue(value);
      out_ += '"';
    };
    for (const auto& [key, value] : labels) add(key, value);
    if (!le.empty()) add("le", le);
    out_ += '}';
  }

  std::string out_;
};

// Which status class a response's code counts under.
constexpr std::array<std::string_view, 5> kStatusClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};

void RenderNode(const v1::MetricsResponse& m, Exposition& out) {
  out.Family("lattice_kernel_info", "gauge", "The kernel lattice-web talks to (always 1).");
  out.Sample("lattice_kernel_info",
             {{"node_id", m.node_id()}, {"node_name", m.node_name()}, {"version", m.version()}},
             uint64_t{1});
  out.Family("lattice_kernel_uptime_seconds", "gauge", "Seconds since the kernel started.");
  out.Sample("lattice_kernel_uptime_seconds", {}, static_cast<double>(m.uptime_ms()) / 1e3);
  out.Family("lattice_kernel_start_time_seconds", "gauge",
             "When the kernel started, in seconds since the Unix epoch.");
  out.Sample("lattice_kernel_start_time_seconds", {}, static_cast<double>(m.started_ms()) / 1e3);
  out.Family("lattice_peers_connected", "gauge", "Peer nodes with an open link.");
  out.Sample("lattice_peers_connected", {}, uint64_t{m.peers_connected()});
}

void RenderStores(const v1::MetricsResponse& m, Exposition& out) {
  auto labels = [](const v1::StoreMetrics& s) {
    return std::array<Label, 4>{Label{"store_id", s.store_id()}, Label{"store", s.name()},
                                Label{"type", s.type()}, Label{"mesh_id", s.mesh_id()}};
  };
  struct Column {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (v1::StoreMetrics::*value)() const;
  };
  const Column columns[] = {
      {"lattice_store_intentions_applied_total", "counter",
       "Intentions this node applied to the store (witnessed), over the store's life.",
       &v1::StoreMetrics::intentions_applied},
      {"lattice_store_intentions_floating", "gauge",
       "Intentions of the store waiting for a dependency.", &v1::StoreMetrics::floating},
      {"lattice_store_noops_total", "counter",
       "Intentions of the store applied as recorded no-ops.", &v1::StoreMetrics::noops},
  };
  for (const auto& column : columns) {
    out.Family(column.name, column.type, column.help);
    for (const auto& store : m.stores()) {
      auto l = labels(store);
      out.Sample(column.name, {l[0], l[1], l[2], l[3]}, (store.*column.value)());
    }
  }
}

void RenderPeers(const v1::MetricsResponse& m, Exposition& out) {
  out.Family("lattice_peer_connected", "gauge", "1 while a link to the peer is open.");
  for (const auto& p : m.peers()) {
    out.Sample("lattice_peer_connected", {{"peer", p.node_id()}, {"peer_name", p.name()}},
               uint64_t{p.connected() ? 1u : 0u});
  }
  struct Column {
    const char* name;
    const char* help;
    uint64_t (v1::PeerMetrics::*value)() const;
  };
  const Column columns[] = {
      {"lattice_peer_sync_sent_bytes_total",
       "Bytes sent to the peer on the wire (framing and encryption included), over every link.",
       &v1::PeerMetrics::sync_bytes_sent},
      {"lattice_peer_sync_received_bytes_total",
       "Bytes received from the peer on the wire, over every link.",
       &v1::PeerMetrics::sync_bytes_received},
      {"lattice_peer_sync_round_trips_total",
       "Negentropy reconciliation messages answered with the peer, either side.",
       &v1::PeerMetrics::sync_round_trips},
  };
  for (const auto& column : columns) {
    out.Family(column.name, "counter", column.help);
    for (const auto& p : m.peers()) {
      out.Sample(column.name, {{"peer", p.node_id()}, {"peer_name", p.name()}}, (p.*column.value)());
    }
  }
}

void RenderWatches(const v1::MetricsResponse& m, Exposition& out) {
  out.Family("lattice_watch_streams_open", "gauge",
             "Watch streams open on the kernel, by the kind of store they watch.");
  for (const auto& w : m.watch_streams()) {
    out.Sample("lattice_watch_streams_open", {{"kind", w.kind()}}, w.open());
  }
}

void RenderHistogram(std::string_view name, std::initializer_list<Label> labels,
                     const v1::Histogram& h, Exposition& out) {
  std::string bucket = std::string(name) + "_bucket";
  int n = std::min(h.upper_bounds_size(), h.cumulative_counts_size());
  uint64_t previous = 0;
  for (int i = 0; i < n; ++i) {
    // A scraper rejects buckets that fall or pass the count; the kernel's never do, and
    // this keeps a damaged response from breaking the whole scrape.
    uint64_t value = std::min(std::max(previous, h.cumulative_counts(i)), h.count());
    previous = value;
    out.Bucket(bucket, labels, FormatSampleValue(h.upper_bounds(i)), value);
  }
  out.Bucket(bucket, labels, "+Inf", h.count());
  out.Sample(std::string(name) + "_sum", labels, h.sum());
  out.Sample(std::string(name) + "_count", labels, h.count());
}

void RenderRpcs(const v1::MetricsResponse& m, Exposition& out) {
  struct Column {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (v1::RpcMetrics::*value)() const;
  };
  const Column columns[] = {
      {"lattice_rpc_calls_total", "counter", "Store Protocol calls that ended, by method.",
       &v1::RpcMetrics::calls},
      {"lattice_rpc_errors_total", "counter",
       "Store Protocol calls that ended with a status other than OK, by method.",
       &v1::RpcMetrics::errors},
      {"lattice_rpc_in_flight", "gauge", "Store Protocol calls (streams included) not yet ended.",
       &v1::RpcMetrics::in_flight},
  };
  for (const auto& column : columns) {
    out.Family(column.name, column.type, column.help);
    for (const auto& r : m.rpcs()) {
      out.Sample(column.name, {{"service", r.service()}, {"method", r.method()}},
                 (r.*column.value)());
    }
  }
  out.Family("lattice_rpc_latency_seconds", "histogram",
             "Time from a unary call's arrival to its status being sent (a write: until durable "
             "or applied, as it asked).");
  for (const auto& r : m.rpcs()) {
    if (!r.has_latency_seconds()) continue;  // a stream: counted, not timed
    RenderHistogram("lattice_rpc_latency_seconds", {{"service", r.service()}, {"method", r.method()}},
                    r.latency_seconds(), out);
  }
}

void RenderServices(const v1::MetricsResponse& m, Exposition& out) {
  out.Family("lattice_service_restarts_total", "counter",
             "Automatic restarts of a daemon instance since its first start (a reset zeroes it).");
  for (const auto& s : m.service_instances()) {
    out.Sample("lattice_service_restarts_total",
               {{"service", s.service_id()}, {"store_id", s.store_id()}}, s.restarts());
  }
  out.Family("lattice_service_instance_status", "gauge",
             "1 for the status a daemon instance is in (running, starting, backoff, ...).");
  for (const auto& s : m.service_instances()) {
    out.Sample("lattice_service_instance_status",
               {{"service", s.service_id()}, {"store_id", s.store_id()}, {"status", s.status()}},
               uint64_t{1});
  }
}

void RenderWeb(const WebCounters& web, Exposition& out) {
  out.Family("lattice_web_http_connections_open", "gauge", "HTTP connections open to lattice-web.");
  out.Sample("lattice_web_http_connections_open", {}, web.open_http_connections);
  out.Family("lattice_web_sse_streams_open", "gauge",
             "Server-sent event streams lattice-web is serving.");
  out.Sample("lattice_web_sse_streams_open", {}, web.open_sse_streams);
  if (!web.requests_by_class) return;
  out.Family("lattice_web_http_requests_total", "counter",
             "HTTP responses lattice-web sent, by status class.");
  for (size_t i = 0; i < kStatusClasses.size(); ++i) {
    out.Sample("lattice_web_http_requests_total", {{"class", kStatusClasses[i]}},
               (*web.requests_by_class)[i]);
  }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

std::string RenderPrometheus(const lattice::v1::MetricsResponse& metrics, const WebCounters& web) {
  Exposition out;
  RenderNode(metrics, out);
  RenderStores(metrics, out);
  RenderPeers(metrics, out);
  RenderWatches(metrics, out);
  RenderRpcs(metrics, out);
  RenderServices(metrics, out);
  RenderWeb(web, out);
  return out.Take();
}

}  // namespace lattice::web::metrics
