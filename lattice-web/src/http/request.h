// An HTTP request as the server hands it to lattice-web's handlers: already read whole, with the
// client's address resolved through trusted proxies (see forwarded.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lattice::web::http {

struct Request {
  std::string method;  // "GET", "PUT", ... as sent (case-sensitive, RFC 9110 §9.1)
  std::string target;  // raw request-target, e.g. "/api/v1/stores/a/keys/b%2Fc?inspect"
  std::string path;    // target before '?', NOT percent-decoded
  std::string query;   // after '?', raw ("" when none)
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;
  // The peer's IP, or the X-Forwarded-For client when the peer is a trusted proxy.
  std::string client_address;
  std::string scheme;  // "http", or X-Forwarded-Proto from a trusted proxy
  std::string host;    // Host header, or X-Forwarded-Host from a trusted proxy
  int version = 11;    // 10 for HTTP/1.0, 11 for HTTP/1.1

  // First header with this name, case-insensitive; nullopt when absent.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// ASCII case-insensitive comparison, as header names and tokens are compared (RFC 9110 §5.1).
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

}  // namespace lattice::web::http
