// Fuzzes the handshake with arbitrary bytes as the peer's side, for both roles. The first
// byte: bit 0 picks the role under test (dialer or listener); bit 1 the mode:
//   raw         every byte the peer sends comes from the fuzzer, fed in chunks;
//   structured  the harness plays a genuine hello and stream header for the peer, then each
//               fuzzer message (u16 length, kind byte, body) is sealed with the genuine keys:
//               kind 0 sends the body as the plaintext; kind 1 a PeerAuth genuinely signed by
//               the peer's node key with the body as invite id and MAC; kind 2 a PeerVerdict
//               with the body as reason. So parsing, signatures, the identity check, invite
//               proofs, admission and refusals are all reached.
// Never crash; memory stays bounded.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "lattice/common/crypto.h"
#include "lattice/v1/peer_handshake.pb.h"
#include "net/frame_cipher.h"
#include "net/frame_receiver.h"
#include "net/handshake.h"
#include "net/link_limits.h"

namespace {

using namespace lattice;
using namespace lattice::kernel::net;

struct Keys {
  KeyPair self = GenerateKeyPair();
  KeyPair peer = GenerateKeyPair();
  std::string invite_secret = std::string(32, 'k');
};

Handshake MakeUnderTest(const Keys& keys, Role role) {
  if (role == Role::kDialer) {
    auto dialer = Handshake::ForDialer(&keys.self, keys.peer.public_key,
                                       InviteCredential{"fuzz-invite", keys.invite_secret});
    if (!dialer.ok()) std::abort();
    return *std::move(dialer);
  }
  return Handshake::ForListener(
      &keys.self, [&keys](const std::string&, const std::optional<InviteProof>& proof) {
        if (!proof) return absl::OkStatus();
        return proof->VerifiesWith(keys.invite_secret)
                   ? absl::OkStatus()
                   : absl::UnauthenticatedError("the invite proof does not verify");
      });
}

void FinishEstablished(Handshake& handshake) {
  if (!handshake.established()) return;
  EstablishedSession session = handshake.TakeSession();
  FrameReceiver receiver(session.opener);
  (void)receiver.Feed(session.leftover, [](std::string) {});
  if (receiver.buffered_bytes() > kLengthPrefixBytes + kMaxFrameCiphertextBytes) std::abort();
}

void RunRaw(const Keys& keys, Role role, std::string_view input, size_t chunk) {
  Handshake handshake = MakeUnderTest(keys, role);
  while (!input.empty() && !handshake.failed()) {
    std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    (void)handshake.Feed(piece);
    if (handshake.TakeOutput().size() > 4 * kMaxHandshakeFrameBytes) std::abort();
  }
  FinishEstablished(handshake);
}

void RunStructured(const Keys& keys, Role role, std::string_view input) {
  Handshake handshake = MakeUnderTest(keys, role);
  Role peer_role = role == Role::kDialer ? Role::kListener : Role::kDialer;
  std::string peer_public(crypto_kx_PUBLICKEYBYTES, '\0');
  std::string peer_secret(crypto_kx_SECRETKEYBYTES, '\0');
  crypto_kx_keypair(reinterpret_cast<unsigned char*>(peer_public.data()),
                    reinterpret_cast<unsigned char*>(peer_secret.data()));
  std::string peer_hello(kHelloMagic);
  peer_hello.push_back(static_cast<char>(kHandshakeVersion));
  peer_hello.push_back(static_cast<char>(peer_role));
  peer_hello += peer_public;

  std::string own = handshake.TakeOutput();  // its hello
  if (!handshake.Feed(peer_hello).ok()) std::abort();
  own += handshake.TakeOutput();  // its header
  if (own.size() != kHelloBytes + kStreamHeaderBytes) std::abort();
  std::string own_hello = own.substr(0, kHelloBytes);
  std::string own_header = own.substr(kHelloBytes);
  std::string own_public = own_hello.substr(6);

  std::string rx(crypto_kx_SESSIONKEYBYTES, '\0');
  std::string tx(crypto_kx_SESSIONKEYBYTES, '\0');
  auto* rxp = reinterpret_cast<unsigned char*>(rx.data());
  auto* txp = reinterpret_cast<unsigned char*>(tx.data());
  auto* pk = reinterpret_cast<const unsigned char*>(peer_public.data());
  auto* sk = reinterpret_cast<const unsigned char*>(peer_secret.data());
  auto* other = reinterpret_cast<const unsigned char*>(own_public.data());
  int rc = peer_role == Role::kDialer ? crypto_kx_client_session_keys(rxp, txp, pk, sk, other)
                                      : crypto_kx_server_session_keys(rxp, txp, pk, sk, other);
  if (rc != 0) std::abort();
  std::string peer_header;
  auto sealer = FrameSealer::Start(tx, &peer_header);
  if (!sealer.ok()) std::abort();
  if (!handshake.Feed(peer_header).ok()) return;

  bool dialer_is_peer = peer_role == Role::kDialer;
  std::string transcript = (dialer_is_peer ? peer_hello : own_hello) +
                           (dialer_is_peer ? own_hello : peer_hello) +
                           (dialer_is_peer ? peer_header : own_header) +
                           (dialer_is_peer ? own_header : peer_header);

  while (input.size() >= 3 && !handshake.failed()) {
    size_t length = static_cast<uint8_t>(input[0]) | (static_cast<uint8_t>(input[1]) << 8);
    uint8_t kind = static_cast<uint8_t>(input[2]) % 3;
    input.remove_prefix(3);
    std::string_view body = input.substr(0, length);
    input.remove_prefix(body.size());
    std::string plaintext;
    if (kind == 0) {
      plaintext = std::string(body);
    } else if (kind == 1) {
      v1::PeerAuth auth;
      auth.set_node_id(keys.peer.public_key);
      std::string message(1, static_cast<char>(peer_role));
      message += transcript;
      auth.set_signature(Sign(keys.peer, kHandshakeContext, message));
      if (!body.empty()) {
        size_t split = static_cast<uint8_t>(body[0]) % body.size();
        auth.mutable_invite()->set_invite_id(std::string(body.substr(1, split)));
        auth.mutable_invite()->set_mac(std::string(body.substr(std::min(body.size(), split + 1))));
      }
      plaintext = auth.SerializeAsString();
    } else {
      v1::PeerVerdict verdict;
      verdict.set_accepted(!body.empty() && (body[0] & 1));
      verdict.set_code(body.size() > 1 ? static_cast<int8_t>(body[1]) : 0);
      if (body.size() > 2) verdict.set_reason(std::string(body.substr(2)));
      plaintext = verdict.SerializeAsString();
    }
    (void)handshake.Feed(sealer->Seal(plaintext));
    if (handshake.TakeOutput().size() > 4 * kMaxHandshakeFrameBytes) std::abort();
  }
  FinishEstablished(handshake);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Keys* keys = new Keys();
  if (size < 1) return 0;
  Role role = (data[0] & 1) ? Role::kListener : Role::kDialer;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 2) {
    RunStructured(*keys, role, input);
  } else {
    RunRaw(*keys, role, input, (data[0] >> 2) + 1);
  }
  return 0;
}
