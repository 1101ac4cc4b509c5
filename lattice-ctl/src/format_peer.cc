#include "format_peer.h"

#include <fmt/format.h>

#include "output.h"

namespace lattice::ctl {
namespace {

// Mesh ids are store UUIDs: their first group tells them apart in a table.
constexpr size_t kShortMeshId = 8;

std::string ShortMesh(const std::string& mesh_id) { return AbbreviateId(mesh_id, kShortMeshId); }

std::string NameOrDash(const std::string& name) {
  return name.empty() ? "-" : EscapeForLine(name);
}

std::string PeerNotes(const v1::PeerInfo& peer) {
  std::string notes;
  if (peer.self()) notes = "self";
  if (peer.forked()) notes += notes.empty() ? "FORKED" : ",FORKED";
  if (!peer.revoked_by().empty()) {
    if (!notes.empty()) notes += ",";
    notes += fmt::format("revoked by {} at {}", AbbreviateId(peer.revoked_by()),
                         FormatTimeMs(peer.revoked_at_ms()));
  }
  return notes;
}

}  // namespace

std::vector<std::string> InviteDetailLines(const v1::InvitePeerResponse& response) {
  std::string expires = response.expires_ms() == 0
                            ? ""
                            : ", expires " + FormatTimeMs(response.expires_ms());
  std::vector<std::string> lines = {
      fmt::format("invite {} into mesh {}: single use{}; the token is shown only this once",
                  response.invite_id(), response.mesh_id(), expires)};
  if (response.addresses().empty()) {
    lines.push_back(
        "warning: this node announces no address, so the joiner cannot reach it "
        "(start lattice-kernel with --listen, and --advertise when peers must dial another "
        "address)");
  } else {
    lines.push_back("the joiner will dial " + Joined(response.addresses(), ", ", true));
  }
  lines.push_back("on the other node: lattice-ctl peer join TOKEN --name NAME");
  return lines;
}

nlohmann::json InviteJson(const v1::InvitePeerResponse& response) {
  return nlohmann::json{{"token", response.token()},
                        {"invite_id", response.invite_id()},
                        {"mesh_id", response.mesh_id()},
                        {"expires_ms", response.expires_ms()},
                        {"addresses", StringArray(response.addresses())}};
}

std::string JoinLine(const v1::JoinMeshResponse& response) {
  std::string inviter = AbbreviateId(response.inviter_id());
  if (!response.inviter_name().empty()) {
    inviter = fmt::format("{} ({})", EscapeForLine(response.inviter_name()), inviter);
  }
  return fmt::format("joined mesh {}, invited by {}", response.mesh_id(), inviter);
}

nlohmann::json JoinJson(const v1::JoinMeshResponse& response) {
  return nlohmann::json{{"mesh_id", response.mesh_id()},
                        {"inviter_id", response.inviter_id()},
                        {"inviter_name", response.inviter_name()}};
}

std::string PeerListText(const v1::ListPeersResponse& response, uint64_t now_ms) {
  if (response.peers().empty()) return "(no peers)\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& peer : response.peers()) {
    // Links, frames and lag describe other nodes; for this node they are meaningless.
    bool self = peer.self();
    rows.push_back({AbbreviateId(peer.node_id()), NameOrDash(peer.name()), peer.status(),
                    ShortMesh(peer.mesh_id()),
                    self ? "-" : (peer.connected() ? "yes" : "no"),
                    self ? "-" : FormatAgoMs(peer.last_seen_ms(), now_ms),
                    self ? "-" : std::to_string(peer.lag()),
                    peer.addresses().empty() ? "-" : Joined(peer.addresses(), ",", true),
                    PeerNotes(peer)});
  }
  return FormatTable({"NODE", "NAME", "STATUS", "MESH", "CONNECTED", "LAST SEEN", "LAG",
                      "ADDRESSES", "NOTES"},
                     rows);
}

nlohmann::json PeerInfoJson(const v1::PeerInfo& peer) {
  return nlohmann::json{{"node_id", peer.node_id()},
                        {"name", peer.name()},
                        {"status", peer.status()},
                        {"mesh_id", peer.mesh_id()},
                        {"addresses", StringArray(peer.addresses())},
                        {"connected", peer.connected()},
                        {"remote_address", peer.remote_address()},
                        {"last_seen_ms", peer.last_seen_ms()},
                        {"last_sync_ms", peer.last_sync_ms()},
                        {"lag", peer.lag()},
                        {"forked", peer.forked()},
                        {"self", peer.self()},
                        {"revoked_by", peer.revoked_by()},
                        {"revoked_at_ms", peer.revoked_at_ms()}};
}

nlohmann::json PeerListJson(const v1::ListPeersResponse& response) {
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& peer : response.peers()) peers.push_back(PeerInfoJson(peer));
  return nlohmann::json{{"peers", std::move(peers)}};
}

std::string RevokedPeersText(const v1::ListPeersResponse& response) {
  std::string out;
  for (const auto& peer : response.peers()) {
    std::string name = peer.name().empty() ? "" : " (" + EscapeForLine(peer.name()) + ")";
    out += fmt::format("revoked {}{} in mesh {}\n", AbbreviateId(peer.node_id()), name,
                       ShortMesh(peer.mesh_id()));
  }
  return out;
}

std::string RenamedPeersText(const v1::ListPeersResponse& response) {
  std::string out;
  for (const auto& peer : response.peers()) {
    out += fmt::format("renamed {} to {} in mesh {}\n", AbbreviateId(peer.node_id()),
                       EscapeForLine(peer.name()), ShortMesh(peer.mesh_id()));
  }
  return out;
}

}  // namespace lattice::ctl
