// Server: the listener, the io threads, and stopping them.
#include "src/http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>

#include "src/http/connection.h"
#include "src/http/listener.h"
#include "src/http/server_state.h"

namespace lattice::web::http {

Server::Server(ServerOptions options, Handler handler)
    : state_(std::make_shared<ServerState>(std::move(options), std::move(handler))) {}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  if (running_) return absl::FailedPreconditionError("the HTTP server is already running");
  if (state_->stopping()) {
    return absl::FailedPreconditionError("a stopped HTTP server cannot be started again");
  }
  auto proxies = TrustedProxies::Parse(state_->options.trusted_proxies);
  if (!proxies.ok()) return proxies.status();
  state_->proxies = *std::move(proxies);
  listener_ = std::make_shared<Listener>(state_);
  if (absl::Status status = listener_->Open(state_->options.host, state_->options.port);
      !status.ok()) {
    listener_.reset();
    return status;
  }
  port_ = listener_->port();
  listener_->Start();
  running_ = true;
  int threads = std::max(1, state_->options.threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([state = state_] {
      // The io_context runs until Stop() closes everything and no work is left.
      for (;;) {
        try {
          state->io.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: io thread: {}", e.what());
        }
      }
    });
  }
  return absl::OkStatus();
}

void Server::Stop() {
  if (!running_) return;
  running_ = false;
  listener_->PostClose();
  for (auto& connection : state_->BeginStop()) connection->PostClose();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  listener_.reset();
  // Handlers posted while the threads wound down (an answer arriving for a closed connection)
  // hold their connection, which holds the io_context: run them now rather than leak.
  state_->io.restart();
  state_->io.poll();
}

size_t Server::connections() const { return state_->open_connections.load(); }

std::array<uint64_t, 5> Server::responses_by_class() const {
  std::array<uint64_t, 5> counts{};
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = state_->responses_by_class[i].load();
  return counts;
}

}  // namespace lattice::web::http
