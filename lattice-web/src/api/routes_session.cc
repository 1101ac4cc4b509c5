// Logging in from the browser: the token is checked by the kernel (Controller.Connect) and
// then kept in an HttpOnly, SameSite=Strict cookie, so page scripts never hold it and no
// other site can send it.
#include <fmt/format.h>

#include "src/api/routes.h"
#include "src/api/session_cookie.h"
#include "src/json/json_codec.h"

namespace lattice::web {
namespace {

nlohmann::json SessionJson(const v1::ConnectResponse& response) {
  return {{"admin", response.admin()}, {"node", ProtoToJson(response.node())}};
}

void Connect(ApiContext& ctx, const std::string& token,
             std::function<void(grpc::Status, v1::ConnectResponse)> done) {
  v1::ConnectRequest request;
  request.set_service_id("lattice-web");
  request.set_version(LATTICE_VERSION);
  ctx.link.Call(ctx.link.controller().async(), &v1::Controller::Stub::async::Connect, token,
                request, std::move(done));
}

}  // namespace

void AddSessionRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/api/v1/session", [&ctx](const auto& call) {
    auto json = ParseJsonObject(call->request().body);
    if (!json.ok()) return call->Fail(json.status());
    auto token = json->find("token");
    if (token == json->end() || !token->is_string() || token->template get<std::string>().empty()) {
      return call->Fail(400, "the body must be {\"token\": \"...\"}");
    }
    std::string secret = token->template get<std::string>();
    if (!IsCookieSafe(secret)) {
      return call->Fail(400, "a token holds only letters, digits and - _ . ~ + / =");
    }
    Connect(ctx, secret, [&ctx, call, secret](grpc::Status status, v1::ConnectResponse response) {
      if (!status.ok()) return call->Fail(status);
      call->Json(200, SessionJson(response),
                 {{"Set-Cookie", SessionCookie(secret, ctx.secure_cookie)}});
    });
  });
  router.Add("GET", "/api/v1/session", [&ctx](const auto& call) {
    if (call->token().empty()) return call->Fail(401, "not logged in");
    Connect(ctx, call->token(), [call](grpc::Status status, v1::ConnectResponse response) {
      if (!status.ok()) return call->Fail(status);
      call->Json(200, SessionJson(response));
    });
  });
  router.Add("DELETE", "/api/v1/session", [&ctx](const auto& call) {
    call->Empty(204, {{"Set-Cookie", ExpiredSessionCookie(ctx.secure_cookie)}});
  });
}

}  // namespace lattice::web
