#include "src/kept_content.h"

#include <gtest/gtest.h>

namespace lattice::fuse {
namespace {

TEST(KeptContent, AnswersOnlyTheVersionKeptAndOneVersionAnInode) {
  KeptContent kept(1000, 100);
  kept.Put(1, "v1", "first");
  ASSERT_NE(kept.Find(1, "v1"), nullptr);
  EXPECT_EQ(*kept.Find(1, "v1"), "first");
  EXPECT_EQ(kept.Find(1, "v2"), nullptr) << "another version asks the kernel";
  EXPECT_EQ(kept.Find(2, "v1"), nullptr);
  kept.Put(1, "v2", "second");
  EXPECT_EQ(kept.Find(1, "v1"), nullptr) << "the older version of the inode went";
  EXPECT_EQ(*kept.Find(1, "v2"), "second");
  EXPECT_EQ(kept.bytes(), 6u);
  kept.Forget(1);
  EXPECT_EQ(kept.Find(1, "v2"), nullptr);
  EXPECT_EQ(kept.bytes(), 0u);
}

TEST(KeptContent, StaysWithinItsBytesDroppingTheLeastRecentlyRead) {
  KeptContent kept(100, 60);
  kept.Put(1, "a", std::string(40, 'a'));
  kept.Put(2, "b", std::string(40, 'b'));
  ASSERT_NE(kept.Find(1, "a"), nullptr);  // 2 is now the least recently used
  kept.Put(3, "c", std::string(40, 'c'));
  EXPECT_EQ(kept.Find(2, "b"), nullptr);
  EXPECT_NE(kept.Find(1, "a"), nullptr);
  EXPECT_NE(kept.Find(3, "c"), nullptr);
  EXPECT_LE(kept.bytes(), 100u);
  kept.Put(4, "d", std::string(61, 'd'));
  EXPECT_EQ(kept.Find(4, "d"), nullptr) << "a file over the per-file bound is not kept";
  kept.Put(5, "", "x");
  EXPECT_EQ(kept.Find(5, ""), nullptr) << "content without a version is not kept";
  // What a reader holds outlives its dropping.
  auto held = kept.Find(1, "a");
  kept.Forget(1);
  EXPECT_EQ(*held, std::string(40, 'a'));
}

}  // namespace
}  // namespace lattice::fuse
