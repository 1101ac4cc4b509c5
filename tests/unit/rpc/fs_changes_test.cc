// The watch's changes (rpc/fs_changes.h) against a real fs state: a move names the place its
// entry left as well as the one it goes to, so a mount elsewhere drops the old name; a name
// made in a removed directory names the directory where it is shown again.
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

TEST(FsChangesTest, AWriteOrAResolveNamesTheDirectoriesWhereItsInodeIsShownAndTellsItsWriter) {
  FsReplica replica;
  FsAuthor alice = MakeFsAuthor("alice", 'a');
  FsAuthor bob = MakeFsAuthor("bob", 'b');
  auto made = FsIntention(alice, 1000, 0,
                          Payload({fsop::Create(kFsRootId, "dir", S_IFDIR | 0755),
                                   fsop::Create(FsOpRef(0), "f", S_IFREG | 0644),
                                   fsop::Link(FsOpRef(1), kFsRootId, "link")}));
  ASSERT_TRUE(replica.Apply(made).ok());
  uint64_t dir_id = FsDerivedId(made.hash, 0);
  uint64_t file_id = FsDerivedId(made.hash, 1);
  fs::DatabaseSource state(replica.db());

  // Two writes, neither seeing the other: the second makes a conflict copy next to each name
  // of the file, so the change names both directories and the file's names there.
  auto first = FsIntention(alice, 1001, 0, Payload({fsop::Write(file_id, 5)}));
  auto second = FsIntention(bob, 1002, 0, Payload({fsop::Write(file_id, 6)}));
  ASSERT_TRUE(replica.Apply(first).ok());
  // One head: its writer's watch may skip it, as the writer knows all it changed.
  EXPECT_FALSE(FsChangeShowsMoreThanItsCalls(first, state));
  ASSERT_TRUE(replica.Apply(second).ok());
  EXPECT_TRUE(FsChangeShowsMoreThanItsCalls(second, state)) << "it left a conflict copy";
  v1::FsChange written;
  ASSERT_TRUE(FsChangeOf(second, "someone else", &written, &state));
  EXPECT_EQ(InodesOf(written), (std::set<uint64_t>{kFsRootId, dir_id, file_id}));
  EXPECT_EQ(NamesOf(written), (Names{{dir_id, "f"}, {kFsRootId, "link"}}));
  // Without the state, the inode alone.
  v1::FsChange bare;
  ASSERT_TRUE(FsChangeOf(second, "someone else", &bare));
  EXPECT_EQ(InodesOf(bare), (std::set<uint64_t>{file_id}));
  EXPECT_TRUE(bare.names().empty());

  // A resolve drops the copies: the same directories again.
  auto resolve = FsIntention(alice, 1003, 0,
                             Payload({fsop::Resolve(file_id, {FsVersionId(second.hash, 0)})}));
  ASSERT_TRUE(replica.Apply(resolve).ok());
  EXPECT_TRUE(FsChangeShowsMoreThanItsCalls(resolve, state));
  auto after = FsIntention(alice, 1003, 1,
                           Payload({fsop::Write(file_id, 7, {FsVersionId(first.hash, 0)})}));
  ASSERT_TRUE(replica.Apply(after).ok());
  EXPECT_FALSE(FsChangeShowsMoreThanItsCalls(after, state)) << "one head again";
  v1::FsChange resolved;
  ASSERT_TRUE(FsChangeOf(resolve, "someone else", &resolved, &state));
  EXPECT_EQ(InodesOf(resolved), (std::set<uint64_t>{kFsRootId, dir_id, file_id}));

  // A name unlinked concurrently with a write is shown again where it was: the write names it.
  auto unlink = FsIntention(alice, 1004, 0, Payload({fsop::Move(file_id, kFsTrashId, "f")}));
  auto edit = FsIntention(bob, 1005, 0, Payload({fsop::Write(file_id, 9)}));
  ASSERT_TRUE(replica.Apply(unlink).ok());
  ASSERT_TRUE(replica.Apply(edit).ok());
  EXPECT_TRUE(FsChangeShowsMoreThanItsCalls(edit, state)) << "it showed an unlinked name again";
  v1::FsChange edited;
  ASSERT_TRUE(FsChangeOf(edit, "someone else", &edited, &state));
  EXPECT_TRUE(NamesOf(edited).count({dir_id, "f"})) << "the unlinked name, back";
  EXPECT_TRUE(InodesOf(edited).count(dir_id));

  // Unlinked for good (the unlink saw every version) and written after through its other
  // name: the name stays in the trash, so its writer need not hear of the write.
  auto gone = FsIntention(alice, 1006, 0,
                          Payload({fsop::Move(file_id, kFsTrashId, "f",
                                              {FsVersionId(after.hash, 0),
                                               FsVersionId(edit.hash, 0)})}));
  ASSERT_TRUE(replica.Apply(gone).ok());
  auto later = FsIntention(alice, 1007, 0,
                           Payload({fsop::Write(file_id, 3, {FsVersionId(after.hash, 0),
                                                             FsVersionId(edit.hash, 0)})}));
  ASSERT_TRUE(replica.Apply(later).ok());
  EXPECT_FALSE(FsChangeShowsMoreThanItsCalls(later, state));
}

