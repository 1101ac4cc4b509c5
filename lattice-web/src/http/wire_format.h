// What the server writes on the wire for a Response: status line, headers, body (RFC 9112).
#pragma once

#include <chrono>
#include <string>

#include "src/http/response.h"

namespace lattice::web::http {

struct WireContext {
  bool head_request = false;  // a HEAD request: Content-Length of the body, but no body
  bool close = false;         // "Connection: close"; the server closes after writing
  bool streamed = false;      // the head of a body of unknown length (ends with the connection)
};

// Serializes `response` with the Date and "Server: lattice-web" headers and the framing headers
// the server owns (Content-Length, Connection). Headers the handler set for those are dropped, as
// is any header whose name is not a token or whose value holds CR, LF or NUL (no response
// splitting). A status outside 200..599 becomes 500: informational answers are the server's.
std::string SerializeResponse(const Response& response, const WireContext& context);

// The same in two parts, so a large body is written from where it is instead of being copied:
// the head, and whether response.body follows it.
std::string SerializeResponseHead(const Response& response, const WireContext& context);
bool SendsBody(const Response& response, const WireContext& context);

// True when the handler asked for the connection to close ("Connection: close").
bool ResponseAsksToClose(const Response& response);

// An IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(std::chrono::system_clock::time_point when);

}  // namespace lattice::web::http
