// Which tagged call wrote which fs payload (rpc/fs_writer_tags.h), for the watches that skip
// their own caller's changes.
#include "rpc/fs_writer_tags.h"

#include <gtest/gtest.h>

#include <string>

namespace lattice::kernel {
namespace {

TEST(FsWriterTags, APayloadIsFoundUnderTheTagThatBuiltIt) {
  FsWriterTags tags;
  tags.Note("payload one", 7);
  tags.Note("payload two", 9);
  tags.Note("untagged", 0);
  EXPECT_EQ(tags.Find("payload one"), 7u);
  EXPECT_EQ(tags.Find("payload two"), 9u);
  EXPECT_EQ(tags.Find("untagged"), 0u);
  EXPECT_EQ(tags.Find("never built"), 0u);
  EXPECT_EQ(tags.Find(std::string("payload one\0", 12)), 0u) << "the whole payload counts";
}

TEST(FsWriterTags, OnlyTheLastPayloadsAreKept) {
  FsWriterTags tags;
  for (size_t i = 0; i < FsWriterTags::kKept + 10; ++i) tags.Note("p" + std::to_string(i), 5);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(tags.Find("p" + std::to_string(i)), 0u) << i;
  EXPECT_EQ(tags.Find("p10"), 5u);
  EXPECT_EQ(tags.Find("p" + std::to_string(FsWriterTags::kKept + 9)), 5u);
  // Built again by another call: the latest tag answers, and the payload is kept once.
  tags.Note("p10", 6);
  EXPECT_EQ(tags.Find("p10"), 6u);
}

}  // namespace
}  // namespace lattice::kernel
