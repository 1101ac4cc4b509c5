// A store that keeps chunks records, in the batch that applies an fs intention, the chunks it
// cites and lacks, so replication fetches them; a chunk once stored is no longer wanted.
#include "store/chunk_wants.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "lattice/common/chunker.h"
#include "lattice/v1/fs.pb.h"
#include "store/store.h"
#include "unit/store/test_store.h"

namespace lattice::kernel {
namespace {

using testing::ForeignAuthor;

// An fs payload writing one file whose extents are `hashes` ("" = a hole).
std::string FsWritePayload(const std::vector<std::string>& hashes) {
  v1::FsPayload payload;
  v1::FsWrite* write = payload.add_ops()->mutable_write();
  write->set_inode(42);
  uint64_t size = 0;
  for (const auto& hash : hashes) {
    v1::FsExtent* extent = write->add_extents();
    extent->set_hash(hash);
    extent->set_length(1000);
    size += 1000;
  }
  write->set_size(size);
  return payload.SerializeAsString();
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class ChunkWantsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(true); }

  void Open(bool keep_chunks) {
    store_.reset();
    Store::Options options;
    options.dir = dir_.path() + "/store";
    options.id = store_id_;
    options.type = StoreType::kKv;  // the wants do not depend on the state machine
    options.identity = &self_;
    options.clock = &clock_;
    options.keep_chunks = keep_chunks;
    options.may_write = [](std::string_view, BatchView&) { return AuthorRights(true); };
    auto opened = Store::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }

  std::vector<std::string> Wanted() {
    auto wanted = store_->WantedChunks(1000);
    EXPECT_TRUE(wanted.ok()) << wanted.status();
    return wanted.ok() ? *wanted : std::vector<std::string>{};
  }

  void Ingest(const DecodedIntention& intention) {
    auto outcome = store_->Ingest({intention.signed_intention}).at(0);
    ASSERT_EQ(outcome.kind, IngestOutcome::Kind::kApplied) << outcome.reason;
  }

  testing::TempDir dir_;
  std::string store_id_ = NewStoreId();
  KeyPair self_ = GenerateKeyPair();
  HybridClock clock_;
  std::unique_ptr<Store> store_;
  ForeignAuthor author_{store_id_};
  std::string a_ = std::string(1000, 'a');
  std::string b_ = std::string(1000, 'b');
  std::string c_ = std::string(1000, 'c');
};

TEST(ChunksCitedBy, ListsEachExtentHashOnceAndSkipsHoles) {
  std::string h1 = ChunkHash("1"), h2 = ChunkHash("2");
  EXPECT_EQ(ChunksCitedBy(kOpFs, FsWritePayload({h1, "", h2, h1})),
            (std::vector<std::string>{h1, h2}));
  EXPECT_TRUE(ChunksCitedBy("kv.v1", FsWritePayload({h1})).empty());
  EXPECT_TRUE(ChunksCitedBy(kOpFs, "\xff\xff not a payload").empty());
  EXPECT_TRUE(ChunksCitedBy(kOpFs, FsWritePayload({"short"})).empty());
}

// A write in delta form cites the new extents of its splices (the rest of its version is
// its base's, cited by the base's intention).
TEST(ChunksCitedBy, ADeltaCitesItsSplicesNewExtents) {
  std::string h1 = ChunkHash("1"), h2 = ChunkHash("2"), h3 = ChunkHash("3");
  v1::FsPayload payload;
  v1::FsWrite* write = payload.add_ops()->mutable_write();
  write->set_inode(42);
  write->set_base(std::string(36, 'v'));
  write->set_size(5000);
  for (const auto& hashes : {std::vector<std::string>{h1, "", h2}, {h2, h3}}) {
    v1::FsSplice* splice = write->add_splices();
    splice->set_begin(static_cast<uint64_t>(write->splices_size()) * 10);
    splice->set_end(splice->begin() + 1);
    for (const auto& hash : hashes) {
      v1::FsExtent* extent = splice->add_extents();
      extent->set_hash(hash);
      extent->set_length(1000);
    }
  }
  EXPECT_EQ(ChunksCitedBy(kOpFs, payload.SerializeAsString()),
            (std::vector<std::string>{h1, h2, h3}));
}

TEST_F(ChunkWantsTest, TheChunkStoreLivesInTheStoreDirectory) {
  ASSERT_NE(store_->chunks(), nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(dir_.path() + "/store/chunks/packs"));
  Open(false);
  EXPECT_EQ(store_->chunks(), nullptr);
  EXPECT_TRUE(Wanted().empty());
  EXPECT_FALSE(store_->WantChunks({ChunkHash("x")}).ok());
}

TEST_F(ChunkWantsTest, AppliedIntentionWantsTheChunksItCitesAndLacks) {
  ASSERT_TRUE(store_->chunks()->Put(ChunkHash(a_), a_).ok());
  uint64_t generation = store_->chunk_wants_generation();
  Ingest(author_.Next(kOpFs, FsWritePayload({ChunkHash(a_), ChunkHash(b_), "", ChunkHash(c_)})));
  EXPECT_EQ(Wanted(), Sorted({ChunkHash(b_), ChunkHash(c_)}));
  EXPECT_GT(store_->chunk_wants_generation(), generation);

  // Fetched and stored: no longer wanted.
  ASSERT_TRUE(store_->chunks()->Put(ChunkHash(b_), b_).ok());
  ASSERT_TRUE(store_->ChunksStored({ChunkHash(b_)}).ok());
  EXPECT_EQ(Wanted(), std::vector<std::string>{ChunkHash(c_)});
}

TEST_F(ChunkWantsTest, OtherIntentionsWantNothing) {
  Ingest(author_.NextKv("k", "v"));
  uint64_t generation = store_->chunk_wants_generation();
  ASSERT_TRUE(store_->chunks()->Put(ChunkHash(a_), a_).ok());
  Ingest(author_.Next(kOpFs, FsWritePayload({ChunkHash(a_)})));  // held already
  EXPECT_TRUE(Wanted().empty());
  EXPECT_EQ(store_->chunk_wants_generation(), generation);
}

TEST_F(ChunkWantsTest, WantsSurviveAReopenAndArePagedInHashOrder) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 10; ++i) hashes.push_back(ChunkHash(std::to_string(i)));
  Ingest(author_.Next(kOpFs, FsWritePayload(hashes)));
  Open(true);
  EXPECT_EQ(Wanted(), Sorted(hashes));
  auto first = store_->WantedChunks(4);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 4u);
  auto rest = store_->WantedChunks(100, first->back());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), 6u);
  EXPECT_EQ(rest->front(), Sorted(hashes)[4]);
}

TEST_F(ChunkWantsTest, ADamagedChunkCanBeWantedAgain) {
  uint64_t generation = store_->chunk_wants_generation();
  ASSERT_TRUE(store_->WantChunks({ChunkHash(a_)}).ok());
  EXPECT_EQ(Wanted(), std::vector<std::string>{ChunkHash(a_)});
  EXPECT_GT(store_->chunk_wants_generation(), generation);
}

TEST_F(ChunkWantsTest, ChunksPutBeforeALocalWriteAreDurableWithIt) {
  // A local write commits after the chunk store is synced: reopening both finds the chunk.
  ASSERT_TRUE(store_->chunks()->Put(ChunkHash(a_), a_).ok());
  auto written = store_->WriteKv({{"k", "v", false}});
  ASSERT_TRUE(written.ok()) << written.status();
  Open(true);
  EXPECT_TRUE(*store_->chunks()->Has(ChunkHash(a_)));
}

}  // namespace
}  // namespace lattice::kernel
