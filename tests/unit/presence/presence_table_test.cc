// The presence table: sequences, expiry counted by an injected clock, remembered sequences,
// limits and prefixes; and the signature over an announcement.
#include <gtest/gtest.h>

#include "lattice/common/crypto.h"
#include "presence/presence_signature.h"
#include "presence/presence_table.h"

namespace lattice::kernel::presence {
namespace {

const std::string kStore(16, 's');
const std::string kOtherStore(16, 't');
const std::string kA(32, 'a');
const std::string kB(32, 'b');

v1::PresenceAnnouncement Make(const std::string& origin, const std::string& key,
                              const std::string& value, uint64_t sequence, uint32_t ttl = 5000,
                              const std::string& store = kStore) {
  v1::PresenceAnnouncement a;
  a.set_origin(origin);
  a.set_store_id(store);
  a.set_key(key);
  a.set_value(value);
  a.set_ttl_ms(ttl);
  a.set_sequence(sequence);
  return a;
}

using Outcome = PresenceTable::Outcome;

TEST(PresenceTableTest, NewChangedRenewedAndStale) {
  PresenceTable table;
  auto r = table.Offer(Make(kA, "member/#x/alice", "here", 10), 5000, 0);
  EXPECT_EQ(r.outcome, Outcome::kNew);
  ASSERT_TRUE(r.change);
  EXPECT_EQ(r.change->value, "here");
  EXPECT_EQ(r.change->expires_at_ms, 5000u);
  EXPECT_FALSE(r.change->gone);

  // The same value again: news for peers (a later expiry), no change for watchers.
  r = table.Offer(Make(kA, "member/#x/alice", "here", 11), 5000, 1000);
  EXPECT_EQ(r.outcome, Outcome::kRenewed);
  EXPECT_TRUE(r.news());
  EXPECT_FALSE(r.change);

  r = table.Offer(Make(kA, "member/#x/alice", "away", 12), 5000, 1000);
  EXPECT_EQ(r.outcome, Outcome::kChanged);
  ASSERT_TRUE(r.change);
  EXPECT_EQ(r.change->value, "away");

  // An older or repeated sequence is ignored, whatever it says.
  r = table.Offer(Make(kA, "member/#x/alice", "old", 11), 5000, 1000);
  EXPECT_EQ(r.outcome, Outcome::kStale);
  EXPECT_FALSE(r.news());
  r = table.Offer(Make(kA, "member/#x/alice", "same seq", 12), 5000, 1000);
  EXPECT_EQ(r.outcome, Outcome::kStale);
  auto live = table.Live(kStore, "");
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].value, "away");

  // Sequences are per (store, origin, key): another origin's lower one is its own.
  r = table.Offer(Make(kB, "member/#x/alice", "b's", 1), 5000, 1000);
  EXPECT_EQ(r.outcome, Outcome::kNew);
  EXPECT_EQ(table.Live(kStore, "").size(), 2u);
}

TEST(PresenceTableTest, EntriesExpireAtTheirDeadlineCountedFromArrival) {
  PresenceTable table;
  table.Offer(Make(kA, "k1", "v", 1), 1000, 500);   // until 1500
  table.Offer(Make(kA, "k2", "v", 2), 3000, 500);   // until 3500
  EXPECT_EQ(table.NextDeadline(), 1500u);
  EXPECT_TRUE(table.Expire(1499).empty());
  auto gone = table.Expire(1500);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].key, "k1");
  EXPECT_EQ(gone[0].value, "v");
  EXPECT_TRUE(gone[0].gone);
  EXPECT_EQ(table.live_count(), 1u);

  // A renewal moves the deadline: k2 now lives until 2000 + 3000.
  table.Offer(Make(kA, "k2", "v", 3), 3000, 2000);
  EXPECT_TRUE(table.Expire(4999).empty());
  EXPECT_EQ(table.Expire(5000).size(), 1u);
  EXPECT_EQ(table.live_count(), 0u);
  EXPECT_TRUE(table.Live(kStore, "").empty());
}

