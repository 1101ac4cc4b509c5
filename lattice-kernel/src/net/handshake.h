// The link handshake as a state machine without IO: bytes in, bytes out. Both transports
// (TCP and in-memory) and the fuzz targets drive this same code. It is built only from
// libsodium constructions: crypto_kx for session keys, crypto_secretstream_xchacha20poly1305
// for each direction, Ed25519 (lattice::Sign) for the node identities, keyed BLAKE2b for an
// invite proof.
//
// Byte layout (D = dialer, L = listener; "|" concatenates):
//   1. Both at once, in clear: hello = "LATP" | version 0x01 | role (0x01 D, 0x02 L)
//      | 32-byte X25519 ephemeral public key (crypto_kx_keypair).                 38 bytes
//   2. Each after the peer's hello: the 24-byte header of its sending secretstream. Keys:
//      crypto_kx_client_session_keys (D) / crypto_kx_server_session_keys (L); D's tx = L's rx.
//   3. Frames, encrypted: u32 big-endian ciphertext length | secretstream ciphertext
//      (payload + 17 bytes), at most kMaxHandshakeFrameBytes during the handshake:
//        L -> D  lattice.v1.PeerAuth{node_id, signature}
//        D -> L  lattice.v1.PeerAuth{node_id, signature, invite?}  (after D checked L)
//        L -> D  lattice.v1.PeerVerdict{accepted | code, reason}
//      transcript = hello_D | hello_L | header_D | header_L                      124 bytes
//      signature  = Ed25519(node key, "lattice/handshake/v1" | role byte | transcript)
//      invite mac = see invite_proof.h, over the same transcript and D's node id.
//   4. The same two streams then carry the link's frames (kMaxFrameCiphertextBytes).
// The transcript binds both sessions' fresh ephemeral keys and headers, so a recorded
// handshake cannot be replayed; the role byte in hello and signature stops reflection.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lattice/common/crypto.h"
#include "net/frame_cipher.h"
#include "net/frame_decoder.h"
#include "net/invite_proof.h"

namespace lattice::kernel::net {

enum class Role : uint8_t { kDialer = 1, kListener = 2 };
std::string_view RoleName(Role role);

inline constexpr std::string_view kHelloMagic = "LATP";
inline constexpr uint8_t kHandshakeVersion = 1;
inline constexpr size_t kHelloBytes = 38;
inline constexpr size_t kTranscriptBytes = 2 * kHelloBytes + 2 * kStreamHeaderBytes;
inline constexpr std::string_view kHandshakeContext = "lattice/handshake/v1";

// The kernel's admission rule, asked by a listener once the dialer proved its identity:
// OK admits `node_id` (an active peer of a mesh this node shares, or the holder of a valid
// invite); any other status refuses it, and its code and message are sent to the dialer.
// Called on the handshake's thread, at most once per handshake.
using AdmitPeerFn = std::function<absl::Status(const std::string& node_id,
                                               const std::optional<InviteProof>& invite)>;

// What a finished handshake hands to the link.
struct EstablishedSession {
  Role role = Role::kDialer;
  std::string peer_id;    // the peer's authenticated node id (32 bytes)
  std::string invite_id;  // the invite the dialer presented and the listener admitted, or ""
  FrameSealer sealer;
  FrameOpener opener;
  std::string leftover;   // bytes received past the handshake: the start of the link's frames
};

// One handshake, one side. Not thread-safe: driven by one thread. After Feed returns an
// error the handshake is over (failed() is true); TakeOutput may still hold a refusal to
// send to the peer before closing.
class Handshake {
 public:
  // The dialer: it must reach `expected_peer_id` and, when `invite` is set, proves it.
  // INVALID_ARGUMENT for a malformed id or invite. REQUIRES: `identity` outlives this.
  static absl::StatusOr<Handshake> ForDialer(const KeyPair* identity,
                                             std::string expected_peer_id,
                                             std::optional<InviteCredential> invite);
  // The listener: `admit` decides on the dialer (empty: every dialer is refused).
  // REQUIRES: `identity` outlives this.
  static Handshake ForListener(const KeyPair* identity, AdmitPeerFn admit);

  Handshake(Handshake&&) noexcept;
  Handshake& operator=(Handshake&&) noexcept;
  ~Handshake();

  Role role() const { return role_; }

  // Bytes to write to the peer now (the hello at first).
  std::string TakeOutput();

  // Consumes bytes from the peer. Returns the reason when the handshake fails (a refusal of
  // the peer, a peer that refused us, or malformed input); the failure is final.
  absl::Status Feed(std::string_view bytes);

  bool established() const { return state_ == State::kEstablished; }
  bool failed() const { return state_ == State::kFailed; }

  // REQUIRES: established(); called once.
  EstablishedSession TakeSession();

 private:
  enum class State { kAwaitHello, kAwaitHeader, kAwaitAuth, kAwaitVerdict, kEstablished,
                     kFailed };

  Handshake(Role role, const KeyPair* identity);
  absl::Status Fail(absl::Status status);
  absl::Status OnHello();
  absl::Status OnHeader();
  absl::Status OnFrame(std::string_view ciphertext);
  absl::Status OnListenerAuth(std::string_view plaintext);
  absl::Status OnDialerAuth(std::string_view plaintext);
  absl::Status OnVerdict(std::string_view plaintext);
  void SendAuth();
  void SendFrame(std::string_view plaintext);
  std::string Transcript() const;
  std::string SignedMessage(Role signer) const;
  void Wipe();

  Role role_;
  const KeyPair* identity_;
  State state_ = State::kAwaitHello;
  std::string expected_peer_id_;
  std::optional<InviteCredential> invite_;
  AdmitPeerFn admit_;

  std::string ephemeral_public_;
  std::string ephemeral_secret_;
  std::string rx_key_;
  std::string tx_key_;
  std::string own_hello_;
  std::string peer_hello_;
  std::string own_header_;
  std::string peer_header_;
  std::string pending_;  // a hello or header in progress
  FrameDecoder decoder_;
  std::optional<FrameSealer> sealer_;
  std::optional<FrameOpener> opener_;
  std::string output_;
  std::string peer_id_;
  std::string admitted_invite_id_;
  std::string leftover_;
};

}  // namespace lattice::kernel::net
