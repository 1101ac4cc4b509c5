// Peer commands: peer invite, join, list, revoke, rename.
#include <fmt/format.h>

#include "commands.h"
#include "format_peer.h"
#include "lattice/common/status.h"
#include "requests.h"

namespace lattice::ctl {
namespace {

// Prints the entries that revoke or rename changed; none at all means NODE matched nothing.
absl::Status PrintChangedPeers(Session& session, const v1::ListPeersResponse& changed,
                               std::string (*text)(const v1::ListPeersResponse&)) {
  if (changed.peers().empty()) {
    return absl::NotFoundError(fmt::format("no peer matches {}", session.args().node));
  }
  if (session.json()) return session.printer().Json(PeerListJson(changed));
  return session.printer().Write(text(changed));
}

}  // namespace

absl::Status RunPeerInvite(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::InvitePeerRequest request,
                           BuildInvitePeerRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::InvitePeerResponse invite, client->InvitePeer(request));
  Printer& printer = session.printer();
  if (printer.json()) return printer.Json(InviteJson(invite));
  // The token alone on stdout, so TOKEN=$(lattice-ctl peer invite) works; the rest is for
  // the person at the terminal.
  LATTICE_RETURN_IF_ERROR(printer.Line(invite.token()));
  LATTICE_RETURN_IF_ERROR(printer.Flush());
  for (const auto& line : InviteDetailLines(invite)) printer.Warn(line);
  return absl::OkStatus();
}

absl::Status RunPeerJoin(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::JoinMeshRequest request, BuildJoinMeshRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::JoinMeshResponse joined, client->JoinMesh(request));
  if (session.json()) return session.printer().Json(JoinJson(joined));
  return session.printer().Line(JoinLine(joined));
}

absl::Status RunPeerList(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ListPeersResponse peers, client->ListPeers(session.args().mesh));
  if (session.json()) return session.printer().Json(PeerListJson(peers));
  return session.printer().Write(PeerListText(peers, NowMs()));
}

absl::Status RunPeerRevoke(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::PeerRef request, BuildRevokePeerRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ListPeersResponse revoked, client->RevokePeer(request));
  return PrintChangedPeers(session, revoked, RevokedPeersText);
}

absl::Status RunPeerRename(Session& session) {
  LATTICE_ASSIGN_OR_RETURN(v1::RenamePeerRequest request, BuildRenamePeerRequest(session.args()));
  LATTICE_ASSIGN_OR_RETURN(client::Client * client, session.client());
  LATTICE_ASSIGN_OR_RETURN(v1::ListPeersResponse renamed, client->RenamePeer(request));
  return PrintChangedPeers(session, renamed, RenamedPeersText);
}

}  // namespace lattice::ctl
