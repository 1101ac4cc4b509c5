// IndexCompactionSchedule: a compaction of the sync index's table is due after `every`
// leaf records written, or a quarter of the items held when that is more, and never with
// 0; once writes stop, what was written since the last is worth one from a quarter of
// `every` or a 64th of the index; a batch's IndexUpdate counts the leaf records it writes.
#include "sync/index_compaction.h"

#include <gtest/gtest.h>

#include "sync/resident_trie.h"

namespace lattice::kernel::sync {
namespace {

TEST(IndexCompactionSchedule, DueAfterEveryOrAQuarterOfTheIndexWhicheverIsMore) {
  IndexCompactionSchedule schedule(100);
  EXPECT_FALSE(schedule.Add(60, 60));
  EXPECT_TRUE(schedule.Add(40, 100));
  EXPECT_TRUE(schedule.Add(0 + 1, 101));  // not started: still due
  schedule.Started();
  // An index of 1,000 items that grows: due once the adds reach a quarter of what it holds.
  EXPECT_FALSE(schedule.Add(300, 1'300));
  EXPECT_FALSE(schedule.Add(32, 1'332));
  EXPECT_TRUE(schedule.Add(1, 1'333));
  schedule.Started();
  EXPECT_FALSE(schedule.Add(0, 1'333));  // a commit that added nothing is never the trigger
}

TEST(IndexCompactionSchedule, DueWhenQuietFromAQuarterOfEveryOrA64thOfTheIndex) {
  IndexCompactionSchedule schedule(100);
  EXPECT_FALSE(schedule.DueWhenQuiet(0));  // nothing written
  EXPECT_FALSE(schedule.Add(24, 24));
  EXPECT_FALSE(schedule.DueWhenQuiet(24));
  EXPECT_FALSE(schedule.Add(1, 25));
  EXPECT_TRUE(schedule.DueWhenQuiet(25));
  schedule.Started();
  EXPECT_FALSE(schedule.DueWhenQuiet(25));
  // An index of 6,400 items: a 64th of it, 100 records, is more than a quarter of `every`.
  EXPECT_FALSE(schedule.Add(99, 6'400));
  EXPECT_FALSE(schedule.DueWhenQuiet(6'400));
  EXPECT_FALSE(schedule.Add(1, 6'400));  // not due while writing: a quarter is 1,600
  EXPECT_TRUE(schedule.DueWhenQuiet(6'400));
}

TEST(IndexCompactionSchedule, AnUpdateCountsTheLeafRecordsOfItsTableOnly) {
  IndexUpdate update(RangeIndexOptions{"n"}, /*items_added=*/3);
  update.Record("nl-leaf-1", "items");
  update.Record("nl-leaf-2", "items");
  update.Record("na-bucket", "record");
  update.Record("xl-other-table", "items");
  update.Record("n", "");
  EXPECT_EQ(update.leaves_written(), 2u);
  EXPECT_EQ(update.items_added(), 3u);
}

TEST(IndexCompactionSchedule, ZeroIsNever) {
  IndexCompactionSchedule schedule(0);
  EXPECT_FALSE(schedule.Add(uint64_t{1} << 40, 1));
  EXPECT_FALSE(schedule.DueWhenQuiet(1));
}

TEST(IndexCompactionSchedule, TheTableRangeEndsAtThePrefixSuccessor) {
  EXPECT_EQ(IndexTableRange("n"), std::make_pair(std::string("n"), std::string("o")));
  EXPECT_EQ(IndexTableRange(std::string("a\xff", 2)),
            std::make_pair(std::string("a\xff", 2), std::string("b")));
  EXPECT_EQ(IndexTableRange(std::string("\xff", 1)).second, "");
}

}  // namespace
}  // namespace lattice::kernel::sync
