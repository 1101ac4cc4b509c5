// How peers look: an invite's token and details, a join, the peer table, and the entries that
// peer revoke and peer rename changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

// The lines for stderr beside the token on stdout: which invite, for which mesh and until
// when, where the joiner will dial (or a warning that this node announces no address), and
// what to run on the other node.
std::vector<std::string> InviteDetailLines(const v1::InvitePeerResponse& response);
// {"token","invite_id","mesh_id","expires_ms","addresses"}
nlohmann::json InviteJson(const v1::InvitePeerResponse& response);

// "joined mesh <id>, invited by <name> (<short id>)"
std::string JoinLine(const v1::JoinMeshResponse& response);
// {"mesh_id","inviter_id","inviter_name"}
nlohmann::json JoinJson(const v1::JoinMeshResponse& response);

// One row per peer: short node id, name, status, short mesh id, connected, last seen
// (relative to `now_ms`), lag, announced addresses, and "self" / "FORKED" notes.
std::string PeerListText(const v1::ListPeersResponse& response, uint64_t now_ms);
nlohmann::json PeerInfoJson(const v1::PeerInfo& peer);
// {"peers":[...]}
nlohmann::json PeerListJson(const v1::ListPeersResponse& response);

// "revoked <short id> (<name>) in mesh <short mesh>", one line per entry.
std::string RevokedPeersText(const v1::ListPeersResponse& response);
// "renamed <short id> to <name> in mesh <short mesh>", one line per entry.
std::string RenamedPeersText(const v1::ListPeersResponse& response);

}  // namespace lattice::ctl
