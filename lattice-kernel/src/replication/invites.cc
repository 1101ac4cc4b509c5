#include "replication/invites.h"

#include <fmt/format.h>

#include "absl/strings/escaping.h"
#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "lattice/common/status.h"
#include "net/link_limits.h"
#include "replication/replication_limits.h"
#include "storage/keys.h"

namespace lattice::kernel::replication {
namespace {

constexpr std::string_view kInviteKeyPrefix = "invite/";
constexpr size_t kInviteIdBytes = 16;
constexpr size_t kInviteSecretBytes = 32;

std::string InviteKey(std::string_view invite_id) {
  return std::string(kInviteKeyPrefix) + std::string(invite_id);
}

}  // namespace

std::string EncodeInviteToken(const v1::InviteToken& token) {
  return std::string(kInviteTokenPrefix) + absl::WebSafeBase64Escape(token.SerializeAsString());
}

absl::StatusOr<v1::InviteToken> DecodeInviteToken(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.size() > kMaxInviteTokenBytes) {
    return LimitExceeded("invite token", text.size(), kMaxInviteTokenBytes);
  }
  if (text.substr(0, kInviteTokenPrefix.size()) != kInviteTokenPrefix) {
    return absl::InvalidArgumentError(
        fmt::format("an invite token starts with \"{}\"", kInviteTokenPrefix));
  }
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(std::string(text.substr(kInviteTokenPrefix.size())), &bytes)) {
    return absl::InvalidArgumentError("the invite token is not valid base64url");
  }
  v1::InviteToken token;
  if (!token.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("the invite token does not parse");
  }
  if (token.mesh_id().size() != 16) return absl::InvalidArgumentError("the invite names no mesh");
  if (token.inviter_id().size() != 32) {
    return absl::InvalidArgumentError("the invite names no inviting node");
  }
  if (token.invite_id().empty() || token.invite_id().size() > net::kMaxInviteIdBytes) {
    return absl::InvalidArgumentError("the invite has no valid id");
  }
  if (token.secret().size() < net::kMinInviteSecretBytes ||
      token.secret().size() > net::kMaxInviteSecretBytes) {
    return absl::InvalidArgumentError("the invite's secret has the wrong size");
  }
  if (token.addresses().empty()) {
    return absl::InvalidArgumentError(
        "the invite holds no address to reach the inviter (start its kernel with --advertise)");
  }
  if (static_cast<size_t>(token.addresses_size()) > limits::kMaxAddresses) {
    return LimitExceeded("invite", token.addresses_size(), limits::kMaxAddresses, "addresses");
  }
  return token;
}

absl::StatusOr<v1::InviteRecord> InviteBook::Issue(const std::string& mesh_id, uint64_t now_ms,
                                                   uint64_t ttl_ms, const std::string& readmit) {
  v1::InviteRecord record;
  record.set_invite_id(RandomBytes(kInviteIdBytes));
  record.set_mesh_id(mesh_id);
  record.set_secret(RandomBytes(kInviteSecretBytes));
  record.set_created_ms(now_ms);
  record.set_expires_ms(now_ms + ttl_ms);
  record.set_readmit(readmit);
  leveldb::WriteBatch batch;
  batch.Put(InviteKey(record.invite_id()), record.SerializeAsString());
  LATTICE_RETURN_IF_ERROR(db_.Write(&batch, /*sync=*/true));
  return record;
}

std::optional<v1::InviteRecord> InviteBook::Find(const std::string& invite_id) {
  auto stored = db_.Get(InviteKey(invite_id));
  if (!stored.ok() || !*stored) return std::nullopt;
  v1::InviteRecord record;
  if (!record.ParseFromString(**stored)) return std::nullopt;
  return record;
}

absl::StatusOr<v1::InviteRecord> InviteBook::Redeem(const net::InviteProof& proof,
                                                    uint64_t now_ms) {
  std::lock_guard lock(mu_);
  auto record = Find(proof.invite_id());
  if (!record) return absl::PermissionDeniedError("unknown invite");
  if (record->expires_ms() <= now_ms) return absl::PermissionDeniedError("the invite has expired");
  if (!record->used_by().empty() && record->used_by() != proof.joiner_id()) {
    return absl::PermissionDeniedError("the invite was already used by another node");
  }
  if (!record->readmit().empty() && record->readmit() != proof.joiner_id()) {
    return absl::PermissionDeniedError("the invite re-admits another node");
  }
  if (!proof.VerifiesWith(record->secret())) {
    return absl::PermissionDeniedError("the invite proof does not match its secret");
  }
  if (record->used_by().empty()) {
    record->set_used_by(proof.joiner_id());
    leveldb::WriteBatch batch;
    batch.Put(InviteKey(record->invite_id()), record->SerializeAsString());
    LATTICE_RETURN_IF_ERROR(db_.Write(&batch, /*sync=*/true));
  }
  return *record;
}

void InviteBook::Prune(uint64_t now_ms) {
  std::lock_guard lock(mu_);
  leveldb::WriteBatch batch;
  bool any = false;
  (void)db_.Scan(kInviteKeyPrefix, keys::PrefixEnd(kInviteKeyPrefix),
                 [&](std::string_view k, std::string_view v) {
                   v1::InviteRecord record;
                   if (!record.ParseFromArray(v.data(), static_cast<int>(v.size())) ||
                       record.expires_ms() <= now_ms) {
                     batch.Delete(leveldb::Slice(k.data(), k.size()));
                     any = true;
                   }
                   return true;
                 });
  if (any) (void)db_.Write(&batch, /*sync=*/false);
}

}  // namespace lattice::kernel::replication
