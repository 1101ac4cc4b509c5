// An HTTP response as lattice-web's handlers give it to the server.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lattice::web::http {

struct Response {
  int status = 200;
  // Content-Length, Date, Server and Connection are set by the server (any given here are
  // dropped); a header whose name or value holds CR, LF or NUL is dropped too.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The reason phrase of a status code ("Not Found"); "" for codes without one.
std::string_view ReasonPhrase(int status);

}  // namespace lattice::web::http
