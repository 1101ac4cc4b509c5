// The tree of an fs store: creates, links, moves, unlinks, cycles, name conflicts and removed
// directories that still hold entries, each in every arrival order.
#include <algorithm>

#include "state/fs_keys.h"
#include "unit/state/fs_test_support.h"

namespace lattice::kernel::testing {
namespace {

using namespace fsop;  // NOLINT

constexpr uint32_t kDir = S_IFDIR | 0755;
constexpr uint32_t kFile = S_IFREG | 0644;

class FsTreeTest : public ::testing::Test {
 protected:
  FsAuthor a_ = MakeFsAuthor("alpha", 'a');
  FsAuthor b_ = MakeFsAuthor("beta", 'b');
  FsAuthor c_ = MakeFsAuthor("gamma", 'c');

  // Applies `first` then the rest, asserting each applies.
  static void ApplyAll(FsReplica& r, const std::vector<DecodedIntention>& xs) {
    for (const auto& x : xs) ASSERT_TRUE(r.Apply(x).ok()) << r.Apply(x);
  }
  // Applies `common`, then `concurrent` in every order on fresh replicas; expects one state.
  std::string SameInEveryOrder(const std::vector<DecodedIntention>& common,
                               std::vector<DecodedIntention> concurrent) {
    std::vector<size_t> order(concurrent.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::string first;
    do {
      FsReplica r;
      ApplyAll(r, common);
      for (size_t i : order) EXPECT_TRUE(r.Apply(concurrent[i]).ok());
      std::string dump = r.Dump();
      if (first.empty()) {
        first = dump;
      } else {
        EXPECT_EQ(dump, first) << "the state depends on the order of arrival";
      }
    } while (std::next_permutation(order.begin(), order.end()));
    return first;
  }
};

TEST_F(FsTreeTest, RootExistsImplicitly) {
  FsReplica r;
  auto root = r.Reader().Inode(kFsRootId);
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(root->has_value());
  EXPECT_EQ((*root)->attr.mode(), S_IFDIR | 0755u);
  EXPECT_EQ((*root)->nlink, 2u);
  EXPECT_TRUE((*root)->live);
  EXPECT_EQ(*r.Reader().InodeCount(), 1u);
}

TEST_F(FsTreeTest, CreateLookupListAndUnlink) {
  FsReplica r;
  auto x = FsIntention(a_, 1000, 0,
                       Payload({Create(kFsRootId, "docs", kDir), Create(FsOpRef(0), "f", kFile),
                                Create(kFsRootId, "ln", S_IFLNK | 0777, "docs/f")}));
  ASSERT_TRUE(r.Apply(x).ok());
  uint64_t docs = FsDerivedId(x.hash, 0);
  uint64_t f = FsDerivedId(x.hash, 1);
  auto reader = r.Reader();
  auto names = ShownNames(reader, kFsRootId);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"docs", "ln"}));
  auto found = reader.Lookup(docs, "f");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->inode, f);
  EXPECT_EQ((*found)->mode, kFile);
  auto root = reader.Inode(kFsRootId);
  EXPECT_EQ((*root)->nlink, 3u);  // one subdirectory
  auto link = reader.Inode(FsDerivedId(x.hash, 2));
  EXPECT_EQ((*link)->symlink_target, "docs/f");
  EXPECT_EQ((*link)->size, 6u);
  EXPECT_EQ(*reader.InodeCount(), 4u);
  auto place = reader.PlaceOf(f);
  ASSERT_TRUE(place.ok() && place->has_value());
  EXPECT_EQ((*place)->first, docs);
  EXPECT_EQ((*place)->second, "f");

  // Unlink the file, then remove the (now empty) directory.
  ASSERT_TRUE(r.Apply(FsIntention(a_, 2000, 0, Payload({Move(f, kFsTrashId, "f")}))).ok());
  EXPECT_FALSE(reader.Lookup(docs, "f")->has_value());
  EXPECT_FALSE((*reader.Inode(f))->live);
  EXPECT_EQ((*reader.Inode(f))->nlink, 0u);
  ASSERT_TRUE(r.Apply(FsIntention(a_, 3000, 0, Payload({Move(docs, kFsTrashId, "docs")}))).ok());
  EXPECT_FALSE(reader.Lookup(kFsRootId, "docs")->has_value());
  EXPECT_EQ((*reader.Inode(kFsRootId))->nlink, 2u);
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"ln"});
  EXPECT_EQ(*reader.InodeCount(), 2u);
}

