#include "lattice/client/backoff.h"

#include <gtest/gtest.h>

namespace lattice::client {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, WithoutJitterDoublesFromInitialAndStopsAtTheCap) {
  Backoff backoff(BackoffPolicy{milliseconds(50), milliseconds(2000), 2.0, 0.0});
  std::vector<int64_t> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(backoff.Next().count());
  EXPECT_EQ(delays, (std::vector<int64_t>{50, 100, 200, 400, 800, 1600, 2000, 2000, 2000}));
}

TEST(Backoff, JitteredDelaysStayWithinTheirBaseAndNeverExceedTheCap) {
  BackoffPolicy policy;  // 50 ms to 2 s, 20 % jitter
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Backoff backoff(policy, seed);
    for (int i = 0; i < 20; ++i) {
      int64_t base = backoff.current_base().count();
      int64_t delay = backoff.Next().count();
      EXPECT_LE(delay, base);
      EXPECT_GE(delay, base * 8 / 10 - 1);
      EXPECT_LE(delay, 2000);
    }
    EXPECT_EQ(backoff.current_base(), milliseconds(2000));
  }
}

TEST(Backoff, JitterSpreadsClientsThatStartedTogether) {
  BackoffPolicy policy;
  std::set<int64_t> seen;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Backoff backoff(policy, seed);
    for (int i = 0; i < 6; ++i) backoff.Next();
    seen.insert(backoff.Next().count());
  }
  EXPECT_GT(seen.size(), 5u);
}

TEST(Backoff, ResetStartsOverFromInitial) {
  Backoff backoff(BackoffPolicy{milliseconds(50), milliseconds(2000), 2.0, 0.0});
  for (int i = 0; i < 5; ++i) backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(50));
  EXPECT_EQ(backoff.Next(), milliseconds(100));
}

TEST(Backoff, NonsensePolicyIsMadeSafe) {
  Backoff backoff(BackoffPolicy{milliseconds(0), milliseconds(0), 0.5, 7.0});
  for (int i = 0; i < 5; ++i) {
    auto delay = backoff.Next();
    EXPECT_GE(delay.count(), 1);
    EXPECT_LE(delay.count(), 1);
  }
}

}  // namespace
}  // namespace lattice::client
