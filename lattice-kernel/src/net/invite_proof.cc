#include "net/invite_proof.h"

#include <sodium.h>

#include "lattice/common/crypto.h"
#include "lattice/common/status.h"
#include "net/link_limits.h"

namespace lattice::kernel::net {

static_assert(kMinInviteSecretBytes == crypto_generichash_KEYBYTES_MIN);
static_assert(kMaxInviteSecretBytes == crypto_generichash_KEYBYTES_MAX);
static_assert(kMaxInviteIdBytes <= 255);

absl::StatusOr<std::string> ComputeInviteMac(std::string_view secret, std::string_view invite_id,
                                             std::string_view joiner_id,
                                             std::string_view transcript) {
  InitCrypto();
  if (secret.size() < kMinInviteSecretBytes || secret.size() > kMaxInviteSecretBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "invite secret of {} bytes; it must have {} to {} bytes", secret.size(),
        kMinInviteSecretBytes, kMaxInviteSecretBytes));
  }
  if (invite_id.empty() || invite_id.size() > kMaxInviteIdBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "invite id of {} bytes; it must have 1 to {} bytes", invite_id.size(), kMaxInviteIdBytes));
  }
  constexpr std::string_view kContext = "lattice/invite/v1";
  crypto_generichash_state state;
  crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                          secret.size(), kInviteMacBytes);
  auto update = [&state](std::string_view bytes) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()),
                              bytes.size());
  };
  update(kContext);
  unsigned char id_length = static_cast<unsigned char>(invite_id.size());
  crypto_generichash_update(&state, &id_length, 1);
  update(invite_id);
  update(joiner_id);
  update(transcript);
  std::string mac(kInviteMacBytes, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(mac.data()), mac.size());
  sodium_memzero(&state, sizeof(state));
  return mac;
}

InviteProof::InviteProof(std::string invite_id, std::string mac, std::string joiner_id,
                         std::string transcript)
    : invite_id_(std::move(invite_id)),
      mac_(std::move(mac)),
      joiner_id_(std::move(joiner_id)),
      transcript_(std::move(transcript)) {}

bool InviteProof::VerifiesWith(std::string_view secret) const {
  auto expected = ComputeInviteMac(secret, invite_id_, joiner_id_, transcript_);
  return expected.ok() && ConstantTimeEquals(*expected, mac_);
}

}  // namespace lattice::kernel::net
