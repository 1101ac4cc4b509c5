// lattice-irc: an IRC server for ordinary IRC clients in front of one chat store of the
// local kernel (DESIGN §9). It speaks only the Store Protocol, with a service token.
// Exit status: 0 after SIGTERM/SIGINT, 1 when the kernel or the store cannot be used,
// 2 on a usage error.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "lattice/client/credentials.h"
#include "lattice/common/logging.h"
#include "src/gateway.h"

int main(int argc, char** argv) {
  lattice::irc::GatewayOptions options;
  std::string log_level = "info";
  CLI::App app{"lattice-irc: chat stores of a Lattice mesh for any IRC client"};
  app.add_option("--store", options.store, "the chat store to serve (id or name)")->required();
  app.add_option("--listen", options.listen,
                 "HOST:PORT to accept IRC clients on (port 0: any free port)")
      ->capture_default_str();
  std::string bind;
  int port = -1;
  app.add_option("--bind", bind, "address to listen on; overrides the host of --listen");
  app.add_option("--port", port, "port to listen on; overrides the port of --listen")
      ->check(CLI::Range(0, 65535));
  app.add_option("--password", options.password,
                 "require this PASS from clients; visible in the process list, so prefer "
                 "$LATTICE_IRC_PASSWORD (default: $LATTICE_IRC_PASSWORD, else none)");
  app.add_option("--socket", options.socket,
                 "the kernel's socket (default: $LATTICE_SOCKET, else the standard path)");
  std::string token_file;
  auto* token_option = app.add_option(
      "--token", options.token,
      "service token; visible to every user in the process list, so prefer --token-file or "
      "$LATTICE_TOKEN (default: $LATTICE_TOKEN, else $CREDENTIALS_DIRECTORY/token)");
  app.add_option("--token-file", token_file, "read the service token from this file")
      ->excludes(token_option);
  app.add_option("--history", options.history, "messages replayed on JOIN (at most 1000)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_option("--motd", options.motd_file, "file with the message of the day");
  app.add_option("--server-name", options.server_name,
                 "the server name clients see (prefix of numerics), a host name with a dot "
                 "(default: irc.<first 8 hex digits of the node id>.lattice)")
      ->check([](const std::string& name) {
        return lattice::irc::IsValidServerName(name)
                   ? std::string()
                   : std::string("a host name with at least one dot, at most 63 bytes");
      });
  app.add_option("--ping-interval", options.ping_interval_s,
                 "seconds of silence before the server pings a client")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--ping-timeout", options.ping_timeout_s,
                 "seconds a pinged client has to answer before it is dropped")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--remote-idle", options.remote_idle_s,
                 "seconds a sender no gateway announces (another tool, an older gateway) "
                 "stays shown in a channel after their last message, then PARTs")
      ->capture_default_str()
      ->check(CLI::Range(1, 7 * 24 * 3600));
  app.add_option("--flood-burst", options.flood_burst,
                 "lines a client may send ahead of the flood rate before its lines wait "
                 "(default 100)")
      ->check(CLI::Range(1.0, 100000.0));
  app.add_option("--flood-rate", options.flood_rate,
                 "lines per second a client may sustain; faster input waits, then is not "
                 "read (default 100)")
      ->check(CLI::Range(0.1, 100000.0));
  app.add_option("--sendq-bytes", options.sendq_bytes,
                 "bytes queued for a client that does not read before it is dropped "
                 "(default 1 MiB)")
      ->check(CLI::Range(size_t{4096}, size_t{1} << 30));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!bind.empty() || port >= 0) {
    std::string host;
    uint16_t listen_port = 0;
    if (!lattice::irc::ParseListenAddress(options.listen, &host, &listen_port).ok()) {
      std::cerr << "lattice-irc: --listen must be HOST:PORT\n";
      return 2;
    }
    if (!bind.empty()) host = bind;
    if (port >= 0) listen_port = static_cast<uint16_t>(port);
    bool v6 = host.find(':') != std::string::npos;
    options.listen = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(listen_port);
  }
  if (!token_file.empty()) {
    auto token = lattice::client::ReadTokenFile(token_file);
    if (!token.ok()) {
      std::cerr << "lattice-irc: " << token.status().message() << "\n";
      return 2;
    }
    options.token = *std::move(token);
  }
  if (options.password.empty()) {
    if (const char* password = std::getenv("LATTICE_IRC_PASSWORD")) options.password = password;
  }
  lattice::SetupLogging("irc", log_level);
  return lattice::irc::RunGateway(options);
}
