#include "src/app.h"

#include <signal.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include "lattice/common/paths.h"
#include "src/api/gateway.h"
#include "src/http/server.h"
#include "src/kernel/event_feed.h"
#include "src/kernel/kernel_link.h"
#include "src/metrics_route.h"

namespace lattice::web {

namespace {

// Each connection is a descriptor: thousands of idle event streams need more than the usual
// soft limit of 1024, up to what the hard limit allows.
void RaiseDescriptorLimit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int RunWeb(const WebOptions& options) {
  RaiseDescriptorLimit();
  http::ServerOptions server_options;
  if (absl::Status s = ParseListen(options.listen, &server_options.host, &server_options.port);
      !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    return 2;
  }
  auto page = StaticFiles::Load(options.page_dir);
  if (!page.ok()) {
    spdlog::critical("{}", std::string(page.status().message()));
    return 1;
  }

  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::string socket = options.socket.empty() ? DefaultClientSocketPath() : options.socket;
  KernelLink link(socket);
  FeedOptions feed_options;
  feed_options.heartbeat = options.heartbeat;
  FeedRegistry feeds(link, feed_options);
  ApiContext context{link, feeds};
  context.secure_cookie = options.secure_cookie;

  server_options.threads = options.io_threads;
  server_options.max_connections = options.max_connections;
  server_options.max_body_bytes = options.max_body_bytes;
  server_options.max_header_bytes = options.max_header_bytes;
  server_options.request_timeout = options.request_timeout;
  server_options.idle_timeout = options.idle_timeout;
  server_options.trusted_proxies = options.trusted_proxies;

  std::unique_ptr<http::Server> server;
  ServerFigures figures{
      [&server] { return server ? server->connections() : 0; },
      [&server] { return server ? server->responses_by_class() : std::array<uint64_t, 5>{}; }};
  Gateway gateway(context, *std::move(page), MetricsRoute(context, std::move(figures)));
  server = std::make_unique<http::Server>(
      server_options,
      [&gateway](std::shared_ptr<http::Exchange> exchange) { gateway.Handle(exchange); });
  if (absl::Status s = server->Start(); !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    return 1;
  }
  bool v6 = server_options.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + server_options.host + "]" : server_options.host;
  spdlog::info("listening on http://{}:{} (kernel socket {})", host, server->port(), socket);
  sd_notify(0, "READY=1");

  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  spdlog::info("stopping on signal {}", received);
  sd_notify(0, "STOPPING=1");
  server->Stop();
  return 0;
}

}  // namespace lattice::web
