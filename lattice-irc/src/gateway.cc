// Assembly and lifetime of the gateway (see gateway.h).
#include "gateway.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "event_loop.h"
#include "kernel_backend.h"
#include "presence_link.h"
#include "lattice/client.h"
#include "lattice/client/backoff.h"
#include "lattice/client/credentials.h"
#include "lattice/common/status.h"
#include "limits.h"
#include "server.h"
#include "tcp_server.h"

#ifndef LATTICE_VERSION
#define LATTICE_VERSION "0.0.0"
#endif

namespace lattice::irc {
namespace {

constexpr int64_t kTickMs = 1'000;

// Connects, waiting for a kernel that is still starting; gives up on anything but
// UNAVAILABLE (a bad token, a missing store, ...). CANCELLED when one of `signals` arrives
// while it waits (they are blocked, so they are taken here).
absl::StatusOr<std::unique_ptr<client::Client>> ConnectPatiently(
    const client::ClientOptions& options, const sigset_t& signals) {
  client::Backoff backoff;
  bool warned = false;
  while (true) {
    auto connected = client::Client::Connect(options);
    if (connected.ok() || connected.status().code() != absl::StatusCode::kUnavailable) {
      return connected;
    }
    if (!warned) {
      spdlog::warn("waiting for the kernel: {}", connected.status().message());
      warned = true;
    }
    auto delay = backoff.Next();
    timespec timeout{static_cast<time_t>(delay.count() / 1000),
                     static_cast<long>(delay.count() % 1000) * 1'000'000};
    int signal_number = ::sigtimedwait(&signals, nullptr, &timeout);
    if (signal_number > 0) {
      return absl::CancelledError(fmt::format("stopped by signal {}", signal_number));
    }
  }
}

// Names this run's presence announcements, so a restarted gateway's entries are not taken
// for those of the run before it (which expire on their own).
std::string NewPresenceInstance() {
  std::random_device random;
  uint64_t bits = (static_cast<uint64_t>(random()) << 32) ^ random();
  return fmt::format("{:016x}", bits);
}

std::vector<std::string> ReadMotd(const std::string& path) {
  std::vector<std::string> lines;
  if (path.empty()) return lines;
  std::ifstream in(path);
  if (!in) {
    spdlog::warn("cannot read the MOTD file {}; clients get ERR_NOMOTD", path);
    return lines;
  }
  std::string line;
  while (lines.size() < 100 && std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace

absl::Status ParseListenAddress(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return absl::InvalidArgumentError(
        fmt::format("--listen \"{}\" must be HOST:PORT, e.g. 127.0.0.1:6667", text));
  }
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "0.0.0.0";
  std::string p = text.substr(colon + 1);
  unsigned long value = 0;
  for (char c : p) {
    if (c < '0' || c > '9' || value > 65535) {
      return absl::InvalidArgumentError(fmt::format("--listen \"{}\": bad port", text));
    }
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535)
    return absl::InvalidArgumentError(fmt::format("--listen \"{}\": bad port", text));
  *host = h;
  *port = static_cast<uint16_t>(value);
  return absl::OkStatus();
}

bool IsValidServerName(const std::string& name) {
  if (name.empty() || name.size() > 63 || name.find('.') == std::string::npos) return false;
  size_t label = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && label > 0)) return false;
    ++label;
  }
  return label > 0 && name.back() != '-';
}

