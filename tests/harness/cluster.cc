#include "harness/cluster.h"

#include <signal.h>

#include <cctype>
#include <filesystem>
#include <optional>

#include "lattice/common/files.h"

namespace lattice::testing {
namespace {

constexpr int kNodeHostBase = 10;
constexpr int kRelayHostBase = 110;

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

std::string JoinArgs(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& arg : args) out += (out.empty() ? "" : " ") + arg;
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Create(ClusterOptions options) {
  if (options.nodes == 0 || options.nodes > kMaxNodes) {
    return absl::InvalidArgumentError("a cluster has 1 to " + std::to_string(kMaxNodes) +
                                      " nodes, not " + std::to_string(options.nodes));
  }
  std::string prefix = options.ip_prefix.empty() ? NewLoopbackPrefix() : options.ip_prefix;
  std::unique_ptr<Cluster> cluster(new Cluster());
  cluster->options_ = std::move(options);
  auto relay = TcpRelay::Create(cluster->options_.relay);
  if (!relay.ok()) return relay.status();
  cluster->relay_ = *std::move(relay);

  for (size_t i = 0; i < cluster->options_.nodes; ++i) {
    int node = static_cast<int>(i);
    std::string ip = prefix + "." + std::to_string(kNodeHostBase + node);
    auto port = FreePort(ip);
    if (!port.ok()) return port.status();
    HostPort listen{ip, *port};
    HostPort relay_listen{prefix + "." + std::to_string(kRelayHostBase + node), 0};
    auto advertised = cluster->relay_->AddNode(node, ip, relay_listen, listen);
    if (!advertised.ok()) return advertised.status();
    cluster->listen_.push_back(listen);
    cluster->advertised_.push_back(*advertised);

    std::string dir = cluster->dir_.path() + "/node" + std::to_string(i);
    std::error_code error;
    if (!std::filesystem::create_directory(dir, error)) {
      return absl::InternalError("cannot create " + dir + ": " + error.message());
    }
    cluster->kernels_.push_back(std::make_unique<KernelProcess>(dir, cluster->KernelArgs(i)));
  }
  return cluster;
}

Cluster::~Cluster() {
  for (auto& kernel : kernels_) {
    if (kernel->running()) kernel->Signal(SIGTERM);
  }
  for (auto& kernel : kernels_) {
    if (kernel->running()) kernel->Stop();
  }
}

std::vector<std::string> Cluster::KernelArgs(size_t i) const {
  std::vector<std::string> args{"--name",      "node" + std::to_string(i),
                                "--listen",    FormatHostPort(listen_[i]),
                                "--advertise", FormatHostPort(advertised_[i])};
  if (options_.sync_interval.count() > 0) {
    args.insert(args.end(), {"--sync-interval-ms", std::to_string(options_.sync_interval.count())});
  }
  args.insert(args.end(), options_.kernel_args.begin(), options_.kernel_args.end());
  return args;
}

std::string Cluster::Describe(size_t i) const {
  return "node " + std::to_string(i) + " (" + FormatHostPort(listen_[i]) + ")";
}

absl::Status Cluster::Start(size_t i) {
  absl::Status started = kernels_[i]->Start();
  if (started.ok()) return started;
  return absl::Status(started.code(), Describe(i) + ": " + std::string(started.message()) +
                                          "\n--- end of its log ---\n" + LogTail(i));
}

absl::Status Cluster::StartAll() {
  for (size_t i = 0; i < size(); ++i) {
    if (auto started = Start(i); !started.ok()) return started;
  }
  return absl::OkStatus();
}

int Cluster::Stop(size_t i) { return kernels_[i]->Stop(); }

void Cluster::Kill(size_t i) { kernels_[i]->Kill(); }

absl::Status Cluster::Restart(size_t i) {
  if (running(i)) {
    int code = Stop(i);
    if (code != 0) {
      return absl::InternalError(Describe(i) + " exited with " + std::to_string(code) +
                                 " on SIGTERM\n--- end of its log ---\n" + LogTail(i));
    }
  }
  return Start(i);
}

CommandResult Cluster::Ctl(size_t i, const std::vector<std::string>& args,
                           const std::string& input) {
  return kernels_[i]->Ctl(args, input);
}

absl::StatusOr<nlohmann::json> Cluster::CtlJson(size_t i, const std::vector<std::string>& args) {
  std::vector<std::string> with_json = args;
  with_json.push_back("--json");
  CommandResult result = Ctl(i, with_json);
  if (result.exit_code != 0) {
    return absl::InternalError(Describe(i) + ": lattice-ctl " + JoinArgs(with_json) +
                               " exited with " + std::to_string(result.exit_code) + ": " +
                               Trim(result.err));
  }
  auto json = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InternalError(Describe(i) + ": lattice-ctl " + JoinArgs(with_json) +
                               " printed no JSON: " + result.out);
  }
  return json;
}

absl::StatusOr<std::unique_ptr<client::Client>> Cluster::Client(size_t i) {
  return kernels_[i]->Connect();
}

absl::StatusOr<std::string> Cluster::NodeId(size_t i) {
  auto status = CtlJson(i, {"status"});
  if (!status.ok()) return status.status();
  const nlohmann::json* node = status->contains("node") ? &(*status)["node"] : nullptr;
  if (node == nullptr || !node->contains("id") || !(*node)["id"].is_string()) {
    return absl::InternalError(Describe(i) + ": status --json has no node.id: " + status->dump());
  }
  return (*node)["id"].get<std::string>();
}

std::string Cluster::LogTail(size_t i, size_t max_bytes) const {
  auto log = ReadFile(kernels_[i]->log_path());
  if (!log.ok()) return "(no log: " + std::string(log.status().message()) + ")";
  return log->size() <= max_bytes ? *log : log->substr(log->size() - max_bytes);
}

absl::StatusOr<std::string> Cluster::Invite(size_t inviter) {
  CommandResult result = Ctl(inviter, {"peer", "invite"});
  std::string token = Trim(result.out);
  if (result.exit_code != 0 || token.empty()) {
    return absl::InternalError(Describe(inviter) + ": peer invite exited with " +
                               std::to_string(result.exit_code) + ": " + Trim(result.err));
  }
  return token;
}

absl::Status Cluster::Join(size_t joiner, const std::string& token, const std::string& name) {
  std::vector<std::string> args{"peer", "join", token};
  if (!name.empty()) args.insert(args.end(), {"--name", name});
  CommandResult result = Ctl(joiner, args);
  if (result.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(Describe(joiner) + ": peer join exited with " +
                             std::to_string(result.exit_code) + ": " + Trim(result.err));
}

absl::Status Cluster::MakeMesh(size_t count) {
  if (count > size()) {
    return absl::InvalidArgumentError("a mesh of " + std::to_string(count) + " nodes in a cluster of " +
                                      std::to_string(size()));
  }
  for (size_t joiner = 1; joiner < count; ++joiner) {
    auto token = Invite(0);
    if (!token.ok()) return token.status();
    if (auto joined = Join(joiner, *token); !joined.ok()) return joined;
  }
  return absl::OkStatus();
}

absl::Status Cluster::WaitForPeersConnected(size_t i, uint64_t count,
                                            std::chrono::milliseconds timeout) {
  std::string last;
  bool connected = WaitFor([&] {
    auto status = CtlJson(i, {"status"});
    if (!status.ok()) {
      last = std::string(status.status().message());
      return false;
    }
    uint64_t peers = status->value("peers_connected", uint64_t{0});
    last = "peers_connected " + std::to_string(peers);
    return peers >= count;
  }, timeout);
  if (connected) return absl::OkStatus();
  return absl::DeadlineExceededError(Describe(i) + " did not reach " + std::to_string(count) +
                                     " connected peers in " + std::to_string(timeout.count()) +
                                     " ms; last: " + last);
}

absl::Status Cluster::WaitForConvergence(const std::string& store, const std::vector<size_t>& nodes,
                                         std::chrono::milliseconds timeout) {
  std::vector<std::string> figures;  // one line a node, from the last poll
  bool converged = WaitFor([&] {
    figures.clear();
    bool same = true;
    std::optional<std::pair<std::string, std::string>> first;  // fingerprint, state hash
    for (size_t i : nodes) {
      auto status = CtlJson(i, {"store", "status", store});
      if (!status.ok()) {
        figures.push_back(std::string(status.status().message()));
        same = false;
        continue;
      }
      auto hashes = std::make_pair(status->value("fingerprint", std::string()),
                                   status->value("state_hash", std::string()));
      uint64_t floating = status->value("floating", uint64_t{0});
      figures.push_back(Describe(i) + ": witnessed " +
                        std::to_string(status->value("witnessed", uint64_t{0})) + ", floating " +
                        std::to_string(floating) + ", fingerprint " + hashes.first +
                        ", state_hash " + hashes.second);
      if (floating != 0 || hashes.first.empty() || hashes.second.empty()) same = false;
      if (!first) first = hashes;
      if (*first != hashes) same = false;
    }
    return same;
  }, timeout);
  if (converged) return absl::OkStatus();
  std::string message = "store " + store + " did not converge in " +
                        std::to_string(timeout.count()) + " ms:";
  for (const auto& line : figures) message += "\n  " + line;
  return absl::DeadlineExceededError(message);
}

absl::Status Cluster::WaitForConvergence(const std::string& store,
                                         std::chrono::milliseconds timeout) {
  std::vector<size_t> all;
  for (size_t i = 0; i < size(); ++i) all.push_back(i);
  return WaitForConvergence(store, all, timeout);
}

}  // namespace lattice::testing
