// The range index's resident levels on a real LevelDB in a temporary directory: after
// random inserts, after a reopen and after a batch that is never committed they hold the
// same buckets as the index on disk; a reader over them answers as the items themselves
// do, ignores levels of another state, cuts at bucket edges without reading leaves, and
// shares the leaves it reads; within a small budget they give up their deepest levels.
#include "sync/resident_trie.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <set>

#include "sync/index_batch.h"
#include "storage/leveldb_kv.h"
#include "sync/negentropy.h"
#include "sync/range_index.h"
#include "sync/sorted_items.h"
#include "temp_leveldb.h"

namespace lattice::kernel::sync {
namespace {

constexpr uint64_t kYearStart = 1'700'000'000'000;
constexpr uint64_t kYearMs = 31'536'000'000;

std::vector<Item> RandomItems(std::mt19937_64& rng, size_t n, uint64_t base = kYearStart,
                              uint64_t span = kYearMs) {
  std::vector<Item> items;
  for (size_t i = 0; i < n; ++i) items.push_back(RandomItem(rng, base, span));
  return items;
}

// Compares two states of the levels bucket by bucket, naming the first that differs.
void ExpectSameBuckets(const ResidentBucket& a, const ResidentBucket& b, int level,
                       const std::string& where) {
  ASSERT_EQ(a.aggregate, b.aggregate) << where;
  ASSERT_EQ(a.split, b.split) << where;
  ASSERT_EQ(a.index, b.index) << where;
  ASSERT_EQ(a.children == nullptr, b.children == nullptr) << where;
  if (a.children == nullptr) return;
  ASSERT_EQ(a.children->size(), b.children->size()) << where;
  for (size_t i = 0; i < a.children->size(); ++i) {
    ExpectSameBuckets((*a.children)[i], (*b.children)[i], level + 1,
                      where + "/" + std::to_string((*a.children)[i].index));
  }
}

void ExpectSameLevels(const ResidentLevels& a, const ResidentLevels& b) {
  EXPECT_EQ(a.depth, b.depth);
  EXPECT_EQ(a.buckets, b.buckets);
  EXPECT_EQ(a.level_buckets, b.level_buckets);
  ExpectSameBuckets(a.root, b.root, 0, "root");
}

// Loads `trie` from `db`, then adds the items of `lists` in one committed batch and
// publishes it.
void IndexInOneBatch(leveldb::DB* db, ResidentTrie& trie,
                     std::initializer_list<const std::vector<Item>*> lists) {
  LevelDbKv committed(db);
  ASSERT_TRUE(trie.Load(committed).ok());
  IndexUpdate added = AddInOneBatch(db, lists);
  ASSERT_TRUE(trie.Publish(added, committed).ok());
}

class ResidentTrieTest : public TempLevelDbTest {
 protected:
  // A batch adding `items` over the committed state, and what it puts.
  struct Batch {
    leveldb::WriteBatch writes;
    IndexUpdate update;
  };
  std::unique_ptr<Batch> Build(const std::vector<Item>& items) {
    auto batch = std::make_unique<Batch>();
    LevelDbKv committed(db_.get());
    IndexBatch writer(committed, &batch->writes);
    batch->update = writer.Update(AddThrough(index_, writer, items));
    return batch;
  }

  // Commits `batch` and publishes it to `trie`, as the kernel's group commit does.
  void Commit(Batch& batch, ResidentTrie& trie, const std::vector<Item>& items) {
    ASSERT_TRUE(db_->Write(leveldb::WriteOptions(), &batch.writes).ok());
    LevelDbKv committed(db_.get());
    absl::Status published = trie.Publish(batch.update, committed);
    ASSERT_TRUE(published.ok()) << published;
    for (const Item& item : items) naive_.Insert(item);
  }

  void Add(const std::vector<Item>& items, ResidentTrie& trie, size_t batch_size = 100) {
    for (size_t begin = 0; begin < items.size(); begin += batch_size) {
      std::vector<Item> part(items.begin() + static_cast<ptrdiff_t>(begin),
                             items.begin() + static_cast<ptrdiff_t>(
                                                 std::min(items.size(), begin + batch_size)));
      auto batch = Build(part);
      Commit(*batch, trie, part);
    }
  }

