// The persistent range index on a real LevelDB in a temporary directory: aggregates,
// ranks and item lists equal a naive computation over the same items, whatever the spread
// of timestamps; it survives reopening without a rebuild; a fingerprint costs reads that do
// not grow with its range; each leaf is one record; and two stores reconcile through it.
#include "sync/range_index.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>

#include "sync/index_batch.h"
#include "storage/leveldb_kv.h"
#include "sync/negentropy.h"
#include "sync/sorted_items.h"
#include "temp_leveldb.h"

namespace lattice::kernel::sync {
namespace {

class RangeIndexTest : public TempLevelDbTest {
 protected:
  // Adds items in batches, as the kernel's group commit would.
  void Add(const std::vector<Item>& items, size_t batch_size = 100) {
    LevelDbKv committed(db_.get());
    for (size_t begin = 0; begin < items.size(); begin += batch_size) {
      leveldb::WriteBatch batch;
      IndexBatch writer(committed, &batch);
      for (size_t i = begin; i < std::min(items.size(), begin + batch_size); ++i) {
        absl::StatusOr<bool> added = index_.Add(writer, items[i].timestamp, items[i].id);
        ASSERT_TRUE(added.ok()) << added.status();
        EXPECT_TRUE(*added);
      }
      ASSERT_TRUE(db_->Write(leveldb::WriteOptions(), &batch).ok());
    }
    for (const Item& item : items) naive_.Insert(item);
  }

  // Checks Total, Below, AtRank and ItemsIn against the sorted items at random bounds.
  void ExpectMatchesNaive(std::mt19937_64& rng, int probes) {
    naive_.Seal();
    const std::vector<Item>& items = naive_.items();
    // Pinned, as the kernel reads for a reconciliation: its scans share one iterator.
    auto kv = LevelDbKv::Pinned(db_.get());
    RangeIndexReader reader(*kv);
    auto total = reader.Total();
    ASSERT_TRUE(total.ok());
    EXPECT_EQ(*total, *naive_.Total());
    if (items.empty()) return;
    for (int i = 0; i < probes; ++i) {
      const Item& pivot = items[rng() % items.size()];
      Bound bounds[] = {Bound::AtItem(pivot), Bound{pivot.timestamp, 0, {}},
                        Bound{pivot.timestamp + 1, 0, {}}, Bound::Between(Item{}, pivot)};
      bounds[3].prefix_len = 1;
      bounds[3].prefix = pivot.id;
      std::fill(bounds[3].prefix.begin() + 1, bounds[3].prefix.end(), 0);
      for (const Bound& bound : bounds) {
        auto got = reader.Below(bound);
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(*got, *naive_.Below(bound));
      }
      uint64_t rank = rng() % items.size();
      auto ranked = reader.AtRank(rank);
      ASSERT_TRUE(ranked.ok()) << ranked.status();
      auto expected = *naive_.AtRank(rank);
      EXPECT_EQ(ranked->item, expected.item);
      EXPECT_EQ(ranked->before, expected.before);
      if (ranked->previous) {
        EXPECT_EQ(*ranked->previous, *expected.previous);
      }
      // Fingerprint of [a, b) from two descents equals the naive sum.
      uint64_t a = rng() % items.size(), b = rng() % items.size();
      if (a > b) std::swap(a, b);
      Bound lower = Bound::AtItem(items[a]), upper = Bound::AtItem(items[b]);
      Aggregate naive_range;
      for (uint64_t r = a; r < b; ++r) naive_range.Add(items[r]);
      Aggregate range = Aggregate::Difference(*reader.Below(upper), *reader.Below(lower));
      EXPECT_EQ(FingerprintOf(range), FingerprintOf(naive_range));
      std::vector<Item> listed;
      ASSERT_TRUE(reader.ItemsIn(lower, upper, 50, &listed).ok());
      EXPECT_EQ(listed.size(), std::min<uint64_t>(50, b - a));
      for (size_t k = 0; k < listed.size(); ++k) EXPECT_EQ(listed[k], items[a + k]);
    }
    EXPECT_FALSE(reader.AtRank(items.size()).ok());
  }

