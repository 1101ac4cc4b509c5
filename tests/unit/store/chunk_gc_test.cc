// Which chunks an fs store still needs (store/chunk_gc.h, the liveness rule) and the pass that
// collects the others: the heads of live files and their conflict copies are kept, replaced
// versions and unlinked files only for the grace period, an unlink an unseen edit undid keeps
// the file; and random histories of writes, overwrites, links and unlinks, collected, leave
// every chunk a shown file cites readable, the store verifiable, and fewer pack bytes.
#include "store/chunk_gc.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <random>
#include <thread>
#include <set>

#include "lattice/common/chunker.h"
#include "state/fs_reader.h"
#include "store/chunk_wants.h"
#include "unit/state/fs_test_support.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using namespace fsop;  // NOLINT

std::string Data(uint64_t seed, size_t size = 20'000) {
  std::string out(size, '\0');
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 7;
  for (size_t i = 0; i < size; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = static_cast<char>(state >> 56);
  }
  return out;
}

// A write of `chunks` (their hashes as extents) replacing `replaces`.
v1::FsOp WriteChunks(uint64_t inode, const std::vector<std::string>& chunks,
                     std::vector<std::string> replaces = {}) {
  v1::FsOp op;
  auto* w = op.mutable_write();
  w->set_inode(inode);
  uint64_t size = 0;
  for (const auto& data : chunks) {
    auto* e = w->add_extents();
    e->set_hash(ChunkHash(data));
    e->set_length(data.size());
    size += data.size();
  }
  w->set_size(size);
  for (auto& r : replaces) w->add_replaces(r);
  return op;
}

std::vector<std::string> HeadIds(const FsReader& reader, uint64_t ino) {
  auto inode = reader.Inode(ino);
  EXPECT_TRUE(inode.ok() && inode->has_value());
  std::vector<std::string> ids;
  if (!inode.ok() || !inode->has_value()) return ids;
  if ((*inode)->winner) ids.push_back((*inode)->winner->id());
  for (const auto& head : (*inode)->other_heads) ids.push_back(head.id());
  return ids;
}

bool Kept(const std::unordered_set<std::string>& kept, const std::string& data) {
  return kept.count(ChunkHash(data)) > 0;
}

constexpr uint64_t kGrace = 60'000;

