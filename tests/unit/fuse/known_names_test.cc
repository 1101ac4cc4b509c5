// The names of the directories lattice-fuse made (src/known_names.h): a new name there is
// answered absent while trusted, verified by the directory's times once the trust lapsed,
// and forgotten at any change made elsewhere.
#include "src/known_names.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace lattice::fuse {
namespace {

using Answer = KnownNames::Answer;
using Clock = KnownNames::Clock;

v1::FsStat Made(uint64_t ino, uint32_t mode, int64_t sec) {
  v1::FsStat stat;
  stat.set_ino(ino);
  stat.mutable_attr()->set_mode(mode);
  v1::FsAttr* attr = stat.mutable_attr();
  for (v1::FsTime* t : {attr->mutable_mtime(), attr->mutable_ctime()}) {
    t->set_sec(sec);
    t->set_nsec(5);
  }
  return stat;
}

KnownNames::Listed Listed(const std::string& name, uint64_t ino, uint64_t offset,
                          uint32_t type = S_IFREG) {
  return {name, {ino, type, offset}};
}

// name:ino@offset of each name ListAfter gives, in order; "unlisted" when it declines.
std::string ListedAfter(KnownNames& names, uint64_t dir, uint64_t offset, size_t max = 100) {
  std::vector<KnownNames::Listed> out;
  if (!names.ListAfter(dir, offset, max, &out)) return "unlisted";
  std::string shown;
  for (const auto& listed : out) {
    shown += listed.name + ":" + std::to_string(listed.entry.ino) + "@" +
             std::to_string(listed.entry.offset) + " ";
  }
  return shown;
}

class KnownNamesTest : public ::testing::Test {
 protected:
  const Clock::time_point t0 = Clock::now();
  KnownNames names{std::chrono::seconds(1)};
};

TEST_F(KnownNamesTest, OnlyDirectoriesMadeHereAreKnownAndOnlyNamesNotMadeThereAreAbsent) {
  EXPECT_EQ(names.Find(1, "a", t0), Answer::kAsk) << "the root was not made here";
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100), t0);
  EXPECT_EQ(names.Find(1, "a", t0), Answer::kAsk);
  EXPECT_EQ(names.Find(10, "a", t0), Answer::kAbsent);
  names.NoteCreated(10, "a", Made(11, S_IFREG | 0644, 101), t0);
  EXPECT_EQ(names.Find(10, "a", t0), Answer::kAsk) << "made here: the kernel answers for it";
  EXPECT_EQ(names.Find(10, "b", t0), Answer::kAbsent);
  EXPECT_EQ(names.Find(10, ".", t0), Answer::kAsk);
  EXPECT_EQ(names.Find(10, "..", t0), Answer::kAsk);
  EXPECT_EQ(names.Find(11, "x", t0), Answer::kAsk) << "a file holds no names";
}

TEST_F(KnownNamesTest, RenamesOfFilesAreFollowedAndStampTheDirectories) {
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100), t0);
  names.NoteCreated(1, "e", Made(20, S_IFDIR | 0755, 100), t0);
  names.NoteCreated(10, ".tmp1", Made(11, S_IFREG | 0644, 101), t0);
  v1::FsTime stamp;
  stamp.set_sec(105);
  stamp.set_nsec(3);
  names.NoteRenamed(10, ".tmp1", 20, "kept", /*exchange=*/false, stamp);
  EXPECT_EQ(names.Find(10, ".tmp1", t0), Answer::kAbsent) << "the old name is gone";
  EXPECT_EQ(names.Find(20, "kept", t0), Answer::kAsk) << "the new name is there";
  // The kernel stamped both directories at the rename: their times verify the trust.
  const Clock::time_point later = t0 + std::chrono::seconds(2);
  v1::FsStat d = Made(10, S_IFDIR | 0755, 105);
  d.mutable_attr()->mutable_mtime()->set_nsec(3);
  d.mutable_attr()->mutable_ctime()->set_nsec(3);
  EXPECT_TRUE(names.Verify(d, later));
  v1::FsStat e = d;
  e.set_ino(20);
  EXPECT_TRUE(names.Verify(e, later));
  EXPECT_EQ(names.Find(10, "other", later), Answer::kAbsent);

  // An exchange leaves both names where they were.
  names.NoteCreated(20, "swap", Made(12, S_IFREG | 0644, 106), t0);
  stamp.set_sec(107);
  names.NoteRenamed(20, "swap", 20, "kept", /*exchange=*/true, stamp);
  EXPECT_EQ(names.Find(20, "swap", later), Answer::kAsk);
  EXPECT_EQ(names.Find(20, "kept", later), Answer::kAsk);
}

