// The store's resident levels of its sync index (sync/resident_trie.h) follow its commits:
// after writes, after commits that fail and after a power cut and a reopen they hold what
// the index on disk holds, and reconciliation's snapshot answers from them as the disk
// alone does.
#include <gtest/gtest.h>

#include <random>

#include "harness/fault_injection_env.h"
#include "store/sync_snapshot.h"
#include "sync/resident_trie.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using lattice::testing::FaultInjectionEnv;

constexpr uint64_t kNever = 3'600'000;  // an unsynced bound no test reaches

class SyncLevelsTest : public ::testing::Test {
 protected:
  void TearDown() override { store_.reset(); }

  void Open(uint64_t min_free_bytes = 0,
            uint64_t adds_before_compaction = Store::Options().sync_index_adds_before_compaction,
            uint64_t quiet_ms = Store::Options().sync_index_quiet_ms) {
    store_.reset();
    Store::Options options = StoreOptions(dir_.path() + "/store", store_id_, self_, clock_);
    options.max_unsynced_ms = kNever;
    options.min_free_bytes = min_free_bytes;
    options.sync_index_adds_before_compaction = adds_before_compaction;
    options.sync_index_quiet_ms = quiet_ms;
    options.env = &fault_;
    auto opened = Store::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }

  void Write(int count, Durability durability = Durability::kSynced) {
    for (int i = 0; i < count; ++i) {
      auto written = store_->WriteKv({{"k" + std::to_string(next_key_++), "v"}}, durability);
      ASSERT_TRUE(written.ok()) << written.status();
    }
  }

  // The levels hold the buckets a fresh read of the disk finds, and the snapshot over them
  // answers as the disk alone does.
  void ExpectLevelsMatchTheDisk() {
    auto resident = store_->sync_levels().Current();
    ASSERT_NE(resident, nullptr);
    sync::ResidentTrie fresh;
    ASSERT_TRUE(fresh.Load(store_->db()).ok());
    auto disk = fresh.Current();
    EXPECT_EQ(resident->root.aggregate, disk->root.aggregate);
    EXPECT_EQ(resident->buckets, disk->buckets);
    EXPECT_EQ(resident->level_buckets, disk->level_buckets);
    EXPECT_EQ(resident->root.aggregate.count, store_->last_witness());

    auto from_levels = SyncSnapshot::Open(*store_);
    auto from_disk = SyncSnapshot::Open(store_->db());
    ASSERT_TRUE(from_levels.ok() && from_disk.ok());
    EXPECT_EQ(*(*from_levels)->Total(), *(*from_disk)->Total());
    std::mt19937_64 rng(next_key_);
    for (int i = 0; i < 50; ++i) {
      sync::Bound bound{clock_.WallMs() - rng() % 5000, 1, {}};
      bound.prefix[0] = static_cast<uint8_t>(rng());
      EXPECT_EQ(*(*from_levels)->Below(bound), *(*from_disk)->Below(bound));
    }
  }

  TempDir dir_;
  FaultInjectionEnv fault_;
  std::string store_id_ = NewStoreId();
  KeyPair self_ = GenerateKeyPair();
  HybridClock clock_;
  std::unique_ptr<Store> store_;
  int next_key_ = 0;
};

TEST_F(SyncLevelsTest, FollowEveryCommit) {
  Open();
  ExpectLevelsMatchTheDisk();  // empty
  Write(300);
  ExpectLevelsMatchTheDisk();
  Write(100, Durability::kApplied);
  ExpectLevelsMatchTheDisk();
}

TEST_F(SyncLevelsTest, TheIndexIsCompactedInTheBackgroundOnceEnoughLeavesWereWritten) {
  Open(/*min_free_bytes=*/0, /*adds_before_compaction=*/0);
  Write(150);
  EXPECT_EQ(store_->db().background_compactions(), 0u);  // 0: never
  // Each synced write is a group of its own that writes at least its leaf's record: 200
  // of them reach 64, and a quarter of the 350 items held.
  Open(/*min_free_bytes=*/0, /*adds_before_compaction=*/64);
  Write(200);
  EXPECT_TRUE(WaitFor([&] { return store_->db().background_compactions() >= 1; },
                      std::chrono::seconds(30)));
  ExpectLevelsMatchTheDisk();
  Write(20);
  ExpectLevelsMatchTheDisk();
}

TEST_F(SyncLevelsTest, TheIndexIsCompactedOnceNoWriteCameForTheQuietPeriod) {
  // 300 synced writes, 300 leaf records or more: short of 1,024, so none is due while they
  // come, and past a quarter of it, so one is once they stop.
  Open(/*min_free_bytes=*/0, /*adds_before_compaction=*/1024, /*quiet_ms=*/7'200'000);
  Write(300);
  // The background thread now waits for the two quiet hours to pass.
  EXPECT_TRUE(WaitFor(
      [&] {
        Store::BackgroundWait wait = store_->background_wait();
        return wait.waiting && wait.until.has_value() &&
               *wait.until > std::chrono::steady_clock::now() + std::chrono::minutes(90);
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(store_->db().background_compactions(), 0u);

  Open(/*min_free_bytes=*/0, /*adds_before_compaction=*/1024, /*quiet_ms=*/50);
  Write(300);
  EXPECT_TRUE(WaitFor([&] { return store_->db().background_compactions() >= 1; },
                      std::chrono::seconds(30)));
  ExpectLevelsMatchTheDisk();
  Write(20);
  ExpectLevelsMatchTheDisk();
}

TEST_F(SyncLevelsTest, CommitsThatFailLeaveThemAsTheDisk) {
  Open();
  Write(200);
  store_.reset();
  Open(/*min_free_bytes=*/uint64_t{1} << 62);  // no disk has that much room: every commit fails
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(store_->WriteKv({{"refused" + std::to_string(i), "v"}}).ok());
  }
  ExpectLevelsMatchTheDisk();
  EXPECT_EQ(store_->sync_levels().Current()->root.aggregate.count, 200u);
}

TEST_F(SyncLevelsTest, APowerCutAndAReopenLeaveThemAsTheDisk) {
  Open();
  Write(150);
  Write(50, Durability::kApplied);  // may be lost
  fault_.CutPower();
  store_.reset();
  ASSERT_TRUE(fault_.RestorePower().ok());
  Open();
  ExpectLevelsMatchTheDisk();
  EXPECT_GE(store_->last_witness(), 150u);
  Write(20);
  ExpectLevelsMatchTheDisk();
}

}  // namespace
}  // namespace lattice::kernel::testing
