#include "node/token_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "lattice/common/crypto.h"
#include "lattice/common/hex.h"
#include "lattice/common/limits.h"
#include "lattice/common/quote.h"
#include "lattice/common/status.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

constexpr std::string_view kTokenPrefix = "lt1.";
constexpr size_t kIdBytes = 8;
constexpr size_t kSecretBytes = 32;

std::string TokenKey(std::string_view id) { return "tok/" + std::string(id); }

absl::Status Put(Database& db, const std::string& key, const std::string& value) {
  leveldb::WriteBatch batch;
  batch.Put(key, value);
  return db.Write(&batch, /*sync=*/true);
}

}  // namespace

std::string_view RightName(Right right) {
  switch (right) {
    case Right::kRead: return "read";
    case Right::kWrite: return "write";
    case Right::kWatch: return "watch";
    case Right::kMetrics: return "metrics";
  }
  return "unknown";
}

std::optional<Right> ParseRight(std::string_view name) {
  for (Right right : {Right::kRead, Right::kWrite, Right::kWatch, Right::kMetrics}) {
    if (RightName(right) == name) return right;
  }
  return std::nullopt;
}

bool TokenHasRight(const v1::TokenRecord& token, Right right) {
  return std::find(token.rights().begin(), token.rights().end(), RightName(right)) !=
         token.rights().end();
}

absl::StatusOr<NewToken> TokenStore::Create(const std::string& name,
                                            std::vector<std::string> store_ids,
                                            std::vector<std::string> prefixes,
                                            std::vector<std::string> rights, uint64_t ttl_seconds,
                                            uint64_t now_ms, const std::string& service_instance,
                                            std::vector<std::string> keys) {
  if (name.empty() || name.size() > limits::kMaxTokenNameBytes) {
    return absl::InvalidArgumentError("a token needs a name of 1 to 128 bytes");
  }
  size_t scopes = std::max({store_ids.size(), prefixes.size(), keys.size()});
  if (scopes > limits::kMaxTokenScopes) {
    return LimitExceeded("token scope", scopes, limits::kMaxTokenScopes, "entries");
  }
  for (const auto* list : {&prefixes, &keys}) {
    for (const auto& key : *list) {
      if (key.size() > limits::kMaxKeyBytes) {
        return LimitExceeded("token prefix or key", key.size(), limits::kMaxKeyBytes);
      }
    }
  }
  if (ttl_seconds > limits::kMaxTtlSeconds) {
    return absl::InvalidArgumentError(fmt::format(
        "a TTL of {} seconds is longer than the maximum of {} seconds (100 years)", ttl_seconds,
        limits::kMaxTtlSeconds));
  }
  if (rights.empty()) return absl::InvalidArgumentError("a token needs at least one right");
  bool only_metrics = true;
  for (const auto& right : rights) {
    auto parsed = ParseRight(right);
    if (!parsed) {
      return absl::InvalidArgumentError(
          fmt::format("unknown right {} (use read, write, watch, metrics)", Quote(right)));
    }
    only_metrics = only_metrics && *parsed == Right::kMetrics;
  }
  // Metrics are the node's, not a store's; every other right is exercised on a store.
  if (store_ids.empty() && !only_metrics) {
    return absl::InvalidArgumentError(
        "a token must name at least one store (only a token with just the metrics right may "
        "name none)");
  }
  NewToken token;
  std::string id = ToHex(RandomBytes(kIdBytes));
  std::string secret = RandomBytes(kSecretBytes);
  token.record.set_id(id);
  token.record.set_name(name);
  token.record.set_secret_hash(Blake2b256(secret));
  for (auto& s : store_ids) token.record.add_stores(std::move(s));
  for (auto& p : prefixes) token.record.add_prefixes(std::move(p));
  for (auto& k : keys) token.record.add_keys(std::move(k));
  for (auto& r : rights) token.record.add_rights(std::move(r));
  token.record.set_created_ms(now_ms);
  token.record.set_service_instance(service_instance);
  if (ttl_seconds > 0) token.record.set_expires_ms(now_ms + ttl_seconds * 1000);
  LATTICE_RETURN_IF_ERROR(Put(db_, TokenKey(id), token.record.SerializeAsString()));
  token.secret = fmt::format("{}{}.{}", kTokenPrefix, id, ToHex(secret));
  return token;
}

