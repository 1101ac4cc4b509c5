// A database closed cleanly leaves no log to replay: FlushMemtable writes what the memtable
// holds into a table, every write reads back after reopening, and the logs hold nothing but
// the zeros laid ahead of the next record.
#include <gtest/gtest.h>
#include <leveldb/write_batch.h>

#include <filesystem>
#include <set>
#include <string>

#include "storage/database.h"
#include "unit/store/test_store.h"

namespace lattice::kernel {
namespace {

namespace fs = std::filesystem;
using testing::LoggedBytes;

std::string Key(int i) { return "S-key-" + std::to_string(i); }
std::string Value(int i) { return std::string(200, static_cast<char>('a' + i % 26)); }

size_t TablesIn(const std::string& dir) {
  size_t tables = 0;
  for (const auto& entry : fs::directory_iterator(dir)) tables += entry.path().extension() == ".ldb";
  return tables;
}

std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

TEST(DatabaseFlush, AFlushedDatabaseReopensWithNoLogToReplayAndEveryWrite) {
  testing::TempDir temp;
  const std::string dir = temp.path() + "/db";
  constexpr int kWrites = 2000;
  {
    auto db = Database::Open(dir);
    ASSERT_TRUE(db.ok()) << db.status();
    for (int i = 0; i < kWrites; i += 50) {
      leveldb::WriteBatch batch;
      for (int j = i; j < i + 50; ++j) batch.Put(Key(j), Value(j));
      ASSERT_TRUE((*db)->Write(&batch, /*sync=*/true).ok());
    }
    EXPECT_GT(LoggedBytes(dir), size_t{kWrites} * 200);
    EXPECT_EQ(TablesIn(dir), 0u);  // all of it is in the memtable and the log

    ASSERT_TRUE((*db)->FlushMemtable().ok());
    EXPECT_EQ(LoggedBytes(dir), 0u);
    EXPECT_EQ(TablesIn(dir), 1u);
    // The database takes writes after the flush, into its new log.
    leveldb::WriteBatch after;
    after.Put("S-after", "flush");
    ASSERT_TRUE((*db)->Write(&after, /*sync=*/true).ok());
    ASSERT_TRUE((*db)->FlushMemtable().ok());
  }
  EXPECT_EQ(LoggedBytes(dir), 0u);
  auto reopened = Database::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  for (int i = 0; i < kWrites; ++i) {
    auto value = (*reopened)->Get(Key(i));
    ASSERT_TRUE(value.ok() && value->has_value()) << Key(i);
    EXPECT_EQ(**value, Value(i));
  }
  auto after = (*reopened)->Get("S-after");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ(**after, "flush");

  // With nothing written since the open there is nothing to flush: no new log or table.
  std::set<std::string> files_before = FilesIn(dir);
  ASSERT_TRUE((*reopened)->FlushMemtable().ok());
  EXPECT_EQ(FilesIn(dir), files_before);
}

}  // namespace
}  // namespace lattice::kernel
