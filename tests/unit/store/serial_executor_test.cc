#include "store/serial_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
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

TEST(SerialExecutorTest, PostReturnsWhileEarlierWorkStillRunsAndTheWorkRunsLater) {
  std::promise<void> first_started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> second_ran;
  std::atomic<int> ran{0};
  SerialExecutor executor;
  executor.Post([&] {
    first_started.set_value();
    released.wait_for(std::chrono::seconds(30));  // bounded, so a failing test still ends
    ++ran;
  });
  ASSERT_EQ(first_started.get_future().wait_for(std::chrono::seconds(30)),
            std::future_status::ready)
      << "posted work never started";
  executor.Post([&] {
    ++ran;
    second_ran.set_value();
  });
  // The second post returned although the first piece of work is still blocked.
  EXPECT_EQ(ran.load(), 0);
  release.set_value();
  // Both ran, in order, without the executor being destroyed first.
  ASSERT_EQ(second_ran.get_future().wait_for(std::chrono::seconds(30)),
            std::future_status::ready)
      << "work posted behind blocked work never ran";
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace lattice::kernel