TEST(FsKeptChunksTest, TheRuleOnHandMadeHistories) {
  FsReplica replica;
  FsAuthor one = MakeFsAuthor("one", 1);
  FsAuthor two = MakeFsAuthor("two", 2);
  // a: written, then overwritten at 2000. b: two concurrent heads. c: unlinked at 3000.
  // d: unlinked by one at 3000 while two edited it unseen. e: two links, one unlinked.
  auto setup = FsIntention(one, 1000, 0,
                           Payload({Create(kFsRootId, "a", S_IFREG | 0644),
                                    WriteChunks(FsOpRef(0), {Data(1), Data(2)}),
                                    Create(kFsRootId, "b", S_IFREG | 0644),
                                    Create(kFsRootId, "c", S_IFREG | 0644),
                                    WriteChunks(FsOpRef(3), {Data(4)}),
                                    Create(kFsRootId, "d", S_IFREG | 0644),
                                    WriteChunks(FsOpRef(5), {Data(5)}),
                                    Create(kFsRootId, "e", S_IFREG | 0644),
                                    WriteChunks(FsOpRef(7), {Data(6)})}));
  ASSERT_TRUE(replica.Apply(setup).ok());
  uint64_t a = FsDerivedId(setup.hash, 0), b = FsDerivedId(setup.hash, 2),
           c = FsDerivedId(setup.hash, 3), d = FsDerivedId(setup.hash, 5),
           e = FsDerivedId(setup.hash, 7);
  std::string a1 = FsVersionId(setup.hash, 1);
  auto links = FsIntention(one, 1500, 0, Payload({Link(e, kFsRootId, "e2")}));
  ASSERT_TRUE(replica.Apply(links).ok());
  uint64_t e2_entry = FsDerivedId(links.hash, 0);
  auto reader = replica.Reader();
  auto entry_of = [&](std::string_view name) {
    auto found = reader.Lookup(kFsRootId, name);
    EXPECT_TRUE(found.ok() && found->has_value()) << name;
    return (*found)->entry;
  };
  uint64_t c_entry = entry_of("c"), d_entry = entry_of("d");
  ASSERT_TRUE(replica.Apply(FsIntention(one, 2000, 0, Payload({WriteChunks(a, {Data(3)}, {a1})}))).ok());
  ASSERT_TRUE(replica.Apply(FsIntention(one, 2000, 1, Payload({WriteChunks(b, {Data(7)})}))).ok());
  ASSERT_TRUE(replica.Apply(FsIntention(two, 2000, 2, Payload({WriteChunks(b, {Data(8)})}))).ok());
  ASSERT_TRUE(replica.Apply(FsIntention(two, 2500, 0,
                                        Payload({WriteChunks(d, {Data(9)}, HeadIds(reader, d))})))
                  .ok());
  // one unlinks d having seen only its first version; two's edit keeps it.
  std::string d1 = FsVersionId(setup.hash, 6);
  ASSERT_TRUE(replica.Apply(FsIntention(one, 3000, 0,
                                        Payload({Move(c_entry, kFsTrashId, "c", HeadIds(reader, c)),
                                                 Move(d_entry, kFsTrashId, "d", {d1}),
                                                 Move(e2_entry, kFsTrashId, "e2", HeadIds(reader, e))})))
                  .ok());
  auto shown = ShownNames(reader, kFsRootId);
  std::sort(shown.begin(), shown.end());
  ASSERT_EQ(shown.size(), 5u) << "the history is not the one this test means";
  EXPECT_EQ(shown[0], "a");
  EXPECT_EQ(shown[1], "b");
  EXPECT_EQ(shown[2].rfind("b.sync-conflict-", 0), 0u) << shown[2];
  EXPECT_EQ(shown[3], "d");
  EXPECT_EQ(shown[4], "e");

  // Within the grace period of everything: every version written is kept.
  auto soon = FsKeptChunks(replica.db(), 2000 + kGrace, kGrace);
  ASSERT_TRUE(soon.ok()) << soon.status();
  for (uint64_t i = 1; i <= 9; ++i) EXPECT_TRUE(Kept(*soon, Data(i))) << i;

  // Long after: the heads of live files only.
  auto later = FsKeptChunks(replica.db(), 10'000'000, kGrace);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_FALSE(Kept(*later, Data(1)));  // a's replaced version
  EXPECT_FALSE(Kept(*later, Data(2)));
  EXPECT_TRUE(Kept(*later, Data(3)));   // a's head
  EXPECT_FALSE(Kept(*later, Data(4)));  // c, unlinked
  EXPECT_FALSE(Kept(*later, Data(5)));  // d's first version, replaced by two's edit
  EXPECT_TRUE(Kept(*later, Data(6)));   // e, still linked as "e"
  EXPECT_TRUE(Kept(*later, Data(7)));   // b's winner
  EXPECT_TRUE(Kept(*later, Data(8)));   // b's conflict copy
  EXPECT_TRUE(Kept(*later, Data(9)));   // d, kept by the unseen edit
  EXPECT_EQ(later->size(), 5u);

  // Between: c's unlink (3000) and a's overwrite (2000) are in or out by their own times.
  auto between = FsKeptChunks(replica.db(), 2000 + kGrace + 500, kGrace);
  ASSERT_TRUE(between.ok());
  EXPECT_FALSE(Kept(*between, Data(1)));
  EXPECT_TRUE(Kept(*between, Data(4)));
}

