// What the server's connections share: settings, the handler, the io_context and the registry
// of open connections. Connections hold it by shared_ptr, so an exchange a handler keeps past
// Server::Stop() never points at a destroyed io_context.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "src/http/exchange.h"
#include "src/http/forwarded.h"
#include "src/http/server_options.h"

namespace lattice::web::http {

class Connection;

// Thread-safe: the registry is behind `mutex`, the rest is set before the io threads start.
struct ServerState {
  ServerState(ServerOptions server_options, Handler request_handler)
      : options(std::move(server_options)), handler(std::move(request_handler)) {}

  ServerOptions options;
  Handler handler;
  TrustedProxies proxies;
  boost::asio::io_context io;
  std::atomic<size_t> open_connections{0};
  // Responses begun, by status class: [0] 1xx ... [4] 5xx (for /metrics).
  std::array<std::atomic<uint64_t>, 5> responses_by_class{};

  void CountResponse(int status) {
    int index = status / 100 - 1;
    if (index < 0 || index > 4) index = 4;  // the wire sends an impossible status as 500
    responses_by_class[static_cast<size_t>(index)].fetch_add(1, std::memory_order_relaxed);
  }

  // Adds a connection to those Stop() closes; false (and nothing added) once stopping.
  bool Register(uint64_t id, const std::shared_ptr<Connection>& connection);
  void Unregister(uint64_t id);
  // Marks the server stopping and returns every connection still open.
  std::vector<std::shared_ptr<Connection>> BeginStop();
  bool stopping() const { return stopping_.load(); }
  uint64_t NextConnectionId() { return next_id_.fetch_add(1); }

 private:
  std::mutex mutex_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace lattice::web::http
