// N real kernels on loopback for multi-node tests, each with its own data directory, IP and
// port, linked through a fault-injecting TcpRelay: start, stop, kill and restart any node,
// run lattice-ctl against it, form a mesh, cut and slow its links, and wait until a store
// has converged everywhere.
//
// Addresses: the cluster takes a block 127.B.C.0/24 of its own (NewLoopbackPrefix, so
// tests running in parallel do not share IPs). Node i listens on 127.B.C.(10+i):P_i and
// dials from that IP; its relay listens on 127.B.C.(110+i):R_i and forwards to P_i; node i
// advertises the relay, so every link between nodes crosses the relay, which knows both
// ends by their IPs.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "harness/kernel_process.h"
#include "harness/loopback.h"
#include "harness/tcp_relay.h"
#include "lattice/client.h"

namespace lattice::testing {

struct ClusterOptions {
  size_t nodes = 3;
  // Period of anti-entropy (--sync-interval-ms); zero leaves the kernel's default.
  std::chrono::milliseconds sync_interval{500};
  // Extra kernel flags for every node.
  std::vector<std::string> kernel_args;
  // "127.B.C", the /24 the cluster's IPs come from; empty picks one for this process.
  std::string ip_prefix;
  TcpRelayOptions relay;
};

// Not thread-safe: driven by the test's thread (the relay has its own).
class Cluster {
 public:
  // Node IPs end in 10 + i and relay IPs in 110 + i, all in one /24.
  static constexpr size_t kMaxNodes = 100;

  // Makes the scratch directories, picks the addresses and starts the relay; no kernel runs
  // yet. INVALID_ARGUMENT for a bad node count or prefix.
  static absl::StatusOr<std::unique_ptr<Cluster>> Create(ClusterOptions options = {});
  // Stops every kernel (SIGTERM to all, then waits for each), then the relay.
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts node i (or every node) and waits until it serves. FAILED_PRECONDITION when the
  // kernel lacks a flag the cluster needs (--listen, --advertise, --sync-interval-ms); any
  // other error carries the end of the node's log.
  absl::Status Start(size_t i);
  absl::Status StartAll();
  // SIGTERM and wait; returns the exit code (-1 when it was not running or did not exit).
  int Stop(size_t i);
  // SIGKILL and reap.
  void Kill(size_t i);
  // Stops node i if it runs (an exit code other than 0 is an error), then starts it again on
  // the same data directory and address.
  absl::Status Restart(size_t i);
  bool running(size_t i) { return kernels_[i]->running(); }

  size_t size() const { return kernels_.size(); }
  KernelProcess& kernel(size_t i) { return *kernels_[i]; }
  // Faults between nodes, by node index (TcpRelay's node i is the cluster's node i).
  TcpRelay& relay() { return *relay_; }
  // Where node i listens and dials from.
  const HostPort& listen_address(size_t i) const { return listen_[i]; }
  // Where the others reach node i: its relay, which it advertises.
  const HostPort& advertised_address(size_t i) const { return advertised_[i]; }

  CommandResult Ctl(size_t i, const std::vector<std::string>& args, const std::string& input = "");
  // Runs lattice-ctl with --json and parses its output; the command's stderr on failure.
  absl::StatusOr<nlohmann::json> CtlJson(size_t i, const std::vector<std::string>& args);
  // A client of node i authenticated with its admin cookie.
  absl::StatusOr<std::unique_ptr<client::Client>> Client(size_t i);
  // Node i's id (hex), from `status --json`.
  absl::StatusOr<std::string> NodeId(size_t i);
  // The last `max_bytes` of node i's log, for failure messages (the directory is removed
  // with the cluster).
  std::string LogTail(size_t i, size_t max_bytes = 8192) const;

  // `peer invite` on `inviter`: the token it printed.
  absl::StatusOr<std::string> Invite(size_t inviter);
  // `peer join TOKEN [--name NAME]` on `joiner`.
  absl::Status Join(size_t joiner, const std::string& token, const std::string& name = "");
  // Node 0 invites nodes 1 .. count-1 and each joins with its token, in order.
  absl::Status MakeMesh(size_t count);
  absl::Status MakeMesh() { return MakeMesh(size()); }

  // Polls node i's `status --json` until `peers_connected` is at least `count`.
  absl::Status WaitForPeersConnected(size_t i, uint64_t count, std::chrono::milliseconds timeout);
  // Polls `store status STORE --json` on `nodes` until every one reports the same
  // fingerprint and state hash and none has floating intentions. DEADLINE_EXCEEDED lists
  // each node's last figures (or its error).
  absl::Status WaitForConvergence(const std::string& store, const std::vector<size_t>& nodes,
                                  std::chrono::milliseconds timeout);
  absl::Status WaitForConvergence(const std::string& store, std::chrono::milliseconds timeout);

 private:
  Cluster() = default;
  std::vector<std::string> KernelArgs(size_t i) const;
  std::string Describe(size_t i) const;  // "node 2 (127.1.2.12:40411)" for messages

  ClusterOptions options_;
  ScratchDir dir_;
  std::vector<HostPort> listen_;
  std::vector<HostPort> advertised_;
  std::unique_ptr<TcpRelay> relay_;  // outlives the kernels, which are stopped first
  std::vector<std::unique_ptr<KernelProcess>> kernels_;
};

}  // namespace lattice::testing
