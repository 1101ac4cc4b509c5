// The inodes of the names lattice-fuse answered, which its queued unlinks name.
#include "src/entry_inodes.h"

#include <gtest/gtest.h>

namespace lattice::fuse {
namespace {

TEST(EntryInodesTest, ANameIsTakenOnceWithTheInodeLastAnswered) {
  EntryInodes names(100);
  names.Note(1, "a", 10, /*dir=*/false);
  names.Note(1, "a", 11, /*dir=*/false);  // looked up again after another client replaced it
  names.Note(2, "a", 20, /*dir=*/false);
  EXPECT_EQ(names.Take(1, "a"), 11u);
  EXPECT_EQ(names.Take(1, "a"), std::nullopt);
  EXPECT_EQ(names.Take(2, "a"), 20u);
  names.Note(3, "b", 30, /*dir=*/false);
  names.Forget(3, "b");
  EXPECT_EQ(names.Take(3, "b"), std::nullopt);
}

TEST(EntryInodesTest, ParentsAndNamesDoNotRunTogether) {
  EntryInodes names(100);
  names.Note(0x100, "x", 1, /*dir=*/false);
  names.Note(0x1, std::string("\0\0\0\0\0\0\0x", 8), 2, /*dir=*/false);
  EXPECT_EQ(names.Take(0x100, "x"), 1u);
  EXPECT_EQ(names.Take(0x1, std::string("\0\0\0\0\0\0\0x", 8)), 2u);
}

TEST(EntryInodesTest, RenamesCarryTheInodeAndForgetTheReplacedOne) {
  EntryInodes names(100);
  names.Note(1, "tmp", 10, /*dir=*/false);
  names.Note(2, "file", 20, /*dir=*/false);
  names.NoteRenamed(1, "tmp", 2, "file", /*exchange=*/false);
  EXPECT_EQ(names.Take(1, "tmp"), std::nullopt);
  EXPECT_EQ(names.Take(2, "file"), 10u);
  // A rename from a name not held here leaves the target unknown, not its old inode.
  names.Note(2, "kept", 30, /*dir=*/false);
  names.NoteRenamed(1, "unknown", 2, "kept", /*exchange=*/false);
  EXPECT_EQ(names.Take(2, "kept"), std::nullopt);
  // An exchange swaps them.
  names.Note(1, "a", 40, /*dir=*/false);
  names.Note(1, "b", 50, /*dir=*/false);
  names.NoteRenamed(1, "a", 1, "b", /*exchange=*/true);
  EXPECT_EQ(names.Take(1, "a"), 50u);
  EXPECT_EQ(names.Take(1, "b"), 40u);
  // A rename onto itself changes nothing.
  names.Note(1, "same", 60, /*dir=*/false);
  names.NoteRenamed(1, "same", 1, "same", /*exchange=*/false);
  EXPECT_EQ(names.Take(1, "same"), 60u);
}

TEST(EntryInodesTest, AFileAtANameIsFoundWithoutForgettingItAndNoDirectoryIs) {
  EntryInodes names(100);
  names.Note(1, "file", 10, /*dir=*/false);
  names.Note(1, "dir", 20, /*dir=*/true);
  EXPECT_EQ(names.FileAt(1, "file"), 10u);
  EXPECT_EQ(names.FileAt(1, "file"), 10u) << "finding it keeps it";
  EXPECT_EQ(names.FileAt(1, "dir"), std::nullopt) << "a rename may not replace a directory";
  EXPECT_EQ(names.FileAt(1, "unknown"), std::nullopt);
  EXPECT_EQ(names.Take(1, "dir"), 20u) << "a directory is still held for its unlink";
}

TEST(EntryInodesTest, PastItsBoundItStartsAgainEmpty) {
  EntryInodes names(3);
  names.Note(1, "a", 1, /*dir=*/false);
  names.Note(1, "b", 2, /*dir=*/false);
  names.Note(1, "c", 3, /*dir=*/false);
  EXPECT_EQ(names.size(), 3u);
  names.Note(1, "d", 4, /*dir=*/false);
  EXPECT_EQ(names.size(), 1u);
  EXPECT_EQ(names.Take(1, "a"), std::nullopt);
  EXPECT_EQ(names.Take(1, "d"), 4u);
}

}  // namespace
}  // namespace lattice::fuse
