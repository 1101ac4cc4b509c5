// The removal queue of lattice-fuse (src/removals.h): an unlink is shown as gone at once,
// stays pending until its batch was sent, goes in batches of what waited, and Drain and Stop
// wait for it.
#include "src/removals.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace lattice::fuse {
namespace {

// A kernel that takes batches only once opened, recording them.
class GatedKernel {
 public:
  void Send(const std::vector<Removal>& batch) {
    std::unique_lock lock(mu_);
    started_++;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    batches_.push_back(batch);
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  bool AwaitStarted(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [this, n] { return started_ >= n; });
  }
  std::vector<std::vector<Removal>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = false;
  int started_ = 0;
  std::vector<std::vector<Removal>> batches_;
};

TEST(Removals, ANameIsPendingUntilItsBatchWasSent) {
  GatedKernel kernel;
  Removals removals([&](const std::vector<Removal>& b) { kernel.Send(b); }, 1, 100, 10,
                    std::chrono::milliseconds(0));
  ASSERT_TRUE(removals.Queue(1, "a"));
  EXPECT_TRUE(removals.Pending(1, "a"));
  EXPECT_FALSE(removals.Pending(1, "b"));
  EXPECT_FALSE(removals.Pending(2, "a"));
  ASSERT_TRUE(kernel.AwaitStarted(1));
  EXPECT_TRUE(removals.Pending(1, "a")) << "still pending while the kernel has not answered";
  EXPECT_FALSE(removals.Empty());
  kernel.Open();
  removals.Drain();
  EXPECT_FALSE(removals.Pending(1, "a"));
  EXPECT_TRUE(removals.Empty());
  ASSERT_EQ(kernel.batches().size(), 1u);
  EXPECT_EQ(kernel.batches()[0][0].name, "a");
}

// A kernel answer asked for while a batch was under way may predate it even though nothing is
// pending once the answer is back: Finished moves only once the batch's answer came.
TEST(Removals, FinishedCountsEachRemovalOnceTheKernelAnsweredItsBatch) {
  GatedKernel kernel;
  Removals removals([&](const std::vector<Removal>& b) { kernel.Send(b); }, 1, 100, 10,
                    std::chrono::milliseconds(0));
  EXPECT_EQ(removals.Finished(), 0u);
  ASSERT_TRUE(removals.Queue(1, "a"));
  ASSERT_TRUE(kernel.AwaitStarted(1));
  EXPECT_EQ(removals.Finished(), 0u) << "being sent is not finished";
  const uint64_t before = removals.Finished();
  kernel.Open();
  removals.Drain();
  EXPECT_TRUE(removals.Empty());
  EXPECT_EQ(removals.Finished(), before + 1) << "what a mark taken before shows as changed";
  ASSERT_TRUE(removals.Queue(1, "b"));
  ASSERT_TRUE(removals.Queue(2, "c"));
  removals.Drain();
  EXPECT_EQ(removals.Finished(), 3u);
}

TEST(Removals, WhatWaitedGoesInBatchesOfAtMostTheMaximum) {
  GatedKernel kernel;
  Removals removals([&](const std::vector<Removal>& b) { kernel.Send(b); }, 1, 100, 4,
                    std::chrono::milliseconds(0));
  ASSERT_TRUE(removals.Queue(1, "first"));
  ASSERT_TRUE(kernel.AwaitStarted(1));  // the thread is busy: the rest wait together
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(removals.Queue(1, "n" + std::to_string(i)));
  ASSERT_TRUE(removals.Queue(1, "n0")) << "a name queued twice is queued once";
  kernel.Open();
  removals.Drain();
  auto batches = kernel.batches();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].size(), 1u);
  EXPECT_EQ(batches[1].size(), 4u);
  EXPECT_EQ(batches[2].size(), 2u);
  EXPECT_EQ(batches[1][0].name, "n0") << "in the order queued";
  EXPECT_EQ(batches[2][1].name, "n5");
}

TEST(Removals, AStoppedQueueSendsWhatWaitedAndRefusesMore) {
  std::mutex mu;
  std::vector<Removal> sent;
  Removals removals(
      [&](const std::vector<Removal>& b) {
        std::lock_guard lock(mu);
        sent.insert(sent.end(), b.begin(), b.end());
      },
      2, 100, 8, std::chrono::milliseconds(10'000));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(removals.Queue(7, "n" + std::to_string(i)));
  removals.Stop();  // does not wait out the linger
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(sent.size(), 5u);
  }
  EXPECT_FALSE(removals.Queue(7, "late"));
  EXPECT_FALSE(removals.Pending(7, "late"));
}

}  // namespace
}  // namespace lattice::fuse