// A store with a chunk store, fed random histories of two authors' fs intentions.
class ChunkGcStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store_.reset();
    Store::Options options;
    options.dir = dir_.path() + "/store";
    options.id = store_id_;
    options.type = StoreType::kFs;
    options.identity = &self_;
    options.clock = &clock_;
    options.keep_chunks = true;
    options.chunk_gc_interval_ms = 0;  // passes run when the test says
    options.may_write = [this](std::string_view author, BatchView&) {
      return author == self_.public_key || author == one_.id() || author == two_.id();
    };
    auto opened = Store::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }
  // Puts the chunks, then applies the payload as `author`'s next intention at `wall_ms`.
  std::string Apply(ForeignAuthor& author, uint64_t wall_ms, const v1::FsPayload& payload,
                    const std::vector<std::string>& chunks) {
    for (const auto& data : chunks) EXPECT_TRUE(store_->chunks()->Put(ChunkHash(data), data).ok());
    auto intention = author.Next(kOpFs, payload.SerializeAsString(), {}, HlcStamp{wall_ms, 0});
    auto outcome = store_->Ingest({intention.signed_intention}).at(0);
    EXPECT_EQ(outcome.kind, IngestOutcome::Kind::kApplied) << outcome.reason;
    EXPECT_TRUE(outcome.reason.empty()) << outcome.reason;
    return intention.hash;
  }
  // A pass with no grace, long after every write.
  ChunkGcStats Collect() {
    // Touches are on the chunk store's millisecond clock: the pass begins after them.
    uint64_t now = store_->chunks()->NowMs();
    while (store_->chunks()->NowMs() == now) std::this_thread::yield();
    ChunkGcOptions options;
    options.grace_ms = 0;
    options.touch_window_ms = 0;
    options.now_wall_ms = 4'000'000'000'000;
    options.collect.max_live_fraction = 0.75;
    auto stats = store_->CollectChunks(options);
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? *stats : ChunkGcStats();
  }
  // Every chunk every shown file's heads cite (winner and conflict copies), by the reader.
  std::set<std::string> CitedByShownFiles() {
    std::set<std::string> cited;
    FsReader reader(store_->db(), nullptr);
    bool end = false;
    auto listing = reader.List(kFsRootId, 0, 100'000, &end);
    EXPECT_TRUE(listing.ok());
    for (const auto& entry : *listing) {
      auto inode = reader.Inode(entry.inode);
      EXPECT_TRUE(inode.ok() && inode->has_value());
      if (!(*inode)->winner) continue;
      for (const auto& extent : (*inode)->winner->extents()) cited.insert(extent.hash());
    }
    return cited;
  }

  TempDir dir_;
  std::string store_id_ = NewStoreId();
  KeyPair self_ = GenerateKeyPair();
  HybridClock clock_;
  ForeignAuthor one_{store_id_};
  ForeignAuthor two_{store_id_};
  std::unique_ptr<Store> store_;
  uint64_t wall_ = 1'000'000;  // the authors' clocks, rising across the whole test
};

TEST_F(ChunkGcStoreTest, RandomHistoriesKeepEveryCitedChunk) {
  for (uint32_t seed : {1u, 2u, 3u, std::random_device()()}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    uint64_t& wall = wall_;
    uint64_t next_data = uint64_t{seed} * 1'000'000;
    for (int step = 0; step < 120; ++step) {
      ForeignAuthor& author = rng() % 2 ? one_ : two_;
      wall += 1 + rng() % 3;
      FsReader reader(store_->db(), nullptr);
      bool end = false;
      auto listing = reader.List(kFsRootId, 0, 100'000, &end);
      ASSERT_TRUE(listing.ok());
      std::vector<FsDirEntryView> files;
      for (const auto& entry : *listing) {
        if (entry.entry != 0) files.push_back(entry);  // not a conflict copy
      }
      uint32_t what = rng() % 10;
      std::vector<std::string> chunks;
      for (uint32_t i = 0, n = 1 + rng() % 3; i < n; ++i) {
        // Now and then a chunk some other version has too (dedup).
        chunks.push_back(Data(rng() % 5 == 0 ? uint64_t{seed} * 1'000'000 + rng() % 8 : ++next_data));
      }
      if (files.empty() || what < 3) {
        Apply(author, wall,
              Payload({Create(kFsRootId, "f" + std::to_string(seed) + "-" + std::to_string(step), S_IFREG | 0644),
                       WriteChunks(FsOpRef(0), chunks)}),
              chunks);
        continue;
      }
      const auto& file = files[rng() % files.size()];
      auto heads = HeadIds(reader, file.inode);
      if (what < 7) {
        // An overwrite (seeing every head, or only some: a concurrent write).
        if (what == 6) heads.clear();
        Apply(author, wall, Payload({WriteChunks(file.inode, chunks, heads)}), chunks);
      } else if (what < 9) {
        Apply(author, wall,
              Payload({Move(file.entry, kFsTrashId, std::to_string(file.entry), heads)}), {});
      } else {
        Apply(author, wall,
              Payload({Link(file.inode, kFsRootId, "l" + std::to_string(seed) + "-" + std::to_string(step))}), {});
      }
    }
    ASSERT_TRUE(store_->chunks()->Sync().ok());
    auto cited = CitedByShownFiles();
    uint64_t before = store_->chunks()->pack_bytes();
    auto stats = Collect();
    EXPECT_GT(stats.collect.chunks_dropped, 0u);
    for (const auto& hash : cited) {
      auto read = store_->chunks()->Read(hash, 0, 1);
      EXPECT_TRUE(read.ok()) << read.status();
    }
    EXPECT_LE(store_->chunks()->pack_bytes(), before);
    // After a reopen too, and the store verifies.
    Open();
    for (const auto& hash : cited) EXPECT_TRUE(*store_->chunks()->Has(hash));
    auto report = store_->Verify(dir_.path() + "/verify");
    EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems[0]);
  }
}

