// An fs store end to end inside one Store: local writes planned against the group's view
// (WriteBuiltAsync with FsReader over the BatchView), foreign intentions, refused payloads.
#include <future>

#include "lattice/common/crypto.h"
#include "lattice/common/fs_ids.h"
#include "state/fs_reader.h"
#include "storage/keys.h"
#include "unit/state/fs_test_support.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using namespace fsop;  // NOLINT

class FsStoreTest : public StoreTest {
 protected:
  void SetUp() override { OpenStore(StoreType::kFs); }

  absl::StatusOr<WriteReceipt> WriteFs(Store::PayloadBuilder build) {
    std::promise<absl::StatusOr<WriteReceipt>> done;
    store_->WriteBuiltAsync(kOpFs, std::move(build),
                            [&](absl::StatusOr<WriteReceipt> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
};

TEST_F(FsStoreTest, LocalWritesArePlannedAgainstTheGroupsView) {
  EXPECT_EQ(StoreTypeName(StoreType::kFs), "fs");
  EXPECT_EQ(ParseStoreType("fs"), StoreType::kFs);
  auto created = WriteFs([](BatchView&) -> absl::StatusOr<std::string> {
    return Payload({Create(kFsRootId, "notes", S_IFREG | 0644), Write(FsOpRef(0), 12)})
        .SerializeAsString();
  });
  ASSERT_TRUE(created.ok()) << created.status();
  // The next write finds the file through the reader over the view.
  auto renamed = WriteFs([](BatchView& view) -> absl::StatusOr<std::string> {
    FsReader reader(view, nullptr);
    auto found = reader.Lookup(kFsRootId, "notes");
    if (!found.ok()) return found.status();
    if (!found->has_value()) return absl::NotFoundError("notes");
    return Payload({Move((*found)->entry, kFsRootId, "notes.txt")}).SerializeAsString();
  });
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  FsReader reader(store_->db(), nullptr);
  auto found = reader.Lookup(kFsRootId, "notes.txt");
  ASSERT_TRUE(found.ok() && found->has_value());
  auto inode = reader.Inode((*found)->inode);
  ASSERT_TRUE(inode.ok() && inode->has_value());
  EXPECT_EQ((*inode)->size, 12u);
  EXPECT_EQ(FsDerivedId(created->hash, 0), (*found)->inode);
}

TEST_F(FsStoreTest, AForeignUnusablePayloadIsARecordedNoOp) {
  ForeignAuthor other(store_id_);
  members_.insert(other.id());
  auto outcome = IngestOne(
      other.Next(kOpFs, Payload({Create(kFsRootId, "..", S_IFREG | 0644)}).SerializeAsString()));
  EXPECT_EQ(outcome.kind, IngestOutcome::Kind::kApplied) << outcome.reason;
  EXPECT_FALSE(outcome.reason.empty());
  auto fine = IngestOne(
      other.Next(kOpFs, Payload({Create(kFsRootId, "ok", S_IFDIR | 0755)}).SerializeAsString()));
  EXPECT_EQ(fine.kind, IngestOutcome::Kind::kApplied) << fine.reason;
  EXPECT_TRUE(fine.reason.empty()) << fine.reason;
  FsReader reader(store_->db(), nullptr);
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"ok"});
}


v1::FsOp MintedCreate(uint64_t parent, std::string_view name, uint32_t mode,
                      const std::string& nonce) {
  v1::FsOp op = Create(parent, name, mode);
  op.mutable_create()->set_nonce(nonce);
  return op;
}

// A minted id is its author's: the same nonce makes another inode for another author, and an
// intention minting an id that exists already (the same create sent twice) is a recorded
// no-op, as is a nonce of the wrong length.
TEST_F(FsStoreTest, MintedIdsAreTheirAuthorsAndAnIdMintedTwiceIsANoOp) {
  ForeignAuthor one(store_id_);
  ForeignAuthor two(store_id_);
  members_.insert(one.id());
  members_.insert(two.id());
  const std::string nonce = RandomBytes(kFsNonceBytes);
  const uint64_t mine = FsMintedId(one.id(), nonce);
  // The dir, a file in it named by its minted ids, and the file's content, in one payload.
  const std::string file_nonce = RandomBytes(kFsNonceBytes);
  const uint64_t file = FsMintedId(one.id(), file_nonce);
  auto made = IngestOne(one.Next(
      kOpFs, Payload({MintedCreate(kFsRootId, "d", S_IFDIR | 0755, nonce),
                      MintedCreate(mine, "f", S_IFREG | 0644, file_nonce), Write(file, 9)})
                 .SerializeAsString()));
  ASSERT_EQ(made.kind, IngestOutcome::Kind::kApplied) << made.reason;
  EXPECT_TRUE(made.reason.empty()) << made.reason;
  FsReader reader(store_->db(), nullptr);
  EXPECT_EQ((*reader.Lookup(kFsRootId, "d"))->inode, mine);
  EXPECT_EQ((*reader.Lookup(mine, "f"))->inode, file);
  EXPECT_EQ((*reader.Inode(file))->size, 9u);

  auto twice = IngestOne(one.Next(
      kOpFs, Payload({MintedCreate(kFsRootId, "again", S_IFREG | 0644, nonce)}).SerializeAsString()));
  EXPECT_EQ(twice.kind, IngestOutcome::Kind::kApplied) << twice.reason;
  EXPECT_NE(twice.reason.find("exists already"), std::string::npos) << twice.reason;
  EXPECT_FALSE(reader.Lookup(kFsRootId, "again")->has_value());

  auto theirs = IngestOne(two.Next(
      kOpFs, Payload({MintedCreate(kFsRootId, "theirs", S_IFREG | 0644, nonce)}).SerializeAsString()));
  EXPECT_TRUE(theirs.reason.empty()) << theirs.reason;
  EXPECT_EQ((*reader.Lookup(kFsRootId, "theirs"))->inode, FsMintedId(two.id(), nonce));
  EXPECT_NE(FsMintedId(two.id(), nonce), mine);

  auto short_nonce = IngestOne(two.Next(
      kOpFs, Payload({MintedCreate(kFsRootId, "short", S_IFREG | 0644, "short")}).SerializeAsString()));
  EXPECT_FALSE(short_nonce.reason.empty());
  EXPECT_FALSE(reader.Lookup(kFsRootId, "short")->has_value());
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems[0]);
}