TEST(FsChangesTest, ANameMadeInRemovedDirectoriesNamesThemWhereTheyAreShownAgain) {
  FsReplica replica;
  FsAuthor alice = MakeFsAuthor("alice", 'a');
  FsAuthor bob = MakeFsAuthor("bob", 'b');
  auto made = FsIntention(alice, 1000, 0,
                          Payload({fsop::Create(kFsRootId, "outer", S_IFDIR | 0755),
                                   fsop::Create(FsOpRef(0), "inbox", S_IFDIR | 0755)}));
  ASSERT_TRUE(replica.Apply(made).ok());
  uint64_t outer = FsDerivedId(made.hash, 0);
  uint64_t inbox = FsDerivedId(made.hash, 1);
  fs::DatabaseSource state(replica.db());

  // Alice removes both directories while bob, not yet hearing of it, writes a letter into
  // the inner one: both are shown again, so a mount that cached "outer" as absent after
  // alice's rmdir must drop that, as well as the letter's own name.
  auto removed = FsIntention(alice, 1001, 0,
                             Payload({fsop::Move(inbox, kFsTrashId, "inbox"),
                                      fsop::Move(outer, kFsTrashId, "outer")}));
  ASSERT_TRUE(replica.Apply(removed).ok());
  auto letter = FsIntention(bob, 1002, 0,
                            Payload({fsop::Create(inbox, "letter.txt", S_IFREG | 0644)}));
  ASSERT_TRUE(replica.Apply(letter).ok());
  v1::FsChange change;
  ASSERT_TRUE(FsChangeOf(letter, "someone else", &change, &state));
  EXPECT_EQ(NamesOf(change),
            (Names{{inbox, "letter.txt"}, {outer, "inbox"}, {kFsRootId, "outer"}}));
  EXPECT_EQ(InodesOf(change),
            (std::set<uint64_t>{FsDerivedId(letter.hash, 0), inbox, outer, kFsRootId}));

  // A name made in a directory that is where it was: that name alone.
  auto other = FsIntention(bob, 1003, 0,
                           Payload({fsop::Create(kFsRootId, "notes", S_IFDIR | 0755)}));
  ASSERT_TRUE(replica.Apply(other).ok());
  auto note = FsIntention(bob, 1004, 0,
                          Payload({fsop::Create(FsDerivedId(other.hash, 0), "n.txt",
                                                S_IFREG | 0644)}));
  ASSERT_TRUE(replica.Apply(note).ok());
  v1::FsChange plain;
  ASSERT_TRUE(FsChangeOf(note, "someone else", &plain, &state));
  EXPECT_EQ(NamesOf(plain), (Names{{FsDerivedId(other.hash, 0), "n.txt"}}));
}

}  // namespace
}  // namespace lattice::kernel::testing
