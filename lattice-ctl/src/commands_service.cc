// Service commands: service list, declare, undeclare, consent, override, start, stop, reset;
// and node tag add|remove.
#include "commands.h"
#include "format_service.h"
#include "lattice/common/status.h"
#include "requests.h"

namespace lattice::ctl {

absl::Status RunServiceList(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ListServicesResponse list, client->ListServices(session.args().mesh));
  if (session.json()) return session.printer().Json(ServiceListJson(list));
  return session.printer().Write(ServiceListText(list, NowMs()));
}

absl::Status RunServiceDeclare(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::DeclareServiceRequest request, BuildDeclareServiceRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ServiceDeclarationInfo declared, client->DeclareService(request));
  if (session.json()) return session.printer().Json(ServiceDeclarationJson(declared));
  return session.printer().Line(DeclarationLine(declared, false));
}

absl::Status RunServiceUndeclare(Session& session) {
  v1::UndeclareServiceRequest request;
  request.set_service_id(session.args().service);
  request.set_store(session.args().store);
  request.set_local(session.args().local);
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ServiceDeclarationInfo left, client->UndeclareService(request));
  if (session.json()) return session.printer().Json(ServiceDeclarationJson(left));
  return session.printer().Line(DeclarationLine(left, true));
}

absl::Status RunServiceConsent(Session& session) {
  const Arguments& args = session.args();
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ServiceConsentInfo consent,
                           client->SetServiceConsent(args.service, args.consent, args.mesh));
  if (session.json()) return session.printer().Json(ConsentJson(consent));
  return session.printer().Line(ConsentLine(consent));
}

absl::Status RunServiceOverride(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::SetServiceOverrideRequest request,
                           BuildSetServiceOverrideRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ServiceOverridesResponse overrides, client->SetServiceOverride(request));
  if (session.json()) return session.printer().Json(OverridesJson(overrides));
  return session.printer().Line(OverridesLine(overrides));
}

absl::Status RunServiceControl(Session& session, const std::string& action) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ServiceInstanceInfo instance,
                           client->ControlService(session.args().service, session.args().store, action));
  if (session.json()) return session.printer().Json(ServiceInstanceJson(instance));
  return session.printer().Line(InstanceLine(instance));
}

absl::Status RunNodeTag(Session& session, bool remove) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::NodeTagsResponse tags,
                           client->TagNode(session.args().tag, session.args().mesh, remove));
  if (session.json()) return session.printer().Json(TagsJson(tags));
  return session.printer().Line(TagsLine(tags));
}

}  // namespace lattice::ctl