TEST_F(FsTreeTest, RenameMovesAcrossDirectories) {
  FsReplica r;
  auto x = FsIntention(a_, 1000, 0,
                       Payload({Create(kFsRootId, "a", kDir), Create(kFsRootId, "b", kDir),
                                Create(FsOpRef(0), "f", kFile)}));
  ASSERT_TRUE(r.Apply(x).ok());
  uint64_t a = FsDerivedId(x.hash, 0), b = FsDerivedId(x.hash, 1), f = FsDerivedId(x.hash, 2);
  ASSERT_TRUE(r.Apply(FsIntention(a_, 2000, 0, Payload({Move(f, b, "g")}))).ok());
  auto reader = r.Reader();
  EXPECT_FALSE(reader.Lookup(a, "f")->has_value());
  EXPECT_EQ((*reader.Lookup(b, "g"))->inode, f);
  ASSERT_TRUE(r.Apply(FsIntention(a_, 3000, 0, Payload({Move(a, b, "a2")}))).ok());
  EXPECT_EQ((*reader.Inode(b))->nlink, 3u);
  EXPECT_EQ((*reader.Inode(kFsRootId))->nlink, 3u);
}

TEST_F(FsTreeTest, ConcurrentCrossedMovesNeverMakeACycle) {
  auto x = FsIntention(a_, 1000, 0,
                       Payload({Create(kFsRootId, "a", kDir), Create(kFsRootId, "b", kDir)}));
  uint64_t a = FsDerivedId(x.hash, 0), b = FsDerivedId(x.hash, 1);
  auto a_into_b = FsIntention(a_, 2000, 0, Payload({Move(a, b, "a")}));
  auto b_into_a = FsIntention(b_, 2001, 0, Payload({Move(b, a, "b")}));
  SameInEveryOrder({x}, {a_into_b, b_into_a});
  FsReplica r;
  ApplyAll(r, {x, b_into_a, a_into_b});
  auto reader = r.Reader();
  // a into b came first (older stamp) and stays; b into a would make a cycle: skipped.
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"b"});
  EXPECT_EQ((*reader.Lookup(b, "a"))->inode, a);
  EXPECT_TRUE(ShownNames(reader, a).empty());
}

TEST_F(FsTreeTest, DeepCycleThroughThreeAuthors) {
  auto x = FsIntention(a_, 1000, 0,
                       Payload({Create(kFsRootId, "a", kDir), Create(kFsRootId, "b", kDir),
                                Create(kFsRootId, "c", kDir)}));
  uint64_t a = FsDerivedId(x.hash, 0), b = FsDerivedId(x.hash, 1), c = FsDerivedId(x.hash, 2);
  SameInEveryOrder({x}, {FsIntention(a_, 2003, 0, Payload({Move(a, b, "a")})),
                         FsIntention(b_, 2002, 0, Payload({Move(b, c, "b")})),
                         FsIntention(c_, 2001, 0, Payload({Move(c, a, "c")}))});
}

TEST_F(FsTreeTest, SameNameTwiceShowsBothWithTheLaterPlacementKeepingIt) {
  auto x = FsIntention(a_, 1'700'000'000'000, 0, Payload({Create(kFsRootId, "x", kFile)}));
  auto y = FsIntention(b_, 1'700'000'001'000, 0, Payload({Create(kFsRootId, "x", kFile)}));
  SameInEveryOrder({}, {x, y});
  FsReplica r;
  r.Name(a_);
  ApplyAll(r, {y, x});
  auto reader = r.Reader();
  EXPECT_EQ((*reader.Lookup(kFsRootId, "x"))->inode, FsDerivedId(y.hash, 0));
  std::string other = "x.sync-conflict-20231114-221320-alpha";
  auto shown = ShownNames(reader, kFsRootId);
  std::sort(shown.begin(), shown.end());
  EXPECT_EQ(shown, (std::vector<std::string>{"x", other}));
  auto loser = reader.Lookup(kFsRootId, other);
  ASSERT_TRUE(loser.ok() && loser->has_value());
  EXPECT_EQ((*loser)->inode, FsDerivedId(x.hash, 0));
  auto conflicts = reader.Conflicts(10);
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ((*conflicts)[0].name, other);
  EXPECT_EQ((*conflicts)[0].original, "x");
  EXPECT_EQ((*conflicts)[0].author, "alpha");
}

