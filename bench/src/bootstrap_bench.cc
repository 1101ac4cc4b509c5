#include "bootstrap_bench.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "baselines.h"
#include "cpu_time.h"
#include "in_process_node.h"
#include "lattice/common/status.h"
#include "peer_kernels.h"
#include "progress.h"
#include "tcp_traffic.h"

namespace lattice::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kStoreName[] = "bench";
constexpr int kSourceHost = 10;
constexpr int kJoinerHostBase = 20;

// The names of the figures, fixed by the store size.
struct BootstrapFigures {
  explicit BootstrapFigures(uint64_t intentions)
      : group(fmt::format("bootstrap of {} intentions", intentions)) {}
  std::string group;
  std::string rate = "bootstrap: join call to done";
  std::string verify = "ed25519 verify (200 B), 1 thread";
  std::string verify_cost = "ed25519 verify (200 B): time per verify";
  std::string seconds = "bootstrap: join call to done, time";
  std::string join_call = "bootstrap: the join call itself";
  std::string joiner_cpu = "bootstrap: joiner (B) cpu/intention";
  std::string source_cpu = "bootstrap: source (A) cpu/intention";
  std::string wire = "bootstrap: bytes B received/intention";
  std::string wire_sent = "bootstrap: bytes B sent/intention";
};

void Declare(const BootstrapFigures& f, Results& r) {
  r.Declare(f.rate, "intentions/s", f.group);
  r.Declare(f.verify, "ops/s", f.group);
  r.Declare(f.verify_cost, "us", f.group);
  r.Declare(f.seconds, "s", f.group);
  r.Declare(f.join_call, "ms", f.group);
  r.Declare(f.joiner_cpu, "us", f.group);
  r.Declare(f.source_cpu, "us", f.group);
  r.Declare(f.wire, "B", f.group);
  r.Declare(f.wire_sent, "B", f.group);
  r.AddRatio({"bootstrap intentions/s / ed25519 verify/s", f.rate, f.verify, 0.5});
  // The share of the joiner's CPU that one signature check per intention accounts for.
  r.AddRatio({"(info) verify time / joiner cpu per intention", f.verify_cost, f.joiner_cpu, NAN});
}

// Fills node A's data directory through the kernel's own Node; returns the store's id.
absl::StatusOr<std::string> FillSource(const ReplicationBenchOptions& o, const std::string& data_dir) {
  LATTICE_ASSIGN_OR_RETURN(auto node, InProcessNode::Open(data_dir, "node-a", kStoreName));
  Progress(fmt::format("bootstrap: filling node A's store with {} intentions ({} writers)",
                       o.intentions, o.fill_threads));
  auto started = Clock::now();
  LATTICE_RETURN_IF_ERROR(node->FillTo(o.intentions, o.fill_threads, o.value_bytes, [](uint64_t n) {
    Progress(fmt::format("bootstrap: {} intentions", n));
  }));
  if (node->store().last_witness() != o.intentions) {
    return absl::FailedPreconditionError(fmt::format(
        "node A's store holds {} intentions, not {}: use a fresh --work-dir",
        node->store().last_witness(), o.intentions));
  }
  Progress(fmt::format("bootstrap: filled in {:.1f} s",
                       std::chrono::duration<double>(Clock::now() - started).count()));
  return node->store_id();
}

absl::StatusOr<double> CpuSeconds(const ServerProcess& kernel) { return ProcessCpuSeconds(kernel.pid()); }

// Compares B's copy of the store with A's: count and Negentropy fingerprint.
absl::Status CheckCopy(client::Client& a, client::Client& b, const std::string& store_id) {
  LATTICE_ASSIGN_OR_RETURN(auto source, a.StoreStatus(store_id));
  LATTICE_ASSIGN_OR_RETURN(auto copy, b.StoreStatus(store_id));
  if (source.witnessed() != copy.witnessed() || source.fingerprint() != copy.fingerprint()) {
    return absl::DataLossError(fmt::format(
        "B's copy differs from A's store: {} intentions, fingerprint {} against {}, {}",
        copy.witnessed(), copy.fingerprint(), source.witnessed(), source.fingerprint()));
  }
  return absl::OkStatus();
}

