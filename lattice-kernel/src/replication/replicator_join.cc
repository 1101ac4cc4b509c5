// Replicator: invitations and joins. An inviter issues a token whose proof a joiner's link
// presents; the inviter welcomes the joiner with the mesh's record, and the joiner records
// the mesh and bootstraps its stores from the inviter before it counts as joined.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "net/address.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"
#include "replication/replicator.h"
#include "state/root_rules.h"

namespace lattice::kernel::replication {

using Clock = std::chrono::steady_clock;

absl::StatusOr<InviteInfo> Replicator::Invite(const std::string& mesh_id, uint64_t ttl_ms,
                                              const std::string& readmit) {
  if (advertised_.empty()) {
    return absl::FailedPreconditionError(
        "this node announces no address a joiner could dial; start the kernel with "
        "--listen HOST:PORT or --advertise HOST:PORT");
  }
  if (node_.RootOf(mesh_id) == nullptr) {
    return absl::NotFoundError(fmt::format("this node is in no mesh {}", FormatStoreId(mesh_id)));
  }
  if (!readmit.empty()) {
    auto member = node_.Member(mesh_id, readmit);
    if (!member || member->status != kMemberRevoked) {
      return absl::FailedPreconditionError(fmt::format(
          "node {} is not revoked from mesh {}; a plain invite admits it",
          ShortHex(readmit), FormatStoreId(mesh_id)));
    }
  }
  if (ttl_ms == 0) ttl_ms = kDefaultInviteTtlMs;
  LATTICE_ASSIGN_OR_RETURN(auto record,
                           invites_.Issue(mesh_id, node_.clock().WallMs(), ttl_ms, readmit));
  v1::InviteToken token;
  token.set_mesh_id(mesh_id);
  token.set_inviter_id(self_id_);
  for (const auto& address : advertised_) token.add_addresses(address);
  token.set_invite_id(record.invite_id());
  token.set_secret(record.secret());
  token.set_expires_ms(record.expires_ms());
  InviteInfo info;
  info.token = EncodeInviteToken(token);
  info.invite_id = ToHex(record.invite_id());
  info.mesh_id = mesh_id;
  info.expires_ms = record.expires_ms();
  info.addresses = advertised_;
  spdlog::info("issued invite {} to mesh {}, valid until {} ms", info.invite_id,
               FormatStoreId(mesh_id), info.expires_ms);
  return info;
}

void Replicator::WelcomeJoiner(const ConnectionPtr& conn) {
  auto invite = invites_.Find(conn->invite_id());
  if (!invite || invite->used_by() != conn->peer_id()) {
    conn->Close("the invite is not valid for this node");
    return;
  }
  const std::string& mesh = invite->mesh_id();
  Store* root = node_.RootOf(mesh);
  auto record = node_.MeshRecordOf(mesh);
  if (root == nullptr || !record) {
    conn->Close("this node is no longer in the invited mesh");
    return;
  }
  if (!membership_.IsActive(mesh, conn->peer_id())) {
    // An invite made to re-admit a revoked node ends its void ranges here.
    auto written = invite->readmit() == conn->peer_id()
                       ? node_.ReadmitMember(mesh, conn->peer_id())
                       : node_.AdmitMember(mesh, conn->peer_id());
    if (!written.ok()) {
      spdlog::error("mesh {}: admitting {} failed: {}", FormatStoreId(mesh),
                    ShortHex(conn->peer_id()), written.message());
      conn->Close(written.code() == absl::StatusCode::kFailedPrecondition
                      ? std::string(written.message())
                      : "the inviter could not record the new member; try again");
      return;
    }
    spdlog::info("mesh {}: node {} joined with invite {}", FormatStoreId(mesh),
                 ShortHex(conn->peer_id()), ToHex(conn->invite_id()));
  }
  v1::PeerMessage welcome;
  welcome.mutable_welcome()->set_mesh_id(mesh);
  welcome.mutable_welcome()->set_inviter_name(node_.name().substr(0, limits::kMaxNameBytes));
  welcome.mutable_welcome()->set_creator(record->creator());
  (void)conn->Send(welcome, std::chrono::milliseconds(5000));
}

void Replicator::OnWelcome(const ConnectionPtr& conn, const v1::JoinWelcome& welcome) {
  std::string name;
  {
    std::lock_guard lock(mu_);
    auto it = joins_.find(welcome.mesh_id());
    if (it == joins_.end() || it->second.inviter_id != conn->peer_id()) {
      conn->ReportInvalid("a welcome to a mesh this node did not ask to join");
      return;
    }
    name = it->second.name;
  }
  v1::MeshRecord record;
  record.set_root_store_id(FormatStoreId(welcome.mesh_id()));
  record.set_creator(welcome.creator());
  record.set_inviter(conn->peer_id());
  record.set_name(name);
  auto added = node_.AddMesh(record);
  if (!added.ok() && added.code() != absl::StatusCode::kAlreadyExists) {
    spdlog::error("joining mesh {} failed: {}", record.root_store_id(), added.message());
    return;
  }
  WatchStores();
  bootstrapper_->Start(conn, welcome.mesh_id());
  {
    std::lock_guard lock(mu_);
    auto it = joins_.find(welcome.mesh_id());
    if (it != joins_.end()) {
      it->second.welcomed = true;
      it->second.inviter_name = welcome.inviter_name();
    }
  }
  cv_.notify_all();
}

absl::StatusOr<JoinInfo> Replicator::Join(const std::string& token_text, const std::string& name,
                                          std::chrono::milliseconds timeout) {
  LATTICE_ASSIGN_OR_RETURN(v1::InviteToken token, DecodeInviteToken(token_text));
  if (token.expires_ms() <= node_.clock().WallMs()) {
    return absl::FailedPreconditionError("the invite has expired; ask for a new one");
  }
  if (token.inviter_id() == self_id_) {
    return absl::InvalidArgumentError("this invite was issued by this very node");
  }
  if (node_.RootOf(token.mesh_id()) != nullptr) {
    // A node revoked from the mesh joins again (with an invite that re-admits it).
    auto self = node_.Member(token.mesh_id(), self_id_);
    if (!self || self->status != kMemberRevoked) {
      return absl::AlreadyExistsError(
          fmt::format("this node is already in mesh {}", FormatStoreId(token.mesh_id())));
    }
  }
  if (name.size() > limits::kMaxNameBytes) return LimitExceeded("node name", name.size(), limits::kMaxNameBytes);
  {
    std::lock_guard lock(mu_);
    if (joins_.count(token.mesh_id())) {
      return absl::FailedPreconditionError("a join of this mesh is in progress already");
    }
    joins_[token.mesh_id()] = PendingJoin{token.inviter_id(), name, false, ""};
  }
  auto deadline = Clock::now() + timeout;
  auto finish = [&](absl::Status status) -> absl::StatusOr<JoinInfo> {
    std::lock_guard lock(mu_);
    JoinInfo info{token.mesh_id(), token.inviter_id(), joins_[token.mesh_id()].inviter_name};
    joins_.erase(token.mesh_id());
    if (!status.ok()) return status;
    return info;
  };

  // Reach the inviter at any of its addresses, retrying until the deadline.
  absl::Status last = absl::UnavailableError("the inviter could not be reached");
  bool linked = false;
  while (!linked && Clock::now() < deadline) {
    for (const auto& address : token.addresses()) {
      net::DialRequest request;
      request.address = address;
      request.expected_node_id = token.inviter_id();
      request.invite = net::InviteCredential{token.invite_id(), token.secret()};
      auto link = transport_->Dial(request);
      if (link.ok()) {
        OnLink(*std::move(link));
        linked = true;
        break;
      }
      last = absl::Status(link.status().code(),
                          fmt::format("{}: {}", address, link.status().message()));
      if (link.status().code() == absl::StatusCode::kPermissionDenied ||
          link.status().code() == absl::StatusCode::kFailedPrecondition) {
        return finish(last);  // refused, or someone else answered: retrying will not help
      }
    }
    if (!linked) {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, std::min(deadline, Clock::now() + options_.min_dial_backoff * 4),
                     [&] { return stopping_; });
      if (stopping_) return finish(absl::UnavailableError("the node is shutting down"));
    }
  }
  if (!linked) return finish(absl::DeadlineExceededError(std::string(last.message())));

