// The parsed layouts Fs.Read serves byte ranges from: finding the extents of an offset, and
// the cache's bound and keys.
#include "rpc/fs_layout_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace lattice::kernel {
namespace {

v1::FsVersion MakeVersion(const std::string& id, int extents, uint64_t length) {
  v1::FsVersion version;
  version.set_id(id);
  for (int i = 0; i < extents; ++i) {
    v1::FsExtent* extent = version.add_extents();
    extent->set_length(length);
    if (i % 3 != 2) extent->set_hash(std::string(32, static_cast<char>('a' + i % 26)));
  }
  version.set_size(extents * length);
  return version;
}

TEST(FsVersionLayout, FindsTheExtentOfEveryOffset) {
  FsVersionLayout layout(MakeVersion("v", 10, 100));
  EXPECT_EQ(layout.size(), 1000u);
  EXPECT_EQ(layout.extent_count(), 10u);
  EXPECT_EQ(layout.ExtentAt(0), 0u);
  EXPECT_EQ(layout.ExtentAt(99), 0u);
  EXPECT_EQ(layout.ExtentAt(100), 1u);
  EXPECT_EQ(layout.ExtentAt(999), 9u);
  EXPECT_EQ(layout.ExtentAt(1000), 10u);  // past the end
  EXPECT_EQ(layout.Begin(3), 300u);
  EXPECT_EQ(layout.End(3), 400u);
  EXPECT_EQ(layout.Hash(0), std::string(32, 'a'));
  EXPECT_TRUE(layout.Hash(2).empty());  // a hole
  EXPECT_EQ(layout.Hash(4), std::string(32, 'e'));
}

TEST(FsLayoutCache, KeysByStoreInodeAndVersionAndStaysWithinItsBound) {
  v1::FsVersion version = MakeVersion("v1", 1000, 64 * 1024);
  size_t one = FsVersionLayout(version).bytes();
  FsLayoutCache cache(one * 3 + one / 2);
  int store_a = 0;
  int store_b = 0;
  EXPECT_EQ(cache.Find(&store_a, 5, "v1"), nullptr);
  auto added = cache.Add(&store_a, 5, version);
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(cache.Find(&store_a, 5, "v1"), added);
  EXPECT_EQ(cache.Find(&store_b, 5, "v1"), nullptr);  // another store found nothing yet
  EXPECT_EQ(cache.Find(&store_a, 6, "v1"), nullptr);
  // Adding past the bound drops the least recently used.
  for (int ino = 10; ino < 13; ++ino) {
    cache.Find(&store_a, 5, "v1");
    cache.Add(&store_a, ino, version);
  }
  EXPECT_LE(cache.bytes(), one * 3 + one / 2);
  EXPECT_NE(cache.Find(&store_a, 5, "v1"), nullptr);
  EXPECT_EQ(cache.Find(&store_a, 10, "v1"), nullptr);
  EXPECT_NE(cache.Find(&store_a, 12, "v1"), nullptr);
}

}  // namespace
}  // namespace lattice::kernel
