// The watch's changes (rpc/fs_changes.h) against a real fs state: a move names the place its
// entry left as well as the one it goes to, so a mount elsewhere drops the old name.
#include "rpc/fs_changes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <utility>

#include "state/fs_keys.h"
#include "unit/state/fs_test_support.h"

namespace lattice::kernel::testing {
namespace {

using Names = std::set<std::pair<uint64_t, std::string>>;

Names NamesOf(const v1::FsChange& change) {
  Names out;
  for (const auto& n : change.names()) out.insert({n.parent(), n.name()});
  return out;
}

std::set<uint64_t> InodesOf(const v1::FsChange& change) {
  return {change.inodes().begin(), change.inodes().end()};
}

TEST(FsChangesTest, AMoveNamesThePlaceItsEntryLeftAndAnUnlinkTheNameItRemoved) {
  FsReplica replica;
  FsAuthor alice = MakeFsAuthor("alice", 'a');
  auto dir = FsIntention(alice, 1000, 0, Payload({fsop::Create(kFsRootId, "dir", S_IFDIR | 0755)}));
  ASSERT_TRUE(replica.Apply(dir).ok());
  uint64_t dir_id = FsDerivedId(dir.hash, 0);
  auto file = FsIntention(alice, 1001, 0, Payload({fsop::Create(kFsRootId, "old", S_IFREG | 0644)}));
  ASSERT_TRUE(replica.Apply(file).ok());
  uint64_t file_id = FsDerivedId(file.hash, 0);
  fs::DatabaseSource state(replica.db());

  auto move = FsIntention(alice, 1002, 0, Payload({fsop::Move(file_id, dir_id, "new")}));
  ASSERT_TRUE(replica.Apply(move).ok());
  v1::FsChange change;
  ASSERT_TRUE(FsChangeOf(move, "someone else", &change, &state));
  EXPECT_EQ(NamesOf(change), (Names{{kFsRootId, "old"}, {dir_id, "new"}}));
  EXPECT_EQ(InodesOf(change), (std::set<uint64_t>{kFsRootId, dir_id, file_id}));
  EXPECT_FALSE(change.local());

  // Without the state only the new place is known.
  v1::FsChange bare;
  ASSERT_TRUE(FsChangeOf(move, "someone else", &bare));
  EXPECT_EQ(NamesOf(bare), (Names{{dir_id, "new"}}));

  // An unlink is a move to the trash: the name it removed, never the trash.
  auto unlink = FsIntention(alice, 1003, 0, Payload({fsop::Move(file_id, kFsTrashId, "new")}));
  ASSERT_TRUE(replica.Apply(unlink).ok());
  v1::FsChange removed;
  ASSERT_TRUE(FsChangeOf(unlink, "someone else", &removed, &state));
  EXPECT_EQ(NamesOf(removed), (Names{{dir_id, "new"}}));
  EXPECT_EQ(InodesOf(removed), (std::set<uint64_t>{dir_id, file_id}));

  // A rename of a directory names its old name in its parent.
  auto rename = FsIntention(alice, 1004, 0, Payload({fsop::Move(dir_id, kFsRootId, "renamed")}));
  ASSERT_TRUE(replica.Apply(rename).ok());
  v1::FsChange renamed;
  ASSERT_TRUE(FsChangeOf(rename, "someone else", &renamed, &state));
  EXPECT_EQ(NamesOf(renamed), (Names{{kFsRootId, "dir"}, {kFsRootId, "renamed"}}));
}

}  // namespace
}  // namespace lattice::kernel::testing
