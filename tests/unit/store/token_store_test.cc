// Service tokens: shown once, stored hashed, scoped, expiring, revocable.
#include <gtest/gtest.h>

#include <set>

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

TEST(TokenStore, OnlyAMetricsTokenMayNameNoStore) {
  TempDir dir;
  auto db = Database::Open(dir.path() + "/node");
  ASSERT_TRUE(db.ok());
  TokenStore tokens(**db);
  auto scraper = tokens.Create("scraper", {}, {}, {"metrics"}, 0, 1000);
  ASSERT_TRUE(scraper.ok()) << scraper.status();
  auto record = tokens.Authenticate(scraper->secret, 2000);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(TokenHasRight(*record, Right::kMetrics));
  EXPECT_FALSE(TokenHasRight(*record, Right::kRead));
  EXPECT_EQ(record->stores_size(), 0);

  auto reader = tokens.Create("reader", {}, {}, {"metrics", "read"}, 0, 1000);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(tokens.Create("both", {"s"}, {}, {"metrics", "read"}, 0, 1000).ok());
}

TEST(TokenStore, RightsParseByTheirNames) {
  for (Right right : {Right::kRead, Right::kWrite, Right::kWatch, Right::kMetrics}) {
    EXPECT_EQ(ParseRight(RightName(right)), right);
  }
  EXPECT_EQ(ParseRight("admin"), std::nullopt);
  EXPECT_EQ(ParseRight(""), std::nullopt);
}

}  // namespace
}  // namespace lattice::kernel::testing

namespace lattice::kernel::testing {
namespace {

TEST(TokenStore, EndedTokensAreDeletedAWeekAfterTheyEnded) {
  TempDir dir;
  auto db = Database::Open(dir.path() + "/node");
  ASSERT_TRUE(db.ok());
  TokenStore tokens(**db);
  const uint64_t t0 = 1'000'000;
  auto forever = tokens.Create("forever", {"s"}, {}, {"read"}, 0, t0);
  auto revoked = tokens.Create("revoked", {"s"}, {}, {"read"}, 0, t0);
  auto expiring = tokens.Create("expiring", {"s"}, {}, {"read"}, 60, t0);
  ASSERT_TRUE(forever.ok() && revoked.ok() && expiring.ok());
  ASSERT_TRUE(tokens.Revoke(revoked->record.id(), t0 + 1000).ok());
  auto ids = [&] {
    std::set<std::string> out;
    auto listed = tokens.List();
    EXPECT_TRUE(listed.ok());
    if (listed.ok()) {
      for (const auto& t : *listed) out.insert(t.name());
    }
    return out;
  };
  ASSERT_TRUE(tokens.CollectEnded(t0 + kEndedTokenRetentionMs).ok());
  EXPECT_EQ(ids(), (std::set<std::string>{"forever", "revoked", "expiring"}));
  ASSERT_TRUE(tokens.CollectEnded(t0 + 1000 + kEndedTokenRetentionMs).ok());
  EXPECT_EQ(ids(), (std::set<std::string>{"forever", "expiring"}));
  ASSERT_TRUE(tokens.CollectEnded(t0 + 60'000 + kEndedTokenRetentionMs).ok());
  EXPECT_EQ(ids(), (std::set<std::string>{"forever"}));

  // A token revoked without a time starts its week at the next collection.
  auto untimed = tokens.Create("untimed", {"s"}, {}, {"read"}, 0, t0);
  ASSERT_TRUE(untimed.ok() && tokens.Revoke(untimed->record.id()).ok());
  const uint64_t t1 = t0 + 30ull * 24 * 3600 * 1000;
  ASSERT_TRUE(tokens.CollectEnded(t1).ok());
  EXPECT_EQ(ids(), (std::set<std::string>{"forever", "untimed"}));
  ASSERT_TRUE(tokens.CollectEnded(t1 + kEndedTokenRetentionMs).ok());
  EXPECT_EQ(ids(), (std::set<std::string>{"forever"}));
}

TEST(TokenStore, TtlThatWouldOverflowTheClockIsRefused) {
  TempDir dir;
  auto db = Database::Open(dir.path() + "/node");
  ASSERT_TRUE(db.ok());
  TokenStore tokens(**db);
  auto created = tokens.Create("t", {"s"}, {}, {"read"}, ~uint64_t{0} / 1000 + 1, 1000);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lattice::kernel::testing
