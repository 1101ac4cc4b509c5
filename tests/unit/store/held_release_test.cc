// Intentions stamped beyond the allowed clock drift are held back (DESIGN §3) and released
// once the store's clock catches up; the store's background thread sleeps without a timer
// while nothing is held, and until the earliest release while something is. The clock here
// is a fake the test moves by hand.
#include <atomic>
#include <chrono>

#include "lattice/common/limits.h"
#include "unit/store/test_store.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;
using Kind = IngestOutcome::Kind;

class HeldReleaseTest : public ::testing::Test {
 protected:
  void Open(uint64_t held_recheck_ms) {
    Store::Options options = StoreOptions(dir_.path() + "/store", store_id_, self_, clock_);
    options.held_recheck_ms = held_recheck_ms;
    auto opened = Store::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }

  // A write of `key` by another node stamped `ahead_ms` beyond what the drift allows.
  DecodedIntention StampedBeyondTheDrift(const std::string& key, uint64_t ahead_ms) {
    return author_.NextKv(key, "v", {}, {}, {now_.load() + limits::kMaxClockDriftMs + ahead_ms, 0});
  }

  std::string Get(const std::string& key) { return KvValue(*store_, key); }

  bool WaitsWithoutATimer() {
    Store::BackgroundWait wait = store_->background_wait();
    return wait.waiting && !wait.until.has_value();
  }

  TempDir dir_;
  std::string store_id_ = NewStoreId();
  KeyPair self_ = GenerateKeyPair();
  ForeignAuthor author_{store_id_};
  std::atomic<uint64_t> now_{1'700'000'000'000};
  HybridClock clock_{[this] { return now_.load(); }};
  std::unique_ptr<Store> store_;
};

TEST_F(HeldReleaseTest, AHeldIntentionIsAppliedOnceTheClockCatchesUp) {
  Open(/*held_recheck_ms=*/5);
  constexpr uint64_t kAheadMs = 10'000;
  ASSERT_EQ(store_->Ingest({StampedBeyondTheDrift("k", kAheadMs).signed_intention})[0].kind,
            Kind::kHeld);
  EXPECT_EQ(Get("k"), "<absent>");
  EXPECT_EQ(store_->floating_count(), 1u);

  // A millisecond short of it: the thread looks at the clock again and again, and holds on.
  now_ += kAheadMs - 1;
  uint64_t woken = store_->background_wait().wakeups;
  ASSERT_TRUE(WaitFor([&] { return store_->background_wait().wakeups >= woken + 3; }, 10s));
  EXPECT_EQ(Get("k"), "<absent>");
  EXPECT_EQ(store_->last_witness(), 0u);

  now_ += 1;
  // The release's counts are published just after its write becomes readable: waited for,
  // and once they are, the write is there.
  ASSERT_TRUE(WaitFor(
      [&] { return store_->last_witness() == 1u && store_->floating_count() == 0u; }, 10s))
      << "never released";
  EXPECT_EQ(Get("k"), "v");
  EXPECT_TRUE(store_->Floating(10).empty());
  // Nothing is held any more: the thread stops looking at the clock.
  EXPECT_TRUE(WaitFor([&] { return WaitsWithoutATimer(); }, 10s));
}

TEST_F(HeldReleaseTest, AHeldIntentionIsReleasedAfterAReopenToo) {
  Open(/*held_recheck_ms=*/5);
  ASSERT_EQ(store_->Ingest({StampedBeyondTheDrift("k", 5'000).signed_intention})[0].kind,
            Kind::kHeld);
  store_.reset();
  Open(/*held_recheck_ms=*/5);
  // The reopened store found it held: it waits for it with a timer.
  ASSERT_TRUE(WaitFor([&] { return store_->background_wait().until.has_value(); }, 10s));
  now_ += 5'000;
  ASSERT_TRUE(WaitFor([&] { return Get("k") == "v"; }, 10s)) << "never released";
}

TEST_F(HeldReleaseTest, TheBackgroundThreadSleepsUntilSomethingIsHeldThenUntilItIsDue) {
  // A recheck longer than the wait below, so the wait is the release time's alone.
  Open(/*held_recheck_ms=*/3 * 3600 * 1000);
  // Nothing held and nothing unsynced: no timer at all (it used to wake every second).
  ASSERT_TRUE(WaitFor([&] { return WaitsWithoutATimer(); }, 10s));

  // Held for an hour by the store's clock: the thread wakes once, for that hour.
  constexpr auto kAhead = 1h;
  ASSERT_EQ(store_->Ingest({StampedBeyondTheDrift("k", kAhead / 1ms).signed_intention})[0].kind,
            Kind::kHeld);
  ASSERT_TRUE(WaitFor([&] { return store_->background_wait().until.has_value(); }, 10s));
  Store::BackgroundWait wait = store_->background_wait();
  EXPECT_TRUE(wait.waiting);
  EXPECT_GT(*wait.until, std::chrono::steady_clock::now() + kAhead / 2)
      << "the thread wakes before the held intention is due";
  EXPECT_EQ(Get("k"), "<absent>");
}

}  // namespace
}  // namespace lattice::kernel::testing
