// The write-ahead log files of the kernel's databases: synced writes land on zeros written
// ahead of them, and LevelDB recovers exactly what was written, torn tail included.
#include "storage/prepared_log_file.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/durable_env.h"
#include "unit/store/test_store.h"

namespace lattice::kernel {
namespace {

namespace fs = std::filesystem;

class PreparedLogTest : public ::testing::Test {
 protected:

  std::unique_ptr<leveldb::DB> OpenDb(const std::string& path) {
    leveldb::Options options;
    options.create_if_missing = true;
    options.env = DurableEnv();
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, path, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<leveldb::DB>(db);
  }

  static std::vector<fs::path> LogsIn(const std::string& path) {
    std::vector<fs::path> logs;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.path().extension() == ".log") logs.push_back(entry.path());
    }
    return logs;
  }

  static std::string Key(int i) { return "key-" + std::to_string(i); }
  static std::string Value(int i) { return std::string(100 + i % 50, static_cast<char>('a' + i % 26)); }

  lattice::kernel::testing::TempDir temp_;
  const std::string& dir_ = temp_.path();
};

TEST_F(PreparedLogTest, SyncedWritesOverwriteZerosInsteadOfGrowingTheFile) {
  auto db = OpenDb(dir_ + "/db");
  leveldb::WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db->Put(sync, Key(0), Value(0)).ok());
  std::vector<fs::path> logs = LogsIn(dir_ + "/db");
  ASSERT_EQ(logs.size(), 1u);
  uint64_t size = fs::file_size(logs[0]);
  EXPECT_GE(size, PreparedLogFile::kMinAheadBytes);
  for (int i = 1; i < 100; ++i) ASSERT_TRUE(db->Put(sync, Key(i), Value(i)).ok());
  // 100 records of under 200 bytes, and the file's size (metadata an fdatasync would have to
  // commit) never changed.
  EXPECT_EQ(fs::file_size(logs[0]), size);
  // Writing on, the zeros keep ahead, by more as the log grows.
  for (int i = 100; i < 3000; ++i) ASSERT_TRUE(db->Put(sync, Key(i), Value(i)).ok());
  EXPECT_GT(fs::file_size(logs[0]), size);
  db.reset();

  db = OpenDb(dir_ + "/db");
  for (int i = 0; i < 3000; ++i) {
    std::string value;
    ASSERT_TRUE(db->Get(leveldb::ReadOptions(), Key(i), &value).ok()) << Key(i);
    EXPECT_EQ(value, Value(i));
  }
}

// A crash in the middle of a write leaves a record whose end is zeros, not the end of the
// file. Recovery keeps every record before it and opens cleanly.
TEST_F(PreparedLogTest, ATornRecordBeforeTheZerosLosesOnlyItself) {
  auto db = OpenDb(dir_ + "/db");
  leveldb::WriteOptions sync;
  sync.sync = true;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(db->Put(sync, Key(i), Value(i)).ok());
  // What a power loss leaves: the files as synced, copied while the database is open.
  fs::copy(dir_ + "/db", dir_ + "/crashed");
  db.reset();

  std::vector<fs::path> logs = LogsIn(dir_ + "/crashed");
  ASSERT_EQ(logs.size(), 1u);
  std::string bytes;
  {
    std::ifstream in(logs[0], std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t end = bytes.find_last_not_of('\0') + 1;
  ASSERT_LT(end + 200, bytes.size()) << "no zeros after the data";
  // A full-type record header claiming 150 bytes, with a checksum that cannot match, and only
  // 20 of its bytes written.
  const char torn[] = {'\x12', '\x34', '\x56', '\x78', '\x96', '\x00', '\x01', 'x', 'x', 'x'};
  {
    std::fstream out(logs[0], std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(end));
    out.write(torn, sizeof torn);
    out.write(std::string(10, 'y').data(), 10);
  }

  auto recovered = OpenDb(dir_ + "/crashed");
  ASSERT_NE(recovered, nullptr);
  for (int i = 0; i < 50; ++i) {
    std::string value;
    ASSERT_TRUE(recovered->Get(leveldb::ReadOptions(), Key(i), &value).ok()) << Key(i);
    EXPECT_EQ(value, Value(i));
  }
  ASSERT_TRUE(recovered->Put(sync, Key(50), Value(50)).ok());
}

TEST_F(PreparedLogTest, OnlyWriteAheadLogsArePadded) {
  auto db = OpenDb(dir_ + "/db");
  leveldb::WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db->Put(sync, Key(0), Value(0)).ok());
  for (const auto& entry : fs::directory_iterator(dir_ + "/db")) {
    std::string name = entry.path().filename().string();
    if (name.rfind("MANIFEST-", 0) == 0 || name == "CURRENT") {
      EXPECT_LT(fs::file_size(entry.path()), 4096u) << name;
    }
  }
}

// With no room for the zeros the file appends as any other: the data that fits is written
// and synced, and only data that does not fit fails.
TEST_F(PreparedLogTest, WithoutRoomForTheZerosTheDataStillFits) {
  constexpr rlim_t kLimit = 256 * 1024;
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit limited = old;
  limited.rlim_cur = kLimit;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);

  std::unique_ptr<leveldb::WritableFile> file;
  std::string path = dir_ + "/000001.log";
  ASSERT_TRUE(PreparedLogFile::Create(path, &file).ok());
  auto* log = static_cast<PreparedLogFile*>(file.get());
  std::string record(1000, 'r');
  int written = 0;
  leveldb::Status s;
  while ((s = file->Append(record)).ok() && (s = file->Sync()).ok()) ++written;
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(written, static_cast<int>(kLimit / record.size()));
  EXPECT_LE(log->prepared_bytes(), kLimit);
  file.reset();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::string bytes;
  std::ifstream in(path, std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(in), {});
  size_t end = bytes.find_last_not_of('\0') + 1;
  EXPECT_GE(end, static_cast<size_t>(written) * record.size());  // and a partial one after
  EXPECT_LE(end, kLimit);
}

}  // namespace
}  // namespace lattice::kernel
