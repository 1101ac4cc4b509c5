// lattice-web's HTTP/1.1 server: Boost.Beast on Asio, every connection asynchronous on a strand
// of one io_context, so thousands of idle keep-alive and event-stream connections cost memory,
// not threads.
#pragma once

#include <array>

#include <absl/status/status.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "src/http/exchange.h"
#include "src/http/problem.h"
#include "src/http/request.h"
#include "src/http/response.h"
#include "src/http/server_options.h"
#include "src/http/stream.h"

namespace lattice::web::http {

struct ServerState;
class Listener;

// Serves requests with `handler`, one request at a time per connection (the next is read once
// the answer is written, so pipelined requests are answered in order). Errors the server
// answers itself are Problem() documents: 400 malformed, 408 too slow, 413 body too large,
// 417 unknown Expect, 431 header too large, 501 unknown Transfer-Encoding, 503 too many
// connections, 500 when the handler throws. HTTP/1.0 connections close after one answer.
// Start, Stop and the destructor are called from one owning thread, never from a handler;
// port() and connections() from any thread.
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops

  // Binds and listens, then starts the io threads. The error names the address.
  absl::Status Start();
  uint16_t port() const { return port_; }
  // Closes the listener and every connection (streams see OnClosed), and joins the threads.
  // Answers given after this are dropped. A stopped server cannot be started again.
  void Stop();
  size_t connections() const;  // open connections now (for /metrics)
  // Responses begun so far by status class: [0] 1xx, [1] 2xx ... [4] 5xx (for /metrics).
  std::array<uint64_t, 5> responses_by_class() const;

 private:
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<Listener> listener_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace lattice::web::http
