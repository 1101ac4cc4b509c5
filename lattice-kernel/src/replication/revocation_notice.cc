#include "replication/revocation_notice.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"
#include "state/root_rules.h"

namespace lattice::kernel::replication {
namespace {

constexpr auto kFlushPoll = std::chrono::milliseconds(5);

}  // namespace

std::vector<v1::PeerMessage> RevocationNotice(Node& node, const std::string& mesh_id,
                                              const std::string& peer_id) {
  std::vector<v1::PeerMessage> out;
  Store* root = node.RootOf(mesh_id);
  if (root == nullptr) return out;
  std::vector<v1::SignedIntention> intentions;
  bool has_revocation = false;
  auto standing = node.StandingOf(mesh_id);
  std::string revocation;
  if (auto it = standing->find(peer_id); it != standing->end()) revocation = it->second.revocation_hash;
  // Only what is durable leaves this node (Store::DurableForPeers).
  auto durable = root->DurableForPeers();
  uint64_t last = durable.ok() ? *durable : root->durable_witness();
  uint64_t after = last > kRevocationNoticeIntentions ? last - kRevocationNoticeIntentions : 0;
  if (last > after) {
    (void)root->ReadLog(after, last - after, [&](uint64_t, const DecodedIntention& intention, bool) {
      has_revocation |= intention.hash == revocation;
      intentions.push_back(intention.signed_intention);
      return true;
    });
  }
  if (!has_revocation && !revocation.empty()) {
    std::vector<v1::SignedIntention> found;
    std::vector<std::string> unknown;
    if (root->FindInWitnessOrder({revocation}, &found, &unknown).ok() && !found.empty()) {
      intentions.insert(intentions.begin(), found.front());
    }
  }
  size_t i = 0;
  while (i < intentions.size()) {
    v1::PeerMessage message;
    v1::IntentionPush* push = message.mutable_push();
    push->set_store_id(mesh_id);
    i = PackIntentions(intentions, i, push->mutable_intentions());
    out.push_back(std::move(message));
  }
  return out;
}

void SendRevocationNoticeAndClose(Node& node, PeerConnection& conn,
                                  const std::vector<std::string>& meshes,
                                  const std::function<bool()>& received) {
  auto deadline = std::chrono::steady_clock::now() + kRevocationNoticeTimeout;
  uint64_t expected = conn.stats().frames_sent;
  std::string reason = "you are not an active member of any mesh this node is in";
  for (const auto& mesh_id : meshes) {
    for (const auto& message : RevocationNotice(node, mesh_id, conn.peer_id())) {
      if (conn.Send(message, kRevocationNoticeTimeout).ok()) ++expected;
    }
    if (auto member = node.Member(mesh_id, conn.peer_id()); member && member->status == kMemberRevoked) {
      reason = fmt::format("you were revoked: {}", RevocationText(*member, mesh_id));
    }
  }
  // Closing drops what is still queued: wait until the notice left (or the time is up).
  while (conn.open() && (conn.stats().frames_sent < expected || (received && !received())) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kFlushPoll);
  }
  conn.Close(reason);
}

}  // namespace lattice::kernel::replication
