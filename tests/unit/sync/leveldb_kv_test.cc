// LevelDbKv over a real LevelDB: a pinned reader sees the state of the moment it was
// pinned, and its scans (which share one iterator, and go on from where the last one
// stopped when they can) each list exactly their own range, one after another and one
// started from inside another's visitor.
#include "storage/leveldb_kv.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "temp_leveldb.h"

namespace lattice::kernel::sync {
namespace {

class LevelDbKvTest : public TempLevelDbTest {
 protected:
  void SetUp() override {
    TempLevelDbTest::SetUp();
    if (HasFatalFailure()) return;
    for (char c = 'a'; c <= 'j'; ++c) Put(std::string(1, c));
  }

  void Put(const std::string& key) {
    ASSERT_TRUE(db_->Put(leveldb::WriteOptions(), key, "v" + key).ok());
  }

  static std::vector<std::string> Listed(const KvReader& kv, std::string_view start,
                                       std::string_view end) {
    std::vector<std::string> keys;
    EXPECT_TRUE(kv.Scan(start, end, [&](std::string_view k, std::string_view) {
                    keys.emplace_back(k);
                    return true;
                  }).ok());
    return keys;
  }
};

using Keys = std::vector<std::string>;

TEST_F(LevelDbKvTest, PinnedScansOneAfterAnotherListTheirOwnRanges) {
  auto kv = LevelDbKv::Pinned(db_.get());
  EXPECT_EQ(Listed(*kv, "c", "f"), (Keys{"c", "d", "e"}));
  EXPECT_EQ(Listed(*kv, "a", "c"), (Keys{"a", "b"}));
  EXPECT_EQ(Listed(*kv, "h", ""), (Keys{"h", "i", "j"}));
  EXPECT_EQ(Listed(*kv, "x", ""), Keys{});
  EXPECT_EQ(Listed(*kv, "b", "c"), (Keys{"b"}));
}

TEST_F(LevelDbKvTest, PinnedScanInsideAnotherScansVisitorListsItsOwnRange) {
  auto kv = LevelDbKv::Pinned(db_.get());
  Keys outer, inner;
  ASSERT_TRUE(kv->Scan("a", "d", [&](std::string_view k, std::string_view) {
                  outer.emplace_back(k);
                  if (k == "b") inner = Listed(*kv, "g", "i");
                  return true;
                }).ok());
  EXPECT_EQ(outer, (Keys{"a", "b", "c"}));
  EXPECT_EQ(inner, (Keys{"g", "h"}));
  EXPECT_EQ(Listed(*kv, "e", "g"), (Keys{"e", "f"}));
}

TEST_F(LevelDbKvTest, PinnedReaderKeepsTheStateItWasPinnedIn) {
  auto kv = LevelDbKv::Pinned(db_.get());
  EXPECT_EQ(Listed(*kv, "c", "e"), (Keys{"c", "d"}));
  Put("cc");
  EXPECT_EQ(Listed(*kv, "c", "e"), (Keys{"c", "d"}));
  auto value = kv->Get("cc");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
  EXPECT_EQ(Listed(*LevelDbKv::Pinned(db_.get()), "c", "e"), (Keys{"c", "cc", "d"}));
}

// Scans that start where the last stopped (at its end, or at the key its visitor stopped
// on), just past it, inside it or before it, in random order, empty or ending before they
// start, each list what a reader without the shared iterator lists in the same state.
TEST_F(LevelDbKvTest, PinnedScansInAnyOrderListWhatAFreshReaderLists) {
  Put("c1");
  Put("e5");
  auto pinned = LevelDbKv::Pinned(db_.get());
  const leveldb::Snapshot* snapshot = db_->GetSnapshot();
  LevelDbKv fresh(db_.get(), snapshot);  // no snapshot of its own: an iterator per scan
  Put("d1");  // after the pin: neither reader sees it
  const Keys bounds = {"", "a", "a0", "b", "c", "c0", "c1", "c2", "d", "d1", "e", "e5", "f",
                       "h", "j", "k", "z"};
  std::mt19937_64 rng(7);
  std::string last_end;
  for (int i = 0; i < 3000; ++i) {
    // Half the scans begin where the last one ended, as the index's leaves are read.
    std::string start = rng() % 2 == 0 ? last_end : bounds[rng() % bounds.size()];
    // Some ranges are empty, and some end before they start.
    std::string end = bounds[rng() % bounds.size()];
    const size_t stop_after = rng() % 4 == 0 ? size_t{1} + rng() % 3 : SIZE_MAX;
    auto scan = [&](const KvReader& kv) {
      Keys keys;
      EXPECT_TRUE(kv.Scan(start, end, [&](std::string_view k, std::string_view v) {
                      EXPECT_EQ(v, "v" + std::string(k));
                      keys.emplace_back(k);
                      return keys.size() < stop_after;
                    }).ok());
      return keys;
    };
    ASSERT_EQ(scan(*pinned), scan(fresh)) << "scan " << i << " [" << start << ", " << end << ")";
    last_end = end;
  }
  db_->ReleaseSnapshot(snapshot);
}

}  // namespace
}  // namespace lattice::kernel::sync
