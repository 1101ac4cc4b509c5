// Listening socket and client connections (see tcp_server.h).
#include "tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

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
  LineReader reader;
  // The next line, taken from `reader` but waiting for a flood token.
  std::optional<std::pair<LineReader::Next, std::string>> waiting;
  FloodGate gate;
  std::string out;
  size_t out_offset = 0;
  bool writable_interest = false;
  bool closing = false;  // flush `out` (ending with ERROR), then close
  bool dead = false;     // close now
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
    auto conn = std::make_unique<Connection>();
    conn->id = next_id_++;
    conn->fd = fd;
    conn->gate = FloodGate(options_.flood_burst, options_.flood_per_second, EventLoop::NowMs());
    char host[INET6_ADDRSTRLEN] = "?";
    if (peer.ss_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, host, sizeof host);
    } else if (peer.ss_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, host, sizeof host);
    }
    conn->peer = host;
    Connection* raw = conn.get();
    absl::Status added = loop_.Add(fd, EPOLLIN | EPOLLRDHUP,
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
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) ReadFrom(conn);
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
    // Handle what arrived before the end (a QUIT, typically), then close.
    ProcessInput(conn);
    Kill(conn, "Connection closed");
    return;
  }
  if (conn.closing) return;  // input after QUIT or an error is ignored
  conn.reader.Append(std::string_view(buffer, static_cast<size_t>(n)));
  ProcessInput(conn);
  // What flood control holds back is bounded: beyond it the client is cut off.
  size_t backlog = conn.reader.buffered() + (conn.waiting ? conn.waiting->second.size() : 0);
  if (backlog > options_.max_recv_queue && !conn.closing && !conn.dead) {
    spdlog::info("client {} ({}) disconnected: {} bytes of unhandled input (flood)", conn.id,
                 conn.peer, backlog);
    Close(conn.id, "Excess Flood");
  }
}

void TcpServer::ProcessInput(Connection& conn) {
  while (!conn.closing && !conn.dead) {
    if (!conn.waiting) {
      std::string line;
      LineReader::Next next = conn.reader.Pop(&line);
      if (next == LineReader::Next::kNone) return;
      conn.waiting.emplace(next, std::move(line));
    }
    int64_t now = EventLoop::NowMs();
    if (!conn.gate.TryTake(now)) {
      // The penalty: the line waits for a token; more input only lengthens the backlog.
      if (conn.flood_timer == 0) {
        ClientId id = conn.id;
        conn.flood_timer = loop_.RunAt(now + conn.gate.MsUntilToken(now), [this, id] {
          auto it = connections_.find(id);
          if (it == connections_.end()) return;
          it->second->flood_timer = 0;
          ProcessInput(*it->second);
        });
      }
      return;
    }
    auto [kind, line] = std::move(*conn.waiting);
    conn.waiting.reset();
    if (kind == LineReader::Next::kTooLong) {
      server_->OnLineTooLong(conn.id);
    } else {
      server_->OnLine(conn.id, line, now);
    }
  }
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
    if (conn.closing) Kill(conn, conn.close_reason);
  }
  UpdateInterest(conn);
}

void TcpServer::UpdateInterest(Connection& conn) {
  if (conn.dead) return;
  bool want = conn.queued() > 0;
  if (want == conn.writable_interest) return;
  conn.writable_interest = want;
  (void)loop_.Modify(conn.fd, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
}

void TcpServer::Flush() {
  // Closing a connection tells the server, which may queue QUITs for others: repeat until
  // nothing is left to do.
  while (!dirty_.empty()) {
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
