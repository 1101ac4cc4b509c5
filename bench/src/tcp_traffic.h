// Bytes on the wire of a node's TCP connections on loopback, read from the Linux kernel's
// socket diagnostics (sock_diag, what `ss -ti` shows), so the benchmarks can tell what a
// bootstrap carried without a relay between the kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace lattice::bench {

struct TcpTraffic {
  uint64_t received = 0;  // tcpi_bytes_received: TCP payload, framing and encryption included
  uint64_t sent = 0;      // tcpi_bytes_acked
  size_t sockets = 0;     // connections counted (listening sockets are not)
};

// Sums over the open IPv4 TCP connections whose local address is `ip` (a connection that
// has closed is gone, and its bytes with it). UNAVAILABLE when sock_diag cannot be used.
absl::StatusOr<TcpTraffic> TcpTrafficOfLocalIp(const std::string& ip);

}  // namespace lattice::bench
