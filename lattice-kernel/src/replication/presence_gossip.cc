#include "replication/presence_gossip.h"

#include <spdlog/spdlog.h>

#include "lattice/common/hex.h"
#include "presence/presence_limits.h"
#include "presence/presence_signature.h"

namespace lattice::kernel::replication {

PresenceGossip::PresenceGossip(ReplicationContext& ctx, presence::PresenceHub& hub)
    : ctx_(ctx), hub_(hub) {
  hub_.SetSender([this](const std::string& store_id,
                        const std::vector<v1::PresenceAnnouncement>& entries,
                        const std::string& except_peer) { SendToPeers(store_id, entries, except_peer); });
}

PresenceGossip::~PresenceGossip() { hub_.SetSender(nullptr); }

void PresenceGossip::OnGossip(const ConnectionPtr& from, const v1::PresenceGossip& gossip) {
  std::vector<v1::PresenceAnnouncement> kept;
  uint64_t rejected = 0;
  bool forged = false;
  for (const auto& entry : gossip.entries()) {
    Store* store = ctx_.node.StoreById(entry.store_id());
    std::string mesh = store == nullptr ? "" : ctx_.node.MeshOfStore(entry.store_id());
    // Membership views may differ for a moment between nodes: an entry of a store or a
    // member unknown here is dropped quietly (its origin renews it).
    if (mesh.empty() || !ctx_.membership.IsActive(mesh, from->peer_id()) ||
        !ctx_.membership.IsActive(mesh, entry.origin())) {
      ++rejected;
      continue;
    }
    // Each node checks what it relays, so no honest peer sends a bad signature.
    if (!presence::VerifyAnnouncement(entry)) {
      ++rejected;
      forged = true;
      continue;
    }
    kept.push_back(entry);
  }
  if (forged) {
    spdlog::warn("peer {}: a presence announcement whose signature is not its origin's",
                 ShortHex(from->peer_id()));
    from->ReportInvalid("a presence announcement whose signature is not its origin's");
  }
  size_t accepted = kept.empty() ? 0 : hub_.Receive(from->peer_id(), kept);
  for (const auto& store_id : gossip.want()) SendLive(from, store_id);
  std::lock_guard lock(mu_);
  stats_.received += static_cast<uint64_t>(gossip.entries_size());
  stats_.accepted += accepted;
  stats_.rejected += rejected;
}

void PresenceGossip::OnLinked(const ConnectionPtr& conn) {
  for (const auto& d : ctx_.SharedStores(conn->peer_id())) {
    auto live = hub_.LiveAnnouncements(d.id);
    if (!live.empty()) SendTo(*conn, live);
  }
}

void PresenceGossip::OnStoreArrived(const std::string& store_id) {
  v1::PeerMessage message;
  message.mutable_presence()->add_want(store_id);
  for (const auto& conn : ctx_.PeersOf(store_id)) (void)conn->Send(message);
}

void PresenceGossip::SendLive(const ConnectionPtr& conn, const std::string& store_id) {
  if (ctx_.node.StoreById(store_id) == nullptr) return;
  std::string mesh = ctx_.node.MeshOfStore(store_id);
  if (mesh.empty() || !ctx_.membership.IsActive(mesh, conn->peer_id())) return;
  auto live = hub_.LiveAnnouncements(store_id);
  if (!live.empty()) SendTo(*conn, live);
}

PresenceGossipStats PresenceGossip::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void PresenceGossip::SendToPeers(const std::string& store_id,
                                 const std::vector<v1::PresenceAnnouncement>& entries,
                                 const std::string& except_peer) {
  for (const auto& conn : ctx_.PeersOf(store_id)) {
    if (conn->peer_id() != except_peer) SendTo(*conn, entries);
  }
}

void PresenceGossip::SendTo(PeerConnection& conn,
                            const std::vector<v1::PresenceAnnouncement>& entries) {
  for (size_t i = 0; i < entries.size(); i += presence::limits::kMaxAnnouncementsPerMessage) {
    v1::PeerMessage message;
    size_t end = std::min(entries.size(), i + presence::limits::kMaxAnnouncementsPerMessage);
    for (size_t j = i; j < end; ++j) *message.mutable_presence()->add_entries() = entries[j];
    // Not waited for: a lost announcement is made good by its next renewal.
    (void)conn.Send(message);
  }
}

}  // namespace lattice::kernel::replication
