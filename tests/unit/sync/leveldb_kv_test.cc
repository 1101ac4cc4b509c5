// LevelDbKv over a real LevelDB: a pinned reader sees the state of the moment it was
// pinned, and its scans (which share one iterator) each list exactly their own range,
// one after another and one started from inside another's visitor.
#include "storage/leveldb_kv.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>

#include <memory>
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

}  // namespace
}  // namespace lattice::kernel::sync