TEST_F(FsTreeTest, RemovedDirectoryKeepsWhatWasPutInItConcurrently) {
  auto x = FsIntention(a_, 1000, 0, Payload({Create(kFsRootId, "d", kDir)}));
  uint64_t d = FsDerivedId(x.hash, 0);
  auto rmdir = FsIntention(a_, 2000, 0, Payload({Move(d, kFsTrashId, "d")}));
  auto create = FsIntention(b_, 1999, 0, Payload({Create(d, "new", kFile)}));
  SameInEveryOrder({x}, {rmdir, create});
  FsReplica r;
  ApplyAll(r, {x, rmdir, create});
  auto reader = r.Reader();
  EXPECT_EQ((*reader.Lookup(kFsRootId, "d"))->inode, d);
  EXPECT_EQ(ShownNames(reader, d), std::vector<std::string>{"new"});
  EXPECT_TRUE((*reader.Inode(d))->live);
  EXPECT_EQ((*reader.Inode(kFsRootId))->nlink, 3u);
  // Once the new file goes too, so does the directory.
  ASSERT_TRUE(r.Apply(FsIntention(b_, 3000, 0,
                                  Payload({Move(FsDerivedId(create.hash, 0), kFsTrashId, "new")})))
                  .ok());
  EXPECT_FALSE(reader.Lookup(kFsRootId, "d")->has_value());
  EXPECT_FALSE((*reader.Inode(d))->live);
}

TEST_F(FsTreeTest, RemovedDirectoryTreeKeepsANestedNewEntry) {
  auto x = FsIntention(a_, 1000, 0,
                       Payload({Create(kFsRootId, "d", kDir), Create(FsOpRef(0), "e", kDir)}));
  uint64_t d = FsDerivedId(x.hash, 0), e = FsDerivedId(x.hash, 1);
  auto rm = FsIntention(a_, 2000, 0,
                        Payload({Move(e, kFsTrashId, "e"), Move(d, kFsTrashId, "d")}));
  auto create = FsIntention(b_, 2001, 0, Payload({Create(e, "new", kFile)}));
  SameInEveryOrder({x}, {rm, create});
  FsReplica r;
  ApplyAll(r, {x, create, rm});
  auto reader = r.Reader();
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"d"});
  EXPECT_EQ(ShownNames(reader, d), std::vector<std::string>{"e"});
  EXPECT_EQ(ShownNames(reader, e), std::vector<std::string>{"new"});
}

TEST_F(FsTreeTest, HardLinksCountTheirEntries) {
  FsReplica r;
  auto x = FsIntention(a_, 1000, 0,
                       Payload({Create(kFsRootId, "f", kFile), Link(FsOpRef(0), kFsRootId, "g"),
                                Create(kFsRootId, "d", kDir)}));
  ASSERT_TRUE(r.Apply(x).ok());
  uint64_t f = FsDerivedId(x.hash, 0), g = FsDerivedId(x.hash, 1);
  auto reader = r.Reader();
  EXPECT_EQ((*reader.Inode(f))->nlink, 2u);
  EXPECT_EQ((*reader.Lookup(kFsRootId, "g"))->inode, f);
  EXPECT_EQ((*reader.Lookup(kFsRootId, "g"))->entry, g);
  ASSERT_TRUE(r.Apply(FsIntention(a_, 2000, 0, Payload({Link(f, FsDerivedId(x.hash, 2), "h")})))
                  .ok());
  EXPECT_EQ((*reader.Inode(f))->nlink, 3u);
  ASSERT_TRUE(r.Apply(FsIntention(a_, 3000, 0, Payload({Move(f, kFsTrashId, "f")}))).ok());
  EXPECT_EQ((*reader.Inode(f))->nlink, 2u);
  EXPECT_TRUE((*reader.Inode(f))->live);
  EXPECT_FALSE(reader.Lookup(kFsRootId, "f")->has_value());
  // A directory cannot be linked.
  EXPECT_FALSE(r.Apply(FsIntention(a_, 4000, 0,
                                   Payload({Link(FsDerivedId(x.hash, 2), kFsRootId, "d2")})))
                   .ok());
}

TEST_F(FsTreeTest, AMoveArrivingLateIsOrderedByItsStamp) {
  auto x = FsIntention(a_, 1000, 0, Payload({Create(kFsRootId, "f", kFile)}));
  uint64_t f = FsDerivedId(x.hash, 0);
  auto early = FsIntention(a_, 2000, 0, Payload({Move(f, kFsRootId, "early")}));
  auto late = FsIntention(b_, 3000, 0, Payload({Move(f, kFsRootId, "late")}));
  auto unlink = FsIntention(c_, 2500, 0, Payload({Move(f, kFsTrashId, "f")}));
  SameInEveryOrder({x}, {early, late, unlink});
  FsReplica r;
  ApplyAll(r, {x, late, unlink, early});
  EXPECT_EQ(ShownNames(r.Reader(), kFsRootId), std::vector<std::string>{"late"});
}

