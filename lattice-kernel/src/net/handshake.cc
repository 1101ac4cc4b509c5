#include "net/handshake.h"

#include <sodium.h>

#include <algorithm>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"
#include "lattice/v1/peer_handshake.pb.h"
#include "net/link_limits.h"
#include "net/peer_text.h"

namespace lattice::kernel::net {
namespace {

static_assert(crypto_kx_PUBLICKEYBYTES == 32);
static_assert(crypto_kx_SESSIONKEYBYTES == kStreamKeyBytes);
static_assert(kHelloBytes == 4 + 1 + 1 + crypto_kx_PUBLICKEYBYTES);

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

void WipeString(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

Role Other(Role role) { return role == Role::kDialer ? Role::kListener : Role::kDialer; }

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kDialer ? "dialer" : "listener";
}

Handshake::Handshake(Role role, const KeyPair* identity)
    : role_(role), identity_(identity), decoder_(kFrameOverheadBytes, kMaxHandshakeFrameBytes) {
  InitCrypto();
  ephemeral_public_.assign(crypto_kx_PUBLICKEYBYTES, '\0');
  ephemeral_secret_.assign(crypto_kx_SECRETKEYBYTES, '\0');
  crypto_kx_keypair(MutableBytes(ephemeral_public_), MutableBytes(ephemeral_secret_));
  own_hello_.append(kHelloMagic);
  own_hello_.push_back(static_cast<char>(kHandshakeVersion));
  own_hello_.push_back(static_cast<char>(role));
  own_hello_.append(ephemeral_public_);
  output_ = own_hello_;
}

absl::StatusOr<Handshake> Handshake::ForDialer(const KeyPair* identity,
                                               std::string expected_peer_id,
                                               std::optional<InviteCredential> invite) {
  if (expected_peer_id.size() != kNodeIdBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "the node to dial is a {}-byte id; node ids have {} bytes", expected_peer_id.size(),
        kNodeIdBytes));
  }
  if (invite) {
    // Checks the sizes the MAC needs, so a bad invite fails before connecting.
    auto probe = ComputeInviteMac(invite->secret, invite->invite_id, "", "");
    if (!probe.ok()) return probe.status();
  }
  Handshake handshake(Role::kDialer, identity);
  handshake.expected_peer_id_ = std::move(expected_peer_id);
  handshake.invite_ = std::move(invite);
  return handshake;
}

Handshake Handshake::ForListener(const KeyPair* identity, AdmitPeerFn admit) {
  Handshake handshake(Role::kListener, identity);
  handshake.admit_ = std::move(admit);
  return handshake;
}

Handshake::Handshake(Handshake&&) noexcept = default;
Handshake& Handshake::operator=(Handshake&&) noexcept = default;

Handshake::~Handshake() { Wipe(); }

void Handshake::Wipe() {
  WipeString(ephemeral_secret_);
  WipeString(rx_key_);
  WipeString(tx_key_);
  if (invite_) WipeString(invite_->secret);
}

std::string Handshake::TakeOutput() { return std::exchange(output_, std::string()); }

absl::Status Handshake::Fail(absl::Status status) {
  state_ = State::kFailed;
  Wipe();
  return status;
}

absl::Status Handshake::Feed(std::string_view bytes) {
  if (state_ == State::kFailed) return absl::FailedPreconditionError("the handshake failed");
  while (!bytes.empty() && state_ != State::kEstablished) {
    if (state_ == State::kAwaitHello || state_ == State::kAwaitHeader) {
      size_t want = state_ == State::kAwaitHello ? kHelloBytes : kStreamHeaderBytes;
      size_t take = std::min(want - pending_.size(), bytes.size());
      pending_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (pending_.size() < want) break;
      absl::Status status = state_ == State::kAwaitHello ? OnHello() : OnHeader();
      if (!status.ok()) return Fail(std::move(status));
      continue;
    }
    auto frame = decoder_.Next(&bytes);
    if (!frame.ok()) {
      return Fail(absl::Status(frame.status().code(),
                               fmt::format("handshake: {}", frame.status().message())));
    }
    if (!frame->has_value()) break;
    absl::Status status = OnFrame(**frame);
    if (!status.ok()) return Fail(std::move(status));
  }
  if (state_ == State::kEstablished) leftover_.append(bytes);
  return absl::OkStatus();
}

