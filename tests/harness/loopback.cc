#include "harness/loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace lattice::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(int error) { return std::strerror(error); }

// Milliseconds left until `deadline`, at least 0, for poll().
int MillisecondsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Polls `fd` for `events` until `deadline`; the revents, or 0 on timeout.
short PollUntil(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int ready = ::poll(&p, 1, MillisecondsLeft(deadline));
    if (ready > 0) return p.revents;
    if (ready == 0) return 0;
    if (errno != EINTR) return POLLERR;
  }
}

}  // namespace

std::string NewLoopbackPrefix() {
  static std::atomic<uint32_t> prefixes{0};
  uint32_t pick = (static_cast<uint32_t>(::getpid()) + prefixes++ * 7919u) % (254u * 256u);
  return "127." + std::to_string(1 + pick / 256) + "." + std::to_string(pick % 256);
}

absl::StatusOr<sockaddr_in> LoopbackSockaddr(const HostPort& address) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(address.port);
  if (::inet_pton(AF_INET, address.host.c_str(), &in.sin_addr) != 1) {
    return absl::InvalidArgumentError("\"" + address.host + "\" is not a numeric IPv4 address");
  }
  if ((ntohl(in.sin_addr.s_addr) >> 24) != 127) {
    return absl::InvalidArgumentError(address.host + " is not a loopback address (127.0.0.0/8)");
  }
  return in;
}

absl::StatusOr<HostPort> LocalAddress(int fd) {
  sockaddr_in in{};
  socklen_t length = sizeof in;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &length) != 0) {
    return absl::InternalError("getsockname: " + ErrnoText(errno));
  }
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
  return HostPort{text, ntohs(in.sin_port)};
}

absl::StatusOr<UniqueFd> ListenLoopback(const HostPort& address) {
  auto in = LoopbackSockaddr(address);
  if (!in.ok()) return in.status();
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::InternalError("socket: " + ErrnoText(errno));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*in), sizeof *in) != 0 ||
      ::listen(fd.get(), 128) != 0) {
    return absl::UnavailableError("listen on " + FormatHostPort(address) + ": " + ErrnoText(errno));
  }
  return fd;
}

absl::StatusOr<uint16_t> FreePort(const std::string& ip) {
  auto fd = ListenLoopback({ip, 0});
  if (!fd.ok()) return fd.status();
  auto bound = LocalAddress(fd->get());
  if (!bound.ok()) return bound.status();
  return bound->port;
}

absl::StatusOr<UniqueFd> ConnectFrom(const std::string& source_ip, const HostPort& target) {
  auto source = LoopbackSockaddr({source_ip, 0});
  if (!source.ok()) return source.status();
  auto destination = LoopbackSockaddr(target);
  if (!destination.ok()) return destination.status();
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::InternalError("socket: " + ErrnoText(errno));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*source), sizeof *source) != 0) {
    return absl::UnavailableError("bind to " + source_ip + ": " + ErrnoText(errno));
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*destination), sizeof *destination) !=
      0) {
    return absl::UnavailableError("connect from " + source_ip + " to " + FormatHostPort(target) +
                                  ": " + ErrnoText(errno));
  }
  return fd;
}

absl::Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError("send: " + ErrnoText(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadExactly(int fd, size_t count, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string out;
  while (out.size() < count) {
    if (PollUntil(fd, POLLIN, deadline) == 0) {
      return absl::DeadlineExceededError("read " + std::to_string(out.size()) + " of " +
                                         std::to_string(count) + " bytes in time");
    }
    char buffer[65536];
    size_t want = std::min(sizeof buffer, count - out.size());
    ssize_t n = ::recv(fd, buffer, want, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::UnavailableError("recv: " + ErrnoText(errno));
    if (n == 0) {
      return absl::UnavailableError("end of stream after " + std::to_string(out.size()) + " of " +
                                    std::to_string(count) + " bytes");
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

bool WaitForClose(int fd, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (PollUntil(fd, POLLIN, deadline) != 0) {
    char buffer[65536];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

absl::StatusOr<UniqueFd> AcceptWithin(int fd, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    UniqueFd accepted(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (accepted.valid()) return accepted;
    if (errno != EAGAIN && errno != EINTR) return absl::InternalError("accept: " + ErrnoText(errno));
    if (PollUntil(fd, POLLIN, deadline) == 0) {
      return absl::DeadlineExceededError("no connection to accept in time");
    }
  }
}

}  // namespace lattice::testing
