// lattice-web: the REST API, live events and management page of the local kernel
// (DESIGN §9), on an event-driven HTTP server. It speaks only the Store Protocol and holds no
// secret of its own: every request's bearer token (or session cookie) goes to the kernel,
// which judges it. Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot start, 2 on a usage
// error.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "lattice/common/logging.h"
#include "src/app.h"

namespace {

// The page installed beside the binary: <bin>/../share/lattice/web (the build tree has the
// same layout). Empty when it is not there or this process may not read it (a daemon the
// kernel confines reads the system's /usr, not a build tree): the API is served without it.
std::string InstalledPageDir() {
  std::error_code error;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "";
  auto dir = exe.parent_path().parent_path() / "share" / "lattice" / "web";
  int fd = ::open((dir / "index.html").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  ::close(fd);
  return dir.string();
}

}  // namespace

int main(int argc, char** argv) {
  lattice::web::WebOptions options;
  std::string config;
  CLI::App app{"lattice-web: HTTP API, live events and management page for a Lattice node"};
  app.add_option("--config", config, "TOML file whose [web] table sets any option below");
  std::string socket, listen, page_dir, log_level;
  std::vector<std::string> proxies;
  app.add_option("--socket", socket,
                 "the kernel's socket (default: $LATTICE_SOCKET, else the standard path)");
  app.add_option("--listen", listen, "HOST:PORT to serve HTTP on (default 127.0.0.1:8470; "
                                     "port 0: any free port)");
  std::string bind, store;
  int port = -1;
  app.add_option("--bind", bind, "address to listen on; overrides the host of --listen");
  app.add_option("--port", port, "port to listen on; overrides the port of --listen")
      ->check(CLI::Range(0, 65535));
  app.add_option("--store", store,
                 "the store the ServiceManager started this instance for, logged; every store "
                 "the caller's token reaches is served");
  app.add_option("--page-dir", page_dir, "the management page's built files");
  app.add_option("--trusted-proxy", proxies,
                 "address or CIDR of a reverse proxy whose X-Forwarded-* headers are believed "
                 "(repeatable)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!config.empty()) {
    if (absl::Status s = lattice::web::LoadConfigFile(config, options); !s.ok()) {
      std::cerr << "lattice-web: " << s.message() << "\n";
      return 2;
    }
  }
  if (!socket.empty()) options.socket = socket;
  if (!listen.empty()) options.listen = listen;
  if (!bind.empty() || port >= 0) {
    std::string host;
    uint16_t listen_port = 0;
    if (absl::Status s = lattice::web::ParseListen(options.listen, &host, &listen_port); !s.ok()) {
      std::cerr << "lattice-web: " << s.message() << "\n";
      return 2;
    }
    if (!bind.empty()) host = bind;
    if (port >= 0) listen_port = static_cast<uint16_t>(port);
    bool v6 = host.find(':') != std::string::npos;
    options.listen = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(listen_port);
  }
  if (!page_dir.empty()) options.page_dir = page_dir;
  if (!proxies.empty()) options.trusted_proxies = proxies;
  if (!log_level.empty()) options.log_level = log_level;
  if (options.page_dir.empty()) options.page_dir = InstalledPageDir();
  lattice::SetupLogging("lattice-web", options.log_level);
  if (!store.empty()) spdlog::info("started for store {}", store);
  return lattice::web::RunWeb(options);
}
