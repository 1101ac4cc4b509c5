// lattice-fuse's cache of directory attributes (src/dir_attrs.h): answered while fresh, kept
// exact by this daemon's own creates, dropped by any other change and by fetches that raced
// one.
#include "src/dir_attrs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

namespace lattice::fuse {
namespace {

using std::chrono::seconds;

v1::FsStat Dir(uint64_t ino, int64_t mtime) {
  v1::FsStat stat;
  stat.set_ino(ino);
  stat.set_nlink(2);
  stat.mutable_attr()->set_mode(S_IFDIR | 0755);
  stat.mutable_attr()->mutable_mtime()->set_sec(mtime);
  stat.mutable_attr()->mutable_ctime()->set_sec(mtime);
  return stat;
}

v1::FsStat Child(uint64_t ino, uint32_t type, int64_t ctime) {
  v1::FsStat stat;
  stat.set_ino(ino);
  stat.mutable_attr()->set_mode(type | 0644);
  stat.mutable_attr()->mutable_ctime()->set_sec(ctime);
  return stat;
}

TEST(DirAttrCache, AnswersUntilTheTimeoutFromTheFetch) {
  DirAttrCache cache(seconds(1));
  auto now = DirAttrCache::Clock::now();
  cache.Put(Dir(5, 100), cache.generation(), now);
  ASSERT_TRUE(cache.Find(5, now + std::chrono::milliseconds(999)).has_value());
  EXPECT_FALSE(cache.Find(5, now + seconds(1)).has_value());
}

TEST(DirAttrCache, OwnUnlinksStampTheDirectoryWithoutChangingItsLinks) {
  DirAttrCache cache(seconds(60));
  cache.Put(Dir(5, 100), cache.generation());
  v1::FsTime later;
  later.set_sec(130);
  v1::FsTime earlier;
  earlier.set_sec(90);
  cache.NoteRemoved(5, later);
  cache.NoteRemoved(5, earlier);  // a clock that stepped back never moves the times back
  auto shown = cache.Find(5);
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->attr().mtime().sec(), 130);
  EXPECT_EQ(shown->attr().ctime().sec(), 130);
  EXPECT_EQ(shown->nlink(), 2u);
  // A fetch under way when the unlink was noted predates it: it is not kept.
  uint64_t generation = cache.generation();
  cache.NoteRemoved(6, later);
  cache.Put(Dir(6, 100), generation);
  EXPECT_FALSE(cache.Find(6).has_value());
}

TEST(DirAttrCache, OwnRmdirStampsTheParentDropsItsLinkAndForgetsTheDirectory) {
  DirAttrCache cache(seconds(60));
  v1::FsStat parent = Dir(5, 100);
  parent.set_nlink(4);
  cache.Put(parent, cache.generation());
  cache.Put(Dir(7, 100), cache.generation());
  v1::FsTime stamp;
  stamp.set_sec(140);
  stamp.set_nsec(7);
  uint64_t generation = cache.generation();
  cache.NoteDirRemoved(5, 7, stamp);
  auto shown = cache.Find(5);
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->attr().mtime().sec(), 140);
  EXPECT_EQ(shown->attr().mtime().nsec(), 7);
  EXPECT_EQ(shown->attr().ctime().sec(), 140);
  EXPECT_EQ(shown->nlink(), 3u);
  EXPECT_FALSE(cache.Find(7).has_value()) << "the removed directory";
  cache.Put(Dir(8, 100), generation);
  EXPECT_FALSE(cache.Find(8).has_value()) << "a fetch that raced the rmdir";
}

TEST(DirAttrCache, KeepsNoFile) {
  DirAttrCache cache(seconds(1));
  cache.Put(Child(6, S_IFREG, 100), cache.generation());
  EXPECT_FALSE(cache.Find(6).has_value());
}

TEST(DirAttrCache, OwnCreatesStampTheDirectoryAndSubdirectoriesAddALink) {
  DirAttrCache cache(seconds(60));
  cache.Put(Dir(5, 100), cache.generation());
  cache.NoteCreated(5, Child(7, S_IFREG, 120));
  cache.NoteCreated(5, Child(8, S_IFREG, 110));  // answered after a later one
  cache.NoteCreated(5, Child(9, S_IFDIR, 115));
  auto shown = cache.Find(5);
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->attr().mtime().sec(), 120);
  EXPECT_EQ(shown->attr().ctime().sec(), 120);
  EXPECT_EQ(shown->nlink(), 3u);
}

TEST(DirAttrCache, OwnRenamesOfFilesStampBothDirectoriesWithTheKernelsTime) {
  DirAttrCache cache(seconds(60));
  cache.Put(Dir(5, 100), cache.generation());
  cache.Put(Dir(6, 100), cache.generation());
  cache.Put(Dir(7, 100), cache.generation());
  v1::FsTime stamp;
  stamp.set_sec(140);
  stamp.set_nsec(7);
  uint64_t before_rename = cache.generation();
  cache.NoteRenamed(5, 6, stamp);
  for (uint64_t dir : {5, 6}) {
    auto shown = cache.Find(dir);
    ASSERT_TRUE(shown.has_value()) << dir;
    EXPECT_EQ(shown->attr().mtime().sec(), 140);
    EXPECT_EQ(shown->attr().mtime().nsec(), 7);
    EXPECT_EQ(shown->attr().ctime().sec(), 140);
    EXPECT_EQ(shown->nlink(), 2u) << "a file moved: no link changes";
  }
  EXPECT_EQ(cache.Find(7)->attr().mtime().sec(), 100) << "a directory the rename did not touch";
  // A fetch under way when the rename was noted predates it: it is not kept.
  cache.Put(Dir(5, 100), before_rename);
  EXPECT_EQ(cache.Find(5)->attr().mtime().sec(), 140);
}

TEST(DirAttrCache, AFetchThatRacedAChangeIsNotKept) {
  DirAttrCache cache(seconds(60));
  uint64_t before_create = cache.generation();
  cache.NoteCreated(5, Child(7, S_IFREG, 120));
  cache.Put(Dir(5, 100), before_create);
  EXPECT_FALSE(cache.Find(5).has_value());
  uint64_t before_forget = cache.generation();
  cache.Forget(9);
  cache.Put(Dir(5, 100), before_forget);
  EXPECT_FALSE(cache.Find(5).has_value());
}

TEST(DirAttrCache, OtherChangesDropEntries) {
  DirAttrCache cache(seconds(60));
  cache.Put(Dir(5, 100), cache.generation());
  cache.Put(Dir(6, 100), cache.generation());
  cache.Forget(5);
  EXPECT_FALSE(cache.Find(5).has_value());
  EXPECT_TRUE(cache.Find(6).has_value());
  cache.ForgetAll();
  EXPECT_FALSE(cache.Find(6).has_value());
}

}  // namespace
}  // namespace lattice::fuse
