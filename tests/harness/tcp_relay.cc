#include "harness/tcp_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace lattice::testing {
namespace {

using Clock = std::chrono::steady_clock;

// One read takes at most this much from a socket.
constexpr size_t kReadChunkBytes = 64 * 1024;
// Frames start with a u32 big-endian length (net/frame_decoder.h).
constexpr size_t kLengthPrefixBytes = 4;

// Closes `fd` with a reset (RST) instead of an orderly end of stream: a cut link breaks.
void Reset(UniqueFd& fd) {
  if (!fd.valid()) return;
  linger abort{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  fd = UniqueFd();
}

// Small frames go out at once rather than waiting on Nagle and delayed ACKs, which would
// add latency the test did not ask for.
void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::pair<int, int> Unordered(int a, int b) { return std::minmax(a, b); }

// The faults set on one ordered pair of nodes, and what the relay counted for it.
struct PairState {
  uint64_t drop_next = 0;
  std::chrono::milliseconds delay{0};
  uint64_t bytes_sent = 0;
  uint64_t frames_dropped = 0;
  // What the relay passed on, while a capture is on (up to capture_limit bytes).
  bool capturing = false;
  size_t capture_limit = 0;
  std::string captured;
};

// Follows one direction of a link (preamble, then length-prefixed frames) and leaves out
// whole frames while its pair has drops pending. A frame is kept or dropped as a whole,
// decided when its first length byte arrives.
class FrameFilter {
 public:
  explicit FrameFilter(size_t preamble_bytes) : preamble_left_(preamble_bytes) {}

  // Appends to `*kept` the bytes of `input` to pass on.
  void Filter(std::string_view input, PairState& pair, std::string* kept) {
    while (!input.empty()) {
      size_t take = 0;
      if (preamble_left_ > 0) {
        take = std::min(input.size(), preamble_left_);
        preamble_left_ -= take;
        kept->append(input.substr(0, take));
      } else if (body_left_ > 0) {
        take = static_cast<size_t>(std::min<uint64_t>(input.size(), body_left_));
        body_left_ -= take;
        if (!dropping_) kept->append(input.substr(0, take));
      } else {
        if (length_have_ == 0) StartFrame(pair);
        take = 1;
        length_ = (length_ << 8) | static_cast<uint8_t>(input.front());
        if (!dropping_) kept->push_back(input.front());
        if (++length_have_ == kLengthPrefixBytes) {
          body_left_ = length_;
          length_ = 0;
          length_have_ = 0;
        }
      }
      input.remove_prefix(take);
    }
  }

 private:
  void StartFrame(PairState& pair) {
    dropping_ = pair.drop_next > 0;
    if (dropping_) {
      --pair.drop_next;
      ++pair.frames_dropped;
    }
  }

  size_t preamble_left_;
  uint64_t length_ = 0;
  size_t length_have_ = 0;
  uint64_t body_left_ = 0;
  bool dropping_ = false;
};

// Bytes read from one side, to be written to the other once `due`.
struct Chunk {
  Clock::time_point due;
  std::string bytes;
  size_t written = 0;
};

// One direction of a relayed connection.
struct Direction {
  Direction(int from_node, int to_node, size_t preamble_bytes)
      : from(from_node), to(to_node), filter(preamble_bytes) {}

  bool HasDue(Clock::time_point now) const { return !queue.empty() && queue.front().due <= now; }

  int from;
  int to;
  FrameFilter filter;
  std::deque<Chunk> queue;    // first in, first out: a shorter delay never overtakes
  size_t buffered = 0;        // bytes in `queue` not yet written
  bool source_ended = false;  // the sender's end of stream was read
  bool sink_closed = false;   // everything was passed on and the receiver's side shut
};

// A dialer's connection to the relay and the relay's connection on to the node it targets.
struct Connection {
  Connection(int dialer, int listener, UniqueFd client_fd, UniqueFd upstream_fd, size_t preamble)
      : client(std::move(client_fd)),
        upstream(std::move(upstream_fd)),
        up(dialer, listener, preamble),
        down(listener, dialer, preamble) {}

  bool Between(int a, int b) const { return Unordered(up.from, up.to) == Unordered(a, b); }

  UniqueFd client;
  UniqueFd upstream;
  bool connected = false;  // the upstream connect completed
  bool failed = false;
  Direction up;    // client -> upstream: dialer -> listener
  Direction down;  // upstream -> client: listener -> dialer
};

}  // namespace

// Owns every socket of the relay; runs on its one thread. Work from other threads arrives
// through Call, which posts it and waits for it to run.
class TcpRelay::Loop {
 public:
  Loop(TcpRelayOptions options, UniqueFd wake) : options_(options), wake_(std::move(wake)) {}