TEST_F(FsTreeTest, UnusablePayloadsWriteNothing) {
  FsReplica r;
  auto x = FsIntention(a_, 1000, 0,
                       Payload({Create(kFsRootId, "f", kFile), Create(kFsRootId, "d", kDir)}));
  ASSERT_TRUE(r.Apply(x).ok());
  uint64_t f = FsDerivedId(x.hash, 0), d = FsDerivedId(x.hash, 1);
  std::string before = r.Dump();
  std::vector<v1::FsPayload> bad = {
      Payload({}),
      Payload({Create(kFsRootId, "", kFile)}),
      Payload({Create(kFsRootId, ".", kFile)}),
      Payload({Create(kFsRootId, "..", kFile)}),
      Payload({Create(kFsRootId, "a/b", kFile)}),
      Payload({Create(kFsRootId, std::string("a\0b", 3), kFile)}),
      Payload({Create(kFsRootId, std::string(256, 'n'), kFile)}),
      Payload({Create(kFsRootId, "ok", kFile), Create(f, "under-a-file", kFile)}),
      Payload({Create(12345, "nowhere", kFile)}),
      Payload({Create(kFsRootId, "l", S_IFLNK | 0777)}),
      Payload({Create(kFsRootId, "l", S_IFLNK | 0777, std::string(5000, 't'))}),
      Payload({Create(kFsRootId, "x", 0777)}),
      Payload({Move(f, FsOpRef(1), "x"), Create(kFsRootId, "later", kDir)}),
      Payload({Link(FsOpRef(0), kFsRootId, "self")}),
      Payload({Move(kFsRootId, d, "root")}),
      Payload({Move(999, d, "missing")}),
      Payload({Write(d, 10)}),
      Payload({Link(d, kFsRootId, "dirlink")}),
      Payload({Write(f, 10, {"short"})}),
      Payload({SetMode(f, 01000000)}),
      Payload({SetXattr(f, "", "v")}),
      Payload({Create(kFsRootId, "ok", kFile), v1::FsOp()}),
  };
  {
    v1::FsOp w = Write(f, 10);
    w.mutable_write()->set_size(11);  // extents hold 10
    bad.push_back(Payload({w}));
    std::vector<v1::FsOp> many(65, Create(kFsRootId, "m", kFile));
    bad.push_back(Payload(many));
  }
  uint64_t wall = 2000;
  for (size_t i = 0; i < bad.size(); ++i) {
    auto status = r.Apply(FsIntention(a_, wall++, 0, bad[i]));
    EXPECT_FALSE(status.ok()) << "payload " << i << " was accepted";
    EXPECT_EQ(r.Dump(), before) << "payload " << i;
  }
}

}  // namespace
}  // namespace lattice::kernel::testing

namespace lattice::kernel::testing {
namespace {

TEST(FsTreeEdgeTest, ARemovedDirectoryIsNeverShownInsideItself) {
  using namespace fsop;  // NOLINT
  FsAuthor a = MakeFsAuthor("alpha", 'a');
  FsAuthor b = MakeFsAuthor("beta", 'b');
  auto x = FsIntention(a, 1000, 0,
                       Payload({Create(kFsRootId, "p", S_IFDIR | 0755),
                                Create(FsOpRef(0), "d", S_IFDIR | 0755)}));
  uint64_t p = FsDerivedId(x.hash, 0), d = FsDerivedId(x.hash, 1);
  auto rmdir = FsIntention(a, 2000, 0, Payload({Move(d, kFsTrashId, "d")}));
  auto create = FsIntention(b, 2001, 0, Payload({Create(d, "new", S_IFREG | 0644)}));
  // Someone who saw d kept moves p into it: d's old place is now under d.
  auto p_into_d = FsIntention(b, 3000, 0, Payload({Move(p, d, "p")}));
  FsReplica r;
  for (const auto& i : {x, rmdir, create, p_into_d}) ASSERT_TRUE(r.Apply(i).ok());
  auto reader = r.Reader();
  EXPECT_TRUE(ShownNames(reader, kFsRootId).empty());
  EXPECT_FALSE((*reader.Inode(d))->live);
  auto in_d = ShownNames(reader, d);
  std::sort(in_d.begin(), in_d.end());
  EXPECT_EQ(in_d, (std::vector<std::string>{"new", "p"}));
}

}  // namespace
}  // namespace lattice::kernel::testing