TEST_F(ChunkGcStoreTest, DeletingFilesGivesTheirPackBytesBack) {
  std::vector<std::string> big;
  for (int i = 0; i < 100; ++i) big.push_back(Data(50'000 + static_cast<uint64_t>(i), 60'000));
  std::string hash = Apply(one_, 1000,
                           Payload({Create(kFsRootId, "big", S_IFREG | 0644), WriteChunks(FsOpRef(0), big),
                                    Create(kFsRootId, "small", S_IFREG | 0644),
                                    WriteChunks(FsOpRef(2), {Data(1)})}),
                           big);
  store_->chunks()->Put(ChunkHash(Data(1)), Data(1)).IgnoreError();
  ASSERT_TRUE(store_->chunks()->Sync().ok());
  uint64_t before = store_->chunks()->pack_bytes();
  EXPECT_GT(before, 6'000'000u);
  EXPECT_EQ(Collect().collect.chunks_dropped, 0u);  // everything is cited
  FsReader reader(store_->db(), nullptr);
  auto found = reader.Lookup(kFsRootId, "big");
  ASSERT_TRUE(found.ok() && found->has_value());
  Apply(one_, 2000,
        Payload({Move((*found)->entry, kFsTrashId, "big", HeadIds(reader, FsDerivedId(hash, 0)))}), {});
  auto stats = Collect();
  EXPECT_EQ(stats.collect.chunks_dropped, big.size());
  uint64_t after = store_->chunks()->pack_bytes();
  std::printf("pack bytes: %llu before the unlink's collection, %llu after\n",
              static_cast<unsigned long long>(before), static_cast<unsigned long long>(after));
  EXPECT_LT(after, 100'000u);
  EXPECT_TRUE(store_->chunks()->Read(ChunkHash(Data(1)), 0, 10).ok());
}

TEST_F(ChunkGcStoreTest, WantsOfSupersededVersionsAreDropped) {
  // A peer's write cites chunks this node never got; a later write replaces it.
  std::vector<std::string> lost{Data(77), Data(78)};
  std::string first = Apply(one_, 1000,
                            Payload({Create(kFsRootId, "f", S_IFREG | 0644), WriteChunks(FsOpRef(0), lost)}),
                            {});
  auto wants = store_->WantedChunks(100);
  ASSERT_TRUE(wants.ok());
  EXPECT_EQ(wants->size(), 2u);
  EXPECT_EQ(Collect().wants_dropped, 0u);  // still the file's content: still wanted
  EXPECT_EQ(store_->WantedChunks(100)->size(), 2u);
  std::vector<std::string> now{Data(79)};
  Apply(two_, 2000, Payload({WriteChunks(FsDerivedId(first, 0), now, {FsVersionId(first, 1)})}), now);
  EXPECT_EQ(Collect().wants_dropped, 2u);
  EXPECT_TRUE(store_->WantedChunks(100)->empty());
}

TEST_F(ChunkGcStoreTest, KeptChunksThisNodeLacksAreWantedAgain) {
  std::vector<std::string> lost{Data(91), Data(92)};
  Apply(one_, 1000,
        Payload({Create(kFsRootId, "f", S_IFREG | 0644), WriteChunks(FsOpRef(0), lost)}), {});
  // The wants are lost (an unsynced write a crash took, say).
  auto wants = store_->WantedChunks(100);
  ASSERT_TRUE(wants.ok());
  ASSERT_EQ(wants->size(), 2u);
  ASSERT_TRUE(store_->ChunksStored(*wants).ok());
  ASSERT_TRUE(store_->WantedChunks(100)->empty());
  Collect();
  wants = store_->WantedChunks(100);
  ASSERT_TRUE(wants.ok());
  EXPECT_EQ(std::set<std::string>(wants->begin(), wants->end()),
            (std::set<std::string>{ChunkHash(lost[0]), ChunkHash(lost[1])}));
}

}  // namespace
}  // namespace lattice::kernel::testing