  // The levels a fresh Load reads from the disk now.
  std::shared_ptr<const ResidentLevels> FromDisk(size_t max_buckets) {
    ResidentTrie fresh(RangeIndexOptions{}, max_buckets);
    LevelDbKv kv(db_.get());
    EXPECT_TRUE(fresh.Load(kv).ok());
    return fresh.Current();
  }

  void ExpectMatchesDisk(const ResidentTrie& trie,
                         size_t max_buckets = ResidentTrie::kDefaultMaxBuckets) {
    auto resident = trie.Current();
    ASSERT_NE(resident, nullptr);
    auto disk = FromDisk(max_buckets);
    ASSERT_NE(disk, nullptr);
    ExpectSameLevels(*resident, *disk);
  }

  // A reader over `trie`'s levels answers as the sorted items do.
  void ExpectReaderMatchesNaive(const ResidentTrie& trie, std::mt19937_64& rng, int probes) {
    naive_.Seal();
    const std::vector<Item>& items = naive_.items();
    auto kv = LevelDbKv::Pinned(db_.get());
    RangeIndexReader reader(*kv, trie.Current());
    ASSERT_TRUE(*reader.UsesResidentLevels());
    EXPECT_EQ(*reader.Total(), *naive_.Total());
    for (int i = 0; i < probes; ++i) {
      const Item& pivot = items[rng() % items.size()];
      for (const Bound& bound : {Bound::AtItem(pivot), Bound{pivot.timestamp, 0, {}}}) {
        EXPECT_EQ(*reader.Below(bound), *naive_.Below(bound));
      }
      uint64_t rank = 1 + rng() % (items.size() - 1);
      EXPECT_EQ(reader.AtRank(rank)->item, naive_.AtRank(rank)->item);
      uint64_t reach = rng() % 200;
      uint64_t lowest = rank > reach ? rank - reach : 1;
      uint64_t highest = std::min<uint64_t>(rank + reach, items.size() - 1);
      auto cut = reader.CutNear(rank, lowest, highest);
      ASSERT_TRUE(cut.ok()) << cut.status();
      EXPECT_GE(cut->below.count, lowest);
      EXPECT_LE(cut->below.count, highest);
      EXPECT_EQ(cut->below, *naive_.Below(cut->bound));
      std::vector<Item> listed;
      ASSERT_TRUE(reader.ItemsIn(Bound::AtItem(items[rank - 1]), Bound::Infinity(), 70, &listed)
                      .ok());
      ASSERT_EQ(listed.size(), std::min<size_t>(70, items.size() - rank + 1));
      for (size_t k = 0; k < listed.size(); ++k) EXPECT_EQ(listed[k], items[rank - 1 + k]);
    }
  }

