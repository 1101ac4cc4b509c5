// Scoped service tokens (DESIGN §6): shown once at creation, stored only as a BLAKE2b hash
// of their secret, scoped to stores, key prefixes and rights, with expiry and revocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/node_records.pb.h"
#include "storage/database.h"

namespace lattice::kernel {

// kMetrics is not about a store: it lets a token call Admin.Metrics (a scraper's token), and a
// token holding only it may name no store.
enum class Right { kRead, kWrite, kWatch, kMetrics };
std::string_view RightName(Right right);
// The right a token's record names, or nullopt for a name that is none.
std::optional<Right> ParseRight(std::string_view name);

struct NewToken {
  v1::TokenRecord record;
  std::string secret;  // "lt1.<id>.<secret>": the only time it exists outside the caller
};

// A revoked or expired token is kept this long after it ended (so `token list --all` still
// explains why a daemon is refused), then deleted.
inline constexpr uint64_t kEndedTokenRetentionMs = 7ull * 24 * 3600 * 1000;

// Thread-safe (the database is).
class TokenStore {
 public:
  explicit TokenStore(Database& db) : db_(db) {}

  // `prefixes` grant every key that starts with one of them (bytes, so "#pub" grants
  // "#public" too), `keys` exactly the keys (or chat channels) they name; with neither, the
  // token covers every key. INVALID_ARGUMENT for a TTL above limits::kMaxTtlSeconds, an
  // unknown right, or no store for a token with a right other than metrics.
  absl::StatusOr<NewToken> Create(const std::string& name, std::vector<std::string> store_ids,
                                  std::vector<std::string> prefixes,
                                  std::vector<std::string> rights, uint64_t ttl_seconds,
                                  uint64_t now_ms, const std::string& service_instance = "",
                                  std::vector<std::string> keys = {});

  // UNAUTHENTICATED for an unknown, malformed, revoked or expired token.
  absl::StatusOr<v1::TokenRecord> Authenticate(std::string_view token, uint64_t now_ms) const;

  absl::StatusOr<std::vector<v1::TokenRecord>> List() const;
  // `now_ms` 0: the moment is not known, and the token's retention starts at the next
  // CollectEnded.
  absl::StatusOr<v1::TokenRecord> Revoke(const std::string& id, uint64_t now_ms = 0);
  // Deletes tokens that ended (revoked or expired) kEndedTokenRetentionMs before `now_ms`.
  absl::Status CollectEnded(uint64_t now_ms);
  // Forgets a token entirely (the ServiceManager's tokens of runs that ended).
  absl::Status Delete(const std::string& id);

 private:
  Database& db_;
};

bool TokenHasRight(const v1::TokenRecord& token, Right right);

}  // namespace lattice::kernel
