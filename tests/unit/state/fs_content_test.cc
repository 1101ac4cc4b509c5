// Content versions, heads and conflict copies; delete versus edit; attributes and xattrs.
#include <algorithm>

#include "unit/state/fs_test_support.h"

namespace lattice::kernel::testing {
namespace {

using namespace fsop;  // NOLINT

constexpr uint32_t kFile = S_IFREG | 0644;
constexpr uint64_t kT0 = 1'700'000'000'000;  // 2023-11-14 22:13:20 UTC

class FsContentTest : public ::testing::Test {
 protected:
  FsAuthor a_ = MakeFsAuthor("alpha", 'a');
  FsAuthor b_ = MakeFsAuthor("beta", 'b');
  FsAuthor c_ = MakeFsAuthor("gamma", 'c');

  void SetUp() override {
    create_ = FsIntention(a_, kT0, 0,
                          Payload({Create(kFsRootId, "f", kFile), Write(FsOpRef(0), 5)}));
    f_ = FsDerivedId(create_.hash, 0);
    v1_ = FsVersionId(create_.hash, 1);
  }

  std::string Both(const std::vector<DecodedIntention>& xs, FsReplica* last) {
    std::string first;
    for (int order = 0; order < 2; ++order) {
      FsReplica r;
      EXPECT_TRUE(r.Apply(create_).ok());
      for (size_t i = 0; i < xs.size(); ++i) {
        const auto& x = order == 0 ? xs[i] : xs[xs.size() - 1 - i];
        EXPECT_TRUE(r.Apply(x).ok());
      }
      if (order == 0) {
        first = r.Dump();
      } else {
        EXPECT_EQ(r.Dump(), first) << "the state depends on the order of arrival";
        for (size_t i = 0; i < xs.size(); ++i) EXPECT_TRUE(last->Apply(xs[i]).ok());
      }
    }
    return first;
  }

