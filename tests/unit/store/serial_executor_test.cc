#include "store/serial_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace lattice::kernel {
namespace {

TEST(SerialExecutorTest, RunsWorkInPostedOrderOnAThreadOfItsOwn) {
  std::vector<int> order;
  std::thread::id ran_on;
  std::atomic<bool> finished{false};
  {
    SerialExecutor executor;
    for (int i = 0; i < 100; ++i) {
      executor.Post([&order, &ran_on, i] {
        if (i == 0) ran_on = std::this_thread::get_id();
        order.push_back(i);
      });
    }
    executor.Post([&finished] { finished = true; });
  }
  // The destructor ran everything posted before it.
  EXPECT_TRUE(finished.load());
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(SerialExecutorTest, PostReturnsWhileEarlierWorkStillRuns) {
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  SerialExecutor executor;
  executor.Post([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!release.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    ++ran;
  });
  executor.Post([&] { ++ran; });
  // Both posts returned although the first piece of work is still blocked.
  EXPECT_EQ(ran.load(), 0);
  release = true;
}

}  // namespace
}  // namespace lattice::kernel
