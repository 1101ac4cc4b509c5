#include "net/tcp_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lattice/common/status.h"

namespace lattice::kernel::net {
namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

int PollTimeoutMs(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return -1;
  auto now = Clock::now();
  if (deadline <= now) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 24 * 3600 * 1000));
}

absl::StatusOr<UniqueFd> MakeEventFd() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    return absl::ResourceExhaustedError(fmt::format("eventfd: {}", ErrnoText(errno)));
  }
  return UniqueFd(fd);
}

void Signal(const UniqueFd& wake) {
  uint64_t one = 1;
  // A full counter still leaves the eventfd readable, which is all that matters.
  [[maybe_unused]] ssize_t n = ::write(wake.get(), &one, sizeof(one));
}

std::string FormatSockaddr(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(address, length, host, sizeof(host), service, sizeof(service),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "unknown";
  }
  HostPort formatted;
  formatted.host = host;
  formatted.port = static_cast<uint16_t>(std::atoi(service));
  return FormatHostPort(formatted);
}

absl::StatusOr<addrinfo*> Resolve(const HostPort& address, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  std::string port = std::to_string(address.port);
  const char* host = address.host == "*" ? nullptr : address.host.c_str();
  addrinfo* results = nullptr;
  int rc = ::getaddrinfo(host, port.c_str(), &hints, &results);
  if (rc != 0) {
    return absl::UnavailableError(fmt::format("cannot resolve '{}': {}",
                                              FormatHostPort(address), ::gai_strerror(rc)));
  }
  return results;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

TcpStream::TcpStream(UniqueFd fd, UniqueFd wake, std::string remote_address)
    : fd_(std::move(fd)), wake_(std::move(wake)), remote_address_(std::move(remote_address)) {}

absl::StatusOr<std::unique_ptr<TcpStream>> TcpStream::Adopt(UniqueFd fd,
                                                            std::string remote_address) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::UnavailableError(fmt::format("fcntl: {}", ErrnoText(errno)));
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  return std::unique_ptr<TcpStream>(
      new TcpStream(std::move(fd), *std::move(wake), std::move(remote_address)));
}

namespace {

// Binds `fd` to `source_ip` with an ephemeral port, when the address is of `family`.
absl::Status BindSource(int fd, int family, const std::string& source_ip) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_ip.c_str(), &in->sin_addr) != 1) {
      return absl::InvalidArgumentError(fmt::format("source address {} is not IPv4", source_ip));
    }
    length = sizeof(sockaddr_in);
  } else if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, source_ip.c_str(), &in6->sin6_addr) != 1) {
      return absl::InvalidArgumentError(fmt::format("source address {} is not IPv6", source_ip));
    }
    length = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError("unsupported address family");
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return absl::UnavailableError(fmt::format("bind to source {}: {}", source_ip, ErrnoText(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpStream>> TcpStream::Connect(const HostPort& address,
                                                              Clock::time_point deadline,
                                                              const std::string& source_ip) {
  auto resolved = Resolve(address, /*passive=*/false);
  if (!resolved.ok()) return resolved.status();
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> results(*resolved, &::freeaddrinfo);
  std::string last_error = "no address";
  for (addrinfo* ai = results.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         ai->ai_protocol));
    if (!fd.valid()) {
      last_error = ErrnoText(errno);
      continue;
    }
    std::string remote = FormatSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!source_ip.empty()) {
      if (auto bound = BindSource(fd.get(), ai->ai_family, source_ip); !bound.ok()) {
        last_error = fmt::format("{}: {}", remote, bound.message());
        continue;
      }
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = fmt::format("{}: {}", remote, ErrnoText(errno));
        continue;
      }
      pollfd p{fd.get(), POLLOUT, 0};
      int rc;
      do {
        rc = ::poll(&p, 1, PollTimeoutMs(deadline));
      } while (rc < 0 && errno == EINTR);
      if (rc == 0) {
        return absl::DeadlineExceededError(
            fmt::format("connecting to {} timed out", FormatHostPort(address)));
      }
      int error = 0;
      socklen_t length = sizeof(error);
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      if (rc < 0 || error != 0) {
        last_error = fmt::format("{}: {}", remote, ErrnoText(rc < 0 ? errno : error));
        continue;
      }
    }
    return Adopt(std::move(fd), std::move(remote));
  }
  return absl::UnavailableError(
      fmt::format("cannot connect to {}: {}", FormatHostPort(address), last_error));
}

absl::Status TcpStream::Wait(short events, Clock::time_point deadline) {
  pollfd fds[2] = {{fd_.get(), events, 0}, {wake_.get(), POLLIN, 0}};
  while (true) {
    if (shut_.load()) return absl::UnavailableError("the connection was closed");
    int rc = ::poll(fds, 2, PollTimeoutMs(deadline));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(fmt::format("poll: {}", ErrnoText(errno)));
    }
    if (fds[1].revents != 0) return absl::UnavailableError("the connection was closed");
    if (rc == 0) return absl::DeadlineExceededError("timed out");
    return absl::OkStatus();
  }
}

