// One store as any token that may read it sees it (the operator's list is in routes_admin).
#include "src/api/routes.h"

namespace lattice::web {

void AddStoreRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/v1/stores/{store}", [&ctx](const auto& call) {
    v1::OpenStoreRequest request;
    request.set_store(call->params()[0]);
    ctx.link.Call(ctx.link.controller().async(), &v1::Controller::Stub::async::OpenStore,
                  call->token(), request, ReplyJson<v1::StoreInfo>(call));
  });
}

}  // namespace lattice::web
