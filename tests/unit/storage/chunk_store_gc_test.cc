// Chunk garbage collection in the chunk store: what is neither kept nor touched is forgotten,
// mostly dead packs are compacted (their live records copied, synced, then the pack deleted)
// and their bytes come back; a pass stopped at any step, as a kill -9 would stop it, loses no
// live chunk after a reopen; a chunk named by a Put, Has, Missing or Read since the pass began
// is never dropped under the writer or reader.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "lattice/common/chunker.h"
#include "storage/chunk_store.h"
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

class ChunkStoreGcTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChunkStore> Open() {
    ChunkStore::Options options;
    options.pack_bytes = 200'000;  // a few chunks per pack
    auto store = ChunkStore::Open(dir_, std::move(options));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  // Puts `n` chunks of 30-40 KB from `seed` on; returns them.
  std::vector<std::string> PutMany(ChunkStore& store, int n, uint64_t seed) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(Bytes(30'000 + static_cast<size_t>(i % 10) * 1000, seed + static_cast<uint64_t>(i)));
      EXPECT_TRUE(store.Put(ChunkHash(out.back()), out.back()).ok());
    }
    EXPECT_TRUE(store.Sync().ok());
    return out;
  }
  // A collection that keeps exactly `live` and honours touches from the pass's start on.
  absl::StatusOr<ChunkStore::CollectStats> Collect(ChunkStore& store,
                                                   const std::vector<std::string>& live,
                                                   ChunkStore::CollectOptions options = {}) {
    std::set<std::string> keep;
    for (const auto& data : live) keep.insert(ChunkHash(data));
    options.untouched_since_ms = store.StartCollection();
    return store.Collect([&](std::string_view hash) { return keep.count(std::string(hash)) > 0; },
                         options);
  }
  void ExpectReadable(ChunkStore& store, const std::vector<std::string>& chunks) {
    for (const auto& data : chunks) {
      auto read = store.Read(ChunkHash(data), 0, data.size());
      ASSERT_TRUE(read.ok()) << read.status();
      EXPECT_EQ(*read, data);
    }
  }

  // Each of `groups` readable now, and after a sync and a reopen of `store`.
  using Chunks = std::vector<std::string>;
  void ExpectReadableNowAndAfterAReopen(std::unique_ptr<ChunkStore>& store,
                                        std::initializer_list<const Chunks*> groups) {
    for (const auto* chunks : groups) ExpectReadable(*store, *chunks);
    ASSERT_TRUE(store->Sync().ok());
    store.reset();
    store = Open();
    for (const auto* chunks : groups) ExpectReadable(*store, *chunks);
  }

  testing::TempDir temp_;
  std::string dir_ = temp_.path() + "/chunks";
};

TEST_F(ChunkStoreGcTest, DeadChunksAreForgottenAndTheirPacksGiveBytesBack) {
  auto store = Open();
  auto chunks = PutMany(*store, 40, 1);
  // Keep one chunk in four: every pack is mostly dead.
  std::vector<std::string> live;
  for (size_t i = 0; i < chunks.size(); i += 4) live.push_back(chunks[i]);
  uint64_t before = store->pack_bytes();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the puts are before the pass
  auto stats = Collect(*store, live);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->chunks_dropped, chunks.size() - live.size());
  EXPECT_GT(stats->packs_deleted, 0u);
  EXPECT_EQ(stats->pack_bytes_before, before);
  EXPECT_LT(stats->pack_bytes_after, before / 2);
  EXPECT_EQ(store->pack_bytes(), stats->pack_bytes_after);
  EXPECT_EQ(store->chunk_count(), live.size());
  ExpectReadable(*store, live);
  for (size_t i = 1; i < chunks.size(); i += 4) EXPECT_FALSE(*store->Has(ChunkHash(chunks[i])));
  // And after a reopen: the copies are found; the dead chunks of the deleted packs stay
  // gone, those of the pack still appended to (forgotten in memory only) until a pass.
  store.reset();
  store = Open();
  ExpectReadable(*store, live);
  EXPECT_LT(store->chunk_count(), live.size() + 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(Collect(*store, live).ok());
  EXPECT_EQ(store->chunk_count(), live.size());
  // A dead chunk put again is a chunk again.
  ASSERT_TRUE(*store->Put(ChunkHash(chunks[1]), chunks[1]));
  ExpectReadable(*store, {chunks[1]});
}

