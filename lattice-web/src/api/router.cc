#include "src/api/router.h"

#include "absl/strings/str_join.h"
#include "src/api/percent.h"

namespace lattice::web {

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  Route route{std::move(method), {}, std::move(handler)};
  size_t start = 1;  // patterns begin with '/'
  while (start <= pattern.size()) {
    size_t end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    std::string_view segment = pattern.substr(start, end - start);
    route.segments.push_back(segment.size() > 1 && segment.front() == '{' ? "{}"
                                                                          : std::string(segment));
    start = end + 1;
  }
  routes_.push_back(std::move(route));
}

std::optional<std::vector<std::string>> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path.front() != '/') return std::nullopt;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto decoded = PercentDecode(path.substr(start, end - start), false);
    if (!decoded) return std::nullopt;
    segments.push_back(*std::move(decoded));
    start = end + 1;
  }
  return segments;
}

void Router::Dispatch(const std::shared_ptr<ApiCall>& call) const {
  auto segments = SplitPath(call->request().path);
  if (!segments) {
    call->Fail(400, "the path holds a malformed percent-escape");
    return;
  }
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments->size()) continue;
    std::vector<std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments->size() && match; ++i) {
      if (route.segments[i] == "{}") {
        params.push_back((*segments)[i]);
      } else {
        match = route.segments[i] == (*segments)[i];
      }
    }
    if (!match) continue;
    if (route.method != call->request().method &&
        !(route.method == "GET" && call->request().method == "HEAD")) {
      allowed.push_back(route.method);
      continue;
    }
    call->set_params(std::move(params));
    route.handler(call);
    return;
  }
  if (!allowed.empty()) {
    call->FailWithHeaders(405, "this resource does not answer " + call->request().method,
                         {{"Allow", absl::StrJoin(allowed, ", ")}});
    return;
  }
  call->Fail(404, "no such resource: " + call->request().path);
}

}  // namespace lattice::web
