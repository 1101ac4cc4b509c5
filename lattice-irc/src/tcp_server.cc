// Listening socket and client connections (see tcp_server.h).
#include "tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lattice/common/files.h"
#include "server.h"

namespace lattice::irc {

namespace {

// How long a closing connection may take to drain its last lines (ERROR) before it is cut.
constexpr int64_t kCloseLingerMs = 2'000;

}  // namespace

struct TcpServer::Connection {
  ClientId id = 0;
  int fd = -1;
  std::string peer;
  explicit Connection(ClientInput::Options options) : input(options, EventLoop::NowMs()) {}
  ClientInput input;
  std::string out;
  size_t out_offset = 0;
  uint32_t interest = 0;  // the epoll events asked for
  bool reading = true;    // the socket is read (not paused)
  bool eof = false;       // the client closed its side: handle what it sent, then close
  bool closing = false;   // flush `out` (ending with ERROR), then close
  bool shut = false;      // closing, our side is shut down: waiting for the client to close
  bool dead = false;      // close now
  bool dirty = false;
  std::string close_reason;
  EventLoop::TimerId flood_timer = 0;
  EventLoop::TimerId linger_timer = 0;

  size_t queued() const { return out.size() - out_offset; }
};

absl::StatusOr<std::unique_ptr<TcpServer>> TcpServer::Listen(EventLoop& loop,
                                                             const TcpServerOptions& options) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, options.bind_address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(options.port);
    length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, options.bind_address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(options.port);
    length = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(
        fmt::format("\"{}\" is not an IPv4 or IPv6 address", options.bind_address));
  }
  int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, 128) != 0) {
    int err = errno;
    ::close(fd);
    return absl::UnavailableError(fmt::format(
        "cannot listen on {} port {}: {}", options.bind_address, options.port, std::strerror(err)));
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  uint16_t port = bound.ss_family == AF_INET
                      ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                      : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  std::unique_ptr<TcpServer> server(new TcpServer(loop, options, fd, port));
  absl::Status added =
      loop.Add(fd, EPOLLIN, [raw = server.get()](uint32_t) { raw->OnAcceptable(); });
  if (!added.ok()) return added;
  return server;
}

TcpServer::TcpServer(EventLoop& loop, TcpServerOptions options, int listen_fd, uint16_t port)
    : loop_(loop), options_(std::move(options)), listen_fd_(listen_fd), port_(port) {}

TcpServer::~TcpServer() {
  for (auto& [id, conn] : connections_) {
    loop_.Remove(conn->fd);
    ::close(conn->fd);
  }
  if (listen_fd_ >= 0) {
    loop_.Remove(listen_fd_);
    ::close(listen_fd_);
  }
}

void TcpServer::OnAcceptable() {
  // Accept what is waiting now; the level-triggered listener brings us back for more.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      spdlog::warn("accept failed: {}", std::strerror(errno));
      return;
    }
    if (connections_.size() >= options_.max_clients) {
      static constexpr char kFull[] = "ERROR :Closing link: (the gateway is full)\r\n";
      (void)!::write(fd, kFull, sizeof kFull - 1);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int send_buffer = limits::kSocketSendBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
    int receive_buffer = limits::kSocketReceiveBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    ClientInput::Options input;
    input.burst = options_.flood_burst;
    input.per_second = options_.flood_per_second;
    input.read_pause = options_.read_pause;
    input.max_unhandled = options_.max_recv_queue;
    auto conn = std::make_unique<Connection>(input);
    conn->id = next_id_++;
    conn->fd = fd;
    char host[INET6_ADDRSTRLEN] = "?";
    if (peer.ss_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, host, sizeof host);
    } else if (peer.ss_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, host, sizeof host);
    }
    conn->peer = host;
    Connection* raw = conn.get();
    conn->interest = EPOLLIN | EPOLLRDHUP;
    absl::Status added = loop_.Add(fd, conn->interest,
                                   [this, raw](uint32_t events) { OnEvents(*raw, events); });
    if (!added.ok()) {
      ::close(fd);
      continue;
    }
    ClientId id = conn->id;
    connections_.emplace(id, std::move(conn));
    spdlog::debug("client {} connected from {}", id, raw->peer);
    server_->OnConnect(id, EventLoop::NowMs());
  }
}