TEST_F(FsStoreTest, TheStoresStateIsTheSameInAnotherOrderAndOnReplay) {
  ForeignAuthor one(store_id_);
  ForeignAuthor two(store_id_);
  members_.insert(one.id());
  members_.insert(two.id());
  auto setup = one.Next(kOpFs,
                        Payload({Create(kFsRootId, "a", S_IFDIR | 0755),
                                 Create(kFsRootId, "b", S_IFDIR | 0755),
                                 Create(kFsRootId, "f", S_IFREG | 0644), Write(FsOpRef(2), 3)})
                            .SerializeAsString(),
                        {}, {500, 0});
  uint64_t a = FsDerivedId(setup.hash, 0), b = FsDerivedId(setup.hash, 1);
  uint64_t f = FsDerivedId(setup.hash, 2);
  std::string v1 = FsVersionId(setup.hash, 3);
  auto a_into_b = one.Next(kOpFs, Payload({Move(a, b, "a"), Write(f, 5, {v1})}).SerializeAsString(),
                           {}, {2000, 0});
  auto b_into_a = two.Next(kOpFs, Payload({Move(b, a, "b"), Write(f, 7, {v1})}).SerializeAsString(),
                           {setup.hash}, {1000, 0});
  for (const auto* x : {&setup, &a_into_b, &b_into_a}) {
    auto outcome = IngestOne(*x);
    ASSERT_EQ(outcome.kind, IngestOutcome::Kind::kApplied) << outcome.reason;
    ASSERT_TRUE(outcome.reason.empty()) << outcome.reason;
  }
  FsReplica other;
  for (const auto* x : {&setup, &b_into_a, &a_into_b}) ASSERT_TRUE(other.Apply(*x).ok());
  std::string state;
  std::string prefix{keys::kState};
  ASSERT_TRUE(store_->db()
                  .Scan(prefix, keys::PrefixEnd(prefix),
                        [&](std::string_view k, std::string_view v) {
                          state.append(std::to_string(k.size())).append(":").append(k);
                          state.append(std::to_string(v.size())).append(":").append(v);
                          return true;
                        })
                  .ok());
  EXPECT_EQ(state, other.Dump());
  FsReader reader(store_->db(), nullptr);
  // b into a is older and applies; a into b would then make a cycle.
  EXPECT_EQ(ShownNames(reader, kFsRootId).size(), 3u);  // a, f and f's conflict copy
  EXPECT_EQ((*reader.Lookup(a, "b"))->inode, b);
  EXPECT_EQ((*reader.Inode(f))->other_heads.size(), 1u);
  VerifyReport report = store_->Verify(dir_.path() + "/verify");
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems[0]);
}

}  // namespace
}  // namespace lattice::kernel::testing