  RangeIndex index_;
  SortedItems naive_;
};

TEST_F(RangeIndexTest, MatchesNaiveAggregatesForItemsOverAYear) {
  std::mt19937_64 rng(1);
  std::vector<Item> items;
  for (int i = 0; i < 20'000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 31'536'000'000));
  Add(items);
  ExpectMatchesNaive(rng, 200);
}

TEST_F(RangeIndexTest, MatchesNaiveWhenAllItemsShareOneMillisecond) {
  std::mt19937_64 rng(2);
  std::vector<Item> items;
  for (int i = 0; i < 5000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 0));
  Add(items);
  ExpectMatchesNaive(rng, 200);
}

TEST_F(RangeIndexTest, MatchesNaiveForTimestampsAcrossTheWholeRange) {
  std::mt19937_64 rng(3);
  std::vector<Item> items;
  for (int i = 0; i < 3000; ++i) items.push_back(RandomItem(rng, 0, UINT64_MAX));
  for (uint64_t ts : {uint64_t{0}, uint64_t{1}, UINT64_MAX - 1, UINT64_MAX}) {
    for (int i = 0; i < 70; ++i) items.push_back(RandomItem(rng, ts, 0));  // bursts at the edges
  }
  Add(items, 37);
  ExpectMatchesNaive(rng, 200);
}

TEST_F(RangeIndexTest, BurstyTimestampsMatchNaive) {
  std::mt19937_64 rng(4);
  std::vector<Item> items;
  for (int burst = 0; burst < 30; ++burst) {
    uint64_t at = 1'700'000'000'000 + rng() % 1'000'000;
    size_t size = 1 + rng() % 400;
    for (size_t i = 0; i < size; ++i) items.push_back(RandomItem(rng, at, 3));
  }
  Add(items, 1000);
  ExpectMatchesNaive(rng, 200);
}

TEST_F(RangeIndexTest, AddingAnItemTwiceChangesNothing) {
  std::mt19937_64 rng(5);
  std::vector<Item> items;
  for (int i = 0; i < 500; ++i) items.push_back(RandomItem(rng, 1000, 100));
  Add(items);
  LevelDbKv committed(db_.get());
  leveldb::WriteBatch batch;
  IndexBatch writer(committed, &batch);
  for (const Item& item : items) {
    absl::StatusOr<bool> added = index_.Add(writer, item.timestamp, item.id);
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_FALSE(*added);
  }
  EXPECT_EQ(writer.buffered_writes(), 0u);
  ExpectMatchesNaive(rng, 20);
}

TEST_F(RangeIndexTest, PersistsAcrossReopenWithoutRebuilding) {
  std::mt19937_64 rng(6);
  std::vector<Item> items;
  for (int i = 0; i < 10'000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 1'000'000'000));
  Add(items);
  naive_.Seal();
  Aggregate before = *naive_.Total();
  Open();
  LevelDbKv kv(db_.get());
  RangeIndexReader reader(kv);
  auto total = reader.Total();
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, before);
  EXPECT_EQ(reader.reads(), 1u);  // start-up is one read, whatever the set's size
  ExpectMatchesNaive(rng, 50);
}

TEST_F(RangeIndexTest, FingerprintReadsDoNotGrowWithTheRange) {
  std::mt19937_64 rng(7);
  std::vector<Item> items;
  for (int i = 0; i < 50'000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 31'536'000'000));
  Add(items, 1000);
  naive_.Seal();
  const auto& sorted = naive_.items();
  auto reads_for = [&](size_t a, size_t b) {
    LevelDbKv kv(db_.get());
    RangeIndexReader reader(kv);
    EXPECT_TRUE(reader.Below(Bound::AtItem(sorted[a])).ok());
    EXPECT_TRUE(reader.Below(Bound::AtItem(sorted[b])).ok());
    return reader.reads();
  };
  uint64_t small = reads_for(1000, 1100);
  uint64_t whole = reads_for(10, 49'990);
  // Two descents of ~5 levels of up to 16 children each, plus two leaves: far below the
  // 50,000 items a scan would read.
  EXPECT_LT(whole, 300u);
  EXPECT_LT(small, 300u);
}

