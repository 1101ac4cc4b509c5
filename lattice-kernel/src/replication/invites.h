// Invites to a mesh (DESIGN §7): the token `lattice-ctl peer invite` prints, and the book of
// invites this node issued, kept in the node database so an invite outlives a restart and
// is used once.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/node_records.pb.h"
#include "lattice/v1/replication.pb.h"
#include "net/invite_proof.h"
#include "storage/database.h"

namespace lattice::kernel::replication {

inline constexpr std::string_view kInviteTokenPrefix = "lattice-invite:";
inline constexpr uint64_t kDefaultInviteTtlMs = 24ull * 60 * 60 * 1000;
inline constexpr size_t kMaxInviteTokenBytes = 4096;

// "lattice-invite:" followed by the token's protobuf in unpadded base64url.
std::string EncodeInviteToken(const v1::InviteToken& token);
// INVALID_ARGUMENT naming what is wrong with the text or its fields.
absl::StatusOr<v1::InviteToken> DecodeInviteToken(std::string_view text);

// Thread-safe.
class InviteBook {
 public:
  explicit InviteBook(Database& node_db) : db_(node_db) {}

  // Issues a fresh invite to `mesh_id` that expires `ttl_ms` from `now_ms`; with `readmit`
  // (a raw node id), one that re-admits that revoked node and no other.
  absl::StatusOr<v1::InviteRecord> Issue(const std::string& mesh_id, uint64_t now_ms,
                                         uint64_t ttl_ms, const std::string& readmit = "");

  // The listener's check of a joiner's proof: the invite exists, has not expired, was not
  // used by another node, and the proof was made with its secret. Marks it used by the
  // joiner (durably) and returns it. The same joiner may present it again (a retry after a
  // broken link) until it expires. PERMISSION_DENIED with the reason otherwise.
  absl::StatusOr<v1::InviteRecord> Redeem(const net::InviteProof& proof, uint64_t now_ms);

  std::optional<v1::InviteRecord> Find(const std::string& invite_id);

  // Drops expired invites.
  void Prune(uint64_t now_ms);

 private:
  Database& db_;
  std::mutex mu_;  // Redeem's read-check-write
};

}  // namespace lattice::kernel::replication
