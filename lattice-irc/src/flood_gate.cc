// The token bucket of flood_gate.h.
#include "flood_gate.h"

#include <algorithm>
#include <cmath>

namespace lattice::irc {

FloodGate::FloodGate(double burst, double per_second, int64_t now_ms)
    : burst_(std::max(1.0, burst)),
      per_ms_(std::max(1e-6, per_second) / 1000.0),
      tokens_(burst_),
      last_ms_(now_ms) {}

void FloodGate::Refill(int64_t now_ms) {
  if (now_ms <= last_ms_) return;
  tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * per_ms_);
  last_ms_ = now_ms;
}

bool FloodGate::TryTake(int64_t now_ms) {
  Refill(now_ms);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

int64_t FloodGate::MsUntilToken(int64_t now_ms) {
  Refill(now_ms);
  if (tokens_ >= 1.0) return 0;
  return static_cast<int64_t>(std::ceil((1.0 - tokens_) / per_ms_));
}

}  // namespace lattice::irc
