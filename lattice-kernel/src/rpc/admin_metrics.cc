// Admin.Metrics: the kernel's counters as structured samples, for lattice-ctl and for
// lattice-web's Prometheus endpoint. Everything read here is an atomic or a short copy made
// under the lock of what owns it; no call path pays for being counted beyond that.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "metrics/rpc_metrics.h"
#include "replication/replicator.h"
#include "rpc/services.h"
#include "services/service_manager.h"

namespace lattice::kernel {
namespace {

// The admin cookie, or a token holding the metrics right whatever its stores: the figures
// are the node's, and name stores and peers but hold no key or value.
absl::Status RequireMetricsRight(const Caller& caller) {
  if (caller.admin || TokenHasRight(caller.token, Right::kMetrics)) return absl::OkStatus();
  return absl::PermissionDeniedError(fmt::format(
      "token {} lacks the metrics right; Admin.Metrics needs it or the admin cookie",
      caller.token.id()));
}

void FillStores(Node& node, v1::MetricsResponse* response) {
  for (const auto& d : node.ListStores(/*include_archived=*/true)) {
    auto* out = response->add_stores();
    out->set_store_id(FormatStoreId(d.id));
    out->set_name(d.name);
    out->set_type(std::string(StoreTypeName(d.type)));
    out->set_mesh_id(FormatStoreId(d.mesh_id));
    if (Store* store = node.StoreById(d.id)) {
      out->set_intentions_applied(store->last_witness());
      out->set_floating(store->floating_count());
      out->set_noops(store->noop_count());
    }
  }
}

void FillPeers(replication::Replicator& replicator, v1::MetricsResponse* response) {
  response->set_peers_connected(static_cast<uint32_t>(replicator.connected_count()));
  for (const auto& view : replicator.Traffic()) {
    auto* out = response->add_peers();
    out->set_node_id(ToHex(view.node_id));
    out->set_name(view.name);
    out->set_connected(view.totals.connected);
    out->set_sync_bytes_sent(view.totals.bytes_sent);
    out->set_sync_bytes_received(view.totals.bytes_received);
    out->set_sync_round_trips(view.totals.round_trips);
  }
}

void FillHistogram(const metrics::HistogramSnapshot& snapshot, v1::Histogram* out) {
  for (double bound : snapshot.upper_bounds) out->add_upper_bounds(bound);
  for (uint64_t count : snapshot.cumulative_counts) out->add_cumulative_counts(count);
  out->set_count(snapshot.count);
  out->set_sum(snapshot.sum_seconds);
}

void FillRpcs(const metrics::RpcMetrics& rpcs, v1::MetricsResponse* response) {
  for (const auto& method : rpcs.methods()) {
    int64_t in_flight = std::max<int64_t>(0, method->in_flight.load(std::memory_order_relaxed));
    // The open streams of each Watch method are the watches of that kind (a kind of store,
    // or presence).
    if (method->method == "Watch") {
      auto* watch = response->add_watch_streams();
      std::string kind = method->service;
      std::transform(kind.begin(), kind.end(), kind.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      watch->set_kind(kind);
      watch->set_open(static_cast<uint64_t>(in_flight));
    }
    auto* out = response->add_rpcs();
    out->set_service(method->service);
    out->set_method(method->method);
    out->set_calls(method->calls.load(std::memory_order_relaxed));
    out->set_errors(method->errors.load(std::memory_order_relaxed));
    out->set_in_flight(static_cast<uint64_t>(in_flight));
    if (!method->streaming) FillHistogram(method->latency.Snapshot(), out->mutable_latency_seconds());
  }
}

void FillServiceInstances(ServiceManager& manager, v1::MetricsResponse* response) {
  for (const auto& view : manager.InstanceViews()) {
    auto* out = response->add_service_instances();
    out->set_service_id(view.key.service_id);
    out->set_store_id(view.key.store_id);
    out->set_status(std::string(services::InstanceStatusName(view.status)));
    out->set_restarts(view.restarts);
  }
}

}  // namespace

grpc::Status AdminService::Metrics(grpc::ServerContext* context, const v1::MetricsRequest*,
                                   v1::MetricsResponse* response) {
  auto caller = ctx_.auth.Authenticate(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (auto s = RequireMetricsRight(*caller); !s.ok()) return ToGrpc(s);

  response->set_node_id(ctx_.node.node_id_hex());
  response->set_node_name(ctx_.node.name());
  response->set_version(LATTICE_VERSION);
  auto uptime_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - ctx_.started)
                                            .count());
  response->set_uptime_ms(uptime_ms);
  uint64_t now_ms = ctx_.node.clock().WallMs();
  response->set_started_ms(now_ms > uptime_ms ? now_ms - uptime_ms : 0);

  FillStores(ctx_.node, response);
  if (ctx_.replicator != nullptr) FillPeers(*ctx_.replicator, response);
  if (ctx_.rpc_metrics != nullptr) FillRpcs(*ctx_.rpc_metrics, response);
  if (ServiceManager* manager = ctx_.service_manager.load()) FillServiceInstances(*manager, response);
  return grpc::Status::OK;
}

}  // namespace lattice::kernel
