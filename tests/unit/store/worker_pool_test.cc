#include "store/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace lattice::kernel {
namespace {

using namespace std::chrono_literals;

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(WorkerPoolTest, RunsEverythingPostedOffThePostingThreadBeforeItIsDestroyed) {
  std::atomic<int> ran{0};
  std::atomic<bool> on_caller{false};
  const auto caller = std::this_thread::get_id();
  {
    WorkerPool pool(2);
    for (int i = 0; i < 200; ++i) {
      pool.Post([&] {
        if (std::this_thread::get_id() == caller) on_caller = true;
        ++ran;
      });
    }
  }
  EXPECT_EQ(ran.load(), 200);
  EXPECT_FALSE(on_caller.load());
}

TEST(WorkerPoolTest, WorkRunsBesideBlockedWorkUpToThePoolsSize) {
  WorkerPool pool(2);
  std::atomic<bool> release{false};
  std::atomic<int> running{0};
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  auto blocked = [&] {
    {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    ++running;
    WaitFor([&] { return release.load(); }, 30s);
    --running;
    ++ran;
  };
  pool.Post(blocked);
  pool.Post(blocked);
  // Both run at once, each on a thread of its own; a third waits for one of them.
  ASSERT_TRUE(WaitFor([&] { return running.load() == 2; }, 10s));
  pool.Post([&] { ++ran; });
  EXPECT_EQ(ran.load(), 0);
  release = true;
  EXPECT_TRUE(WaitFor([&] { return ran.load() == 3; }, 10s));
  std::lock_guard lock(mu);
  EXPECT_EQ(threads.size(), 2u);
}

}  // namespace
}  // namespace lattice::kernel
