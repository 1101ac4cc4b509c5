// Service tokens: shown once, stored hashed, scoped, expiring, revocable.
#include <gtest/gtest.h>

#include "lattice/common/hex.h"
#include "node/token_store.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

TEST(TokenStore, CreatedTokenAuthenticatesAndItsSecretIsNotStored) {
  TempDir dir;
  auto db = Database::Open(dir.path() + "/node");
  ASSERT_TRUE(db.ok());
  TokenStore tokens(**db);
  auto token = tokens.Create("irc", {"store-id"}, {"/chat/"}, {"read", "watch"}, 0, 1000);
  ASSERT_TRUE(token.ok()) << token.status();
  auto record = tokens.Authenticate(token->secret, 2000);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(TokenHasRight(*record, Right::kRead));
  EXPECT_FALSE(TokenHasRight(*record, Right::kWrite));

  std::string secret_hex = token->secret.substr(token->secret.rfind('.') + 1);
  bool found = false;
  ASSERT_TRUE((*db)->Scan("", "", [&](std::string_view k, std::string_view v) {
    found |= k.find(secret_hex) != std::string_view::npos || v.find(secret_hex) != std::string_view::npos ||
             v.find(*FromHex(secret_hex)) != std::string_view::npos;
    return true;
  }).ok());
  EXPECT_FALSE(found);
}

TEST(TokenStore, WrongExpiredAndRevokedTokensAreRefused) {
  TempDir dir;
  auto db = Database::Open(dir.path() + "/node");
  ASSERT_TRUE(db.ok());
  TokenStore tokens(**db);
  auto token = tokens.Create("t", {"s"}, {}, {"read"}, 60, 1000);
  ASSERT_TRUE(token.ok());
  std::string wrong = token->secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(tokens.Authenticate(wrong, 1000).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(tokens.Authenticate("garbage", 1000).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(tokens.Authenticate(token->secret, 1000 + 61'000).status().code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(tokens.Revoke(token->record.id()).ok());
  EXPECT_EQ(tokens.Authenticate(token->secret, 2000).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(tokens.Create("bad", {"s"}, {}, {"admin"}, 0, 1).ok());
}

}  // namespace
}  // namespace lattice::kernel::testing
