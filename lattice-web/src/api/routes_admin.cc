// The operator's routes: node status, stores, peers, tokens and services. Each is one Admin
// call whose request comes from the JSON body (the .proto's field names) and the path, and
// whose response goes back as JSON. The kernel refuses them to anything but the admin cookie.
#include "src/api/routes.h"
#include "src/json/json_codec.h"

namespace lattice::web {
namespace {

using AdminAsync = class v1::Admin::Stub::async;

// Builds the request from the body (none: an empty object), lets `fill` set what the path
// says, runs the call and answers with its response as JSON, `status` on success.
template <typename Request, typename Response, typename Fill>
void Admin(ApiContext& ctx, const std::shared_ptr<ApiCall>& call, int status,
           void (AdminAsync::*method)(grpc::ClientContext*, const Request*, Response*,
                                      std::function<void(grpc::Status)>),
           Fill fill) {
  Request request;
  const std::string& body = call->request().body;
  if (!body.empty()) {
    auto json = ParseJsonObject(body);
    if (!json.ok()) return call->Fail(json.status());
    if (absl::Status parsed = JsonToProto(*json, &request); !parsed.ok()) return call->Fail(parsed);
  }
  fill(request, call->params());
  ctx.link.Call(ctx.link.admin().async(), method, call->token(), std::move(request),
                ReplyJson<Response>(call, status));
}

const auto kAsIs = [](auto&, const std::vector<std::string>&) {};

}  // namespace

void AddAdminRoutes(Router& router, ApiContext& ctx) {
  using A = AdminAsync;
  router.Add("GET", "/api/v1/node", [&ctx](const auto& call) {
    Admin(ctx, call, 200, &A::Status, kAsIs);
  });

  // Stores.
  router.Add("GET", "/api/v1/stores", [&ctx](const auto& call) {
    v1::ListStoresRequest request;
    request.set_include_archived(call->Query("include_archived") == "true");
    ctx.link.Call(ctx.link.admin().async(), &A::ListStores, call->token(), request,
                  ReplyJson<v1::ListStoresResponse>(call));
  });
  router.Add("POST", "/api/v1/stores", [&ctx](const auto& call) {
    Admin(ctx, call, 201, &A::CreateStore, kAsIs);
  });
  const auto store_ref = [](v1::StoreRef& r, const std::vector<std::string>& p) {
    r.set_store(p[0]);
  };
  router.Add("POST", "/api/v1/stores/{store}/archive", [&ctx, store_ref](const auto& call) {
    Admin(ctx, call, 200, &A::ArchiveStore, store_ref);
  });
  router.Add("POST", "/api/v1/stores/{store}/unarchive", [&ctx, store_ref](const auto& call) {
    Admin(ctx, call, 200, &A::UnarchiveStore, store_ref);
  });
  router.Add("GET", "/api/v1/stores/{store}/status", [&ctx, store_ref](const auto& call) {
    Admin(ctx, call, 200, &A::StoreStatus, store_ref);
  });

  // Peers.
  router.Add("GET", "/api/v1/peers", [&ctx](const auto& call) {
    v1::ListPeersRequest request;
    request.set_mesh(call->Query("mesh"));
    ctx.link.Call(ctx.link.admin().async(), &A::ListPeers, call->token(), request,
                  ReplyJson<v1::ListPeersResponse>(call));
  });
  router.Add("POST", "/api/v1/peers/invitations", [&ctx](const auto& call) {
    Admin(ctx, call, 201, &A::InvitePeer, kAsIs);
  });
  router.Add("DELETE", "/api/v1/peers/{peer}", [&ctx](const auto& call) {
    v1::PeerRef request;
    request.set_node(call->params()[0]);
    request.set_mesh(call->Query("mesh"));
    ctx.link.Call(ctx.link.admin().async(), &A::RevokePeer, call->token(), request,
                  ReplyJson<v1::ListPeersResponse>(call));
  });
  router.Add("PATCH", "/api/v1/peers/{peer}", [&ctx](const auto& call) {
    Admin(ctx, call, 200, &A::RenamePeer,
          [](v1::RenamePeerRequest& r, const std::vector<std::string>& p) { r.set_node(p[0]); });
  });

  // Tokens.
  router.Add("GET", "/api/v1/tokens", [&ctx](const auto& call) {
    Admin(ctx, call, 200, &A::ListTokens, kAsIs);
  });
  router.Add("POST", "/api/v1/tokens", [&ctx](const auto& call) {
    Admin(ctx, call, 201, &A::CreateToken, kAsIs);
  });
  router.Add("DELETE", "/api/v1/tokens/{id}", [&ctx](const auto& call) {
    Admin(ctx, call, 200, &A::RevokeToken,
          [](v1::RevokeTokenRequest& r, const std::vector<std::string>& p) { r.set_id(p[0]); });
  });

  // Services.
  router.Add("GET", "/api/v1/services", [&ctx](const auto& call) {
    v1::ListServicesRequest request;
    request.set_mesh(call->Query("mesh"));
    ctx.link.Call(ctx.link.admin().async(), &A::ListServices, call->token(), request,
                  ReplyJson<v1::ListServicesResponse>(call));
  });
  router.Add("PUT", "/api/v1/services/{id}", [&ctx](const auto& call) {
    Admin(ctx, call, 200, &A::DeclareService,
          [](v1::DeclareServiceRequest& r, const std::vector<std::string>& p) {
            r.set_service_id(p[0]);
          });
  });
  router.Add("DELETE", "/api/v1/services/{id}", [&ctx](const auto& call) {
    v1::UndeclareServiceRequest request;
    request.set_service_id(call->params()[0]);
    request.set_store(call->Query("store"));
    request.set_local(call->Query("local") == "true");
    ctx.link.Call(ctx.link.admin().async(), &A::UndeclareService, call->token(), request,
                  ReplyJson<v1::ServiceDeclarationInfo>(call));
  });
  router.Add("PUT", "/api/v1/services/{id}/consent", [&ctx](const auto& call) {
    Admin(ctx, call, 200, &A::SetServiceConsent,
          [](v1::SetServiceConsentRequest& r, const std::vector<std::string>& p) {
            r.set_service_id(p[0]);
          });
  });
  router.Add("PUT", "/api/v1/services/{id}/override", [&ctx](const auto& call) {
    Admin(ctx, call, 200, &A::SetServiceOverride,
          [](v1::SetServiceOverrideRequest& r, const std::vector<std::string>& p) {
            r.set_service_id(p[0]);
          });
  });
  for (std::string action : {"start", "stop", "reset"}) {
    router.Add("POST", "/api/v1/services/{id}/" + action, [&ctx, action](const auto& call) {
      Admin(ctx, call, 200, &A::ControlService,
            [action](v1::ControlServiceRequest& r, const std::vector<std::string>& p) {
              r.set_service_id(p[0]);
              r.set_action(action);
            });
    });
  }
}

}  // namespace lattice::web
