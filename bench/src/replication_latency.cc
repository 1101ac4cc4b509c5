#include "replication_latency.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "lattice/common/status.h"
#include "load_generator.h"
#include "peer_kernels.h"
#include "progress.h"
#include "watch_latency.h"

namespace lattice::bench {
namespace {

constexpr char kStoreName[] = "latency";
constexpr int kNodeHostBase = 100;
// Links between all nodes and the store's bootstrap on each take a few maintenance ticks.
constexpr auto kMeshTimeout = std::chrono::seconds(60);

// The names of one mesh size's figures.
struct LatencyFigures {
  explicit LatencyFigures(size_t nodes)
      : group(fmt::format("put -> watch event, full mesh of {} kernels", nodes)),
        remote(fmt::format("mesh of {}: put node 0 -> watch node {}", nodes, nodes - 1)),
        local(fmt::format("mesh of {}: put node 0 -> watch node 0", nodes)),
        lone(fmt::format("mesh of {}: lone kernel put -> watch", nodes)),
        put_call(fmt::format("mesh of {}: the put call on node 0", nodes)),
        lost(fmt::format("mesh of {}: node {} events lost (> 5 s)", nodes, nodes - 1)) {}
  std::string group, remote, local, lone, put_call, lost;
};

void Declare(const LatencyFigures& f, Results& r) {
  for (const auto* name : {&f.remote, &f.local, &f.lone, &f.put_call}) {
    r.Declare(*name + " p50", "us", f.group);
    r.Declare(*name + " p99", "us", f.group);
  }
  r.Declare(f.lost, "puts", f.group);
  for (const char* p : {" p50", " p99"}) {
    r.AddRatio({fmt::format("(info) {}{} / lone kernel", f.remote, p), f.remote + p,
                f.lone + p, NAN});
  }
}

// What one sample series adds: its p50 and p99 as `name`.
void Record(Results& r, const std::string& name, std::vector<double> latencies_us) {
  r.Add(name + " p50", Percentile(latencies_us, 50));
  r.Add(name + " p99", Percentile(latencies_us, 99));
}

class Mesh {
 public:
  Mesh(const ReplicationBenchOptions& o, std::string dir, std::string ip_prefix)
      : o_(o), dir_(std::move(dir)), ip_prefix_(std::move(ip_prefix)) {}

  size_t size() const { return nodes_.size(); }
  const ServerProcess& node(size_t i) const { return *nodes_[i]; }
  const std::string& store_id() const { return store_id_; }

  // Starts nodes until there are `count`, each joining node 0's mesh, then waits until
  // every node links with every other and holds the store.
  absl::Status GrowTo(size_t count) {
    while (nodes_.size() < count) {
      size_t i = nodes_.size();
      PeerKernelOptions options{o_.kernel_binary, fmt::format("{}/node{}", dir_, i),
                                fmt::format("{}.{}", ip_prefix_, kNodeHostBase + i),
                                fmt::format("node{}", i), o_.sync_interval_ms};
      LATTICE_ASSIGN_OR_RETURN(auto kernel, StartPeerKernel(options));
      LATTICE_ASSIGN_OR_RETURN(auto admin, kernel->Connect());
      if (i == 0) {
        LATTICE_ASSIGN_OR_RETURN(auto store, admin->CreateStore(kStoreName, "kv"));
        store_id_ = store.id();
      } else {
        LATTICE_RETURN_IF_ERROR(JoinMeshOf(*admins_[0], *admin, options.name));
      }
      nodes_.push_back(std::move(kernel));
      admins_.push_back(std::move(admin));
    }
    for (size_t i = 0; i < count; ++i) {
      auto linked = AwaitStatus(
          *admins_[i],
          [&](const v1::StatusResponse& status) {
            if (status.peers_connected() + 1 < count) return false;
            const v1::BootstrapProgress* bootstrap = FindBootstrap(status, store_id_);
            return i == 0 || (bootstrap != nullptr && bootstrap->done());
          },
          kMeshTimeout,
          fmt::format("node {} linked with {} peers and holding the store", i, count - 1),
          std::chrono::milliseconds(50));
      if (!linked.ok()) return linked.status();
    }
    return absl::OkStatus();
  }

  absl::Status Stop() {
    absl::Status first;
    for (auto& node : nodes_) first.Update(node->Stop());
    return first;
  }

 private:
  const ReplicationBenchOptions& o_;
  std::string dir_, ip_prefix_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::vector<std::unique_ptr<client::Client>> admins_;
  std::string store_id_;
};

}  // namespace

absl::Status MeasureReplicationLatency(const ReplicationBenchOptions& o, const std::string& dir,
                                       const std::string& ip_prefix, Results& results) {
  std::vector<size_t> sizes = o.mesh_sizes;
  std::sort(sizes.begin(), sizes.end());
  for (size_t n : sizes) Declare(LatencyFigures(n), results);

  PeerKernelOptions lone_options{o.kernel_binary, dir + "/lone", "", "lone", o.sync_interval_ms};
  LATTICE_ASSIGN_OR_RETURN(auto lone, StartPeerKernel(lone_options));
  std::string lone_store;
  {
    LATTICE_ASSIGN_OR_RETURN(auto admin, lone->Connect());
    LATTICE_ASSIGN_OR_RETURN(auto store, admin->CreateStore(kStoreName, "kv"));
    lone_store = store.id();
  }
  auto connect_to = [](const ServerProcess& kernel) {
    return [&kernel] { return kernel.Connect(); };
  };

  Mesh mesh(o, dir + "/mesh", ip_prefix);
  for (size_t n : sizes) {
    LATTICE_RETURN_IF_ERROR(mesh.GrowTo(n));
    Progress(fmt::format("latency: full mesh of {} kernels linked", n));
    const LatencyFigures f(n);
    const ServerProcess& first = mesh.node(0);
    const ServerProcess& last = mesh.node(n - 1);
    for (int round = 1; round <= o.rounds; ++round) {
      LATTICE_ASSIGN_OR_RETURN(auto alone, MeasureWatchLatency(connect_to(*lone), lone_store,
                                                               o.value_bytes, o.warmup(),
                                                               o.duration()));
      LATTICE_ASSIGN_OR_RETURN(auto remote,
                               MeasureWatchLatency(connect_to(first), connect_to(last),
                                                   mesh.store_id(), o.value_bytes, o.warmup(),
                                                   o.duration()));
      LATTICE_ASSIGN_OR_RETURN(auto local, MeasureWatchLatency(connect_to(first), mesh.store_id(),
                                                               o.value_bytes, o.warmup(),
                                                               o.duration()));
      Progress(fmt::format(
          "latency, mesh of {}, round {}: node 0 -> node {} p50 {:.0f} us p99 {:.0f} us over {} "
          "puts ({} lost); node 0 alone p50 {:.0f} us; lone kernel p50 {:.0f} us",
          n, round, n - 1, Percentile(remote.latencies_us, 50), Percentile(remote.latencies_us, 99),
          remote.latencies_us.size(), remote.lost, Percentile(local.latencies_us, 50),
          Percentile(alone.latencies_us, 50)));
      Record(results, f.remote, remote.latencies_us);
      Record(results, f.local, local.latencies_us);
      Record(results, f.lone, alone.latencies_us);
      Record(results, f.put_call, remote.put_us);
      results.Add(f.lost, static_cast<double>(remote.lost));
    }
  }
  absl::Status stopped = mesh.Stop();
  stopped.Update(lone->Stop());
  return stopped;
}

}  // namespace lattice::bench