absl::Status Handshake::OnHello() {
  peer_hello_ = std::exchange(pending_, std::string());
  std::string_view hello = peer_hello_;
  if (hello.substr(0, kHelloMagic.size()) != kHelloMagic) {
    return absl::InvalidArgumentError("the peer is not a Lattice node (its hello has no magic)");
  }
  uint8_t version = static_cast<uint8_t>(hello[4]);
  if (version != kHandshakeVersion) {
    return absl::FailedPreconditionError(fmt::format(
        "the peer speaks handshake version {}, this node speaks {}", version, kHandshakeVersion));
  }
  uint8_t role = static_cast<uint8_t>(hello[5]);
  if (role != static_cast<uint8_t>(Other(role_))) {
    return absl::InvalidArgumentError(fmt::format(
        "the peer's hello claims role {}, expected the {} (a reflected or crossed connection)",
        role, RoleName(Other(role_))));
  }
  std::string_view peer_public = hello.substr(6);
  if (ConstantTimeEquals(peer_public, ephemeral_public_)) {
    return absl::InvalidArgumentError("the peer echoed our own ephemeral key (reflection)");
  }
  rx_key_.assign(crypto_kx_SESSIONKEYBYTES, '\0');
  tx_key_.assign(crypto_kx_SESSIONKEYBYTES, '\0');
  int rc = role_ == Role::kDialer
               ? crypto_kx_client_session_keys(MutableBytes(rx_key_), MutableBytes(tx_key_),
                                               Bytes(ephemeral_public_),
                                               Bytes(ephemeral_secret_), Bytes(peer_public))
               : crypto_kx_server_session_keys(MutableBytes(rx_key_), MutableBytes(tx_key_),
                                               Bytes(ephemeral_public_),
                                               Bytes(ephemeral_secret_), Bytes(peer_public));
  WipeString(ephemeral_secret_);
  if (rc != 0) {
    return absl::InvalidArgumentError("the peer's ephemeral key is unusable (a weak point)");
  }
  auto sealer = FrameSealer::Start(tx_key_, &own_header_);
  WipeString(tx_key_);
  if (!sealer.ok()) return sealer.status();
  sealer_.emplace(*std::move(sealer));
  output_.append(own_header_);
  state_ = State::kAwaitHeader;
  return absl::OkStatus();
}

absl::Status Handshake::OnHeader() {
  peer_header_ = std::exchange(pending_, std::string());
  auto opener = FrameOpener::Start(rx_key_, peer_header_);
  WipeString(rx_key_);
  if (!opener.ok()) return opener.status();
  opener_.emplace(*std::move(opener));
  state_ = State::kAwaitAuth;
  // The listener proves itself first, so a dialer learns who answered before it says who
  // it is or shows an invite.
  if (role_ == Role::kListener) SendAuth();
  return absl::OkStatus();
}

std::string Handshake::Transcript() const {
  std::string transcript;
  transcript.reserve(kTranscriptBytes);
  bool dialer = role_ == Role::kDialer;
  transcript.append(dialer ? own_hello_ : peer_hello_);
  transcript.append(dialer ? peer_hello_ : own_hello_);
  transcript.append(dialer ? own_header_ : peer_header_);
  transcript.append(dialer ? peer_header_ : own_header_);
  return transcript;
}

std::string Handshake::SignedMessage(Role signer) const {
  std::string message(1, static_cast<char>(signer));
  message.append(Transcript());
  return message;
}

void Handshake::SendFrame(std::string_view plaintext) {
  output_.append(sealer_->Seal(plaintext));
}

void Handshake::SendAuth() {
  v1::PeerAuth auth;
  auth.set_node_id(identity_->public_key);
  auth.set_signature(Sign(*identity_, kHandshakeContext, SignedMessage(role_)));
  if (role_ == Role::kDialer && invite_) {
    auto mac = ComputeInviteMac(invite_->secret, invite_->invite_id, identity_->public_key,
                                Transcript());
    if (mac.ok()) {  // sizes were checked in ForDialer
      auth.mutable_invite()->set_invite_id(invite_->invite_id);
      auth.mutable_invite()->set_mac(*mac);
    }
  }
  SendFrame(auth.SerializeAsString());
}

absl::Status Handshake::OnFrame(std::string_view ciphertext) {
  std::string plaintext;
  bool final = false;
  absl::Status opened = opener_->Open(ciphertext, &plaintext, &final);
  if (!opened.ok()) {
    return absl::Status(opened.code(), fmt::format("handshake: {}", opened.message()));
  }
  if (final) return absl::InvalidArgumentError("handshake: the peer ended its stream");
  if (state_ == State::kAwaitVerdict) return OnVerdict(plaintext);
  return role_ == Role::kDialer ? OnListenerAuth(plaintext) : OnDialerAuth(plaintext);
}

