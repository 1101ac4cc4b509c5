// A store whose range index was written in the first format (one LevelDB entry an item)
// gets leaf records when it opens: the index then answers as before, holds no entry of the
// first format, and a move cut short by a failed write goes on at the next open.
#include "sync/legacy_item_table.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "sync/sorted_items.h"
#include "temp_leveldb.h"

namespace lattice::kernel::sync {
namespace {

class LegacyItemTableTest : public TempLevelDbTest {
 protected:
  // Commits each batch to the test's database.
  CommitBatch Committer() {
    return [this](leveldb::WriteBatch* batch) {
      ++commits_;
      return db_->Write(leveldb::WriteOptions(), batch).ok()
                 ? absl::OkStatus()
                 : absl::InternalError("write failed");
    };
  }

  // The index's total, and what lies below each of `probes`, read as a reconciliation does.
  std::vector<Aggregate> Answers(const std::vector<Item>& probes) {
    LevelDbKv kv(db_.get());
    RangeIndexReader reader(kv);
    std::vector<Aggregate> out;
    auto total = reader.Total();
    EXPECT_TRUE(total.ok()) << total.status();
    out.push_back(total.value_or(Aggregate{}));
    for (const Item& probe : probes) {
      auto below = reader.Below(Bound::AtItem(probe));
      EXPECT_TRUE(below.ok()) << below.status();
      out.push_back(below.value_or(Aggregate{}));
    }
    return out;
  }

  int commits_ = 0;
};

TEST_F(LegacyItemTableTest, ItemsOfTheFirstFormatMoveIntoLeafRecords) {
  std::mt19937_64 rng(31);
  std::vector<Item> items;
  for (int i = 0; i < 40'000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 86'400'000));
  AddInOneBatch(db_.get(), {&items});
  size_t leaves = CountEntries(db_.get(), "nl");
  ASSERT_GT(leaves, 600u);
  EXPECT_EQ(CountEntries(db_.get(), "ni"), 0u);
  std::vector<Item> probes(items.begin(), items.begin() + 200);
  std::vector<Aggregate> expected = Answers(probes);

  RewriteInFirstFormat(db_.get());
  ASSERT_EQ(CountEntries(db_.get(), "ni"), items.size());
  ASSERT_EQ(CountEntries(db_.get(), "nl"), 0u);
  LevelDbKv kv(db_.get());
  auto moved = MoveItemsIntoLeaves(kv, Committer());
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, items.size());
  EXPECT_GE(commits_, 3);  // 40,000 items in batches of at most kItemsPerBatch
  EXPECT_EQ(CountEntries(db_.get(), "ni"), 0u);
  EXPECT_EQ(CountEntries(db_.get(), "nl"), leaves);
  EXPECT_EQ(Answers(probes), expected);

  // The next open finds nothing to move, in one read.
  commits_ = 0;
  auto again = MoveItemsIntoLeaves(kv, Committer());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(commits_, 0);
}

TEST_F(LegacyItemTableTest, AMoveCutShortGoesOnAtTheNextOpen) {
  std::mt19937_64 rng(32);
  std::vector<Item> items;
  for (int i = 0; i < 30'000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 86'400'000));
  AddInOneBatch(db_.get(), {&items});
  std::vector<Item> probes(items.begin(), items.begin() + 100);
  std::vector<Aggregate> expected = Answers(probes);
  RewriteInFirstFormat(db_.get());

  LevelDbKv kv(db_.get());
  CommitBatch commit = Committer();
  auto first_only = [&](leveldb::WriteBatch* batch) {
    return commits_ == 0 ? commit(batch) : absl::ResourceExhaustedError("disk full");
  };
  auto cut = MoveItemsIntoLeaves(kv, first_only);
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kResourceExhausted);
  size_t left = CountEntries(db_.get(), "ni");
  EXPECT_GT(left, 0u);
  EXPECT_LT(left, items.size());

  auto rest = MoveItemsIntoLeaves(kv, Committer());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, left);
  EXPECT_EQ(CountEntries(db_.get(), "ni"), 0u);
  EXPECT_EQ(Answers(probes), expected);
}

TEST_F(LegacyItemTableTest, AnEntryNoLeafCountsIsDataLossAndMovesNothing) {
  std::mt19937_64 rng(33);
  std::vector<Item> items;
  for (int i = 0; i < 1'000; ++i) items.push_back(RandomItem(rng, 1'700'000'000'000, 86'400'000));
  AddInOneBatch(db_.get(), {&items});
  RewriteInFirstFormat(db_.get());
  // One entry more than its leaf counts.
  Item stray = RandomItem(rng, 1'700'000'000'000, 86'400'000);
  std::array<uint8_t, 40> key{};
  for (int i = 0; i < 8; ++i) key[i] = static_cast<uint8_t>(stray.timestamp >> (56 - 8 * i));
  std::copy(stray.id.begin(), stray.id.end(), key.begin() + 8);
  ASSERT_TRUE(db_->Put(leveldb::WriteOptions(),
                       "ni" + std::string(reinterpret_cast<const char*>(key.data()), key.size()),
                       "")
                  .ok());
  LevelDbKv kv(db_.get());
  auto moved = MoveItemsIntoLeaves(kv, Committer());
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(commits_, 0);
  EXPECT_EQ(CountEntries(db_.get(), "ni"), items.size() + 1);
}

}  // namespace
}  // namespace lattice::kernel::sync