  ~Loop() {
    for (auto& connection : connections_) Close(*connection, /*reset=*/true);
  }

  // Runs `f` on the loop thread and returns its result. REQUIRES: not on the loop thread,
  // and the loop is running.
  template <typename F>
  auto Call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(tasks_mu_);
      tasks_.push_back([&task] { task(); });
    }
    Wake();
    return result.get();
  }

  void Stop() {
    stopping_ = true;
    Wake();
  }

  void Run() {
    while (!stopping_) {
      RunTasks();
      Clock::time_point now = Clock::now();
      std::vector<pollfd> fds;
      fds.push_back({wake_.get(), POLLIN, 0});
      for (auto& listener : listeners_) fds.push_back({listener.fd.get(), POLLIN, 0});
      for (auto& connection : connections_) {
        fds.push_back(Watch(connection->client.get(), ClientEvents(*connection, now)));
        fds.push_back(Watch(connection->upstream.get(), UpstreamEvents(*connection, now)));
      }
      if (::poll(fds.data(), fds.size(), PollTimeout(now)) < 0 && errno != EINTR) break;
      if (fds[0].revents != 0) DrainWake();

      now = Clock::now();
      size_t polled = connections_.size();
      for (size_t i = 0; i < listeners_.size(); ++i) {
        if (fds[1 + i].revents != 0) AcceptAll(listeners_[i]);
      }
      size_t base = 1 + listeners_.size();
      for (size_t i = 0; i < polled; ++i) {
        Service(*connections_[i], fds[base + 2 * i].revents, fds[base + 2 * i + 1].revents, now);
      }
      std::erase_if(connections_, [](const std::unique_ptr<Connection>& connection) {
        bool done = connection->up.sink_closed && connection->down.sink_closed;
        if (connection->failed || done) Close(*connection, /*reset=*/connection->failed);
        return connection->failed || done;
      });
    }
  }

  // ---- Called on the loop thread (through Call) ----

  absl::Status AddListener(int node, const std::string& source_ip, UniqueFd fd,
                           const HostPort& target) {
    for (const auto& listener : listeners_) {
      if (listener.node == node) {
        return absl::AlreadyExistsError("node " + std::to_string(node) + " has a relay already");
      }
    }
    if (!source_nodes_.emplace(source_ip, node).second) {
      return absl::AlreadyExistsError("source address " + source_ip + " belongs to node " +
                                      std::to_string(source_nodes_[source_ip]));
    }
    listeners_.push_back({node, std::move(fd), target});
    return absl::OkStatus();
  }

  absl::Status SetTarget(int node, const HostPort& target) {
    for (auto& listener : listeners_) {
      if (listener.node == node) {
        listener.target = target;
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError("node " + std::to_string(node) + " has no relay");
  }

  void Cut(int a, int b) {
    cut_.insert(Unordered(a, b));
    std::erase_if(connections_, [&](const std::unique_ptr<Connection>& connection) {
      if (!connection->Between(a, b)) return false;
      Close(*connection, /*reset=*/true);
      return true;
    });
  }

  void Heal(int a, int b) { cut_.erase(Unordered(a, b)); }

  PairState& Pair(int from, int to) { return pairs_[{from, to}]; }

  void ResetCounters() {
    for (auto& [key, pair] : pairs_) {
      pair.bytes_sent = 0;
      pair.frames_dropped = 0;
    }
  }

  size_t Connections(int a, int b) const {
    return static_cast<size_t>(std::count_if(
        connections_.begin(), connections_.end(),
        [&](const std::unique_ptr<Connection>& connection) { return connection->Between(a, b); }));
  }

 private:
  struct Listener {
    int node;
    UniqueFd fd;
    HostPort target;
  };

  static pollfd Watch(int fd, short events) { return {events != 0 ? fd : -1, events, 0}; }

  bool CanRead(const Direction& direction) const {
    return !direction.source_ended && direction.buffered < options_.max_buffered_bytes;
  }

  short ClientEvents(const Connection& c, Clock::time_point now) const {
    short events = 0;
    if (CanRead(c.up)) events |= POLLIN;
    if (c.down.HasDue(now)) events |= POLLOUT;
    return events;
  }

  short UpstreamEvents(const Connection& c, Clock::time_point now) const {
    if (!c.connected) return POLLOUT;
    short events = 0;
    if (CanRead(c.down)) events |= POLLIN;
    if (c.up.HasDue(now)) events |= POLLOUT;
    return events;
  }

  // Until the earliest delayed chunk falls due; -1 (forever) when none waits.
  int PollTimeout(Clock::time_point now) const {
    std::optional<Clock::time_point> next;
    auto consider = [&](const Direction& direction) {
      if (direction.queue.empty()) return;
      Clock::time_point due = direction.queue.front().due;
      if (due > now && (!next || due < *next)) next = due;
    };
    for (const auto& connection : connections_) {
      if (connection->connected) consider(connection->up);
      consider(connection->down);
    }
    if (!next) return -1;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*next - now).count());
  }

  void Wake() {
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  }

  void DrainWake() {
    uint64_t count = 0;
    (void)!::read(wake_.get(), &count, sizeof count);
  }

  void RunTasks() {
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(tasks_mu_);
      tasks.swap(tasks_);
    }
    for (auto& task : tasks) task();
  }

  static std::string IpText(const sockaddr_in& address) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
    return text;
  }

  int NodeOfSource(const std::string& source_ip) const {
    auto it = source_nodes_.find(source_ip);
    return it == source_nodes_.end() ? kUnknownNode : it->second;
  }

  // Starts a non-blocking connect to `target` from `source_ip` (any port; "" lets the system
  // choose); an invalid descriptor when it fails at once.
  static UniqueFd ConnectUpstream(const HostPort& target, const std::string& source_ip,
                                  bool* connected) {
    auto address = LoopbackSockaddr(target);
    if (!address.ok()) return UniqueFd();
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return fd;
    SetNoDelay(fd.get());
    if (!source_ip.empty()) {
      auto source = LoopbackSockaddr({source_ip, 0});
      if (!source.ok() ||
          ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*source), sizeof *source) != 0) {
        return UniqueFd();
      }
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0) {
      *connected = true;
    } else if (errno != EINPROGRESS) {
      return UniqueFd();
    }
    return fd;
  }

  void AcceptAll(Listener& listener) {
    while (true) {
      sockaddr_in source{};
      socklen_t length = sizeof source;
      UniqueFd client(::accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&source), &length,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client.valid()) return;  // EAGAIN: none left; anything else: try on the next round
      std::string source_ip = IpText(source);
      int dialer = NodeOfSource(source_ip);
      if (cut_.contains(Unordered(dialer, listener.node)) ||
          connections_.size() >= options_.max_connections) {
        Reset(client);
        continue;
      }
      // A node's dial reaches the target from that node's IP, as it would without the relay.
      bool connected = false;
      UniqueFd upstream = ConnectUpstream(
          listener.target, dialer == kUnknownNode ? "" : source_ip, &connected);
      if (!upstream.valid()) {
        Reset(client);
        continue;
      }
      SetNoDelay(client.get());
      auto connection = std::make_unique<Connection>(dialer, listener.node, std::move(client),
                                                     std::move(upstream), options_.preamble_bytes);
      connection->connected = connected;
      connections_.push_back(std::move(connection));
    }
  }

  void Service(Connection& c, short client_events, short upstream_events, Clock::time_point now) {
    if ((client_events | upstream_events) & POLLERR) {
      c.failed = true;
      return;
    }
    if (!c.connected && upstream_events != 0) {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        c.failed = true;
        return;
      }
      c.connected = true;
      upstream_events = 0;  // that was the connect completing, not data
    }
    if (client_events & (POLLIN | POLLHUP)) Read(c, c.up, c.client.get(), now);
    if (upstream_events & (POLLIN | POLLHUP)) Read(c, c.down, c.upstream.get(), now);
    if (c.connected) Flush(c, c.up, c.upstream.get(), now);
    Flush(c, c.down, c.client.get(), now);
  }

  void Read(Connection& c, Direction& direction, int fd, Clock::time_point now) {
    while (!c.failed && CanRead(direction)) {
      char buffer[kReadChunkBytes];
      size_t want = std::min(sizeof buffer, options_.max_buffered_bytes - direction.buffered);
      ssize_t n = ::recv(fd, buffer, want, MSG_DONTWAIT);
      if (n == 0) {
        direction.source_ended = true;
      } else if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) c.failed = true;
        return;
      } else {
        PairState& pair = Pair(direction.from, direction.to);
        std::string kept;
        direction.filter.Filter({buffer, static_cast<size_t>(n)}, pair, &kept);
        if (kept.empty()) continue;
        direction.buffered += kept.size();
        direction.queue.push_back({now + pair.delay, std::move(kept)});
      }
    }
  }

  void Flush(Connection& c, Direction& direction, int fd, Clock::time_point now) {
    while (!c.failed && direction.HasDue(now)) {
      Chunk& chunk = direction.queue.front();
      ssize_t n = ::send(fd, chunk.bytes.data() + chunk.written, chunk.bytes.size() - chunk.written,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) c.failed = true;
        return;
      }
      PairState& pair = Pair(direction.from, direction.to);
      if (pair.capturing && pair.captured.size() < pair.capture_limit) {
        size_t take = std::min(static_cast<size_t>(n), pair.capture_limit - pair.captured.size());
        pair.captured.append(chunk.bytes, chunk.written, take);
      }
      chunk.written += static_cast<size_t>(n);
      direction.buffered -= static_cast<size_t>(n);
      pair.bytes_sent += static_cast<uint64_t>(n);
      if (chunk.written == chunk.bytes.size()) direction.queue.pop_front();
    }
    if (!c.failed && direction.source_ended && direction.queue.empty() && !direction.sink_closed) {
      ::shutdown(fd, SHUT_WR);
      direction.sink_closed = true;
    }
  }

  static void Close(Connection& c, bool reset) {
    if (reset) {
      Reset(c.client);
      Reset(c.upstream);
    } else {
      c.client = UniqueFd();
      c.upstream = UniqueFd();
    }
  }

  const TcpRelayOptions options_;
  UniqueFd wake_;  // eventfd: tasks are waiting, or Stop was called
  std::atomic<bool> stopping_{false};
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;  // guarded by tasks_mu_

  // Everything below belongs to the loop thread.
  std::vector<Listener> listeners_;
  std::map<std::string, int> source_nodes_;  // source IP -> node
  std::vector<std::unique_ptr<Connection>> connections_;
  std::map<std::pair<int, int>, PairState> pairs_;  // (from, to)
  std::set<std::pair<int, int>> cut_;               // unordered pairs, smaller node first
};

