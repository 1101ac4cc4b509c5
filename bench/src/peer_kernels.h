// Real lattice-kernel processes that replicate, for the replication benchmarks: each listens
// for peers on a loopback IP of its own (kernels dial their peers from their listen IP) with
// an ephemeral port, joins meshes through the Admin calls, and is waited on through what
// Admin.Status reports.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lattice/client.h"
#include "server_process.h"

namespace lattice::bench {

// "127.B.C": a /24 of loopback for this run, from the process id, so two runs differ.
// Never 127.0.x.x, which tests and local services use.
std::string RunLoopbackPrefix();

struct PeerKernelOptions {
  std::string binary;
  std::string dir;            // holds data/, kernel.sock and kernel.log; made when absent
  std::string ip;             // listens on ip:0 and dials its peers from ip; "": no peers
  std::string name;
  int sync_interval_ms = 0;   // anti-entropy period; 0: the kernel's default
};

// Starts the kernel and waits until it serves Admin.Status.
absl::StatusOr<std::unique_ptr<ServerProcess>> StartPeerKernel(const PeerKernelOptions& options);

// The joiner joins the inviter's own mesh: Admin.InvitePeer on one, Admin.JoinMesh on the
// other, which returns once the mesh's root store is bootstrapped.
absl::Status JoinMeshOf(client::Client& inviter, client::Client& joiner, const std::string& name);

// Polls Admin.Status every `poll` until `done` holds and returns that status;
// DEADLINE_EXCEEDED naming `what` (and the last error) after `timeout`.
absl::StatusOr<v1::StatusResponse> AwaitStatus(
    client::Client& kernel, const std::function<bool(const v1::StatusResponse&)>& done,
    std::chrono::milliseconds timeout, const std::string& what,
    std::chrono::milliseconds poll = std::chrono::milliseconds(10));

// The bootstrap of `store_id` (canonical id) in `status`; null when none began.
const v1::BootstrapProgress* FindBootstrap(const v1::StatusResponse& status,
                                           const std::string& store_id);

}  // namespace lattice::bench
