// lattice-web's settings: defaults, then the TOML file (--config), then flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace lattice::web {

struct WebOptions {
  std::string socket;                 // the kernel's socket ("" = the standard path)
  std::string listen = "127.0.0.1:8470";
  std::string page_dir;               // the management page's files ("" = the installed ones)
  std::vector<std::string> trusted_proxies;  // whose X-Forwarded-* headers are believed
  bool secure_cookie = false;         // mark the session cookie Secure (behind TLS)
  int io_threads = 2;                 // threads running the HTTP server's event loop
  size_t max_connections = 10'000;
  size_t max_body_bytes = 8 << 20;
  size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds heartbeat{15'000};
  std::string log_level = "info";
};

// Reads the [web] table of a TOML file into `options`; unknown keys are errors.
absl::Status LoadConfigFile(const std::string& path, WebOptions& options);

// "HOST:PORT" or "[V6]:PORT".
absl::Status ParseListen(const std::string& text, std::string* host, uint16_t* port);

}  // namespace lattice::web
