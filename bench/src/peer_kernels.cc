#include "peer_kernels.h"

#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <thread>

namespace lattice::bench {

std::string RunLoopbackPrefix() {
  // 127.1.0 .. 127.254.255: 254 * 256 blocks.
  uint32_t pick = (static_cast<uint32_t>(::getpid()) * 40503u + 17u) % (254u * 256u);
  return fmt::format("127.{}.{}", 1 + pick / 256, pick % 256);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> StartPeerKernel(const PeerKernelOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::UnavailableError(fmt::format("cannot create {}: {}", options.dir, error.message()));
  }
  ServerOptions server;
  server.socket = options.dir + "/kernel.sock";
  server.log_path = options.dir + "/kernel.log";
  server.argv = KernelArgv(options.binary, options.dir + "/data", server.socket, options.name,
                           options.ip.empty() ? "" : options.ip + ":0");
  if (options.sync_interval_ms > 0) {
    server.argv.insert(server.argv.end(),
                       {"--sync-interval-ms", std::to_string(options.sync_interval_ms)});
  }
  return ServerProcess::Start(server, /*check_status=*/true);
}

absl::Status JoinMeshOf(client::Client& inviter, client::Client& joiner, const std::string& name) {
  auto invite = inviter.InvitePeer();
  if (!invite.ok()) return invite.status();
  return joiner.JoinMesh(invite->token(), name).status();
}

absl::StatusOr<v1::StatusResponse> AwaitStatus(
    client::Client& kernel, const std::function<bool(const v1::StatusResponse&)>& done,
    std::chrono::milliseconds timeout, const std::string& what, std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_error = "none";
  while (true) {
    auto status = kernel.NodeStatus();
    if (status.ok() && done(*status)) return status;
    if (!status.ok()) last_error = std::string(status.status().message());
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(poll);
  }
  return absl::DeadlineExceededError(fmt::format("{}: not within {} ms (last Status error: {})",
                                                 what, timeout.count(), last_error));
}

const v1::BootstrapProgress* FindBootstrap(const v1::StatusResponse& status,
                                           const std::string& store_id) {
  for (const auto& bootstrap : status.bootstraps()) {
    if (bootstrap.store_id() == store_id) return &bootstrap;
  }
  return nullptr;
}

}  // namespace lattice::bench
