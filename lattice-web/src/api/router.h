// Maps a request's method and path to the handler of a route such as
// "/api/v1/stores/{store}/keys/{key}": each {name} is one path segment, percent-decoded (so
// a key holding '/' travels as %2F). A path that matches no route gets 404, a path whose
// route exists for other methods 405 with Allow.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/api/api_call.h"

namespace lattice::web {

class Router {
 public:
  using Handler = std::function<void(const std::shared_ptr<ApiCall>& call)>;

  void Add(std::string method, std::string_view pattern, Handler handler);

  // Calls the route's handler, or answers 404/405/400 itself.
  void Dispatch(const std::shared_ptr<ApiCall>& call) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{}" for a parameter
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Splits a raw path into percent-decoded segments; nullopt on a malformed escape.
std::optional<std::vector<std::string>> SplitPath(std::string_view path);

}  // namespace lattice::web
