#include "lattice/client/backoff.h"

#include <algorithm>

namespace lattice::client {

Backoff::Backoff(BackoffPolicy policy, uint64_t seed)
    : policy_(policy), base_(policy.initial), random_(seed) {
  if (policy_.initial.count() < 1) policy_.initial = std::chrono::milliseconds(1);
  if (policy_.max < policy_.initial) policy_.max = policy_.initial;
  if (policy_.multiplier < 1.0) policy_.multiplier = 1.0;
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  base_ = policy_.initial;
}

std::chrono::milliseconds Backoff::Next() {
  std::chrono::milliseconds base = base_;
  double grown = static_cast<double>(base_.count()) * policy_.multiplier;
  base_ = std::chrono::milliseconds(static_cast<int64_t>(
      std::min(grown, static_cast<double>(policy_.max.count()))));
  if (policy_.jitter == 0.0) return base;
  std::uniform_real_distribution<double> fraction(1.0 - policy_.jitter, 1.0);
  auto delay = static_cast<int64_t>(static_cast<double>(base.count()) * fraction(random_));
  return std::chrono::milliseconds(std::max<int64_t>(delay, 1));
}

void Backoff::Reset() { base_ = policy_.initial; }

}  // namespace lattice::client
