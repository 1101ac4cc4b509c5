// The lattice-irc daemon put together: connect to the kernel, check the chat store, listen,
// and run the event loop with the IRC server, the TCP transport and the kernel backend until
// SIGTERM or SIGINT.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace lattice::irc {

struct GatewayOptions {
  std::string store;                      // chat store id or name (required)
  std::string listen = "127.0.0.1:6667";  // host:port, [v6]:port; port 0 picks a free one
  std::string password;                   // empty: no PASS needed
  std::string socket;                     // empty: the default kernel socket
  std::string token;                      // empty: $LATTICE_TOKEN
  uint32_t history = 50;                  // messages replayed on JOIN
  std::string motd_file;                  // empty: no MOTD (422)
  // The prefix of numerics and the name in 002/004; empty: "irc.<node id's first 8>.lattice".
  std::string server_name;
  int64_t ping_interval_s = 90;
  int64_t ping_timeout_s = 60;
  // Users of other nodes are not connected here: they are shown in a channel from their
  // first message until they have been quiet this long.
  int64_t remote_idle_s = 3600;
  double flood_burst = 0;  // 0: limits.h defaults
  double flood_rate = 0;
  size_t sendq_bytes = 0;  // 0: limits::kMaxSendQueueBytes
};

// Splits "host:port" / "[v6]:port". INVALID_ARGUMENT with a readable message otherwise.
absl::Status ParseListenAddress(const std::string& text, std::string* host, uint16_t* port);

// Whether `name` can be a server name: a host name with at least one dot (so it is never
// mistaken for a nick), letters, digits and '-' in labels, at most 63 bytes.
bool IsValidServerName(const std::string& name);

// Runs the gateway until a signal; returns the process exit status. Prints
// "lattice-irc listening on HOST:PORT" (HOST in brackets when IPv6) on stdout once it
// accepts connections: how a supervisor learns the port when it asked for port 0.
int RunGateway(const GatewayOptions& options);

}  // namespace lattice::irc
