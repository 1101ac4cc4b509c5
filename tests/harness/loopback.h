// IPv4 loopback sockets for the multi-node harness: addresses in 127.0.0.0/8, listening
// sockets, free ports, and blocking connect/read/write with deadlines for tests.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "net/address.h"
#include "net/tcp_stream.h"

namespace lattice::testing {

using kernel::net::FormatHostPort;
using kernel::net::HostPort;
using kernel::net::UniqueFd;

// "127.B.C": a /24 of loopback for one cluster or fixture, from the process id (so test
// processes running in parallel differ) and a count (so two of one process differ). Never
// 127.0.x.x, which other tests and services use.
std::string NewLoopbackPrefix();

// The socket address of `address`. INVALID_ARGUMENT unless its host is a numeric IPv4
// address in 127.0.0.0/8: the harness never touches another interface.
absl::StatusOr<sockaddr_in> LoopbackSockaddr(const HostPort& address);

// The local address `fd` is bound to (its port, when bound to port 0).
absl::StatusOr<HostPort> LocalAddress(int fd);

// A non-blocking, close-on-exec listening socket on `address` (port 0 picks a free one).
absl::StatusOr<UniqueFd> ListenLoopback(const HostPort& address);

// A port of `ip` that was free a moment ago (bound, read and released). Each cluster has IPs
// of its own, so nothing else takes the port before the kernel binds it.
absl::StatusOr<uint16_t> FreePort(const std::string& ip);

// Blocking helpers for tests. ConnectFrom binds `source_ip` first (port 0), so the peer
// sees the connection coming from that address.
absl::StatusOr<UniqueFd> ConnectFrom(const std::string& source_ip, const HostPort& target);
absl::Status WriteAll(int fd, std::string_view bytes);
// Reads exactly `count` bytes, or fails on end of stream, error or `timeout`.
absl::StatusOr<std::string> ReadExactly(int fd, size_t count, std::chrono::milliseconds timeout);
// Waits until the peer has closed (end of stream or reset), discarding bytes that arrive
// meanwhile. False when the connection is still open after `timeout`.
bool WaitForClose(int fd, std::chrono::milliseconds timeout);
// Accepts one connection on listening socket `fd` within `timeout`.
absl::StatusOr<UniqueFd> AcceptWithin(int fd, std::chrono::milliseconds timeout);

}  // namespace lattice::testing
