// The Admin calls about services and node tags (DESIGN §8): each hands its request to the
// ServiceManager and maps the result to a gRPC status.
#include "rpc/services.h"
#include "services/service_manager.h"

namespace lattice::kernel {
namespace {

// Runs `call` on the ServiceManager, or answers UNAVAILABLE while there is none.
template <typename Response, typename Call>
grpc::Status WithManager(ServiceContext& ctx, Response* response, Call call) {
  ServiceManager* manager = ctx.service_manager.load();
  if (manager == nullptr) {
    return ToGrpc(absl::UnavailableError("the ServiceManager is not running"));
  }
  auto result = call(*manager);
  if (!result.ok()) return ToGrpc(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AdminService::ListServices(grpc::ServerContext* context, const v1::ListServicesRequest* request,
                                        v1::ListServicesResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  return WithManager(ctx_, response, [&](ServiceManager& m) { return m.List(request->mesh()); });
}

grpc::Status AdminService::DeclareService(grpc::ServerContext* context,
                                          const v1::DeclareServiceRequest* request,
                                          v1::ServiceDeclarationInfo* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  return WithManager(ctx_, response, [&](ServiceManager& m) { return m.Declare(*request); });
}

grpc::Status AdminService::UndeclareService(grpc::ServerContext* context,
                                            const v1::UndeclareServiceRequest* request,
                                            v1::ServiceDeclarationInfo* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  return WithManager(ctx_, response, [&](ServiceManager& m) { return m.Undeclare(*request); });
}

grpc::Status AdminService::SetServiceConsent(grpc::ServerContext* context,
                                             const v1::SetServiceConsentRequest* request,
                                             v1::ServiceConsentInfo* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  return WithManager(ctx_, response, [&](ServiceManager& m) { return m.SetConsent(*request); });
}

grpc::Status AdminService::SetServiceOverride(grpc::ServerContext* context,
                                              const v1::SetServiceOverrideRequest* request,
                                              v1::ServiceOverridesResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  return WithManager(ctx_, response, [&](ServiceManager& m) { return m.SetOverride(*request); });
}

grpc::Status AdminService::ControlService(grpc::ServerContext* context,
                                          const v1::ControlServiceRequest* request,
                                          v1::ServiceInstanceInfo* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  return WithManager(ctx_, response, [&](ServiceManager& m) { return m.Control(*request); });
}

grpc::Status AdminService::TagNode(grpc::ServerContext* context, const v1::TagNodeRequest* request,
                                   v1::NodeTagsResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  return WithManager(ctx_, response, [&](ServiceManager& m) { return m.Tag(*request); });
}

}  // namespace lattice::kernel