void TcpServer::OnEvents(Connection& conn, uint32_t events) {
  if (conn.dead) return;
  if ((events & EPOLLOUT) != 0) WriteTo(conn);
  if (conn.reading && (events & (EPOLLIN | EPOLLRDHUP)) != 0) {
    ReadFrom(conn);
  } else if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
    // Reported even while reading pauses: the connection is gone (or only an error is left).
    if (conn.eof || conn.shut) {
      Kill(conn, conn.closing ? conn.close_reason : "Connection closed");
    } else {
      ReadFrom(conn);
    }
  }
}

void TcpServer::ReadFrom(Connection& conn) {
  if (conn.dead) return;
  char buffer[limits::kReadChunkBytes];
  ssize_t n = ::read(conn.fd, buffer, sizeof buffer);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    Kill(conn, fmt::format("Read error: {}", std::strerror(errno)));
    return;
  }
  if (n == 0) {
    if (conn.closing) {
      Kill(conn, conn.close_reason);
      return;
    }
    // Handle what arrived before the end (a QUIT, typically), then close.
    conn.eof = true;
    ProcessInput(conn);
    return;
  }
  if (conn.closing) return;  // input after QUIT or an error is read and dropped
  conn.input.Append(std::string_view(buffer, static_cast<size_t>(n)));
  ProcessInput(conn);
}

void TcpServer::ProcessInput(Connection& conn) {
  while (!conn.closing && !conn.dead) {
    int64_t now = EventLoop::NowMs();
    ClientInput::Step step = conn.input.Next(now);
    if (step.kind == ClientInput::Step::Kind::kIdle) break;
    if (step.kind == ClientInput::Step::Kind::kWait) {
      // The penalty: the line waits for its time; reading pauses once enough waits.
      if (conn.flood_timer == 0) {
        ClientId id = conn.id;
        conn.flood_timer = loop_.RunAt(now + step.wait_ms, [this, id] {
          auto it = connections_.find(id);
          if (it == connections_.end()) return;
          it->second->flood_timer = 0;
          ProcessInput(*it->second);
        });
      }
      break;
    }
    if (step.kind == ClientInput::Step::Kind::kTooLong) {
      server_->OnLineTooLong(conn.id);
    } else {
      server_->OnLine(conn.id, step.line, now);
    }
  }
  CheckInput(conn);
}

void TcpServer::CheckInput(Connection& conn) {
  if (conn.dead) return;
  if (conn.eof && !conn.closing) {
    if (conn.input.pending() == 0 && !conn.input.held()) Kill(conn, "Connection closed");
    if (conn.reading) {
      conn.reading = false;
      UpdateInterest(conn);
    }
    return;
  }
  bool read = conn.closing || conn.input.WantsRead();
  if (!read) {
    int unread = 0;
    if (::ioctl(conn.fd, FIONREAD, &unread) != 0) unread = 0;
    if (conn.input.Exceeds(static_cast<size_t>(std::max(unread, 0)))) {
      spdlog::info("client {} ({}) disconnected: {} bytes of input not handled (flood)", conn.id,
                   conn.peer, conn.input.pending() + static_cast<size_t>(std::max(unread, 0)));
      Close(conn.id, fmt::format("Excess Flood: more than {} KiB of your input waits unhandled",
                                 options_.max_recv_queue / 1024));
      read = true;  // read and drop the rest while the ERROR goes out
    }
  }
  if (read != conn.reading) {
    conn.reading = read;
    UpdateInterest(conn);
  }
}

void TcpServer::HoldInput(ClientId id, bool hold) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& conn = *it->second;
  if (conn.input.held() == hold) return;
  conn.input.SetHeld(hold);
  // Lines are handed on again from Flush, never from inside the server's call.
  if (!hold) resumed_.push_back(id);
}

void TcpServer::Send(ClientId id, std::string_view bytes) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& conn = *it->second;
  if (conn.dead || conn.closing) return;
  if (conn.queued() + bytes.size() > options_.max_send_queue) {
    spdlog::info("client {} ({}) disconnected: its send queue exceeds {} bytes", id, conn.peer,
                 options_.max_send_queue);
    Kill(conn, fmt::format("SendQ exceeded ({} bytes)", options_.max_send_queue));
    return;
  }
  if (conn.out_offset > 0 && conn.out_offset == conn.out.size()) {
    conn.out.clear();
    conn.out_offset = 0;
  }
  conn.out.append(bytes.data(), bytes.size());
  if (!conn.dirty) {
    conn.dirty = true;
    dirty_.push_back(id);
  }
}

