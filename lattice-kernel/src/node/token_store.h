// Scoped service tokens (DESIGN §6): shown once at creation, stored only as a BLAKE2b hash
// of their secret, scoped to stores, key prefixes and rights, with expiry and revocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/v1/node_records.pb.h"
#include "storage/database.h"

namespace lattice::kernel {

enum class Right { kRead, kWrite, kWatch };
std::string_view RightName(Right right);

struct NewToken {
  v1::TokenRecord record;
  std::string secret;  // "lt1.<id>.<secret>": the only time it exists outside the caller
};

// Thread-safe (the database is).
class TokenStore {
 public:
  explicit TokenStore(Database& db) : db_(db) {}

  absl::StatusOr<NewToken> Create(const std::string& name, std::vector<std::string> store_ids,
                                  std::vector<std::string> prefixes,
                                  std::vector<std::string> rights, uint64_t ttl_seconds,
                                  uint64_t now_ms, const std::string& service_instance = "");

  // UNAUTHENTICATED for an unknown, malformed, revoked or expired token.
  absl::StatusOr<v1::TokenRecord> Authenticate(std::string_view token, uint64_t now_ms) const;

  absl::StatusOr<std::vector<v1::TokenRecord>> List() const;
  absl::StatusOr<v1::TokenRecord> Revoke(const std::string& id);
  // Forgets a token entirely (the ServiceManager's tokens of runs that ended).
  absl::Status Delete(const std::string& id);

 private:
  Database& db_;
};

bool TokenHasRight(const v1::TokenRecord& token, Right right);

}  // namespace lattice::kernel