absl::StatusOr<std::unique_ptr<TcpRelay>> TcpRelay::Create(TcpRelayOptions options) {
  UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return absl::InternalError("eventfd: " + std::string(std::strerror(errno)));
  return std::unique_ptr<TcpRelay>(
      new TcpRelay(std::make_unique<Loop>(options, std::move(wake))));
}

TcpRelay::TcpRelay(std::unique_ptr<Loop> loop)
    : loop_(std::move(loop)), thread_([loop = loop_.get()] { loop->Run(); }) {}

TcpRelay::~TcpRelay() {
  loop_->Stop();
  thread_.join();
}

absl::StatusOr<HostPort> TcpRelay::AddNode(int node, const std::string& source_ip,
                                           const HostPort& listen, const HostPort& target) {
  if (node < 0) return absl::InvalidArgumentError("node indices start at 0");
  if (auto source = LoopbackSockaddr({source_ip, 0}); !source.ok()) return source.status();
  if (auto to = LoopbackSockaddr(target); !to.ok()) return to.status();
  auto fd = ListenLoopback(listen);
  if (!fd.ok()) return fd.status();
  auto bound = LocalAddress(fd->get());
  if (!bound.ok()) return bound.status();
  absl::Status added = loop_->Call([&] {
    return loop_->AddListener(node, source_ip, *std::move(fd), target);
  });
  if (!added.ok()) return added;
  return bound;
}

