#include "src/api/gateway.h"

#include <strings.h>

#include "src/api/percent.h"
#include "src/api/session_cookie.h"
#include "src/http/problem.h"

namespace lattice::web {
namespace {

bool ChangesSomething(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

Gateway::Gateway(ApiContext& context, StaticFiles page, MetricsHandler metrics)
    : context_(context), page_(std::move(page)), metrics_(std::move(metrics)) {
  AddSessionRoutes(router_, context_);
  AddAdminRoutes(router_, context_);
  AddStoreRoutes(router_, context_);
  AddKeyRoutes(router_, context_);
  AddEventRoutes(router_, context_);
  AddChatRoutes(router_, context_);
  router_.Add("GET", "/api/v1/openapi.json", [](const auto& call) {
    call->Bytes(200, OpenApiDocument(), "application/json");
  });
}

void Gateway::Handle(const std::shared_ptr<http::Exchange>& exchange) const {
  const http::Request& request = exchange->request();
  auto query = ParseQuery(request.query);
  std::string token;
  bool by_cookie = false;
  std::optional<std::string_view> authorization = request.Header("Authorization");
  if (authorization) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization->size() <= kBearer.size() ||
        strncasecmp(authorization->data(), kBearer.data(), kBearer.size()) != 0) {
      exchange->Respond(http::Problem(401, "Authorization must be \"Bearer <token>\""));
      return;
    }
    token = std::string(authorization->substr(kBearer.size()));
  } else if (auto cookie = SessionTokenOf(request)) {
    token = *std::move(cookie);
    by_cookie = true;
  }
  auto call = std::make_shared<ApiCall>(exchange, query ? *std::move(query)
                                                        : std::map<std::string, std::string>(),
                                        std::move(token), by_cookie);
  if (!query) return call->Fail(400, "the query string holds a malformed percent-escape");

  const std::string& path = request.path;
  if (path.rfind("/api/", 0) == 0) {
    if (by_cookie && ChangesSomething(request.method) && !IsSameOrigin(request)) {
      return call->Fail(403, "a request authenticated by the session cookie must come from a "
                             "page of this origin (its Origin header does not match)");
    }
    router_.Dispatch(call);
    return;
  }
  if (path == "/metrics") {
    if (!metrics_) return call->Fail(404, "metrics are not served here");
    if (request.method != "GET") return call->Fail(405, "metrics are read with GET");
    metrics_(call);
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return call->FailWithHeaders(405, "the page is read with GET", {{"Allow", "GET, HEAD"}});
  }
  page_.Serve(*call);
}

}  // namespace lattice::web