TEST_F(KnownNamesTest, AttributesSetHereKeepTheNamesAndTakeTheTimesTheKernelAnswered) {
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100), t0);
  names.NoteCreated(10, "a", Made(11, S_IFREG | 0644, 101), t0);
  v1::FsStat touched = Made(10, S_IFDIR | 0700, 50);  // utimes moved the mtime back
  touched.mutable_attr()->mutable_ctime()->set_sec(102);
  names.NoteAttrsSet(touched);
  EXPECT_EQ(names.Find(10, "b", t0), Answer::kAbsent);
  EXPECT_EQ(names.Find(10, "a", t0), Answer::kAsk);
  const Clock::time_point later = t0 + std::chrono::seconds(2);
  EXPECT_TRUE(names.Verify(touched, later));
  names.NoteAttrsSet(Made(99, S_IFDIR | 0755, 100));  // not made here: nothing known
  EXPECT_EQ(names.Find(99, "b", later), Answer::kAsk);
}

TEST_F(KnownNamesTest, ALapsedTrustIsRenewedOnlyByTheTimesOfTheLastChangeMadeHere) {
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100), t0);
  names.NoteCreated(10, "a", Made(11, S_IFREG | 0644, 103), t0);
  names.NoteCreated(10, "b", Made(12, S_IFREG | 0644, 102), t0);  // answered out of order
  const Clock::time_point later = t0 + std::chrono::seconds(2);
  EXPECT_EQ(names.Find(10, "c", later), Answer::kVerify);
  EXPECT_TRUE(names.Verify(Made(10, S_IFDIR | 0755, 103), later));
  EXPECT_EQ(names.Find(10, "c", later), Answer::kAbsent);

  // Another client of this node made a name: the directory's times moved on.
  const Clock::time_point much_later = t0 + std::chrono::seconds(4);
  EXPECT_EQ(names.Find(10, "c", much_later), Answer::kVerify);
  EXPECT_FALSE(names.Verify(Made(10, S_IFDIR | 0755, 104), much_later));
  EXPECT_EQ(names.Find(10, "c", much_later), Answer::kAsk);
}

TEST_F(KnownNamesTest, ChangesMadeOtherwiseForgetTheDirectory) {
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100), t0);
  names.NoteCreated(1, "e", Made(20, S_IFDIR | 0755, 100), t0);
  names.Forget(10);
  EXPECT_EQ(names.Find(10, "a", t0), Answer::kAsk);
  EXPECT_EQ(names.Find(20, "a", t0), Answer::kAbsent);
  EXPECT_FALSE(names.Verify(Made(10, S_IFDIR | 0755, 100), t0));
  names.ForgetAll();
  EXPECT_EQ(names.Find(20, "a", t0), Answer::kAsk);
}

TEST_F(KnownNamesTest, ANamePresentIsGivenWithItsInodeOnlyWhileTrustedAndKnown) {
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100), t0);
  names.NoteCreated(10, "a", Made(11, S_IFREG | 0644, 101), t0);
  auto present = names.Present(10, "a", t0);
  ASSERT_TRUE(present.has_value());
  EXPECT_EQ(present->ino, 11u);
  EXPECT_EQ(present->type, static_cast<uint32_t>(S_IFREG));
  EXPECT_FALSE(names.Present(10, "b", t0).has_value()) << "absent";
  EXPECT_FALSE(names.Present(1, "d", t0).has_value()) << "the root was not made here";
  EXPECT_FALSE(names.Present(10, "a", t0 + std::chrono::seconds(2)).has_value())
      << "the trust lapsed: the kernel is asked";
  const std::string conflict = "a.sync-conflict-20261206-050000-n1";
  names.NoteRenamed(10, "a", 10, conflict, false, Made(10, 0, 102).attr().mtime());
  EXPECT_FALSE(names.Present(10, conflict, t0).has_value())
      << "a conflict copy's name is always asked";
  names.Forget(10);
  EXPECT_FALSE(names.Present(10, "a", t0).has_value());
}

TEST(KnownNames, NoTrustKnowsNothing) {
  KnownNames names{Clock::duration::zero()};
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100));
  EXPECT_EQ(names.Find(10, "a"), Answer::kAsk);
}