absl::Status TcpRelay::SetTarget(int node, const HostPort& target) {
  if (auto to = LoopbackSockaddr(target); !to.ok()) return to.status();
  return loop_->Call([&] { return loop_->SetTarget(node, target); });
}

void TcpRelay::Cut(int a, int b) {
  loop_->Call([&] { loop_->Cut(a, b); });
}

void TcpRelay::Heal(int a, int b) {
  loop_->Call([&] { loop_->Heal(a, b); });
}

void TcpRelay::DropNextFrames(int from, int to, uint64_t count) {
  loop_->Call([&] { loop_->Pair(from, to).drop_next += count; });
}

void TcpRelay::SetDelay(int from, int to, std::chrono::milliseconds delay) {
  loop_->Call([&] { loop_->Pair(from, to).delay = delay; });
}

uint64_t TcpRelay::BytesSent(int from, int to) {
  return loop_->Call([&] { return loop_->Pair(from, to).bytes_sent; });
}

uint64_t TcpRelay::FramesDropped(int from, int to) {
  return loop_->Call([&] { return loop_->Pair(from, to).frames_dropped; });
}

void TcpRelay::StartCapture(int from, int to, size_t max_bytes) {
  loop_->Call([&] {
    PairState& pair = loop_->Pair(from, to);
    pair.capturing = true;
    pair.capture_limit = max_bytes;
    pair.captured.clear();
  });
}

std::string TcpRelay::Captured(int from, int to) {
  return loop_->Call([&] { return loop_->Pair(from, to).captured; });
}

void TcpRelay::ResetCounters() {
  loop_->Call([&] { loop_->ResetCounters(); });
}

size_t TcpRelay::Connections(int a, int b) {
  return loop_->Call([&] { return loop_->Connections(a, b); });
}

}  // namespace lattice::testing
