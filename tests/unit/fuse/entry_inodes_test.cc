// The inodes of the names lattice-fuse answered, which its queued unlinks name.
#include "src/entry_inodes.h"

#include <gtest/gtest.h>

namespace lattice::fuse {
namespace {

TEST(EntryInodesTest, ANameIsTakenOnceWithTheInodeLastAnswered) {
  EntryInodes names(100);
  names.Note(1, "a", 10);
  names.Note(1, "a", 11);  // looked up again after another client replaced it
  names.Note(2, "a", 20);
  EXPECT_EQ(names.Take(1, "a"), 11u);
  EXPECT_EQ(names.Take(1, "a"), std::nullopt);
  EXPECT_EQ(names.Take(2, "a"), 20u);
  names.Note(3, "b", 30);
  names.Forget(3, "b");
  EXPECT_EQ(names.Take(3, "b"), std::nullopt);
}

TEST(EntryInodesTest, ParentsAndNamesDoNotRunTogether) {
  EntryInodes names(100);
  names.Note(0x100, "x", 1);
  names.Note(0x1, std::string("\0\0\0\0\0\0\0x", 8), 2);
  EXPECT_EQ(names.Take(0x100, "x"), 1u);
  EXPECT_EQ(names.Take(0x1, std::string("\0\0\0\0\0\0\0x", 8)), 2u);
}

TEST(EntryInodesTest, RenamesCarryTheInodeAndForgetTheReplacedOne) {
  EntryInodes names(100);
  names.Note(1, "tmp", 10);
  names.Note(2, "file", 20);
  names.NoteRenamed(1, "tmp", 2, "file", /*exchange=*/false);
  EXPECT_EQ(names.Take(1, "tmp"), std::nullopt);
  EXPECT_EQ(names.Take(2, "file"), 10u);
  // A rename from a name not held here leaves the target unknown, not its old inode.
  names.Note(2, "kept", 30);
  names.NoteRenamed(1, "unknown", 2, "kept", /*exchange=*/false);
  EXPECT_EQ(names.Take(2, "kept"), std::nullopt);
  // An exchange swaps them.
  names.Note(1, "a", 40);
  names.Note(1, "b", 50);
  names.NoteRenamed(1, "a", 1, "b", /*exchange=*/true);
  EXPECT_EQ(names.Take(1, "a"), 50u);
  EXPECT_EQ(names.Take(1, "b"), 40u);
  // A rename onto itself changes nothing.
  names.Note(1, "same", 60);
  names.NoteRenamed(1, "same", 1, "same", /*exchange=*/false);
  EXPECT_EQ(names.Take(1, "same"), 60u);
}

TEST(EntryInodesTest, PastItsBoundItStartsAgainEmpty) {
  EntryInodes names(3);
  names.Note(1, "a", 1);
  names.Note(1, "b", 2);
  names.Note(1, "c", 3);
  EXPECT_EQ(names.size(), 3u);
  names.Note(1, "d", 4);
  EXPECT_EQ(names.size(), 1u);
  EXPECT_EQ(names.Take(1, "a"), std::nullopt);
  EXPECT_EQ(names.Take(1, "d"), 4u);
}

}  // namespace
}  // namespace lattice::fuse
