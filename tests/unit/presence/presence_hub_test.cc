// The node's presence hub with an injected clock and no expiry thread: what Announce
// accepts, what watchers see (snapshot, changes, no event for a renewal, gone on withdrawal
// and expiry), what goes to peers, and what it takes from them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "lattice/common/crypto.h"
#include "presence/presence_hub.h"
#include "presence/presence_signature.h"

namespace lattice::kernel::presence {
namespace {

const std::string kStore(16, 's');

struct Sent {
  std::string store_id;
  std::vector<v1::PresenceAnnouncement> entries;
  std::string except;
};

class PresenceHubTest : public ::testing::Test {
 protected:
  PresenceHubTest() {
    PresenceHubOptions options;
    options.now_ms = [this] { return now_ms_.load(); };
    options.wall_us = [this] { return wall_us_.load(); };
    options.expiry_thread = false;
    options.limits.max_per_origin = 3;
    hub_ = std::make_unique<PresenceHub>(key_, options);
    hub_->SetSender([this](const std::string& store, const std::vector<v1::PresenceAnnouncement>& e,
                           const std::string& except) { sent_.push_back({store, e, except}); });
  }

  uint64_t Watch(const std::string& prefix, std::vector<PresenceChange>* snapshot) {
    return hub_->Watch(kStore, prefix, [this](const PresenceChange& c) { changes_.push_back(c); },
                       snapshot);
  }

  v1::PresenceAnnouncement Peer(const KeyPair& key, const std::string& k, const std::string& value,
                                uint64_t sequence, uint32_t ttl) {
    v1::PresenceAnnouncement a;
    a.set_store_id(kStore);
    a.set_key(k);
    a.set_value(value);
    a.set_ttl_ms(ttl);
    a.set_sequence(sequence);
    SignAnnouncement(key, a);
    return a;
  }