  // Applies create_ and `prefix` in order, then `xs` in every order, expecting one state;
  // `last` (empty) gets them in the given order.
  void EveryOrder(const std::vector<DecodedIntention>& prefix,
                  const std::vector<DecodedIntention>& xs, FsReplica* last) {
    std::vector<size_t> order(xs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::string first;
    do {
      FsReplica r;
      EXPECT_TRUE(r.Apply(create_).ok());
      for (const auto& x : prefix) EXPECT_TRUE(r.Apply(x).ok());
      for (size_t i : order) EXPECT_TRUE(r.Apply(xs[i]).ok());
      if (first.empty()) {
        first = r.Dump();
      } else {
        EXPECT_EQ(r.Dump(), first) << "the state depends on the order of arrival";
      }
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_TRUE(last->Apply(create_).ok());
    for (const auto& x : prefix) EXPECT_TRUE(last->Apply(x).ok());
    for (const auto& x : xs) EXPECT_TRUE(last->Apply(x).ok());
    EXPECT_EQ(last->Dump(), first);
  }

  DecodedIntention create_;
  uint64_t f_ = 0;
  std::string v1_;
};

TEST_F(FsContentTest, AWriteReplacesTheVersionsItSaw) {
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  auto w = FsIntention(a_, kT0 + 1000, 0, Payload({Write(f_, 9, {v1_})}));
  ASSERT_TRUE(r.Apply(w).ok());
  auto inode = r.Reader().Inode(f_);
  ASSERT_TRUE(inode.ok() && inode->has_value());
  EXPECT_EQ((*inode)->size, 9u);
  EXPECT_EQ((*inode)->blocks, 1u);
  EXPECT_TRUE((*inode)->other_heads.empty());
  EXPECT_EQ((*inode)->winner->id(), FsVersionId(w.hash, 0));
  auto history = r.Reader().History(f_, 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].first.id(), FsVersionId(w.hash, 0));
  EXPECT_EQ((*history)[0].second, std::vector<std::string>{v1_});
  auto old = r.Reader().Version(f_, v1_);
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->size(), 5u);
}

TEST_F(FsContentTest, ConcurrentWritesShowTheLoserAsAConflictCopy) {
  auto wb = FsIntention(b_, kT0 + 1000, 0, Payload({Write(f_, 7, {v1_})}));
  auto wc = FsIntention(c_, kT0 + 2000, 0, Payload({Write(f_, 8, {v1_})}));
  FsReplica r;
  r.Name(b_);
  ASSERT_TRUE(r.Apply(create_).ok());
  Both({wb, wc}, &r);
  auto reader = r.Reader();
  auto inode = reader.Inode(f_);
  EXPECT_EQ((*inode)->size, 8u);  // the later write wins
  ASSERT_EQ((*inode)->other_heads.size(), 1u);
  std::string copy_name = "f.sync-conflict-20231114-221321-beta";
  auto names = ShownNames(reader, kFsRootId);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"f", copy_name}));
  auto copy = reader.Lookup(kFsRootId, copy_name);
  ASSERT_TRUE(copy.ok() && copy->has_value());
  uint64_t copy_id = FsConflictCopyId(f_, FsVersionId(wb.hash, 0));
  EXPECT_EQ((*copy)->inode, copy_id);
  EXPECT_EQ((*copy)->mode, S_IFREG | 0444u);
  auto copy_inode = reader.Inode(copy_id);
  ASSERT_TRUE(copy_inode.ok() && copy_inode->has_value());
  EXPECT_TRUE((*copy_inode)->conflict_copy);
  EXPECT_EQ((*copy_inode)->copy_of, f_);
  EXPECT_EQ((*copy_inode)->winner->id(), FsVersionId(wb.hash, 0));
  EXPECT_TRUE((*copy_inode)->live);
  EXPECT_EQ((*copy_inode)->size, 7u);
  auto conflicts = reader.Conflicts(10);
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ((*conflicts)[0].name, copy_name);
  EXPECT_EQ((*conflicts)[0].original, "f");
  EXPECT_EQ((*conflicts)[0].version, FsVersionId(wb.hash, 0));

  // Deleting the copy resolves the conflict.
  ASSERT_TRUE(
      r.Apply(FsIntention(a_, kT0 + 3000, 0, Payload({Resolve(f_, {FsVersionId(wb.hash, 0)})})))
          .ok());
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"f"});
  EXPECT_FALSE((*reader.Inode(copy_id))->live);
  EXPECT_TRUE(reader.Conflicts(10)->empty());
}

TEST_F(FsContentTest, AReplacementArrivingFirstStillHidesTheReplacedVersion) {
  auto w2 = FsIntention(b_, kT0 + 1000, 0, Payload({Write(f_, 7, {v1_})}));
  auto w3 = FsIntention(b_, kT0 + 2000, 0, Payload({Write(f_, 8, {FsVersionId(w2.hash, 0)})}));
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  Both({w2, w3}, &r);
  EXPECT_TRUE((*r.Reader().Inode(f_))->other_heads.empty());
  EXPECT_EQ((*r.Reader().Inode(f_))->size, 8u);
}

TEST_F(FsContentTest, ReplacingAnotherFilesVersionChangesNothingThere) {
  auto other = FsIntention(b_, kT0 + 1000, 0, Payload({Create(kFsRootId, "g", kFile)}));
  uint64_t g = FsDerivedId(other.hash, 0);
  auto wf = FsIntention(b_, kT0 + 2000, 0, Payload({Write(f_, 3, {v1_})}));
  auto wg = FsIntention(c_, kT0 + 3000, 0, Payload({Write(g, 4, {FsVersionId(wf.hash, 0)})}));
  FsReplica r1, r2;
  for (const auto* x : {&create_, &other, &wf, &wg}) ASSERT_TRUE(r1.Apply(*x).ok());
  for (const auto* x : {&create_, &other, &wg, &wf}) ASSERT_TRUE(r2.Apply(*x).ok());
  EXPECT_EQ(r1.Dump(), r2.Dump());
  EXPECT_EQ((*r1.Reader().Inode(f_))->size, 3u);
}

