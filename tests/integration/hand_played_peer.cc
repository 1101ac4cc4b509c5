#include "integration/hand_played_peer.h"

#include <future>
#include <mutex>

#include "dag/hlc.h"
#include "dag/intention.h"
#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "lattice/v1/replication.pb.h"
#include "replication/invites.h"

namespace lattice::testing {

HandPlayedPeer::HandPlayedPeer() : key_(GenerateKeyPair()) {
  kernel::net::TransportConfig config;
  config.identity = &key_;
  transport_ = std::make_unique<kernel::net::TcpTransport>(std::move(config));
}

HandPlayedPeer::~HandPlayedPeer() {
  for (auto& link : links_) link->Close("done");
  links_.clear();
  transport_.reset();
}

std::string HandPlayedPeer::id_hex() const { return ToHex(key_.public_key); }

absl::StatusOr<std::unique_ptr<HandPlayedPeer>> HandPlayedPeer::Join(const std::string& token) {
  std::unique_ptr<HandPlayedPeer> peer(new HandPlayedPeer());
  LATTICE_RETURN_IF_ERROR(peer->Rejoin(token));
  return peer;
}

absl::Status HandPlayedPeer::Rejoin(const std::string& token) {
  LATTICE_ASSIGN_OR_RETURN(auto invite, kernel::replication::DecodeInviteToken(token));
  mesh_id_ = invite.mesh_id();
  kernel::net::DialRequest request;
  request.address = invite.addresses(0);
  request.expected_node_id = invite.inviter_id();
  request.invite = kernel::net::InviteCredential{invite.invite_id(), invite.secret()};
  LATTICE_ASSIGN_OR_RETURN(auto link, transport_->Dial(request));
  // As a kernel does, wait for the welcome: until the inviter has recorded the new member
  // it ignores what the member sends for the mesh's stores.
  auto welcomed = std::make_shared<std::promise<void>>();
  auto once = std::make_shared<std::once_flag>();
  std::future<void> welcome = welcomed->get_future();
  link->Start({[welcomed, once](std::string payload) {
                 v1::PeerMessage message;
                 if (message.ParseFromString(payload) && message.has_welcome()) {
                   std::call_once(*once, [&] { welcomed->set_value(); });
                 }
               },
               [](const absl::Status&) {}});
  links_.insert(links_.begin(), std::move(link));
  if (welcome.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return absl::DeadlineExceededError("the inviter sent no welcome within 30 s");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<kernel::net::Link>> HandPlayedPeer::Dial(
    const std::string& address, const std::string& node_id_hex) {
  kernel::net::DialRequest request;
  request.address = address;
  request.expected_node_id = *FromHex(node_id_hex);
  LATTICE_ASSIGN_OR_RETURN(auto link, transport_->Dial(request));
  link->Start({[](std::string) {}, [](const absl::Status&) {}});
  links_.push_back(link);
  return link;
}

absl::Status HandPlayedPeer::Push(kernel::net::Link& link, const std::string& store_id,
                                  const std::vector<v1::SignedIntention>& intentions) {
  v1::PeerMessage message;
  message.mutable_push()->set_store_id(*ParseStoreId(store_id));
  message.mutable_push()->set_gossip(true);
  for (const auto& intention : intentions) *message.mutable_push()->add_intentions() = intention;
  return link.Send(message.SerializeAsString(), std::chrono::milliseconds(5000));
}

v1::SignedIntention HandPlayedPeer::At(const std::string& store_id, uint64_t seq,
                                       const std::string& prev, const std::string& op_type,
                                       const std::string& payload) {
  v1::Intention body;
  body.set_store_id(*ParseStoreId(store_id));
  body.set_author(key_.public_key);
  body.set_seq(seq);
  body.set_prev(prev);
  body.mutable_hlc()->set_wall_ms(kernel::HybridClock::SystemWallMs());
  body.set_op_type(op_type);
  body.set_payload(payload);
  return kernel::SignIntention(key_, body).signed_intention;
}

v1::SignedIntention HandPlayedPeer::NextKv(const std::string& store_id, const std::string& key,
                                           const std::string& value) {
  v1::KvPayload payload;
  payload.add_ops()->set_key(key);
  payload.mutable_ops(0)->set_value(value);
  v1::SignedIntention signed_intention =
      At(store_id, seq_ + 1, tip_, std::string(kernel::kOpKv), payload.SerializeAsString());
  ++seq_;
  tip_ = Blake2b256(signed_intention.body());
  return signed_intention;
}

}  // namespace lattice::testing
