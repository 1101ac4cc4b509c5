// What every RPC does first: authenticate the caller (admin cookie or service token),
// resolve the store it names and check the token's scope. Also the one place where
// absl::Status becomes grpc::Status.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/node.h"
#include "node/token_store.h"

namespace lattice::kernel {

struct Caller {
  bool admin = false;
  v1::TokenRecord token;  // when not admin

  // Whether the caller may touch `key` (a kv key or a chat channel).
  bool Covers(std::string_view key) const;
};

// A token's key scope: a key is covered when it starts with one of the token's byte
// prefixes ("#pub" covers "#public" too) or equals one of its exact keys; a token with
// neither covers every key. A prefix is covered only by a granted prefix it starts with.
bool CoversKey(const v1::TokenRecord& token, std::string_view key);
bool CoversPrefix(const v1::TokenRecord& token, std::string_view prefix);

// Thread-safe; immutable after construction.
class Authenticator {
 public:
  Authenticator(std::string admin_cookie, TokenStore& tokens, HybridClock& clock)
      : admin_cookie_(std::move(admin_cookie)), tokens_(tokens), clock_(clock) {}

  // `explicit_token` (from Controller.Connect) wins over the call's metadata.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& context,
                                      std::string_view explicit_token = {}) const;

 private:
  std::string admin_cookie_;
  TokenStore& tokens_;
  HybridClock& clock_;
};

grpc::Status ToGrpc(const absl::Status& status);

absl::Status RequireAdmin(const Caller& caller);

// How an RPC touches keys: one key, every key under a prefix, no key at all, or the whole
// store (an fs store, which a token limited to prefixes or keys cannot reach at all).
struct KeyScope {
  enum class Kind { kNone, kKey, kPrefix, kStore } kind = Kind::kNone;
  std::string_view value;
};

struct StoreAccess {
  StoreDescriptor descriptor;
  Store* store = nullptr;
  Caller caller;  // whose call it is: checks that depend on what the store holds, and
                  // streams, which count and re-check it
};

struct AccessRequest {
  std::string_view store;
  Right right = Right::kRead;
  std::optional<StoreType> type;  // kv requests accept kv and root stores
  KeyScope scope;
  std::vector<std::string_view> more_keys;  // extra keys a batch writes
};

// Authenticates, resolves and checks rights, scope, type and (for writes) archival.
absl::StatusOr<StoreAccess> OpenForCall(const grpc::ServerContextBase& context, Node& node,
                                        const Authenticator& auth, const AccessRequest& request);

}  // namespace lattice::kernel