  RangeIndex index_;
  SortedItems naive_;
};

TEST_F(ResidentTrieTest, EqualsTheDiskAfterRandomInserts) {
  std::mt19937_64 rng(1);
  ResidentTrie trie;
  LevelDbKv kv(db_.get());
  ASSERT_TRUE(trie.Load(kv).ok());  // empty
  Add(RandomItems(rng, 20'000), trie, 250);
  // Bursts in one millisecond split deep into the ids.
  Add(RandomItems(rng, 3000, kYearStart + 5, 0), trie, 64);
  Add(RandomItems(rng, 5000), trie, 1);
  ExpectMatchesDisk(trie);
  naive_.Seal();
  EXPECT_EQ(trie.Current()->root.aggregate, *naive_.Total());
  ExpectReaderMatchesNaive(trie, rng, 300);
}

TEST_F(ResidentTrieTest, EqualsTheDiskAfterReopen) {
  std::mt19937_64 rng(2);
  ResidentTrie trie;
  LevelDbKv kv(db_.get());
  ASSERT_TRUE(trie.Load(kv).ok());
  Add(RandomItems(rng, 10'000), trie);
  std::shared_ptr<const ResidentLevels> before = trie.Current();
  Open();
  ResidentTrie reopened;
  LevelDbKv reopened_kv(db_.get());
  ASSERT_TRUE(reopened.Load(reopened_kv).ok());
  ExpectSameLevels(*reopened.Current(), *before);
  Add(RandomItems(rng, 2000), reopened);
  ExpectMatchesDisk(reopened);
  ExpectReaderMatchesNaive(reopened, rng, 100);
}

TEST_F(ResidentTrieTest, ABatchThatIsNotCommittedChangesNothing) {
  std::mt19937_64 rng(3);
  ResidentTrie trie;
  LevelDbKv kv(db_.get());
  ASSERT_TRUE(trie.Load(kv).ok());
  Add(RandomItems(rng, 5000), trie);
  // Its write fails: nothing is published, and the next batch is built without it.
  std::vector<Item> lost = RandomItems(rng, 500);
  std::unique_ptr<Batch> failed = Build(lost);
  std::vector<Item> next = RandomItems(rng, 300);
  std::unique_ptr<Batch> committed = Build(next);
  Commit(*committed, trie, next);
  ExpectMatchesDisk(trie);
  // Publishing the failed batch's update by mistake is noticed: it does not follow the
  // resident state, so the levels are read again from the disk, which lacks it.
  LevelDbKv now(db_.get());
  ASSERT_TRUE(trie.Publish(failed->update, now).ok());
  ExpectMatchesDisk(trie);
  EXPECT_EQ(trie.Current()->root.aggregate.count, 5300u);
}

TEST_F(ResidentTrieTest, ReaderIgnoresLevelsOfAnotherState) {
  std::mt19937_64 rng(4);
  ResidentTrie trie;
  LevelDbKv kv(db_.get());
  ASSERT_TRUE(trie.Load(kv).ok());
  Add(RandomItems(rng, 3000), trie);
  std::shared_ptr<const ResidentLevels> stale = trie.Current();
  Add(RandomItems(rng, 100), trie);  // committed after the levels were taken
  naive_.Seal();
  auto pinned = LevelDbKv::Pinned(db_.get());
  RangeIndexReader reader(*pinned, stale);
  EXPECT_FALSE(*reader.UsesResidentLevels());
  EXPECT_EQ(*reader.Total(), *naive_.Total());
  const Item& pivot = naive_.items()[1234];
  EXPECT_EQ(*reader.Below(Bound::AtItem(pivot)), *naive_.Below(Bound::AtItem(pivot)));
}

TEST_F(ResidentTrieTest, CutsAtBucketEdgesReadNoLeaf) {
  std::mt19937_64 rng(5);
  ResidentTrie trie;
  LevelDbKv kv(db_.get());
  ASSERT_TRUE(trie.Load(kv).ok());
  Add(RandomItems(rng, 20'000), trie, 1000);
  naive_.Seal();
  auto pinned = LevelDbKv::Pinned(db_.get());
  RangeIndexReader reader(*pinned, trie.Current());
  ASSERT_TRUE(*reader.UsesResidentLevels());  // one read: the root of the snapshot
  for (uint64_t rank = 1000; rank < 19'000; rank += 1000) {
    // Leaves hold at most 64 items: a window of 130 holds an edge.
    auto cut = reader.CutNear(rank, rank - 65, rank + 65);
    ASSERT_TRUE(cut.ok()) << cut.status();
    EXPECT_EQ(cut->below, *naive_.Below(cut->bound));
    // The peer's index finds the aggregate below the same edge without a leaf too.
    EXPECT_EQ(*reader.Below(cut->bound), cut->below);
  }
  EXPECT_EQ(reader.reads(), 1u);
}

TEST_F(ResidentTrieTest, LeavesReadOnceServeLaterReadersWhileTheyCountTheSame) {
  std::mt19937_64 rng(6);
  ResidentTrie trie;
  LevelDbKv kv(db_.get());
  ASSERT_TRUE(trie.Load(kv).ok());
  std::vector<Item> items = RandomItems(rng, 5000);
  Add(items, trie);
  naive_.Seal();
  Bound bound = Bound::AtItem(naive_.items()[2500]);
  auto reads_of_below = [&] {
    auto pinned = LevelDbKv::Pinned(db_.get());
    RangeIndexReader reader(*pinned, trie.Current());
    EXPECT_EQ(*reader.Below(bound), *naive_.Below(bound));
    return reader.reads();
  };
  EXPECT_EQ(reads_of_below(), 2u);  // the root, then the leaf
  EXPECT_EQ(reads_of_below(), 1u);  // the leaf from the cache
  // An item added to that leaf: the cached leaf counts one less and is read again.
  Item beside = naive_.items()[2500];
  beside.id[kIdBytes - 1] ^= 1;
  naive_ = SortedItems();
  for (const Item& item : items) naive_.Insert(item);
  Add({beside}, trie);
  naive_.Seal();
  EXPECT_EQ(reads_of_below(), 2u);
}

TEST_F(ResidentTrieTest, ASmallBudgetGivesUpTheDeepestLevels) {
  std::mt19937_64 rng(7);
  constexpr size_t kBudget = 200;
  ResidentTrie trie(RangeIndexOptions{}, kBudget);
  LevelDbKv kv(db_.get());
  ASSERT_TRUE(trie.Load(kv).ok());
  Add(RandomItems(rng, 30'000), trie, 500);
  auto levels = trie.Current();
  EXPECT_LE(levels->buckets, kBudget);
  EXPECT_LT(levels->depth, 76);
  naive_.Seal();
  EXPECT_EQ(levels->root.aggregate, *naive_.Total());
  ExpectReaderMatchesNaive(trie, rng, 100);
  // A fresh load within the same budget holds no more than the published state does.
  EXPECT_LE(FromDisk(kBudget)->buckets, kBudget);
}

TEST_F(ResidentTrieTest, TwoIndexesReconcileExactlyThroughTheirLevels) {
  std::mt19937_64 rng(8);
  std::vector<Item> common = RandomItems(rng, 30'000);
  std::vector<Item> only_a = RandomItems(rng, 40), only_b = RandomItems(rng, 60);
  ResidentTrie trie_a;
  LevelDbKv kv_a(db_.get());
  ASSERT_TRUE(trie_a.Load(kv_a).ok());
  Add(common, trie_a, 1000);
  Add(only_a, trie_a);

  auto dir_b = SecondDir();
  std::unique_ptr<leveldb::DB> db_b = OpenEmptyDb(dir_b);
  ASSERT_NE(db_b, nullptr);
  ResidentTrie trie_b;
  IndexInOneBatch(db_b.get(), trie_b, {&common, &only_b});
  ExpectIndexesReconcile(db_.get(), trie_a.Current(), db_b.get(), trie_b.Current(), only_a,
                         only_b);
  db_b.reset();
  std::filesystem::remove_all(dir_b);
}

TEST_F(ResidentTrieTest, ASparseDifferenceCostsEachSideAboutOneLeafRead) {
  // Far apart differences: the plan's final ranges span about two leaves, so their cuts
  // mostly land on bucket edges held in memory, and a side reads little more than the leaf
  // it tests (here 50 and 49 reads; final ranges of about one leaf took 86 and 67).
  std::mt19937_64 rng(9);
  std::vector<Item> common = RandomItems(rng, 50'000);
  std::vector<Item> only_a = RandomItems(rng, 25), only_b = RandomItems(rng, 25);
  ResidentTrie trie_a, trie_b;
  IndexInOneBatch(db_.get(), trie_a, {&common, &only_a});
  auto dir_b = SecondDir();
  std::unique_ptr<leveldb::DB> db_b = OpenEmptyDb(dir_b);
  ASSERT_NE(db_b, nullptr);
  IndexInOneBatch(db_b.get(), trie_b, {&common, &only_b});
  SyncReads reads;
  ExpectIndexesReconcile(db_.get(), trie_a.Current(), db_b.get(), trie_b.Current(), only_a,
                         only_b, &reads);
  const uint64_t differences = only_a.size() + only_b.size();
  EXPECT_LE(reads.initiator, differences + differences / 4) << reads.responder << " responder";
  EXPECT_LE(reads.responder, differences + differences / 4) << reads.initiator << " initiator";
  db_b.reset();
  std::filesystem::remove_all(dir_b);
}

}  // namespace
}  // namespace lattice::kernel::sync
