// The chunk store keeps each chunk once, checked against its hash on the way in and out,
// survives a reopen, ignores a record torn by a crash, drops a chunk damaged on disk so it is
// fetched again, and leaves nothing partial behind a full disk.
#include "storage/chunk_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "lattice/common/chunker.h"
#include "unit/store/test_store.h"

namespace lattice::kernel {
namespace {

namespace fs = std::filesystem;

std::string Bytes(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = static_cast<char>(state >> 56);
  }
  return out;
}

std::vector<fs::path> Packs(const std::string& dir) {
  std::vector<fs::path> packs;
  for (const auto& entry : fs::directory_iterator(dir + "/packs")) packs.push_back(entry.path());
  std::sort(packs.begin(), packs.end());
  return packs;
}

class ChunkStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChunkStore> Open(ChunkStore::Options options = {}) {
    auto store = ChunkStore::Open(dir_, std::move(options));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  testing::TempDir temp_;
  std::string dir_ = temp_.path() + "/chunks";
};

TEST_F(ChunkStoreTest, StoresEachChunkOnceAndReadsItBack) {
  auto store = Open();
  std::string data = Bytes(70'000, 1);
  std::string hash = ChunkHash(data);
  EXPECT_FALSE(*store->Has(hash));
  EXPECT_TRUE(*store->Put(hash, data));
  EXPECT_FALSE(*store->Put(hash, data));  // idempotent
  EXPECT_TRUE(*store->Has(hash));
  EXPECT_EQ(*store->SizeOf(hash), data.size());
  EXPECT_EQ(*store->Read(hash, 0, data.size()), data);
  EXPECT_EQ(*store->Read(hash, 1000, 10), data.substr(1000, 10));
  EXPECT_EQ(*store->Read(hash, 69'990, 100), data.substr(69'990));  // fewer at its end
  EXPECT_EQ(*store->Read(hash, 80'000, 10), "");
  EXPECT_EQ(store->chunk_count(), 1u);
  EXPECT_EQ(store->bytes_stored(), data.size());
  std::string other = ChunkHash("not stored");
  EXPECT_EQ(store->Read(other, 0, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->SizeOf(other).status().code(), absl::StatusCode::kNotFound);
  auto missing = store->Missing({other, hash, ChunkHash("x")});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, (std::vector<std::string>{other, ChunkHash("x")}));
}

TEST_F(ChunkStoreTest, RefusesBytesThatDoNotMatchTheirHash) {
  auto store = Open();
  std::string data = Bytes(1000, 2);
  auto put = store->Put(ChunkHash("something else"), data);
  EXPECT_EQ(put.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put("short", data).status().code(), absl::StatusCode::kInvalidArgument);
  std::string big(300 * 1024, 'x');
  EXPECT_FALSE(store->Put(ChunkHash(big), big).ok());
  EXPECT_EQ(store->chunk_count(), 0u);
  EXPECT_EQ(store->bytes_stored(), 0u);
}

TEST_F(ChunkStoreTest, EmptyChunkIsAChunk) {
  auto store = Open();
  EXPECT_TRUE(*store->Put(ChunkHash(""), ""));
  EXPECT_EQ(*store->Read(ChunkHash(""), 0, 10), "");
  ASSERT_TRUE(store->Sync().ok());
  store.reset();
  store = Open();
  EXPECT_TRUE(*store->Has(ChunkHash("")));
}

TEST_F(ChunkStoreTest, ReopenFindsEverySyncedChunkAcrossPacks) {
  ChunkStore::Options options;
  options.pack_bytes = 200'000;  // a few chunks per pack
  std::vector<std::string> chunks;
  {
    auto store = Open(options);
    for (int i = 0; i < 20; ++i) {
      chunks.push_back(Bytes(30'000 + i * 1000, 10 + i));
      ASSERT_TRUE(store->Put(ChunkHash(chunks.back()), chunks.back()).ok());
    }
    ASSERT_TRUE(store->Sync().ok());
    EXPECT_TRUE(store->Sync().ok());  // nothing new: cheap, still fine
  }
  EXPECT_GT(Packs(dir_).size(), 2u);
  auto store = Open(options);
  EXPECT_EQ(store->chunk_count(), chunks.size());
  for (const auto& chunk : chunks) EXPECT_EQ(*store->Read(ChunkHash(chunk), 0, chunk.size()), chunk);
  // And it keeps appending where it left off.
  std::string more = Bytes(50'000, 99);
  ASSERT_TRUE(*store->Put(ChunkHash(more), more));
  ASSERT_TRUE(store->Sync().ok());
  store.reset();
  store = Open(options);
  EXPECT_EQ(store->chunk_count(), chunks.size() + 1);
  EXPECT_EQ(*store->Read(ChunkHash(more), 0, more.size()), more);
}

TEST_F(ChunkStoreTest, FilesArePrivate) {
  auto store = Open();
  std::string data = Bytes(100, 3);
  ASSERT_TRUE(store->Put(ChunkHash(data), data).ok());
  ASSERT_TRUE(store->Sync().ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/packs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto packs = Packs(dir_);
  ASSERT_EQ(packs.size(), 1u);
  ASSERT_EQ(::stat(packs[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ChunkStoreTest, TornTailAfterACrashIsIgnored) {
  std::string first = Bytes(40'000, 4);
  std::string second = Bytes(40'000, 5);
  {
    auto store = Open();
    ASSERT_TRUE(store->Put(ChunkHash(first), first).ok());
    ASSERT_TRUE(store->Put(ChunkHash(second), second).ok());
    ASSERT_TRUE(store->Sync().ok());
  }
  auto pack = Packs(dir_).at(0);
  uint64_t whole = fs::file_size(pack);
  // The crash cut the second record short.
  fs::resize_file(pack, whole - 1000);
  {
    auto store = Open();
    EXPECT_TRUE(*store->Has(ChunkHash(first)));
    EXPECT_FALSE(*store->Has(ChunkHash(second)));
    EXPECT_EQ(*store->Read(ChunkHash(first), 0, first.size()), first);
    // New records follow the whole ones, so a second reopen reads them.
    ASSERT_TRUE(*store->Put(ChunkHash(second), second));
    ASSERT_TRUE(store->Sync().ok());
  }
  auto store = Open();
  EXPECT_EQ(*store->Read(ChunkHash(second), 0, second.size()), second);
  EXPECT_EQ(fs::file_size(pack), whole);
}

TEST_F(ChunkStoreTest, GarbageAndZerosAfterTheLastRecordAreIgnored) {
  std::string data = Bytes(20'000, 6);
  {
    auto store = Open();
    ASSERT_TRUE(store->Put(ChunkHash(data), data).ok());
    ASSERT_TRUE(store->Sync().ok());
  }
  auto pack = Packs(dir_).at(0);
  {
    std::ofstream out(pack, std::ios::app | std::ios::binary);
    out << std::string(5000, '\0') << "LCK1garbage";
  }
  auto store = Open();
  EXPECT_EQ(store->chunk_count(), 1u);
  EXPECT_EQ(*store->Read(ChunkHash(data), 0, data.size()), data);
}

TEST_F(ChunkStoreTest, UnwrittenDataOfTheNewestPackIsNotIndexed) {
  // A crash can leave a record's header on disk with its data blocks never written.
  std::string data = Bytes(20'000, 7);
  std::string later = Bytes(20'000, 8);
  {
    auto store = Open();
    ASSERT_TRUE(store->Put(ChunkHash(data), data).ok());
    ASSERT_TRUE(store->Put(ChunkHash(later), later).ok());
    ASSERT_TRUE(store->Sync().ok());
  }
  auto pack = Packs(dir_).at(0);
  {
    std::fstream file(pack, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40 + 100);  // inside the first chunk's data
    file.write("\0\0\0\0\0\0\0\0", 8);
  }
  auto store = Open();
  EXPECT_FALSE(*store->Has(ChunkHash(data)));
  EXPECT_TRUE(*store->Has(ChunkHash(later)));
  EXPECT_TRUE(*store->Put(ChunkHash(data), data));  // fetched again
  EXPECT_EQ(*store->Read(ChunkHash(data), 0, data.size()), data);
}

TEST_F(ChunkStoreTest, DamagedChunkIsDataLossAndDroppedForGood) {
  ChunkStore::Options options;
  options.pack_bytes = 50'000;  // one chunk per pack: the damaged one is not the newest
  std::string damaged = Bytes(30'000, 9);
  std::string fine = Bytes(30'000, 10);
  {
    auto store = Open(options);
    ASSERT_TRUE(store->Put(ChunkHash(damaged), damaged).ok());
    ASSERT_TRUE(store->Put(ChunkHash(fine), fine).ok());
    ASSERT_TRUE(store->Sync().ok());
  }
  auto packs = Packs(dir_);
  ASSERT_EQ(packs.size(), 2u);
  {
    std::fstream file(packs[0], std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40 + 5000);
    file.put('\x01');
  }
  {
    auto store = Open(options);
    EXPECT_TRUE(*store->Has(ChunkHash(damaged)));  // older packs are not read whole at open
    auto read = store->Read(ChunkHash(damaged), 0, 10);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
    EXPECT_FALSE(*store->Has(ChunkHash(damaged)));
    EXPECT_EQ(store->chunk_count(), 1u);
    EXPECT_EQ(*store->Read(ChunkHash(fine), 0, fine.size()), fine);
    ASSERT_TRUE(store->Sync().ok());
  }
  {
    auto store = Open(options);
    EXPECT_FALSE(*store->Has(ChunkHash(damaged)));  // the drop outlives a restart
    ASSERT_TRUE(*store->Put(ChunkHash(damaged), damaged));
    ASSERT_TRUE(store->Sync().ok());
  }
  auto store = Open(options);
  EXPECT_EQ(*store->Read(ChunkHash(damaged), 0, damaged.size()), damaged);
}

TEST_F(ChunkStoreTest, FullDiskLeavesNothingPartial) {
  std::atomic<int> fail{0};
  ChunkStore::Options options;
  options.inject_write_error = [&] { return fail.load(); };
  std::string before = Bytes(30'000, 11);
  std::string refused = Bytes(30'000, 12);
  std::string after = Bytes(30'000, 13);
  {
    auto store = Open(options);
    ASSERT_TRUE(store->Put(ChunkHash(before), before).ok());
    uint64_t size = fs::file_size(Packs(dir_).at(0));
    fail = ENOSPC;
    auto put = store->Put(ChunkHash(refused), refused);
    EXPECT_EQ(put.status().code(), absl::StatusCode::kResourceExhausted) << put.status();
    EXPECT_FALSE(*store->Has(ChunkHash(refused)));
    EXPECT_EQ(store->Read(ChunkHash(refused), 0, 1).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(fs::file_size(Packs(dir_).at(0)), size);
    fail = 0;
    ASSERT_TRUE(*store->Put(ChunkHash(after), after));
    ASSERT_TRUE(store->Sync().ok());
  }
  auto store = Open(options);
  EXPECT_EQ(store->chunk_count(), 2u);
  EXPECT_FALSE(*store->Has(ChunkHash(refused)));
  EXPECT_EQ(*store->Read(ChunkHash(after), 0, after.size()), after);
}

TEST_F(ChunkStoreTest, ConcurrentPutsAndReads) {
  ChunkStore::Options options;
  options.pack_bytes = 1 << 20;
  auto store = Open(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string data = Bytes(10'000 + i % 25, static_cast<uint64_t>(1000 * t + i % 25));
        ASSERT_TRUE(store->Put(ChunkHash(data), data).ok());
        ASSERT_EQ(*store->Read(ChunkHash(data), 0, data.size()), data);
        if (i % 10 == 0) {
          ASSERT_TRUE(store->Sync().ok());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store->chunk_count(), 100u);
}

}  // namespace
}  // namespace lattice::kernel
