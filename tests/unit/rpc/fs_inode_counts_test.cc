#include "rpc/fs_inode_counts.h"

#include <gtest/gtest.h>

namespace lattice::kernel {
namespace {

TEST(FsInodeCounts, CountsAgainOnlyWhenTheStoreWitnessedSomethingSince) {
  FsInodeCounts counts;
  int counted = 0;
  uint64_t files = 10;
  auto count = [&]() -> absl::StatusOr<uint64_t> {
    ++counted;
    return files;
  };
  EXPECT_EQ(*counts.Get("s", 5, count), 10u);
  files = 11;  // what a count would find now; the store witnessed nothing new
  EXPECT_EQ(*counts.Get("s", 5, count), 10u);
  EXPECT_EQ(counted, 1);
  EXPECT_EQ(*counts.Get("s", 6, count), 11u) << "a new intention counts again";
  EXPECT_EQ(counted, 2);
  EXPECT_EQ(*counts.Get("other", 6, count), 11u) << "each store its own count";
  EXPECT_EQ(counted, 3);
  // A call that read an older witness, finishing after a newer count was kept, keeps it.
  files = 9;
  EXPECT_EQ(*counts.Get("s", 4, count), 9u);
  files = 12;
  EXPECT_EQ(*counts.Get("s", 6, count), 11u);
  EXPECT_EQ(counted, 4);
}

TEST(FsInodeCounts, AFailedCountIsToldAndNotKept) {
  FsInodeCounts counts;
  auto broken = []() -> absl::StatusOr<uint64_t> { return absl::DataLossError("bad record"); };
  EXPECT_EQ(counts.Get("s", 1, broken).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(*counts.Get("s", 1, [] { return absl::StatusOr<uint64_t>(3); }), 3u);
}

}  // namespace
}  // namespace lattice::kernel