TEST_F(KnownNamesTest, ADirectoryListedWholeKnowsItsNamesUnlessForgottenMeanwhile) {
  const v1::FsStat dir = Made(20, S_IFDIR | 0755, 200);
  uint64_t forgets = names.forgets();
  names.NoteListed(dir, {Listed("a", 21, 42), Listed("b", 22, 44)}, forgets, t0);
  EXPECT_EQ(names.Find(20, "a", t0), Answer::kAsk) << "listed: the kernel answers for it";
  EXPECT_EQ(names.Find(20, "c", t0), Answer::kAbsent) << "not listed: absent";
  EXPECT_EQ(names.Find(20, "c.sync-conflict-20261205-120000-n1", t0), Answer::kAsk)
      << "a conflict copy's name is always asked";
  EXPECT_EQ(names.Find(20, "c", t0 + std::chrono::seconds(2)), Answer::kVerify);
  EXPECT_TRUE(names.Verify(dir, t0 + std::chrono::seconds(2))) << "the same times: still known";
  // A listing during which anything was forgotten (a change heard meanwhile may postdate
  // the state it was read from) is not kept.
  const v1::FsStat other = Made(30, S_IFDIR | 0755, 300);
  forgets = names.forgets();
  names.Forget(99);
  names.NoteListed(other, {Listed("x", 31, 62)}, forgets, t0);
  EXPECT_EQ(names.Find(30, "y", t0), Answer::kAsk);
  names.NoteListed(other, {Listed("x", 31, 62)}, names.forgets(), t0);
  EXPECT_EQ(names.Find(30, "y", t0), Answer::kAbsent);
  names.ForgetAll();
  EXPECT_EQ(names.Find(30, "y", t0), Answer::kAsk);
}

TEST_F(KnownNamesTest, AKnownDirectoryIsListedInTheKernelsOrderWhileEveryEntryIsKnown) {
  names.NoteCreated(1, "d", Made(10, S_IFDIR | 0755, 100), t0);
  EXPECT_EQ(ListedAfter(names, 10, 0), "") << "made here: empty";
  EXPECT_EQ(ListedAfter(names, 1, 0), "unlisted") << "the root was not made here";
  names.NoteCreated(10, "b", Made(30, S_IFREG | 0644, 101), t0);
  names.NoteCreated(10, "a", Made(20, S_IFREG | 0644, 101), t0);
  names.NoteCreated(10, "sub", Made(25, S_IFDIR | 0755, 101), t0);
  // By entry id, which a created entry shares with its inode: offset 2 * id.
  EXPECT_EQ(ListedAfter(names, 10, 0), "a:20@40 sub:25@50 b:30@60 ");
  EXPECT_EQ(ListedAfter(names, 10, 50), "b:30@60 ") << "resumed after an offset";
  EXPECT_EQ(ListedAfter(names, 10, 0, 2), "unlisted") << "more names than asked for";

  v1::FsTime stamp;
  stamp.set_sec(102);
  // A rename moves the entry: it keeps its offset under its new name, replacing the old.
  names.NoteRenamed(10, "a", 10, "b", /*exchange=*/false, stamp);
  EXPECT_EQ(ListedAfter(names, 10, 0), "b:20@40 sub:25@50 ");
  names.NoteCreated(10, "c", Made(40, S_IFREG | 0644, 103), t0);
  names.NoteRenamed(10, "b", 10, "c", /*exchange=*/true, stamp);
  EXPECT_EQ(ListedAfter(names, 10, 0), "c:20@40 sub:25@50 b:40@80 ");
  // Moved into another known directory, and out of it.
  names.NoteRenamed(10, "c", 25, "moved", /*exchange=*/false, stamp);
  EXPECT_EQ(ListedAfter(names, 25, 0), "moved:20@40 ");
  EXPECT_EQ(ListedAfter(names, 10, 0), "sub:25@50 b:40@80 ");
  // Moved in from a directory not known: its entry is not known here, nor the listing.
  names.NoteRenamed(99, "x", 10, "in", /*exchange=*/false, stamp);
  EXPECT_EQ(names.Find(10, "in", t0), Answer::kAsk) << "the name is still known taken";
  EXPECT_EQ(ListedAfter(names, 10, 0), "unlisted");

  // A listing read whole carries the kernel's offsets, conflict copies' odd ones included.
  const v1::FsStat listed = Made(50, S_IFDIR | 0755, 200);
  names.NoteListed(listed,
                   {Listed("z", 7, 34), Listed("z.sync-conflict-20261205-120000-n1", 8, 35),
                    Listed("y", 6, 32, S_IFDIR)},
                   names.forgets(), t0);
  EXPECT_EQ(ListedAfter(names, 50, 0), "y:6@32 z:7@34 z.sync-conflict-20261205-120000-n1:8@35 ");
  names.Forget(50);
  EXPECT_EQ(ListedAfter(names, 50, 0), "unlisted") << "forgotten at a change heard";
}

}  // namespace
}  // namespace lattice::fuse