namespace {

// Parses a PeerAuth and checks its signature; returns the signer's node id.
absl::StatusOr<v1::PeerAuth> VerifiedAuth(std::string_view plaintext, Role signer,
                                          const std::string& signed_message) {
  v1::PeerAuth auth;
  if (!auth.ParseFromArray(plaintext.data(), static_cast<int>(plaintext.size()))) {
    return absl::InvalidArgumentError(
        fmt::format("handshake: the {}'s identity proof is not a PeerAuth message",
                    RoleName(signer)));
  }
  if (auth.node_id().size() != kNodeIdBytes ||
      !Verify(auth.node_id(), kHandshakeContext, signed_message, auth.signature())) {
    return absl::UnauthenticatedError(fmt::format(
        "handshake: the {}'s signature over the handshake does not verify", RoleName(signer)));
  }
  return auth;
}

}  // namespace

absl::Status Handshake::OnListenerAuth(std::string_view plaintext) {
  auto auth = VerifiedAuth(plaintext, Role::kListener, SignedMessage(Role::kListener));
  if (!auth.ok()) return auth.status();
  if (auth->has_invite()) {
    return absl::InvalidArgumentError("handshake: the listener sent an invite proof");
  }
  if (!ConstantTimeEquals(auth->node_id(), expected_peer_id_)) {
    return absl::FailedPreconditionError(
        fmt::format("reached node {} where node {} was expected; not linking",
                    ToHex(auth->node_id()), ToHex(expected_peer_id_)));
  }
  peer_id_ = auth->node_id();
  SendAuth();
  state_ = State::kAwaitVerdict;
  return absl::OkStatus();
}

absl::Status Handshake::OnDialerAuth(std::string_view plaintext) {
  auto auth = VerifiedAuth(plaintext, Role::kDialer, SignedMessage(Role::kDialer));
  absl::Status decision;
  std::optional<InviteProof> proof;
  if (!auth.ok()) {
    decision = auth.status();
  } else if (auth->has_invite() && (auth->invite().invite_id().empty() ||
                                    auth->invite().invite_id().size() > kMaxInviteIdBytes ||
                                    auth->invite().mac().size() != kInviteMacBytes)) {
    decision = absl::InvalidArgumentError("handshake: malformed invite proof");
  } else {
    if (auth->has_invite()) {
      proof.emplace(auth->invite().invite_id(), auth->invite().mac(), auth->node_id(),
                    Transcript());
    }
    decision = admit_ ? admit_(auth->node_id(), proof)
                      : absl::PermissionDeniedError("this node admits no peers");
    if (decision.ok()) {
      peer_id_ = auth->node_id();
      if (proof) admitted_invite_id_ = proof->invite_id();
    }
  }
  v1::PeerVerdict verdict;
  verdict.set_accepted(decision.ok());
  if (!decision.ok()) {
    verdict.set_code(static_cast<int32_t>(decision.code()));
    verdict.set_reason(PeerText(std::string(decision.message())));
  }
  SendFrame(verdict.SerializeAsString());
  if (!decision.ok()) {
    std::string who = auth.ok() ? ShortHex(auth->node_id()) : std::string("unproven node");
    return absl::Status(decision.code(),
                        fmt::format("refused {}: {}", who, decision.message()));
  }
  state_ = State::kEstablished;
  Wipe();
  return absl::OkStatus();
}

absl::Status Handshake::OnVerdict(std::string_view plaintext) {
  v1::PeerVerdict verdict;
  if (!verdict.ParseFromArray(plaintext.data(), static_cast<int>(plaintext.size()))) {
    return absl::InvalidArgumentError("handshake: the listener's verdict is malformed");
  }
  if (!verdict.accepted()) {
    int code = verdict.code();
    auto status_code = (code > 0 && code <= static_cast<int>(absl::StatusCode::kUnauthenticated))
                           ? static_cast<absl::StatusCode>(code)
                           : absl::StatusCode::kPermissionDenied;
    return absl::Status(status_code,
                        fmt::format("node {} refused the link: {}", ShortHex(peer_id_),
                                    PeerText(verdict.reason())));
  }
  state_ = State::kEstablished;
  if (invite_) admitted_invite_id_ = invite_->invite_id;
  Wipe();
  return absl::OkStatus();
}

EstablishedSession Handshake::TakeSession() {
  return EstablishedSession{role_,
                            peer_id_,
                            admitted_invite_id_,
                            *std::move(sealer_),
                            *std::move(opener_),
                            std::exchange(leftover_, std::string())};
}

}  // namespace lattice::kernel::net