absl::StatusOr<v1::TokenRecord> TokenStore::Authenticate(std::string_view token,
                                                         uint64_t now_ms) const {
  const auto invalid = absl::UnauthenticatedError("the token is not valid");
  if (token.substr(0, kTokenPrefix.size()) != kTokenPrefix) return invalid;
  token.remove_prefix(kTokenPrefix.size());
  size_t dot = token.find('.');
  if (dot != kIdBytes * 2) return invalid;
  std::string id(token.substr(0, dot));
  auto secret = FromHex(token.substr(dot + 1));
  if (!secret || secret->size() != kSecretBytes) return invalid;
  LATTICE_ASSIGN_OR_RETURN(auto stored, db_.Get(TokenKey(id)));
  v1::TokenRecord record;
  if (!stored || !record.ParseFromString(*stored)) return invalid;
  if (!ConstantTimeEquals(Blake2b256(*secret), record.secret_hash())) return invalid;
  if (record.revoked()) return absl::UnauthenticatedError(fmt::format("token {} was revoked", id));
  if (record.expires_ms() != 0 && now_ms >= record.expires_ms()) {
    return absl::UnauthenticatedError(fmt::format("token {} has expired", id));
  }
  return record;
}

absl::StatusOr<std::vector<v1::TokenRecord>> TokenStore::List() const {
  std::vector<v1::TokenRecord> tokens;
  LATTICE_RETURN_IF_ERROR(db_.Scan("tok/", keys::PrefixEnd("tok/"),
                                   [&](std::string_view, std::string_view v) {
                                     v1::TokenRecord record;
                                     if (record.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                       tokens.push_back(std::move(record));
                                     }
                                     return true;
                                   }));
  return tokens;
}

absl::StatusOr<v1::TokenRecord> TokenStore::Revoke(const std::string& id, uint64_t now_ms) {
  LATTICE_ASSIGN_OR_RETURN(auto stored, db_.Get(TokenKey(id)));
  v1::TokenRecord record;
  if (!stored || !record.ParseFromString(*stored)) {
    return absl::NotFoundError(fmt::format("no token with id {}", Quote(id)));
  }
  if (!record.revoked()) record.set_revoked_ms(now_ms);
  record.set_revoked(true);
  LATTICE_RETURN_IF_ERROR(Put(db_, TokenKey(id), record.SerializeAsString()));
  return record;
}

absl::Status TokenStore::Delete(const std::string& id) {
  leveldb::WriteBatch batch;
  batch.Delete(TokenKey(id));
  return db_.Write(&batch, /*sync=*/true);
}

absl::Status TokenStore::CollectEnded(uint64_t now_ms) {
  LATTICE_ASSIGN_OR_RETURN(auto tokens, List());
  leveldb::WriteBatch batch;
  bool changed = false;
  for (auto& record : tokens) {
    if (record.revoked() && record.revoked_ms() == 0) {
      // Revoked before the moment was recorded: its retention starts now.
      record.set_revoked_ms(now_ms);
      batch.Put(TokenKey(record.id()), record.SerializeAsString());
      changed = true;
      continue;
    }
    uint64_t ended_ms = record.revoked() ? record.revoked_ms() : record.expires_ms();
    if (!record.revoked() && ended_ms == 0) continue;  // never expires
    if (ended_ms > now_ms || now_ms - ended_ms < kEndedTokenRetentionMs) continue;
    batch.Delete(TokenKey(record.id()));
    changed = true;
  }
  if (!changed) return absl::OkStatus();
  return db_.Write(&batch, /*sync=*/true);
}

}  // namespace lattice::kernel
