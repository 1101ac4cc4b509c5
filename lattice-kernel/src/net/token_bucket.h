// A token bucket for a peer's byte budget: refills at `rate` tokens per second up to
// `burst`. Taking more than the balance is allowed and leaves a debt; the caller waits the
// returned time before reading more, so a peer over its budget is slowed, not cut.
#pragma once

#include <chrono>
#include <cstdint>

namespace lattice::kernel::net {

// Not thread-safe: owned by the one reader of a link. Time is passed in, so tests use a
// clock of their own.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` 0 means unlimited. The bucket starts full.
  TokenBucket(uint64_t rate, uint64_t burst, Clock::time_point now);

  // Takes `n` tokens at `now` and returns how long to wait until the balance is no longer
  // negative (zero when it is not).
  Clock::duration Take(uint64_t n, Clock::time_point now);

  double balance() const { return balance_; }

 private:
  void Refill(Clock::time_point now);

  uint64_t rate_;
  double burst_;
  double balance_;
  Clock::time_point last_;
};

}  // namespace lattice::kernel::net
