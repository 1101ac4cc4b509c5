#include "net/token_bucket.h"

#include <algorithm>

namespace lattice::kernel::net {

TokenBucket::TokenBucket(uint64_t rate, uint64_t burst, Clock::time_point now)
    : rate_(rate), burst_(static_cast<double>(burst)), balance_(burst_), last_(now) {}

void TokenBucket::Refill(Clock::time_point now) {
  if (now <= last_) return;
  double seconds = std::chrono::duration<double>(now - last_).count();
  balance_ = std::min(burst_, balance_ + seconds * static_cast<double>(rate_));
  last_ = now;
}

TokenBucket::Clock::duration TokenBucket::Take(uint64_t n, Clock::time_point now) {
  if (rate_ == 0) return Clock::duration::zero();
  Refill(now);
  balance_ -= static_cast<double>(n);
  if (balance_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-balance_ / static_cast<double>(rate_)));
}

}  // namespace lattice::kernel::net
