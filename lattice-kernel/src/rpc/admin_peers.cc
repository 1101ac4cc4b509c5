// The Admin calls about peers and replication: invites and joins, the peer list, revocation
// and renaming, a store's replication status, reconciliation on demand, floating intentions.
#include <fmt/format.h>

#include <algorithm>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "replication/replicator.h"
#include "rpc/services.h"
#include "store/sync_snapshot.h"

namespace lattice::kernel {
namespace {

constexpr auto kDefaultJoinTimeout = std::chrono::seconds(30);
constexpr auto kDefaultSyncTimeout = std::chrono::seconds(30);
constexpr size_t kMaxFloatingListed = 10'000;
constexpr size_t kMinNodePrefixDigits = 8;

absl::Status NoReplication() {
  return absl::FailedPreconditionError("this kernel runs without peer replication");
}

void FillPeerInfo(const replication::PeerView& view, v1::PeerInfo* out) {
  out->set_node_id(ToHex(view.member.node_id));
  out->set_name(view.member.name);
  out->set_status(view.member.status);
  out->set_mesh_id(FormatStoreId(view.mesh_id));
  for (const auto& a : view.member.addresses) out->add_addresses(a);
  out->set_connected(view.connected);
  out->set_last_seen_ms(view.last_seen_ms);
  out->set_forked(view.forked);
  out->set_self(view.self);
  out->set_lag(view.lag);
  out->set_remote_address(view.remote_address);
  out->set_last_sync_ms(view.last_sync_ms);
  if (!view.member.revoked_by.empty()) out->set_revoked_by(ToHex(view.member.revoked_by));
  out->set_revoked_at_ms(view.member.revoked_at_ms);
}

// The members `text` names (a node id, a unique prefix of one, or a name) in the meshes of
// `views`: one node, possibly in several meshes.
absl::StatusOr<std::vector<replication::PeerView>> MatchPeer(
    const std::vector<replication::PeerView>& views, const std::string& text) {
  std::string lowered = text;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
  std::set<std::string> ids;
  std::vector<replication::PeerView> matched;
  for (const auto& view : views) {
    std::string hex = ToHex(view.member.node_id);
    bool by_id = hex == lowered ||
                 (lowered.size() >= kMinNodePrefixDigits && hex.rfind(lowered, 0) == 0);
    if (by_id || view.member.name == text) {
      ids.insert(view.member.node_id);
      matched.push_back(view);
    }
  }
  if (ids.empty()) return absl::NotFoundError(fmt::format("no peer {}", Quote(text)));
  if (ids.size() > 1) {
    return absl::InvalidArgumentError(fmt::format(
        "{} names {} different nodes; use a longer node id", Quote(text), ids.size()));
  }
  return matched;
}

}  // namespace

absl::StatusOr<std::string> AdminService::ResolveMesh(const std::string& mesh) {
  if (mesh.empty()) return ctx_.node.own_mesh_id();
  LATTICE_ASSIGN_OR_RETURN(auto d, ctx_.node.Resolve(mesh));
  return d.mesh_id;
}

absl::StatusOr<std::string> AdminService::ResolveMeshFilter(const std::string& mesh) {
  if (mesh.empty()) return std::string();
  return ResolveMesh(mesh);
}

void AdminService::FillPeerViewsOf(const std::string& mesh, const std::string& node_id,
                                   v1::ListPeersResponse* response) {
  for (const auto& view : ctx_.replicator->Peers(mesh)) {
    if (view.member.node_id == node_id) FillPeerInfo(view, response->add_peers());
  }
}

grpc::Status AdminService::Floating(grpc::ServerContext* context, const v1::StoreRef* request,
                                    v1::FloatingResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto d = ctx_.node.Resolve(request->store());
  if (!d.ok()) return ToGrpc(d.status());
  Store* store = ctx_.node.StoreById(d->id);
  if (store == nullptr) return ToGrpc(absl::UnavailableError("store is not open"));
  for (const auto& f : store->Floating(kMaxFloatingListed)) {
    auto* out = response->add_intentions();
    out->set_hash(ToHex(f.hash));
    out->set_author(ToHex(f.author));
    out->set_seq(f.seq);
    out->set_wall_ms(f.wall_ms);
    out->set_held(f.held);
    for (const auto& m : f.missing) out->add_missing(ToHex(m));
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::StoreStatus(grpc::ServerContext* context, const v1::StoreRef* request,
                                       v1::StoreStatusResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  auto d = ctx_.node.Resolve(request->store());
  if (!d.ok()) return ToGrpc(d.status());
  Store* store = ctx_.node.StoreById(d->id);
  if (store == nullptr) return ToGrpc(absl::UnavailableError("store is not open"));
  FillStoreInfo(ctx_.node, *d, response->mutable_store());
  response->set_witnessed(store->last_witness());
  response->set_floating(store->floating_count());
  response->set_noops(store->noop_count());
  auto forks = store->ForkProofs();
  if (forks.ok()) response->set_forks(forks->size());
  auto snapshot = SyncSnapshot::Open(store->db());
  if (!snapshot.ok()) return ToGrpc(snapshot.status());
  auto total = (*snapshot)->Total();
  if (!total.ok()) return ToGrpc(total.status());
  auto fingerprint = sync::FingerprintOf(*total);
  response->set_fingerprint(ToHex(std::string_view(reinterpret_cast<const char*>(fingerprint.data()),
                                                   fingerprint.size())));
  response->set_sync_items(total->count);
  auto state_hash = store->StateHash();
  if (state_hash.ok()) response->set_state_hash(*state_hash);
  if (ctx_.replicator == nullptr) return grpc::Status::OK;
  std::map<std::string, v1::PeerSyncStatus> peers;
  for (const auto& view : ctx_.replicator->Peers(d->mesh_id)) {
    if (view.self || view.member.status != "active") continue;
    auto& p = peers[view.member.node_id];
    p.set_node_id(ToHex(view.member.node_id));
    p.set_name(view.member.name);
    p.set_connected(view.connected);
  }
  for (const auto& state : ctx_.replicator->SyncStateOf(d->id)) {
    auto& p = peers[state.peer_id];
    p.set_node_id(ToHex(state.peer_id));
    p.set_last_sync_ms(state.last_sync_ms);
    p.set_lag(state.lag);
    p.set_last_error(state.last_error);
  }
  for (auto& [id, p] : peers) *response->add_peers() = std::move(p);
  return grpc::Status::OK;
}

grpc::Status AdminService::SyncStore(grpc::ServerContext* context,
                                     const v1::SyncStoreRequest* request,
                                     v1::SyncStoreResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (ctx_.replicator == nullptr) return ToGrpc(NoReplication());
  auto d = ctx_.node.Resolve(request->store());
  if (!d.ok()) return ToGrpc(d.status());
  if (auto self = ctx_.node.Member(d->mesh_id, ctx_.node.identity().public_key);
      self && !self->revoked_by.empty()) {
    return ToGrpc(absl::PermissionDeniedError(
        RevocationText(*self, d->mesh_id) + ": no member reconciles with it any more"));
  }
  std::string peer;
  if (!request->peer().empty()) {
    auto matched = MatchPeer(ctx_.replicator->Peers(d->mesh_id), request->peer());
    if (!matched.ok()) return ToGrpc(matched.status());
    peer = matched->front().member.node_id;
  }
  auto timeout = request->timeout_ms() > 0 ? std::chrono::milliseconds(request->timeout_ms())
                                           : std::chrono::milliseconds(kDefaultSyncTimeout);
  auto reports = ctx_.replicator->SyncNow(d->id, peer, timeout);
  if (reports.empty()) {
    // No other active member: nothing to reconcile with, which is success (no results).
    for (const auto& view : ctx_.replicator->Peers(d->mesh_id)) {
      if (!view.self && view.member.status == "active") {
        return ToGrpc(absl::UnavailableError("no peer of this store's mesh is connected"));
      }
    }
  }
  for (const auto& report : reports) {
    auto* out = response->add_results();
    out->set_node_id(ToHex(report.peer_id));
    out->set_ok(report.ok);
    out->set_error(report.error);
    out->set_fetched(report.fetched);
    out->set_sent(report.sent);
    out->set_rounds(report.rounds);
    out->set_bytes(report.bytes);
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::InvitePeer(grpc::ServerContext* context,
                                      const v1::InvitePeerRequest* request,
                                      v1::InvitePeerResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (ctx_.replicator == nullptr) return ToGrpc(NoReplication());
  auto mesh = ResolveMesh(request->mesh());
  if (!mesh.ok()) return ToGrpc(mesh.status());
  if (request->ttl_seconds() > limits::kMaxTtlSeconds) {
    return ToGrpc(absl::InvalidArgumentError(
        fmt::format("an invite TTL of {} seconds is longer than the maximum of {} seconds",
                    request->ttl_seconds(), limits::kMaxTtlSeconds)));
  }
  std::string readmit;
  if (!request->readmit().empty()) {
    auto matched = MatchPeer(ctx_.replicator->Peers(*mesh), request->readmit());
    if (!matched.ok()) return ToGrpc(matched.status());
    readmit = matched->front().member.node_id;
  }
  auto invite = ctx_.replicator->Invite(*mesh, request->ttl_seconds() * 1000, readmit);
  if (!invite.ok()) return ToGrpc(invite.status());
  response->set_token(invite->token);
  response->set_invite_id(invite->invite_id);
  response->set_mesh_id(FormatStoreId(invite->mesh_id));
  response->set_expires_ms(invite->expires_ms);
  for (const auto& a : invite->addresses) response->add_addresses(a);
  return grpc::Status::OK;
}

grpc::Status AdminService::JoinMesh(grpc::ServerContext* context, const v1::JoinMeshRequest* request,
                                    v1::JoinMeshResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (ctx_.replicator == nullptr) return ToGrpc(NoReplication());
  auto timeout = request->timeout_ms() > 0 ? std::chrono::milliseconds(request->timeout_ms())
                                           : std::chrono::milliseconds(kDefaultJoinTimeout);
  auto joined = ctx_.replicator->Join(request->token(), request->name(), timeout);
  if (!joined.ok()) return ToGrpc(joined.status());
  response->set_mesh_id(FormatStoreId(joined->mesh_id));
  response->set_inviter_id(ToHex(joined->inviter_id));
  response->set_inviter_name(joined->inviter_name);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListPeers(grpc::ServerContext* context,
                                     const v1::ListPeersRequest* request,
                                     v1::ListPeersResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (ctx_.replicator == nullptr) return ToGrpc(NoReplication());
  auto mesh = ResolveMeshFilter(request->mesh());
  if (!mesh.ok()) return ToGrpc(mesh.status());
  for (const auto& view : ctx_.replicator->Peers(*mesh)) FillPeerInfo(view, response->add_peers());
  return grpc::Status::OK;
}

grpc::Status AdminService::RevokePeer(grpc::ServerContext* context, const v1::PeerRef* request,
                                      v1::ListPeersResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (ctx_.replicator == nullptr) return ToGrpc(NoReplication());
  auto mesh = ResolveMeshFilter(request->mesh());
  if (!mesh.ok()) return ToGrpc(mesh.status());
  auto matched = MatchPeer(ctx_.replicator->Peers(*mesh), request->node());
  if (!matched.ok()) return ToGrpc(matched.status());
  for (const auto& view : *matched) {
    if (view.self) {
      return ToGrpc(absl::InvalidArgumentError("a node cannot revoke itself"));
    }
    auto revoked = ctx_.replicator->Revoke(view.mesh_id, view.member.node_id);
    if (!revoked.ok()) return ToGrpc(revoked);
  }
  FillPeerViewsOf(*mesh, matched->front().member.node_id, response);
  return grpc::Status::OK;
}

grpc::Status AdminService::RenamePeer(grpc::ServerContext* context,
                                      const v1::RenamePeerRequest* request,
                                      v1::ListPeersResponse* response) {
  LATTICE_REQUIRE_ADMIN(ctx_, context);
  if (ctx_.replicator == nullptr) return ToGrpc(NoReplication());
  if (request->name().empty() || request->name().size() > limits::kMaxNodeNameBytes) {
    return ToGrpc(absl::InvalidArgumentError("a node name must have 1 to 128 characters"));
  }
  auto mesh = ResolveMeshFilter(request->mesh());
  if (!mesh.ok()) return ToGrpc(mesh.status());
  auto matched = MatchPeer(ctx_.replicator->Peers(*mesh), request->node());
  if (!matched.ok()) return ToGrpc(matched.status());
  for (const auto& view : *matched) {
    if (!view.self) {
      // The root store takes a node's name only from the node itself (state/root_rules.h):
      // another node's write would be a no-op everywhere.
      return ToGrpc(absl::PermissionDeniedError(fmt::format(
          "only node {} itself can change its name; run `lattice-ctl peer rename {} NAME` on it",
          ShortHex(view.member.node_id), ToHex(view.member.node_id))));
    }
  }
  for (const auto& view : *matched) {
    auto renamed = ctx_.node.RenameSelf(view.mesh_id, request->name());
    if (!renamed.ok()) return ToGrpc(renamed);
  }
  FillPeerViewsOf(*mesh, matched->front().member.node_id, response);
  return grpc::Status::OK;
}

}  // namespace lattice::kernel