absl::Status TcpStream::Read(size_t max_bytes, Clock::time_point deadline, std::string* out) {
  out->resize(std::max<size_t>(max_bytes, 1));
  while (true) {
    if (shut_.load()) return absl::UnavailableError("the connection was closed");
    ssize_t n = ::recv(fd_.get(), out->data(), out->size(), 0);
    if (n > 0) {
      out->resize(static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) {
      out->clear();
      return absl::UnavailableError(fmt::format("{} closed the connection", remote_address_));
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      out->clear();
      return absl::UnavailableError(
          fmt::format("reading from {}: {}", remote_address_, ErrnoText(errno)));
    }
    absl::Status ready = Wait(POLLIN, deadline);
    if (!ready.ok()) {
      out->clear();
      return ready;
    }
  }
}

absl::Status TcpStream::Write(std::string_view bytes, Clock::duration stall_timeout) {
  while (!bytes.empty()) {
    if (shut_.load()) return absl::UnavailableError("the connection was closed");
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::UnavailableError(
          fmt::format("writing to {}: {}", remote_address_, ErrnoText(errno)));
    }
    absl::Status ready = Wait(POLLOUT, Clock::now() + stall_timeout);
    if (absl::IsDeadlineExceeded(ready)) {
      return absl::DeadlineExceededError(fmt::format(
          "{} accepted no data for {} ms", remote_address_,
          std::chrono::duration_cast<std::chrono::milliseconds>(stall_timeout).count()));
    }
    if (!ready.ok()) return ready;
  }
  return absl::OkStatus();
}

void TcpStream::FinishWrites() { ::shutdown(fd_.get(), SHUT_WR); }

void TcpStream::Shutdown() {
  if (shut_.exchange(true)) return;
  ::shutdown(fd_.get(), SHUT_RDWR);
  Signal(wake_);
}

TcpAcceptor::TcpAcceptor(UniqueFd fd, UniqueFd wake, std::string local_address)
    : fd_(std::move(fd)), wake_(std::move(wake)), local_address_(std::move(local_address)) {}

absl::StatusOr<std::unique_ptr<TcpAcceptor>> TcpAcceptor::Bind(const HostPort& address) {
  auto resolved = Resolve(address, /*passive=*/true);
  if (!resolved.ok()) return resolved.status();
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> results(*resolved, &::freeaddrinfo);
  std::string last_error = "no address";
  for (addrinfo* ai = results.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         ai->ai_protocol));
    if (!fd.valid()) {
      last_error = ErrnoText(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 128) != 0) {
      last_error = errno == EADDRINUSE ? "the port is already in use by another process"
                                       : ErrnoText(errno);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    auto wake = MakeEventFd();
    if (!wake.ok()) return wake.status();
    return std::unique_ptr<TcpAcceptor>(
        new TcpAcceptor(std::move(fd), *std::move(wake),
                        FormatSockaddr(reinterpret_cast<sockaddr*>(&bound), length)));
  }
  return absl::UnavailableError(
      fmt::format("cannot listen on {}: {}", FormatHostPort(address), last_error));
}

absl::StatusOr<std::unique_ptr<TcpStream>> TcpAcceptor::Accept() {
  pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (true) {
    if (shut_.load()) return absl::UnavailableError("the listener was closed");
    sockaddr_storage peer{};
    socklen_t length = sizeof(peer);
    int fd = ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      return TcpStream::Adopt(UniqueFd(fd),
                              FormatSockaddr(reinterpret_cast<sockaddr*>(&peer), length));
    }
    int error = errno;
    if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
      return absl::ResourceExhaustedError(fmt::format("accept: {}", ErrnoText(error)));
    }
    if (error != EAGAIN && error != EWOULDBLOCK && error != EINTR && error != ECONNABORTED) {
      return absl::UnavailableError(fmt::format("accept: {}", ErrnoText(error)));
    }
    if (error == EAGAIN || error == EWOULDBLOCK) {
      int rc = ::poll(fds, 2, -1);
      if (rc < 0 && errno != EINTR) {
        return absl::UnavailableError(fmt::format("poll: {}", ErrnoText(errno)));
      }
    }
  }
}

void TcpAcceptor::Shutdown() {
  if (shut_.exchange(true)) return;
  Signal(wake_);
}

void TcpAcceptor::Pause(Clock::duration timeout) {
  pollfd p{wake_.get(), POLLIN, 0};
  int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  ::poll(&p, 1, ms);
}

}  // namespace lattice::kernel::net