// One round: a fresh node B joins and bootstraps the store; adds the round's figures.
absl::Status RunRound(int round, const ReplicationBenchOptions& o, const std::string& dir,
                      const std::string& ip_prefix, const ServerProcess& node_a,
                      client::Client& a, const std::string& store_id, Results& r) {
  const BootstrapFigures f(o.intentions);
  const std::string ip_b = fmt::format("{}.{}", ip_prefix, kJoinerHostBase + round);
  PeerKernelOptions options{o.kernel_binary, fmt::format("{}/b{}", dir, round), ip_b,
                            fmt::format("node-b{}", round), o.sync_interval_ms};
  LATTICE_ASSIGN_OR_RETURN(auto node_b, StartPeerKernel(options));
  LATTICE_ASSIGN_OR_RETURN(auto b, node_b->Connect());
  LATTICE_ASSIGN_OR_RETURN(auto invite, a.InvitePeer());

  // The verify baseline is taken in two halves, just before and just after the bootstrap,
  // so that it sees the same load.
  const auto half = std::chrono::milliseconds(std::max(o.verify_ms / 2, 1));
  double verify_before = MeasureEd25519VerifyRate(half);
  LATTICE_ASSIGN_OR_RETURN(double cpu_a0, CpuSeconds(node_a));
  LATTICE_ASSIGN_OR_RETURN(double cpu_b0, CpuSeconds(*node_b));
  Clock::time_point start = Clock::now();
  LATTICE_RETURN_IF_ERROR(b->JoinMesh(invite.token(), options.name).status());
  Clock::time_point joined = Clock::now();
  auto done = AwaitStatus(
      *b,
      [&](const v1::StatusResponse& status) {
        const v1::BootstrapProgress* progress = FindBootstrap(status, store_id);
        return progress != nullptr && progress->done() && progress->received() >= o.intentions;
      },
      o.bootstrap_timeout, fmt::format("node B's bootstrap of {} intentions", o.intentions),
      std::chrono::milliseconds(20));
  Clock::time_point finished = Clock::now();
  if (!done.ok()) return done.status();
  LATTICE_ASSIGN_OR_RETURN(double cpu_a1, CpuSeconds(node_a));
  LATTICE_ASSIGN_OR_RETURN(double cpu_b1, CpuSeconds(*node_b));
  auto traffic = TcpTrafficOfLocalIp(ip_b);
  double verify_after = MeasureEd25519VerifyRate(half);

  const double n = static_cast<double>(o.intentions);
  const double seconds = std::chrono::duration<double>(finished - start).count();
  const double verify = (verify_before + verify_after) / 2;
  r.Add(f.rate, n / seconds);
  r.Add(f.verify, verify);
  r.Add(f.verify_cost, 1e6 / verify);
  r.Add(f.seconds, seconds);
  r.Add(f.join_call, std::chrono::duration<double, std::milli>(joined - start).count());
  r.Add(f.joiner_cpu, (cpu_b1 - cpu_b0) / n * 1e6);
  r.Add(f.source_cpu, (cpu_a1 - cpu_a0) / n * 1e6);
  if (traffic.ok()) {
    r.Add(f.wire, static_cast<double>(traffic->received) / n);
    r.Add(f.wire_sent, static_cast<double>(traffic->sent) / n);
  } else {
    Progress("bootstrap: no byte counts: " + std::string(traffic.status().message()));
  }
  Progress(fmt::format(
      "bootstrap round {}: {:.0f} intentions/s ({:.2f} s, join call {:.0f} ms), verify {:.0f}/s "
      "(before {:.0f}, after {:.0f}), ratio {:.2f}; cpu/intention B {:.1f} us, A {:.1f} us",
      round, n / seconds, seconds,
      std::chrono::duration<double, std::milli>(joined - start).count(), verify, verify_before,
      verify_after, n / seconds / verify, (cpu_b1 - cpu_b0) / n * 1e6, (cpu_a1 - cpu_a0) / n * 1e6));

  absl::Status copy = CheckCopy(a, *b, store_id);
  absl::Status stopped = node_b->Stop();
  if (!stopped.ok()) Progress(fmt::format("bootstrap round {}: stopping B: {}", round, stopped.message()));
  return copy;
}

}  // namespace

absl::Status MeasureBootstrap(const ReplicationBenchOptions& o, const std::string& dir,
                              const std::string& ip_prefix, Results& results) {
  Declare(BootstrapFigures(o.intentions), results);
  PeerKernelOptions source{o.kernel_binary, dir + "/a", fmt::format("{}.{}", ip_prefix, kSourceHost),
                           "node-a", o.sync_interval_ms};
  LATTICE_ASSIGN_OR_RETURN(std::string store_id, FillSource(o, source.dir + "/data"));
  LATTICE_ASSIGN_OR_RETURN(auto node_a, StartPeerKernel(source));
  Progress(fmt::format("bootstrap: node A up on {} in {:.0f} ms", source.ip,
                       node_a->startup_time().count() * 1000));
  LATTICE_ASSIGN_OR_RETURN(auto a, node_a->Connect());
  LATTICE_ASSIGN_OR_RETURN(auto store, a->StoreStatus(store_id));
  if (store.witnessed() != o.intentions) {
    return absl::InternalError(fmt::format("node A reports {} intentions in the store, not {}",
                                           store.witnessed(), o.intentions));
  }
  for (int round = 1; round <= o.rounds; ++round) {
    LATTICE_RETURN_IF_ERROR(RunRound(round, o, dir, ip_prefix, *node_a, *a, store_id, results));
  }
  return node_a->Stop();
}

}  // namespace lattice::bench
