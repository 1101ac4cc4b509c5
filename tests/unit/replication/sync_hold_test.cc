// When a due reconciliation waits for a store's gossip pushes (replication/sync_hold.h).
#include "replication/sync_hold.h"

#include <gtest/gtest.h>

namespace lattice::kernel::replication {
namespace {

using namespace std::chrono_literals;
using Clock = SyncHold::Clock;

constexpr auto kSettle = 1000ms;
constexpr auto kMaxHold = 30'000ms;
const std::string kStore = "store-a";

class SyncHoldTest : public ::testing::Test {
 protected:
  SyncHold hold_{kSettle};
  Clock::time_point t0_ = Clock::now();
};

TEST_F(SyncHoldTest, AStoreWithoutPushesIsNotHeld) {
  EXPECT_FALSE(hold_.Holds(kStore, t0_, t0_, kMaxHold));
  hold_.Pushed("store-b", t0_);
  EXPECT_FALSE(hold_.Holds(kStore, t0_, t0_, kMaxHold));
}

TEST_F(SyncHoldTest, QueuedPushesHoldUntilTheyLeave) {
  hold_.Queued(kStore, 3);
  EXPECT_TRUE(hold_.Holds(kStore, t0_, t0_ + 5s, kMaxHold));
  hold_.Dequeued(kStore, 2, t0_ + 5s);
  EXPECT_TRUE(hold_.Holds(kStore, t0_, t0_ + 7s, kMaxHold)) << "one is still queued";
  hold_.Dequeued(kStore, 1, t0_ + 7s);
  // Sent: still in flight until the settle time has passed.
  EXPECT_TRUE(hold_.Holds(kStore, t0_, t0_ + 7s + kSettle - 1ms, kMaxHold));
  EXPECT_FALSE(hold_.Holds(kStore, t0_, t0_ + 7s + kSettle, kMaxHold));
}

TEST_F(SyncHoldTest, APushSentOrReceivedHoldsForTheSettleTime) {
  hold_.Pushed(kStore, t0_);
  EXPECT_TRUE(hold_.Holds(kStore, t0_, t0_ + kSettle - 1ms, kMaxHold));
  EXPECT_FALSE(hold_.Holds(kStore, t0_, t0_ + kSettle, kMaxHold));
  // A later push starts the wait again; an older one reported late does not shorten it.
  hold_.Pushed(kStore, t0_ + 2s);
  hold_.Pushed(kStore, t0_ + 1s);
  EXPECT_TRUE(hold_.Holds(kStore, t0_, t0_ + 2s + kSettle - 1ms, kMaxHold));
}

TEST_F(SyncHoldTest, PushesThatGoNowhereDoNotHold) {
  hold_.Queued(kStore, 1);
  hold_.Dequeued(kStore, 1, {});
  EXPECT_FALSE(hold_.Holds(kStore, t0_, t0_, kMaxHold));
}

TEST_F(SyncHoldTest, ANeverQuietStoreIsReconciledOnceTheMaximumHoldHasPassed) {
  for (auto t = 0ms; t < kMaxHold + 5s; t += 100ms) hold_.Pushed(kStore, t0_ + t);
  hold_.Queued(kStore, 1);
  auto now = t0_ + kMaxHold + 5s;
  EXPECT_TRUE(hold_.Holds(kStore, now - kMaxHold + 1ms, now, kMaxHold));
  EXPECT_FALSE(hold_.Holds(kStore, now - kMaxHold, now, kMaxHold));
  EXPECT_FALSE(hold_.Holds(kStore, t0_, now, kMaxHold));
}

}  // namespace
}  // namespace lattice::kernel::replication