TEST_F(ChunkStoreGcTest, TouchedChunksAreNotDropped) {
  auto store = Open();
  auto chunks = PutMany(*store, 12, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::set<std::string> keep;  // nothing is cited
  uint64_t since = store->StartCollection();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // After the pass began: a dedup check, a re-upload and a reader name three chunks.
  ASSERT_TRUE(store->Missing({ChunkHash(chunks[0])}).ok());
  ASSERT_FALSE(*store->Put(ChunkHash(chunks[1]), chunks[1]));
  ASSERT_TRUE(store->Read(ChunkHash(chunks[2]), 0, 10).ok());
  ChunkStore::CollectOptions options;
  options.untouched_since_ms = since;
  auto stats = store->Collect([](std::string_view) { return false; }, options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->chunks_dropped, chunks.size() - 3);
  ExpectReadable(*store, {chunks[0], chunks[1], chunks[2]});
}

TEST_F(ChunkStoreGcTest, WantsAskedAfterDuringAPassAreNotUntouched) {
  auto store = Open();
  std::string absent_asked = ChunkHash("asked while the pass ran");
  std::string absent_quiet = ChunkHash("never asked");
  uint64_t since = store->StartCollection();
  ASSERT_TRUE(store->Missing({absent_asked}).ok());  // a commit recording its want
  std::vector<std::string> untouched;
  ASSERT_TRUE(store
                  ->ForUntouched({absent_asked, absent_quiet}, since,
                                 [&](const std::vector<std::string>& hashes) {
                                   untouched = hashes;
                                   return absl::OkStatus();
                                 })
                  .ok());
  EXPECT_EQ(untouched, std::vector<std::string>{absent_quiet});
}

TEST_F(ChunkStoreGcTest, ActivePackIsSealedAndCompactedWhenMostlyDead) {
  ChunkStore::Options big;
  big.pack_bytes = 64ull << 20;  // everything in the one active pack
  auto opened = ChunkStore::Open(dir_, big);
  ASSERT_TRUE(opened.ok());
  auto store = *std::move(opened);
  auto chunks = PutMany(*store, 60, 7);
  std::vector<std::string> live{chunks[3], chunks[30]};
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto stats = Collect(*store, live);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->packs_deleted, 1u);
  EXPECT_EQ(stats->chunks_copied, 2u);
  EXPECT_LT(stats->pack_bytes_after, 100'000u);
  ExpectReadable(*store, live);
  // It goes on appending to a new pack.
  std::string more = Bytes(5000, 999);
  ASSERT_TRUE(*store->Put(ChunkHash(more), more));
  ASSERT_TRUE(store->Sync().ok());
  store.reset();
  opened = ChunkStore::Open(dir_, big);
  ASSERT_TRUE(opened.ok());
  store = *std::move(opened);
  EXPECT_EQ(store->chunk_count(), 3u);
  ExpectReadable(*store, {chunks[3], chunks[30], more});
}

TEST_F(ChunkStoreGcTest, WorkPerPassIsBounded) {
  auto store = Open();
  auto chunks = PutMany(*store, 60, 300);
  std::vector<std::string> live;
  for (size_t i = 0; i < chunks.size(); i += 3) live.push_back(chunks[i]);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ChunkStore::CollectOptions options;
  options.max_copy_bytes = 70'000;  // about two chunks
  options.max_live_fraction = 0.9;
  auto first = Collect(*store, live, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_LE(first->bytes_copied, 110'000u);  // one pack over the budget at most
  EXPECT_GT(first->packs_deleted, 0u);
  ExpectReadable(*store, live);
  // Later passes finish the job.
  uint64_t after = first->pack_bytes_after;
  for (int pass = 0; pass < 20; ++pass) {
    auto next = Collect(*store, live, options);
    ASSERT_TRUE(next.ok()) << next.status();
    if (next->packs_deleted == 0) break;
    after = next->pack_bytes_after;
  }
  EXPECT_LT(after, first->pack_bytes_after);
  ExpectReadable(*store, live);
}

// A pass stopped at each step (as a kill -9 stops it) and then a reopen: every live chunk is
// there, and a later pass finishes the compaction.
TEST_F(ChunkStoreGcTest, StoppedAtAnyStepLosesNoLiveChunk) {
  for (std::string step : {"copied", "synced", "deleted"}) {
    SCOPED_TRACE(step);
    fs::remove_all(dir_);
    auto store = Open();
    auto chunks = PutMany(*store, 30, 500);
    std::vector<std::string> live;
    for (size_t i = 0; i < chunks.size(); i += 5) live.push_back(chunks[i]);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ChunkStore::CollectOptions options;
    options.continue_at = [&](std::string_view at) { return at != step; };
    auto stats = Collect(*store, live, options);
    ASSERT_TRUE(stats.ok()) << stats.status();
    store.reset();  // the process dies: nothing more is synced or deleted
    store = Open();
    // Dead chunks forgotten only in memory come back until a pass forgets them again.
    ExpectReadable(*store, live);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto again = Collect(*store, live);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(store->chunk_count(), live.size());
    ExpectReadable(*store, live);
    store.reset();
    store = Open();
    EXPECT_EQ(store->chunk_count(), live.size());
    ExpectReadable(*store, live);
  }
}

// A writer that fills the pack it appends to while a pass is under way closes it and opens
// new ones: the pass compacts the closed pack whole (not only up to the size it had when the
// pass began) and leaves the new packs, whose records it never counted, alone.
TEST_F(ChunkStoreGcTest, PacksAWriterClosesOrOpensDuringAPassLoseNothing) {
  auto store = Open();
  auto chunks = PutMany(*store, 40, 700);
  std::vector<std::string> live;
  for (size_t i = 0; i < chunks.size(); i += 2) live.push_back(chunks[i]);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::vector<std::string> added;
  for (int i = 0; i < 16; ++i) added.push_back(Bytes(30'000, 7000 + static_cast<uint64_t>(i)));
  std::vector<std::string> cited = live;
  cited.insert(cited.end(), added.begin(), added.end());
  ChunkStore::CollectOptions options;
  options.max_live_fraction = 0.9;
  options.continue_at = [&](std::string_view step) {
    if (step == "counted") {
      for (const auto& data : added) EXPECT_TRUE(*store->Put(ChunkHash(data), data));
    }
    return true;
  };
  auto stats = Collect(*store, cited, options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GT(stats->packs_deleted, 0u);
  ExpectReadableNowAndAfterAReopen(store, {&live, &added});
}

TEST_F(ChunkStoreGcTest, ReadersAndWritersRunDuringCompaction) {
  auto store = Open();
  auto chunks = PutMany(*store, 60, 900);
  std::vector<std::string> live;
  for (size_t i = 0; i < chunks.size(); i += 2) live.push_back(chunks[i]);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::atomic<bool> done{false};
  std::vector<std::string> added;
  for (int i = 0; i < 30; ++i) added.push_back(Bytes(20'000, 5000 + static_cast<uint64_t>(i)));
  std::vector<std::string> cited = live;  // the new chunks are cited too
  cited.insert(cited.end(), added.begin(), added.end());
  std::thread reader([&] {
    while (!done.load()) {
      for (const auto& data : live) {
        auto read = store->Read(ChunkHash(data), 0, data.size());
        ASSERT_TRUE(read.ok()) << read.status();
        ASSERT_EQ(*read, data);
      }
    }
  });
  std::thread writer([&] {
    for (const auto& data : added) ASSERT_TRUE(store->Put(ChunkHash(data), data).ok());
  });
  for (int pass = 0; pass < 3; ++pass) {
    ChunkStore::CollectOptions options;
    options.max_live_fraction = 0.9;
    auto stats = Collect(*store, cited, options);
    ASSERT_TRUE(stats.ok()) << stats.status();
  }
  writer.join();
  done = true;
  reader.join();
  ExpectReadableNowAndAfterAReopen(store, {&live, &added});
}

}  // namespace
}  // namespace lattice::kernel