TEST_F(FsContentTest, DeleteVersusEditKeepsTheEdit) {
  auto unlink = FsIntention(b_, kT0 + 2000, 0, Payload({Move(f_, kFsTrashId, "f", {v1_})}));
  auto edit = FsIntention(c_, kT0 + 1000, 0, Payload({Write(f_, 7, {v1_})}));
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  Both({unlink, edit}, &r);
  auto reader = r.Reader();
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"f"});
  EXPECT_TRUE((*reader.Inode(f_))->live);
  EXPECT_EQ((*reader.Inode(f_))->size, 7u);
  // An unlink that saw the edit removes it.
  auto seen_edit = FsIntention(
      b_, kT0 + 3000, 0, Payload({Move(f_, kFsTrashId, "f", {FsVersionId(edit.hash, 0)})}));
  ASSERT_TRUE(r.Apply(seen_edit).ok());
  EXPECT_TRUE(ShownNames(reader, kFsRootId).empty());
  EXPECT_FALSE((*reader.Inode(f_))->live);
}

TEST_F(FsContentTest, TheUnlinkersOwnLaterWriteKeepsTheFileUnlinked) {
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  auto unlink = FsIntention(b_, kT0 + 1000, 0, Payload({Move(f_, kFsTrashId, "f", {v1_})}));
  auto write = FsIntention(b_, kT0 + 2000, 0, Payload({Write(f_, 7, {v1_})}));
  ASSERT_LT(unlink.body.seq(), write.body.seq());
  ASSERT_TRUE(r.Apply(unlink).ok());
  ASSERT_TRUE(r.Apply(write).ok());
  EXPECT_TRUE(ShownNames(r.Reader(), kFsRootId).empty());
  // The same write by another node, concurrent with the unlink, keeps it.
  FsReplica other;
  ASSERT_TRUE(other.Apply(create_).ok());
  ASSERT_TRUE(other.Apply(unlink).ok());
  ASSERT_TRUE(other.Apply(FsIntention(c_, kT0 + 2000, 0, Payload({Write(f_, 7, {v1_})}))).ok());
  EXPECT_EQ(ShownNames(other.Reader(), kFsRootId), std::vector<std::string>{"f"});
}

// One node: echo 1 > a; ln a b; mv b e; rm a; echo new > a; echo edit >> e; rm e. Each unlink
// saw the versions there were when it was made; the edit through `e` came after `rm a`, which
// therefore did not see it. Only the unlink of the last name (`rm e`) is a delete to weigh
// against edits; `rm a` removed a name while another was live and never comes back (shown, it
// would clash with the new `a` as a.sync-conflict-...). On one node the edit is also later in
// the unlinker's own chain; the second half makes it another node's, where only the rule on
// the last unlink keeps the old `a` removed.
TEST_F(FsContentTest, AnEditThroughAnotherNameDoesNotBringBackANameRemovedBefore) {
  auto create = FsIntention(a_, kT0, 0,
                            Payload({Create(kFsRootId, "a", kFile), Write(FsOpRef(0), 2)}));
  const uint64_t f = FsDerivedId(create.hash, 0);  // the entry `a` and its inode
  const std::string v1 = FsVersionId(create.hash, 1);
  FsReplica r;
  r.Name(a_);
  ASSERT_TRUE(r.Apply(create).ok());  // echo 1 > a
  auto link = FsIntention(a_, kT0 + 1000, 0, Payload({Link(f, kFsRootId, "b")}));
  uint64_t b = FsDerivedId(link.hash, 0);
  auto rename = FsIntention(a_, kT0 + 2000, 0, Payload({Move(b, kFsRootId, "e")}));
  auto rm_a = FsIntention(a_, kT0 + 3000, 0, Payload({Move(f, kFsTrashId, "a", {v1})}));
  auto recreate = FsIntention(a_, kT0 + 4000, 0,
                              Payload({Create(kFsRootId, "a", kFile), Write(FsOpRef(0), 4)}));
  uint64_t a2 = FsDerivedId(recreate.hash, 0);
  auto edit = FsIntention(a_, kT0 + 5000, 0, Payload({Write(f, 7, {v1})}));
  std::string v2 = FsVersionId(edit.hash, 0);
  auto rm_e = FsIntention(a_, kT0 + 6000, 0, Payload({Move(b, kFsTrashId, "e", {v2})}));
  for (const auto* x : {&link, &rename, &rm_a, &recreate, &edit}) ASSERT_TRUE(r.Apply(*x).ok());
  auto reader = r.Reader();
  auto names = ShownNames(reader, kFsRootId);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "e"}));
  EXPECT_EQ((*reader.Lookup(kFsRootId, "a"))->inode, a2);
  EXPECT_EQ((*reader.Inode(f))->nlink, 1u);
  ASSERT_TRUE(r.Apply(rm_e).ok());
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"a"});
  EXPECT_EQ((*reader.Lookup(kFsRootId, "a"))->inode, a2);
  EXPECT_FALSE((*reader.Inode(f))->live);
  EXPECT_EQ((*reader.Inode(f))->nlink, 0u);
  EXPECT_EQ(*reader.InodeCount(), 2u);  // the root and the new `a`

  // The same when the edit and the last unlink are another node's, made after it saw `rm a`:
  // the edit is no concurrent edit of the name `a`, whose removal left `e` live.
  auto edit_b = FsIntention(b_, kT0 + 5000, 0, Payload({Write(f, 7, {v1})}));
  auto rm_e_b = FsIntention(b_, kT0 + 6000, 0,
                            Payload({Move(b, kFsTrashId, "e", {FsVersionId(edit_b.hash, 0)})}));
  FsReplica other;
  other.Name(a_);
  ASSERT_TRUE(other.Apply(create).ok());
  for (const auto* x : {&link, &rename, &rm_a, &recreate, &edit_b, &rm_e_b}) {
    ASSERT_TRUE(other.Apply(*x).ok());
  }
  EXPECT_EQ(ShownNames(other.Reader(), kFsRootId), std::vector<std::string>{"a"});
  EXPECT_EQ((*other.Reader().Lookup(kFsRootId, "a"))->inode, a2);
  EXPECT_FALSE((*other.Reader().Inode(f))->live);
}