  KeyPair key_ = GenerateKeyPair();
  std::atomic<uint64_t> now_ms_{1'000'000};
  std::atomic<uint64_t> wall_us_{5'000'000};
  std::unique_ptr<PresenceHub> hub_;
  std::vector<Sent> sent_;
  std::vector<PresenceChange> changes_;
};

TEST_F(PresenceHubTest, AnnounceChecksItsArguments) {
  EXPECT_EQ(hub_->Announce(kStore, "", "v", 5000).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub_->Announce(kStore, std::string(257, 'k'), "v", 5000).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub_->Announce(kStore, "k", std::string(1025, 'v'), 5000).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub_->Announce(kStore, "k", "v", 999).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub_->Announce(kStore, "k", "v", 300'001).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(sent_.empty());
  EXPECT_TRUE(hub_->Announce(kStore, std::string(256, 'k'), std::string(1024, 'v'), 1000).ok());
  EXPECT_TRUE(hub_->Announce(kStore, "k", "v", 300'000).ok());
  EXPECT_TRUE(hub_->Announce(kStore, "k", "", 0).ok());
}

TEST_F(PresenceHubTest, AnnouncementsAreSignedSequencedAndSentToPeers) {
  ASSERT_TRUE(hub_->Announce(kStore, "k", "v", 5000).ok());
  // The wall clock going back does not make sequences go back.
  wall_us_ = 1;
  ASSERT_TRUE(hub_->Announce(kStore, "k", "w", 5000).ok());
  ASSERT_EQ(sent_.size(), 2u);
  const auto& first = sent_[0].entries.at(0);
  const auto& second = sent_[1].entries.at(0);
  EXPECT_EQ(sent_[0].store_id, kStore);
  EXPECT_EQ(sent_[0].except, "");
  EXPECT_EQ(first.origin(), key_.public_key);
  EXPECT_TRUE(VerifyAnnouncement(first));
  EXPECT_TRUE(VerifyAnnouncement(second));
  EXPECT_EQ(first.sequence(), 5'000'000u);
  EXPECT_EQ(second.sequence(), 5'000'001u);
  // A withdrawal goes to peers too.
  ASSERT_TRUE(hub_->Announce(kStore, "k", "", 0).ok());
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[2].entries.at(0).ttl_ms(), 0u);
  EXPECT_GT(sent_[2].entries.at(0).sequence(), second.sequence());
}

TEST_F(PresenceHubTest, WatchersSeeASnapshotThenChangesButNotRenewals) {
  ASSERT_TRUE(hub_->Announce(kStore, "member/#a/alice", "", 5000).ok());
  ASSERT_TRUE(hub_->Announce(kStore, "member/#b/alice", "", 5000).ok());
  std::vector<PresenceChange> snapshot;
  uint64_t id = Watch("member/#a/", &snapshot);
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_EQ(snapshot[0].key, "member/#a/alice");
  EXPECT_EQ(snapshot[0].origin, key_.public_key);
  EXPECT_EQ(snapshot[0].expires_at_ms, now_ms_ + 5000);

  ASSERT_TRUE(hub_->Announce(kStore, "member/#a/alice", "", 5000).ok());  // renewal
  ASSERT_TRUE(hub_->Announce(kStore, "member/#b/alice", "away", 5000).ok());  // other prefix
  EXPECT_TRUE(changes_.empty());
  ASSERT_TRUE(hub_->Announce(kStore, "member/#a/alice", "away", 5000).ok());
  ASSERT_TRUE(hub_->Announce(kStore, "member/#a/bob", "", 5000).ok());
  ASSERT_TRUE(hub_->Announce(kStore, "member/#a/bob", "", 0).ok());
  ASSERT_EQ(changes_.size(), 3u);
  EXPECT_EQ(changes_[0].value, "away");
  EXPECT_FALSE(changes_[0].gone);
  EXPECT_EQ(changes_[1].key, "member/#a/bob");
  EXPECT_FALSE(changes_[1].gone);
  EXPECT_EQ(changes_[2].key, "member/#a/bob");
  EXPECT_TRUE(changes_[2].gone);

  hub_->Unwatch(id);
  ASSERT_TRUE(hub_->Announce(kStore, "member/#a/carol", "", 5000).ok());
  EXPECT_EQ(changes_.size(), 3u);
}

TEST_F(PresenceHubTest, AnEntryNotRenewedGoesAtItsExpiry) {
  std::vector<PresenceChange> snapshot;
  Watch("", &snapshot);
  ASSERT_TRUE(hub_->Announce(kStore, "k", "v", 1000).ok());
  now_ms_ += 999;
  hub_->ExpireNow();
  ASSERT_EQ(changes_.size(), 1u);
  now_ms_ += 1;
  hub_->ExpireNow();
  ASSERT_EQ(changes_.size(), 2u);
  EXPECT_TRUE(changes_[1].gone);
  EXPECT_EQ(changes_[1].key, "k");
  EXPECT_EQ(hub_->live_count(), 0u);
  // Expiry is each node's own: nothing is sent for it.
  EXPECT_EQ(sent_.size(), 1u);
}

TEST_F(PresenceHubTest, TooManyEntriesOfThisNodeAreRefused) {
  ASSERT_TRUE(hub_->Announce(kStore, "k1", "v", 5000).ok());
  ASSERT_TRUE(hub_->Announce(kStore, "k2", "v", 5000).ok());
  ASSERT_TRUE(hub_->Announce(kStore, "k3", "v", 5000).ok());
  EXPECT_EQ(hub_->Announce(kStore, "k4", "v", 5000).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sent_.size(), 3u);
  ASSERT_TRUE(hub_->Announce(kStore, "k1", "", 0).ok());
  EXPECT_TRUE(hub_->Announce(kStore, "k4", "v", 5000).ok());
}

TEST_F(PresenceHubTest, PeersEntriesAreKeptForwardedOnceAndCapped) {
  KeyPair other = GenerateKeyPair();
  std::vector<PresenceChange> snapshot;
  Watch("", &snapshot);
  auto a = Peer(other, "k", "v", 7, 3'600'000);  // a ttl beyond the limit
  EXPECT_EQ(hub_->Receive("peer-1", {a}), 1u);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].origin, other.public_key);
  EXPECT_EQ(changes_[0].expires_at_ms, now_ms_ + limits::kMaxTtlMs);
  // Passed on to the others, not back to the sender, with the time left it was given.
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].except, "peer-1");
  EXPECT_EQ(sent_[0].entries.at(0).remaining_ms(), limits::kMaxTtlMs);
  // The same announcement again (from another peer) is no news: not passed on.
  EXPECT_EQ(hub_->Receive("peer-2", {a}), 0u);
  EXPECT_EQ(sent_.size(), 1u);
  // A relayed copy with little time left expires when that runs out.
  auto b = Peer(other, "short", "v", 8, 60'000);
  b.set_remaining_ms(1500);
  hub_->Receive("peer-1", {b});
  now_ms_ += 1500;
  hub_->ExpireNow();
  ASSERT_EQ(changes_.size(), 3u);
  EXPECT_TRUE(changes_[2].gone);
  EXPECT_EQ(changes_[2].key, "short");
}

TEST_F(PresenceHubTest, ThisNodesOwnEntriesComingBackAreIgnored) {
  ASSERT_TRUE(hub_->Announce(kStore, "k", "v", 5000).ok());
  auto copy = sent_[0].entries[0];
  ASSERT_TRUE(hub_->Announce(kStore, "k", "", 0).ok());
  EXPECT_EQ(hub_->Receive("peer-1", {copy}), 0u);
  EXPECT_EQ(hub_->live_count(), 0u);
}

// With the real clocks and the hub's own expiry thread: an entry goes when its ttl runs
// out, not at the thread's next routine look.
TEST(PresenceHubClockTest, TheExpiryThreadEndsAnEntryOnTime) {
  PresenceHub hub(GenerateKeyPair());
  std::mutex mu;
  std::vector<PresenceChange> changes;
  std::vector<PresenceChange> snapshot;
  hub.Watch(kStore, "", [&](const PresenceChange& c) {
    std::lock_guard lock(mu);
    changes.push_back(c);
  }, &snapshot);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(hub.Announce(kStore, "k", "v", 1000).ok());
  auto gone = [&] {
    std::lock_guard lock(mu);
    return changes.size() == 2 && changes[1].gone;
  };
  while (!gone() && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(gone());
  EXPECT_GE(elapsed, std::chrono::milliseconds(1000));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace lattice::kernel::presence