int RunGateway(const GatewayOptions& options) {
  std::string host;
  uint16_t port = 0;
  if (absl::Status s = ParseListenAddress(options.listen, &host, &port); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 2;
  }

  // Signals go to a signalfd on the loop; threads started later inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  client::ClientOptions client_options;
  client_options.socket_path = options.socket;
  client_options.token = options.token.empty() ? client::TokenFromEnvironment() : options.token;
  client_options.service_id = "lattice.irc-gateway";
  client_options.default_deadline = std::chrono::milliseconds(10'000);

  auto kernel = ConnectPatiently(client_options, signals);
  if (absl::IsCancelled(kernel.status())) return 0;
  if (!kernel.ok()) {
    spdlog::critical("cannot connect to the kernel: {}", kernel.status().message());
    return 1;
  }
  auto store = (*kernel)->OpenStore(options.store);
  if (!store.ok()) {
    spdlog::critical("cannot open chat store {}: {}", options.store, store.status().message());
    return 1;
  }
  if (store->type() != "chat") {
    spdlog::critical("store {} is a {} store; lattice-irc needs a chat store", options.store,
                     store->type());
    return 1;
  }
  const v1::NodeInfo node = (*kernel)->session().node();
  kernel->reset();

  auto loop = EventLoop::Create();
  if (!loop.ok()) {
    spdlog::critical("{}", loop.status().message());
    return 1;
  }
  TcpServerOptions tcp_options;
  tcp_options.bind_address = host;
  tcp_options.port = port;
  if (options.flood_burst > 0) tcp_options.flood_burst = options.flood_burst;
  if (options.flood_rate > 0) tcp_options.flood_per_second = options.flood_rate;
  if (options.sendq_bytes > 0) tcp_options.max_send_queue = options.sendq_bytes;
  auto tcp = TcpServer::Listen(**loop, tcp_options);
  if (!tcp.ok()) {
    spdlog::critical("{}", tcp.status().message());
    return 1;
  }

  IrcServer* server_ptr = nullptr;
  KernelBackendOptions backend_options;
  backend_options.client = client_options;
  backend_options.store = store->id();
  backend_options.node_id = node.node_id();
  int exit_code = 0;
  EventLoop& event_loop = **loop;
  KernelBackend backend(
      backend_options, event_loop,
      [&server_ptr](v1::ChatMessage message) {
        server_ptr->OnChatMessage(std::move(message), EventLoop::NowMs());
      },
      [&](absl::Status status) {
        spdlog::critical("the chat watch failed for good: {}", status.message());
        server_ptr->OnWatchFailed(std::string(status.message()));
        exit_code = 1;
        event_loop.Stop();
      });

  ServerOptions server_options;
  server_options.server_name = options.server_name.empty()
                                   ? fmt::format("irc.{}.lattice", node.node_id().substr(0, 8))
                                   : options.server_name;
  server_options.version = LATTICE_VERSION;
  server_options.store = store->id();
  server_options.node_id = node.node_id();
  server_options.password = options.password;
  server_options.history_limit = std::min<uint32_t>(options.history, limits::kMaxHistoryPlayback);
  server_options.motd = ReadMotd(options.motd_file);
  server_options.ping_interval_ms = options.ping_interval_s * 1000;
  server_options.ping_timeout_ms = options.ping_timeout_s * 1000;
  server_options.remote_idle_part_ms = options.remote_idle_s * 1000;
  server_options.presence_instance = NewPresenceInstance();
  IrcServer server(server_options, **tcp, backend);
  server_ptr = &server;
  PresenceLink presence(client_options, store->id(), event_loop,
                        [&server](PresenceEventBatch batch) {
                          server.OnPresence(std::move(batch), EventLoop::NowMs());
                        });
  server.SetPresence(&presence);
  (*tcp)->SetServer(&server);

  int signal_fd = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    spdlog::critical("signalfd: {}", std::strerror(errno));
    return 1;
  }
  (void)event_loop.Add(signal_fd, EPOLLIN, [&](uint32_t) {
    signalfd_siginfo info{};
    if (::read(signal_fd, &info, sizeof info) > 0) {
      spdlog::info("received signal {}, shutting down", info.ssi_signo);
    }
    event_loop.Stop();
  });

  std::function<void()> tick = [&] {
    server.OnTick(EventLoop::NowMs());
    event_loop.RunAt(EventLoop::NowMs() + kTickMs, tick);
  };
  event_loop.RunAt(EventLoop::NowMs() + kTickMs, tick);

  backend.Start();
  presence.Start();
  spdlog::info("node {} ({}): chat store {} ({}) on {}:{}", node.node_id().substr(0, 8),
               node.name(), store->name(), store->id(), host, (*tcp)->port());
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::printf("lattice-irc listening on %s:%u\n", shown_host.c_str(), (*tcp)->port());
  std::fflush(stdout);

  event_loop.Run([&] {
    (*tcp)->Flush();
    backend.StartQueuedWrites();
  });

  (*tcp)->Shutdown("Server shutting down");
  // The clients' departures reach the other nodes before the gateway goes.
  presence.Stop();
  backend.Stop();
  event_loop.Remove(signal_fd);
  ::close(signal_fd);
  return exit_code;
}

}  // namespace lattice::irc
