#include "dag/hlc.h"

#include <chrono>
#include <limits>

namespace lattice::kernel {

HybridClock::HybridClock(WallClock wall) : wall_(std::move(wall)) {}

uint64_t HybridClock::SystemWallMs() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

HlcStamp HybridClock::Now() {
  uint64_t now = wall_();
  std::lock_guard lock(mutex_);
  if (now > last_.wall_ms) {
    last_ = {now, 0};
  } else if (last_.counter == std::numeric_limits<uint32_t>::max()) {
    last_ = {last_.wall_ms + 1, 0};
  } else {
    ++last_.counter;
  }
  return last_;
}

void HybridClock::Observe(const HlcStamp& remote) {
  std::lock_guard lock(mutex_);
  if (remote > last_) last_ = remote;
}

}  // namespace lattice::kernel