void TcpServer::Close(ClientId id, std::string_view reason) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& conn = *it->second;
  if (conn.dead || conn.closing) return;
  std::string error = fmt::format("ERROR :Closing link: ({})\r\n", reason);
  conn.out.append(error);
  conn.closing = true;
  if (!conn.reading) {
    conn.reading = true;  // read and drop whatever the client still sends
    UpdateInterest(conn);
  }
  conn.close_reason = std::string(reason);
  ClientId cid = id;
  conn.linger_timer = loop_.RunAt(EventLoop::NowMs() + kCloseLingerMs, [this, cid] {
    auto found = connections_.find(cid);
    if (found == connections_.end()) return;
    found->second->linger_timer = 0;
    Kill(*found->second, found->second->close_reason);
  });
  if (!conn.dirty) {
    conn.dirty = true;
    dirty_.push_back(id);
  }
}

void TcpServer::Kill(Connection& conn, std::string reason) {
  if (conn.dead) return;
  conn.dead = true;
  if (!conn.closing || conn.close_reason.empty()) conn.close_reason = std::move(reason);
  if (!conn.dirty) {
    conn.dirty = true;
    dirty_.push_back(conn.id);
  }
}

void TcpServer::WriteTo(Connection& conn) {
  while (conn.queued() > 0 && !conn.dead) {
    ssize_t n = ::send(conn.fd, conn.out.data() + conn.out_offset, conn.queued(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Kill(conn, fmt::format("Write error: {}", std::strerror(errno)));
      return;
    }
    conn.out_offset += static_cast<size_t>(n);
  }
  if (conn.queued() == 0) {
    conn.out.clear();
    conn.out_offset = 0;
    if (conn.closing && !conn.shut) {
      // The ERROR is out: the client reads it, sees the end and closes; the linger timer
      // ends connections that do not.
      conn.shut = true;
      if (conn.eof || ::shutdown(conn.fd, SHUT_WR) != 0) Kill(conn, conn.close_reason);
    }
  }
  UpdateInterest(conn);
}

void TcpServer::UpdateInterest(Connection& conn) {
  if (conn.dead) return;
  uint32_t want = (conn.reading ? EPOLLIN | EPOLLRDHUP : 0u) | (conn.queued() > 0 ? EPOLLOUT : 0u);
  if (want == conn.interest) return;
  conn.interest = want;
  (void)loop_.Modify(conn.fd, want);
}

void TcpServer::Flush() {
  // Closing a connection tells the server, which may queue QUITs for others: repeat until
  // nothing is left to do.
  while (!dirty_.empty() || !resumed_.empty()) {
    std::vector<ClientId> resumed;
    resumed.swap(resumed_);
    for (ClientId id : resumed) {
      auto it = connections_.find(id);
      if (it != connections_.end() && !it->second->input.held()) ProcessInput(*it->second);
    }
    std::vector<ClientId> batch;
    batch.swap(dirty_);
    for (ClientId id : batch) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      Connection& conn = *it->second;
      conn.dirty = false;
      if (!conn.dead) WriteTo(conn);
      if (!conn.dead) continue;
      if (conn.flood_timer != 0) loop_.Cancel(conn.flood_timer);
      if (conn.linger_timer != 0) loop_.Cancel(conn.linger_timer);
      loop_.Remove(conn.fd);
      ::close(conn.fd);
      std::string reason = conn.close_reason;
      spdlog::debug("client {} closed: {}", id, reason);
      connections_.erase(it);
      if (server_ != nullptr) server_->OnDisconnect(id, reason);
    }
  }
}

void TcpServer::Shutdown(std::string_view reason) {
  if (listen_fd_ >= 0) {
    loop_.Remove(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::vector<ClientId> ids;
  for (const auto& [id, conn] : connections_) ids.push_back(id);
  for (ClientId id : ids) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;
    Close(id, reason);
    // One best-effort write of the ERROR line; the process is about to exit.
    WriteTo(*it->second);
    Kill(*it->second, std::string(reason));
  }
  Flush();
}

}  // namespace lattice::irc