// A removes both names of a file, one after the other, while B edits it without having seen
// either unlink: the edit survives under the name A removed last, and only there.
TEST_F(FsContentTest, DeleteVersusEditWithHardLinksKeepsTheNameRemovedLast) {
  auto link = FsIntention(a_, kT0 + 1000, 0, Payload({Link(f_, kFsRootId, "g")}));
  uint64_t g = FsDerivedId(link.hash, 0);
  auto rm_g = FsIntention(a_, kT0 + 2000, 0, Payload({Move(g, kFsTrashId, "g", {v1_})}));
  auto rm_f = FsIntention(a_, kT0 + 4000, 0, Payload({Move(f_, kFsTrashId, "f", {v1_})}));
  auto edit = FsIntention(b_, kT0 + 3000, 0, Payload({Write(f_, 7, {v1_})}));
  FsReplica r;
  EveryOrder({link}, {rm_g, rm_f, edit}, &r);
  auto reader = r.Reader();
  EXPECT_EQ(ShownNames(reader, kFsRootId), std::vector<std::string>{"f"});
  EXPECT_EQ((*reader.Lookup(kFsRootId, "f"))->entry, f_);
  EXPECT_TRUE((*reader.Inode(f_))->live);
  EXPECT_EQ((*reader.Inode(f_))->nlink, 1u);
  EXPECT_EQ((*reader.Inode(f_))->size, 7u);

  // Removed in the other order, the edit stays under `g`.
  auto rm_f_first = FsIntention(a_, kT0 + 2000, 0, Payload({Move(f_, kFsTrashId, "f", {v1_})}));
  auto rm_g_last = FsIntention(a_, kT0 + 4000, 0, Payload({Move(g, kFsTrashId, "g", {v1_})}));
  FsReplica other;
  EveryOrder({link}, {rm_f_first, rm_g_last, edit}, &other);
  EXPECT_EQ(ShownNames(other.Reader(), kFsRootId), std::vector<std::string>{"g"});

  // When the last unlink saw the edit, nothing comes back, though the first did not see it.
  auto rm_f_saw = FsIntention(a_, kT0 + 4000, 0,
                              Payload({Move(f_, kFsTrashId, "f", {FsVersionId(edit.hash, 0)})}));
  FsReplica saw;
  EveryOrder({link}, {rm_g, edit, rm_f_saw}, &saw);
  EXPECT_TRUE(ShownNames(saw.Reader(), kFsRootId).empty());
  EXPECT_FALSE((*saw.Reader().Inode(f_))->live);
}