TEST_F(RangeIndexTest, IndexBatchReadsItsOwnWritesBeforeCommit) {
  std::mt19937_64 rng(8);
  LevelDbKv committed(db_.get());
  leveldb::WriteBatch batch;
  IndexBatch writer(committed, &batch);
  std::vector<Item> items;
  // Enough in one batch to split buckets several times before anything is committed.
  for (int i = 0; i < 2000; ++i) items.push_back(RandomItem(rng, 5000, 10));
  for (const Item& item : items) ASSERT_TRUE(index_.Add(writer, item.timestamp, item.id).ok());
  ASSERT_TRUE(db_->Write(leveldb::WriteOptions(), &batch).ok());
  for (const Item& item : items) naive_.Insert(item);
  ExpectMatchesNaive(rng, 100);
}

TEST_F(RangeIndexTest, TwoStoresReconcileThroughTheirIndexes) {
  std::mt19937_64 rng(9);
  std::vector<Item> common, only_a, only_b;
  for (int i = 0; i < 20'000; ++i) common.push_back(RandomItem(rng, 1'700'000'000'000, 31'536'000'000));
  for (int i = 0; i < 20; ++i) only_a.push_back(RandomItem(rng, 1'700'000'000'000, 31'536'000'000));
  for (int i = 0; i < 30; ++i) only_b.push_back(RandomItem(rng, 1'700'000'000'000, 31'536'000'000));
  Add(common);
  Add(only_a);
  auto dir_b = SecondDir();
  std::unique_ptr<leveldb::DB> db_b = OpenEmptyDb(dir_b);
  ASSERT_NE(db_b, nullptr);
  AddInOneBatch(db_b.get(), {&common, &only_b});
  ExpectIndexesReconcile(db_.get(), nullptr, db_b.get(), nullptr, only_a, only_b);
  db_b.reset();
  std::filesystem::remove_all(dir_b);
}

TEST_F(RangeIndexTest, EachLeafIsOneRecordOfAtMostItsCapacity) {
  std::mt19937_64 rng(11);
  std::vector<Item> items;
  for (int i = 0; i < 10'000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 86'400'000));
  Add(items, 64);
  EXPECT_EQ(CountEntries(db_.get(), "ni"), 0u);
  size_t held = 0, records = 0;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek("nl"); it->Valid() && it->key().starts_with("nl"); it->Next()) {
    size_t count = (it->value().size() - 1) / 40;
    EXPECT_GE(count, 1u);
    EXPECT_LE(count, RangeIndex::kLeafCapacity);
    held += count;
    ++records;
  }
  EXPECT_EQ(held, items.size());
  EXPECT_GE(records, items.size() / RangeIndex::kLeafCapacity);
  ExpectMatchesNaive(rng, 50);
}

TEST_F(RangeIndexTest, CorruptLeafRecordIsDataLoss) {
  std::mt19937_64 rng(13);
  std::vector<Item> items;
  for (int i = 0; i < 10; ++i) items.push_back(RandomItem(rng, 1000, 10));
  Add(items);
  std::string leaf_key = "nl" + std::string(40, '\0');  // the root, a leaf of ten items
  ASSERT_TRUE(db_->Put(leveldb::WriteOptions(), leaf_key, "garbage").ok());
  LevelDbKv kv(db_.get());
  RangeIndexReader reader(kv);
  EXPECT_EQ(reader.AtRank(3).status().code(), absl::StatusCode::kDataLoss);
  std::vector<Item> listed;
  EXPECT_EQ(reader.ItemsIn(Bound{}, Bound::Infinity(), 5, &listed).code(),
            absl::StatusCode::kDataLoss);
  // The writer will not add to it either.
  leveldb::WriteBatch batch;
  IndexBatch writer(kv, &batch);
  EXPECT_EQ(index_.Add(writer, 1005, items[0].id).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(RangeIndexTest, CorruptBucketRecordIsDataLoss) {
  std::mt19937_64 rng(10);
  std::vector<Item> items;
  for (int i = 0; i < 10; ++i) items.push_back(RandomItem(rng, 1000, 10));
  Add(items);
  std::string root_key = "na";
  root_key.push_back('\0');
  ASSERT_TRUE(db_->Put(leveldb::WriteOptions(), root_key, "garbage").ok());
  LevelDbKv kv(db_.get());
  RangeIndexReader reader(kv);
  EXPECT_EQ(reader.Total().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace lattice::kernel::sync
