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

ClientInput::ClientInput(Options options, int64_t now_ms)
    : options_(options), gate_(options.burst, options.per_second, now_ms) {}

ClientInput::Step ClientInput::Next(int64_t now_ms) {
  Step step;
  if (held_) return step;
  if (!waiting_) {
    std::string line;
    LineReader::Next next = reader_.Pop(&line);
    if (next == LineReader::Next::kNone) return step;
    waiting_.emplace(next, std::move(line));
  }
  if (!gate_.TryTake(now_ms)) {
    step.kind = Step::Kind::kWait;
    step.wait_ms = std::max<int64_t>(1, gate_.MsUntilToken(now_ms));
    return step;
  }
  step.kind = waiting_->first == LineReader::Next::kTooLong ? Step::Kind::kTooLong
                                                            : Step::Kind::kLine;
  step.line = std::move(waiting_->second);
  waiting_.reset();
  return step;
}

}  // namespace lattice::irc
