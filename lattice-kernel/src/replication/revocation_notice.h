// Tells a revoked member that it was revoked, in a form it can verify: the mesh's latest
// root-store intentions, the signed revocation among them. Sent before its link is dropped
// and whenever it makes contact again; two members that each hold the other revoked trade
// them both ways, so the fold of state/root_rules.h reaches one outcome on both.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "lattice/v1/replication.pb.h"
#include "node/node.h"
#include "replication/peer_connection.h"

namespace lattice::kernel::replication {

// Root intentions sent in one notice: the latest of the mesh, which a peer that was in step
// until lately can apply at once.
inline constexpr size_t kRevocationNoticeIntentions = 256;
// How long a notice may take to leave before the link is closed regardless.
inline constexpr auto kRevocationNoticeTimeout = std::chrono::seconds(2);

// The pushes that tell `peer_id` it was revoked from `mesh_id`: the root store's latest
// intentions in witness order, the revocation itself included.
std::vector<v1::PeerMessage> RevocationNotice(Node& node, const std::string& mesh_id,
                                              const std::string& peer_id);

// Sends the notice of each mesh in `meshes` on `conn`, waits (bounded) until it left and
// `received` (when given) returns true, then closes the link naming the revocation.
void SendRevocationNoticeAndClose(Node& node, PeerConnection& conn,
                                  const std::vector<std::string>& meshes,
                                  const std::function<bool()>& received = nullptr);

}  // namespace lattice::kernel::replication
