// Settings of the HTTP server, with the limits it puts on every client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lattice::web::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8470;                     // 0 = any free port (see Server::port())
  size_t max_header_bytes = 16 * 1024;      // request line + fields; over → 431
  size_t max_body_bytes = 8 * 1024 * 1024;  // over (Content-Length or chunked) → 413, without reading it all
  size_t max_connections = 10'000;          // past it: accepted, answered 503 and closed
  std::chrono::milliseconds request_timeout{10'000};  // time to receive a whole request → 408 + close (slow loris)
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive idle connection closed; also the
                                                      // time a client may take to read a response
  size_t max_stream_buffer_bytes = 1024 * 1024;       // Stream::Write limit
  std::vector<std::string> trusted_proxies;  // IPs or CIDRs (v4 and v6) whose X-Forwarded-* are honoured
  int threads = 1;                           // io threads
};

}  // namespace lattice::web::http