  // The inviter records us as a member and welcomes us; then the mesh's root store
  // bootstraps from it.
  {
    std::unique_lock lock(mu_);
    bool welcomed = cv_.wait_until(lock, deadline, [&] {
      return stopping_ || joins_[token.mesh_id()].welcomed;
    });
    if (!welcomed || stopping_) {
      lock.unlock();
      return finish(absl::DeadlineExceededError("the inviter did not confirm the join in time"));
    }
  }
  while (Clock::now() < deadline && bootstrapper_->Needed(token.mesh_id())) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)),
                   [&] { return stopping_; });
    if (stopping_) break;
  }
  if (bootstrapper_->Needed(token.mesh_id())) {
    return finish(absl::DeadlineExceededError(
        "joined, but the mesh's root store is still being fetched; `lattice-ctl status` shows "
        "its progress"));
  }
  AnnounceSelf();
  Kick();
  return finish(absl::OkStatus());
}

void Replicator::OnBootstrapped(const ConnectionPtr& from, const std::string& store_id) {
  if (node_.MeshRecordOf(store_id)) {
    // A root store: it lists the mesh's members and child stores.
    node_.RefreshRegistry();
    WatchStores();
    AnnounceSelf();
    cv_.notify_all();
  }
  // Catch up on what was written while the bootstrap ran, and on who is present.
  reconciler_->Start(from, store_id);
  presence_->OnStoreArrived(store_id);
  Kick();
}

}  // namespace lattice::kernel::replication
