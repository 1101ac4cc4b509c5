// Database::CompactInBackground drops the old versions of rewritten keys that LevelDB keeps
// in its tables until a compaction reaches them, off the caller's thread, and loses nothing.
#include <gtest/gtest.h>
#include <leveldb/write_batch.h>

#include <filesystem>
#include <random>
#include <string>

#include "storage/database.h"
#include "unit/store/test_store.h"

namespace lattice::kernel {
namespace {

namespace fs = std::filesystem;

uint64_t TableBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".ldb") bytes += entry.file_size();
  }
  return bytes;
}

// Bytes that do not compress, so each version takes its room in the table.
std::string Incompressible(std::mt19937_64& rng, size_t size) {
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

TEST(DatabaseCompaction, DropsOldVersionsOfARewrittenRangeAndKeepsTheNewest) {
  testing::TempDir temp;
  const std::string dir = temp.path() + "/db";
  auto db = Database::Open(dir);
  ASSERT_TRUE(db.ok()) << db.status();
  std::mt19937_64 rng(7);
  constexpr int kVersions = 1000;
  std::string newest;
  // A flush writes every version the memtable holds. Two flushes make two tables, one
  // above the other, as a database that keeps taking writes has: a compaction merges them.
  for (int i = 0; i < kVersions; ++i) {
    leveldb::WriteBatch batch;
    newest = Incompressible(rng, 1024);
    batch.Put("nl-leaf", newest);
    batch.Put("S-other-" + std::to_string(i), "kept");
    ASSERT_TRUE((*db)->Write(&batch, /*sync=*/false).ok());
    if (i == kVersions / 2) {
      ASSERT_TRUE((*db)->FlushMemtable().ok());
    }
  }
  ASSERT_TRUE((*db)->FlushMemtable().ok());
  const uint64_t before = TableBytes(dir);
  EXPECT_GT(before, uint64_t{kVersions} * 1024);

  ASSERT_TRUE((*db)->CompactInBackground("n", "o"));
  ASSERT_TRUE(testing::WaitFor([&] { return (*db)->background_compactions() == 1; },
                               std::chrono::seconds(30)));
  EXPECT_LT(TableBytes(dir), before / 10);
  auto value = (*db)->Get("nl-leaf");
  ASSERT_TRUE(value.ok() && value->has_value());
  EXPECT_EQ(**value, newest);
  for (int i = 0; i < kVersions; i += 97) {
    auto other = (*db)->Get("S-other-" + std::to_string(i));
    ASSERT_TRUE(other.ok() && other->has_value()) << i;
    EXPECT_EQ(**other, "kept");
  }
}

TEST(DatabaseCompaction, ADiskWithoutRoomForASecondCopyStartsNone) {
  testing::TempDir temp;
  const std::string dir = temp.path() + "/db";
  auto db = Database::Open(dir);
  ASSERT_TRUE(db.ok()) << db.status();
  leveldb::WriteBatch batch;
  batch.Put("nl-leaf", "v");
  ASSERT_TRUE((*db)->Write(&batch, /*sync=*/false).ok());
  (*db)->set_min_free_bytes(uint64_t{1} << 62);  // no disk has that much room
  EXPECT_FALSE((*db)->CompactInBackground("n", "o"));
  (*db)->set_min_free_bytes(0);
  EXPECT_TRUE((*db)->CompactInBackground("n", "o"));
}

}  // namespace
}  // namespace lattice::kernel