TEST_F(FsContentTest, AnUnlinkThatSawEverythingRemoves) {
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  ASSERT_TRUE(r.Apply(FsIntention(b_, kT0 + 2000, 0, Payload({Move(f_, kFsTrashId, "f", {v1_})})))
                  .ok());
  EXPECT_TRUE(ShownNames(r.Reader(), kFsRootId).empty());
  EXPECT_EQ(*r.Reader().InodeCount(), 1u);
}

TEST_F(FsContentTest, AttributesAreRegistersPerAttribute) {
  v1::FsOp uid;
  uid.mutable_set_attr()->set_inode(f_);
  uid.mutable_set_attr()->set_uid(42);
  v1::FsOp times;
  times.mutable_set_attr()->set_inode(f_);
  times.mutable_set_attr()->mutable_mtime()->set_sec(99);
  times.mutable_set_attr()->mutable_ctime()->set_sec(99);
  auto mode_old = FsIntention(b_, kT0 + 1000, 0, Payload({SetMode(f_, 0600), uid}));
  auto mode_new = FsIntention(c_, kT0 + 2000, 0, Payload({SetMode(f_, 0640), times}));
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  Both({mode_old, mode_new}, &r);
  auto inode = r.Reader().Inode(f_);
  EXPECT_EQ((*inode)->attr.mode(), S_IFREG | 0640u);
  EXPECT_EQ((*inode)->attr.uid(), 42u);
  EXPECT_EQ((*inode)->attr.mtime().sec(), 99);
  EXPECT_EQ((*inode)->attr.ctime().sec(), 99);
}

TEST_F(FsContentTest, XattrsAreLastWriterWins) {
  auto set_b = FsIntention(b_, kT0 + 1000, 0, Payload({SetXattr(f_, "user.k", "b"),
                                                        SetXattr(f_, "user.gone", "x")}));
  auto set_c = FsIntention(c_, kT0 + 2000, 0, Payload({SetXattr(f_, "user.k", "c"),
                                                        SetXattr(f_, "user.gone", "", true)}));
  FsReplica r;
  ASSERT_TRUE(r.Apply(create_).ok());
  Both({set_b, set_c}, &r);
  auto reader = r.Reader();
  EXPECT_EQ(**reader.Xattr(f_, "user.k"), "c");
  EXPECT_FALSE(reader.Xattr(f_, "user.gone")->has_value());
  EXPECT_EQ(*reader.XattrNames(f_), std::vector<std::string>{"user.k"});
}

TEST(FsPayloadTest, ChunksCitedOnceEachWithoutHoles) {
  v1::FsPayload payload = Payload({Write(20, 5), Write(21, 5), Write(22, 0)});
  auto* hole = payload.mutable_ops(0)->mutable_write()->add_extents();
  hole->set_length(3);
  auto cited = FsChunksCited(payload);
  ASSERT_EQ(cited.size(), 1u);
  EXPECT_EQ(cited[0].size(), 32u);
}

TEST(FsNamesTest, ConflictNamesFollowSyncthing) {
  EXPECT_EQ(FsConflictName("a.txt", kT0, "node1"), "a.txt.sync-conflict-20231114-221320-node1");
  EXPECT_EQ(FsDerivedId(std::string(32, 'h'), 3), FsDerivedId(std::string(32, 'h'), 3));
  EXPECT_NE(FsDerivedId(std::string(32, 'h'), 3), FsDerivedId(std::string(32, 'h'), 4));
  EXPECT_GE(FsDerivedId(std::string(32, 'h'), 3), 16u);
  EXPECT_FALSE(IsFsOpRef(FsDerivedId(std::string(32, 'h'), 3)));
  EXPECT_EQ(FsVersionId(std::string(32, 'h'), 1).size(), 36u);
}

}  // namespace
}  // namespace lattice::kernel::testing
