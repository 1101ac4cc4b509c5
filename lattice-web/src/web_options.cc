#include "src/web_options.h"

#include <fmt/format.h>

#include <charconv>
#include <toml++/toml.h>

#include "lattice/common/files.h"
#include "lattice/common/limits.h"

namespace lattice::web {

absl::Status ParseListen(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return absl::InvalidArgumentError(
        fmt::format("listen address \"{}\" must be HOST:PORT, e.g. 127.0.0.1:8470", text));
  }
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned value = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(begin, end, value);
  if (error != std::errc() || stop != end || value > 65535) {
    return absl::InvalidArgumentError(fmt::format("listen address \"{}\": bad port", text));
  }
  *host = h;
  *port = static_cast<uint16_t>(value);
  return absl::OkStatus();
}

absl::Status LoadConfigFile(const std::string& path, WebOptions& options) {
  auto text = ReadFileBounded(path, limits::kMaxConfigFileBytes);
  if (!text.ok()) return text.status();
  toml::table root;
  try {
    root = toml::parse(*text, path);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", path, error.description()));
  }
  const toml::table* web = root["web"].as_table();
  if (web == nullptr) return absl::OkStatus();
  for (const auto& entry : *web) {
    // Not a structured binding: the lambdas below capture the value (clang 14 cannot).
    const toml::node& value = entry.second;
    std::string name(entry.first.str());
    auto text = [&](std::string& out) -> absl::Status {
      if (!value.is_string()) return absl::InvalidArgumentError(fmt::format("{}: web.{} must be a string", path, name));
      out = *value.value<std::string>();
      return absl::OkStatus();
    };
    auto number = [&](auto& out, int64_t low, int64_t high) -> absl::Status {
      auto v = value.value<int64_t>();
      if (!v || *v < low || *v > high) {
        return absl::InvalidArgumentError(
            fmt::format("{}: web.{} must be a number from {} to {}", path, name, low, high));
      }
      out = static_cast<std::decay_t<decltype(out)>>(*v);
      return absl::OkStatus();
    };
    auto millis = [&](std::chrono::milliseconds& out, int64_t low, int64_t high) -> absl::Status {
      int64_t v = 0;
      absl::Status s = number(v, low, high);
      out = std::chrono::milliseconds(v);
      return s;
    };
    absl::Status s;
    if (name == "socket") {
      s = text(options.socket);
    } else if (name == "listen") {
      s = text(options.listen);
    } else if (name == "page_dir") {
      s = text(options.page_dir);
    } else if (name == "secure_cookie") {
      if (!value.is_boolean()) s = absl::InvalidArgumentError(fmt::format("{}: web.secure_cookie must be true or false", path));
      else options.secure_cookie = *value.value<bool>();
    } else if (name == "trusted_proxies") {
      const toml::array* list = value.as_array();
      if (list == nullptr) {
        s = absl::InvalidArgumentError(fmt::format("{}: web.trusted_proxies must be a list", path));
      } else {
        options.trusted_proxies.clear();
        for (const auto& item : *list) {
          if (!item.is_string()) {
            s = absl::InvalidArgumentError(fmt::format("{}: web.trusted_proxies holds a non-string", path));
            break;
          }
          options.trusted_proxies.push_back(*item.value<std::string>());
        }
      }
    } else if (name == "io_threads") {
      s = number(options.io_threads, 1, 64);
    } else if (name == "max_connections") {
      s = number(options.max_connections, 1, 1'000'000);
    } else if (name == "max_body_bytes") {
      s = number(options.max_body_bytes, 1024, 64 << 20);
    } else if (name == "max_header_bytes") {
      s = number(options.max_header_bytes, 1024, 1 << 20);
    } else if (name == "request_timeout_ms") {
      s = millis(options.request_timeout, 100, 600'000);
    } else if (name == "idle_timeout_ms") {
      s = millis(options.idle_timeout, 100, 3'600'000);
    } else if (name == "heartbeat_ms") {
      s = millis(options.heartbeat, 100, 600'000);
    } else if (name == "log_level") {
      s = text(options.log_level);
    } else {
      s = absl::InvalidArgumentError(fmt::format("{}: unknown setting web.{}", path, name));
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace lattice::web