TEST(PresenceTableTest, WithdrawalEndsTheEntryAndIsNewsOnlyWhenNewer) {
  PresenceTable table;
  table.Offer(Make(kA, "k", "v", 5), 5000, 0);
  auto r = table.Offer(Make(kA, "k", "", 6, 0), 0, 10);
  EXPECT_EQ(r.outcome, Outcome::kWithdrawn);
  ASSERT_TRUE(r.change);
  EXPECT_TRUE(r.change->gone);
  EXPECT_EQ(r.change->value, "v");
  EXPECT_TRUE(table.Live(kStore, "").empty());
  // The same withdrawal relayed again is stale.
  EXPECT_EQ(table.Offer(Make(kA, "k", "", 6, 0), 0, 20).outcome, Outcome::kStale);
  // A withdrawal of an entry never seen is remembered (news for peers, no change).
  r = table.Offer(Make(kA, "never", "", 3, 0), 0, 20);
  EXPECT_EQ(r.outcome, Outcome::kWithdrawn);
  EXPECT_FALSE(r.change);
  EXPECT_EQ(table.SequenceOf(kStore, kA, "never"), 3u);
}

TEST(PresenceTableTest, RememberedSequenceBlocksRevivalUntilForgotten) {
  PresenceTableLimits limits;
  limits.remember_ms = 60'000;
  PresenceTable table(limits);
  table.Offer(Make(kA, "k", "v", 5), 1000, 0);
  ASSERT_EQ(table.Expire(1000).size(), 1u);
  EXPECT_EQ(table.remembered_count(), 1u);
  // A relayed copy of the expired announcement, or an older one, does not bring it back.
  EXPECT_EQ(table.Offer(Make(kA, "k", "v", 5), 1000, 2000).outcome, Outcome::kStale);
  EXPECT_EQ(table.Offer(Make(kA, "k", "v", 4), 1000, 2000).outcome, Outcome::kStale);
  EXPECT_TRUE(table.Live(kStore, "").empty());
  // A newer one does.
  EXPECT_EQ(table.Offer(Make(kA, "k", "w", 6), 1000, 3000).outcome, Outcome::kNew);
  // Withdrawn, then remembered for limits.remember_ms, then forgotten.
  table.Offer(Make(kA, "k", "", 7, 0), 0, 3500);
  EXPECT_EQ(table.NextDeadline(), 3500u + 60'000u);
  EXPECT_EQ(table.Offer(Make(kA, "k", "w", 6), 1000, 3600).outcome, Outcome::kStale);
  table.Expire(3500 + 60'000);
  EXPECT_EQ(table.remembered_count(), 0u);
  EXPECT_EQ(table.SequenceOf(kStore, kA, "k"), 0u);
  EXPECT_FALSE(table.NextDeadline());
}

TEST(PresenceTableTest, LimitsPerOriginAndPerStore) {
  PresenceTableLimits limits;
  limits.max_per_origin = 2;
  limits.max_per_store = 3;
  PresenceTable table(limits);
  EXPECT_EQ(table.Offer(Make(kA, "a1", "v", 1), 5000, 0).outcome, Outcome::kNew);
  EXPECT_EQ(table.Offer(Make(kA, "a2", "v", 2), 5000, 0).outcome, Outcome::kNew);
  EXPECT_EQ(table.Offer(Make(kA, "a3", "v", 3), 5000, 0).outcome, Outcome::kFull);
  EXPECT_FALSE(table.Offer(Make(kA, "a3", "v", 3), 5000, 0).news());
  // Renewing and changing what is held is always possible.
  EXPECT_EQ(table.Offer(Make(kA, "a2", "w", 4), 5000, 0).outcome, Outcome::kChanged);
  EXPECT_EQ(table.Offer(Make(kB, "b1", "v", 1), 5000, 0).outcome, Outcome::kNew);
  EXPECT_EQ(table.Offer(Make(kB, "b2", "v", 2), 5000, 0).outcome, Outcome::kFull);  // store full
  // Another store has its own room.
  EXPECT_EQ(table.Offer(Make(kB, "b2", "v", 2, 5000, kOtherStore), 5000, 0).outcome,
            Outcome::kNew);
  // A withdrawal frees a place.
  table.Offer(Make(kA, "a1", "", 5, 0), 0, 10);
  EXPECT_EQ(table.LiveCountOf(kStore, kA), 1u);
  EXPECT_EQ(table.Offer(Make(kA, "a3", "v", 6), 5000, 10).outcome, Outcome::kNew);
}

TEST(PresenceTableTest, RememberedSequencesPerStoreAreBoundedSoonestForgottenFirst) {
  PresenceTableLimits limits;
  limits.max_remembered_per_store = 2;
  PresenceTable table(limits);
  table.Offer(Make(kA, "k1", "", 1, 0), 0, 0);
  table.Offer(Make(kA, "k2", "", 2, 0), 0, 10);
  table.Offer(Make(kA, "k3", "", 3, 0), 0, 20);
  EXPECT_EQ(table.remembered_count(), 2u);
  EXPECT_EQ(table.SequenceOf(kStore, kA, "k1"), 0u);
  EXPECT_EQ(table.SequenceOf(kStore, kA, "k2"), 2u);
  EXPECT_EQ(table.SequenceOf(kStore, kA, "k3"), 3u);
}

TEST(PresenceTableTest, LiveFiltersByStoreAndPrefix) {
  PresenceTable table;
  table.Offer(Make(kA, "member/#a/alice", "1", 1), 5000, 0);
  table.Offer(Make(kB, "member/#a/bob", "2", 1), 5000, 0);
  table.Offer(Make(kA, "member/#b/alice", "3", 2), 5000, 0);
  table.Offer(Make(kA, "away/alice", "4", 3), 5000, 0);
  table.Offer(Make(kA, "member/#a/carol", "5", 4, 5000, kOtherStore), 5000, 0);
  auto in_a = table.Live(kStore, "member/#a/");
  ASSERT_EQ(in_a.size(), 2u);
  EXPECT_EQ(in_a[0].key, "member/#a/alice");  // origin kA first
  EXPECT_EQ(in_a[1].key, "member/#a/bob");
  EXPECT_EQ(table.Live(kStore, "member/").size(), 3u);
  EXPECT_EQ(table.Live(kStore, "").size(), 4u);
  EXPECT_EQ(table.Live(kStore, "nothing").size(), 0u);
  EXPECT_EQ(table.Live(kOtherStore, "").size(), 1u);
}

TEST(PresenceTableTest, LiveAnnouncementsCarryTheirTimeLeft) {
  PresenceTable table;
  auto signed_one = Make(kA, "k", "v", 1, 10'000);
  signed_one.set_signature(std::string(64, 'x'));
  table.Offer(signed_one, 10'000, 1000);
  auto live = table.LiveAnnouncements(kStore, 4000);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].remaining_ms(), 7000u);
  EXPECT_EQ(live[0].ttl_ms(), 10'000u);  // as signed
  EXPECT_EQ(live[0].signature(), std::string(64, 'x'));
  EXPECT_TRUE(table.LiveAnnouncements(kOtherStore, 4000).empty());
  EXPECT_TRUE(table.LiveAnnouncements(kStore, 11'000).empty());
}

TEST(PresenceSignatureTest, CoversFieldsOneToSixAndNothingElse) {
  KeyPair key = GenerateKeyPair();
  auto a = Make("", "member/#x/alice", "here", 42, 30'000);
  SignAnnouncement(key, a);
  EXPECT_EQ(a.origin(), key.public_key);
  EXPECT_TRUE(VerifyAnnouncement(a));
  // What a relay sets is outside the signature.
  auto relayed = a;
  relayed.set_remaining_ms(1234);
  EXPECT_TRUE(VerifyAnnouncement(relayed));

  auto altered = a;
  altered.set_value("gone");
  EXPECT_FALSE(VerifyAnnouncement(altered));
  altered = a;
  altered.set_key("member/#x/mallory");
  EXPECT_FALSE(VerifyAnnouncement(altered));
  altered = a;
  altered.set_ttl_ms(300'000);
  EXPECT_FALSE(VerifyAnnouncement(altered));
  altered = a;
  altered.set_sequence(43);
  EXPECT_FALSE(VerifyAnnouncement(altered));
  altered = a;
  altered.set_store_id(kOtherStore);
  EXPECT_FALSE(VerifyAnnouncement(altered));
  // Someone else's key claiming this origin.
  altered = a;
  altered.set_origin(GenerateKeyPair().public_key);
  EXPECT_FALSE(VerifyAnnouncement(altered));
  altered = a;
  altered.set_signature("short");
  EXPECT_FALSE(VerifyAnnouncement(altered));
  // Fields are length-prefixed: moving bytes between key and value changes what is signed.
  auto shifted = Make(key.public_key, "member/#x/alic", "ehere", 42, 30'000);
  shifted.set_signature(a.signature());
  EXPECT_FALSE(VerifyAnnouncement(shifted));
}

}  // namespace
}  // namespace lattice::kernel::presence
