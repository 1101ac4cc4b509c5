// The write-back queue of lattice-fuse (src/write_back.h): closed files' commits run on its
// threads, once per wait however often queued, in batches of what waited, and Drain and Stop
// wait for them.
#include "src/write_back.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

namespace lattice::fuse {
namespace {

// Commits that block until released, recording the inodes they ran for.
class GatedCommits {
 public:
  void Commit(const std::vector<uint64_t>& batch) {
    for (uint64_t ino : batch) Commit(ino);
    std::lock_guard lock(mu_);
    batches_.push_back(batch);
  }
  void Commit(uint64_t ino) {
    std::unique_lock lock(mu_);
    started_.push_back(ino);
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    done_.push_back(ino);
    changed_.notify_all();
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  bool AwaitStarted(size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(20),
                             [this, n] { return started_.size() >= n; });
  }
  std::vector<uint64_t> done() {
    std::lock_guard lock(mu_);
    return done_;
  }
  std::vector<std::vector<uint64_t>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = false;
  std::vector<uint64_t> started_;
  std::vector<uint64_t> done_;
  std::vector<std::vector<uint64_t>> batches_;
};

WriteBack::CommitFn Into(GatedCommits& commits) {
  return [&commits](const std::vector<uint64_t>& batch) { commits.Commit(batch); };
}

TEST(WriteBack, AnInodeQueuedTwiceWhileWaitingIsCommittedOnce) {
  GatedCommits commits;
  WriteBack queue(Into(commits), 1, 16);
  ASSERT_TRUE(queue.Queue(1));
  ASSERT_TRUE(commits.AwaitStarted(1));  // the only thread is busy with inode 1
  ASSERT_TRUE(queue.Queue(2));
  ASSERT_TRUE(queue.Queue(2));
  EXPECT_TRUE(queue.Pending(2));
  commits.Open();
  queue.Drain();
  EXPECT_EQ(commits.done(), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(queue.Pending(2));
  EXPECT_TRUE(queue.Idle());
}

TEST(WriteBack, DrainReturnsOnlyOnceEveryEarlierCommitRan) {
  GatedCommits commits;
  WriteBack queue(Into(commits), 2, 16);
  for (uint64_t ino = 1; ino <= 5; ++ino) ASSERT_TRUE(queue.Queue(ino));
  auto drained = std::async(std::launch::async, [&queue] { queue.Drain(); });
  ASSERT_TRUE(commits.AwaitStarted(2));
  EXPECT_EQ(drained.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  commits.Open();
  drained.get();
  EXPECT_EQ(commits.done().size(), 5u);
}

TEST(WriteBack, WhatWaitsWhileTheThreadsAreBusyIsCommittedInBatches) {
  GatedCommits commits;
  WriteBack queue(Into(commits), 1, 16, 3);
  ASSERT_TRUE(queue.Queue(1));
  ASSERT_TRUE(commits.AwaitStarted(1));  // the only thread is busy with inode 1
  for (uint64_t ino = 2; ino <= 6; ++ino) ASSERT_TRUE(queue.Queue(ino));
  ASSERT_TRUE(queue.Queue(3));  // waiting already: not twice in its batch
  commits.Open();
  queue.Drain();
  EXPECT_EQ(commits.batches(),
            (std::vector<std::vector<uint64_t>>{{1}, {2, 3, 4}, {5, 6}}));
  EXPECT_TRUE(queue.Idle());
}

TEST(WriteBack, ALingeringQueueBatchesWhatArrivesAndDrainCutsTheLingerShort) {
  GatedCommits commits;
  commits.Open();
  // A linger no test would wait out: only Drain (or a full batch) ends it.
  WriteBack queue(Into(commits), 2, 16, 8, std::chrono::hours(1));
  for (uint64_t ino = 1; ino <= 3; ++ino) ASSERT_TRUE(queue.Queue(ino));
  EXPECT_TRUE(queue.Pending(1));
  queue.Drain();
  EXPECT_EQ(commits.batches(), (std::vector<std::vector<uint64_t>>{{1, 2, 3}}));
  // A full batch goes without a Drain.
  for (uint64_t ino = 10; ino < 18; ++ino) ASSERT_TRUE(queue.Queue(ino));
  ASSERT_TRUE(commits.AwaitStarted(11));
  queue.Drain();
  EXPECT_EQ(commits.batches(), (std::vector<std::vector<uint64_t>>{
                                   {1, 2, 3}, {10, 11, 12, 13, 14, 15, 16, 17}}));
}

TEST(WriteBack, QueueWaitsForRoomWhenFull) {
  GatedCommits commits;
  WriteBack queue(Into(commits), 1, 1);
  ASSERT_TRUE(queue.Queue(1));
  ASSERT_TRUE(commits.AwaitStarted(1));
  ASSERT_TRUE(queue.Queue(2));  // waits in the queue: it is full now
  auto third = std::async(std::launch::async, [&queue] { return queue.Queue(3); });
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  commits.Open();
  EXPECT_TRUE(third.get());
  queue.Drain();
  EXPECT_EQ(commits.done(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(WriteBack, StopRunsWhatWasQueuedThenRefuses) {
  std::atomic<int> ran{0};
  auto count = [&ran](const std::vector<uint64_t>& batch) {
    ran += static_cast<int>(batch.size());
  };
  WriteBack queue(count, 2, 64, 8);
  for (uint64_t ino = 1; ino <= 40; ++ino) ASSERT_TRUE(queue.Queue(ino));
  queue.Stop();
  EXPECT_EQ(ran.load(), 40);
  EXPECT_FALSE(queue.Queue(41));
  EXPECT_EQ(ran.load(), 40);
}

}  // namespace
}  // namespace lattice::fuse
