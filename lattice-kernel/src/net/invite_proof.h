// Proof that a joining node holds an invite's secret, bound to one handshake: a BLAKE2b-256
// MAC keyed with the secret (libsodium's keyed crypto_generichash) over the handshake
// transcript and the joiner's node id. It cannot be replayed in another handshake, and it
// reveals nothing of the secret.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lattice::kernel::net {

inline constexpr size_t kInviteMacBytes = 32;
// crypto_generichash's key sizes: an invite secret must be within them.
inline constexpr size_t kMinInviteSecretBytes = 16;
inline constexpr size_t kMaxInviteSecretBytes = 64;

// What a joining dialer holds from an invite token.
struct InviteCredential {
  std::string invite_id;  // 1 to kMaxInviteIdBytes bytes
  std::string secret;     // kMinInviteSecretBytes to kMaxInviteSecretBytes bytes
};

// MAC = BLAKE2b-256(key = secret, "lattice/invite/v1" || u8 len(invite_id) || invite_id ||
// joiner_id || transcript). INVALID_ARGUMENT when the secret or id has a wrong size.
absl::StatusOr<std::string> ComputeInviteMac(std::string_view secret, std::string_view invite_id,
                                             std::string_view joiner_id,
                                             std::string_view transcript);

// An invite proof received by a listener, handed to the kernel's admission callback, which
// looks the invite up by id, checks that it is unused and unexpired, then calls
// VerifiesWith(secret). Immutable; safe to share between threads.
class InviteProof {
 public:
  InviteProof(std::string invite_id, std::string mac, std::string joiner_id,
              std::string transcript);

  const std::string& invite_id() const { return invite_id_; }
  // The node that presents the proof (the dialer's authenticated node id).
  const std::string& joiner_id() const { return joiner_id_; }

  // True when the MAC was made with `secret` for this handshake and this joiner
  // (constant-time comparison).
  bool VerifiesWith(std::string_view secret) const;

 private:
  std::string invite_id_;
  std::string mac_;
  std::string joiner_id_;
  std::string transcript_;
};

}  // namespace lattice::kernel::net
