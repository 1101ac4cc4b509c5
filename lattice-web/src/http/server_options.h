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
  // 0 = any free port (see Server::port()).
  uint16_t port = 8470;
  // Request line + header fields; over → 431.
  size_t max_header_bytes = 16 * 1024;
  // Over (by Content-Length or while reading chunks) → 413, without reading the rest.
  size_t max_body_bytes = 8 * 1024 * 1024;
  // Past it a new connection is accepted, answered 503 and closed.
  size_t max_connections = 10'000;
  // Time to receive a whole request (from connecting, or from its first byte on a kept-alive
  // connection) → 408 + close: the slow-loris bound.
  std::chrono::milliseconds request_timeout{10'000};
  // A kept-alive connection idle this long is closed; also the time a client may take to read
  // an answer.
  std::chrono::milliseconds idle_timeout{60'000};
  // Stream::Write limit: bytes queued for a streaming client and not yet written.
  size_t max_stream_buffer_bytes = 1024 * 1024;
  // IPs or CIDRs (v4 and v6) whose X-Forwarded-* headers are honoured.
  std::vector<std::string> trusted_proxies;
  // io threads.
  int threads = 1;
};

}  // namespace lattice::web::http
