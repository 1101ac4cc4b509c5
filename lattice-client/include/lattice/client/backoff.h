// Exponential backoff with jitter for reconnecting to the kernel: the delay doubles from
// `initial` up to `max`, and each returned delay is drawn from [base*(1-jitter), base] so
// many clients restarted together do not reconnect in lockstep.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace lattice::client {

struct BackoffPolicy {
  std::chrono::milliseconds initial{50};
  std::chrono::milliseconds max{2000};
  double multiplier = 2.0;
  // Fraction of the base delay that may be taken off at random; 0 disables jitter.
  double jitter = 0.2;
};

// Not thread-safe: one Backoff belongs to one reconnect loop.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}, uint64_t seed = std::random_device{}());

  // The delay to wait before the next attempt; grows until it reaches policy.max.
  std::chrono::milliseconds Next();

  // Back to policy.initial, after a connection proved healthy.
  void Reset();

  // The undelayed base the next call to Next() will draw from.
  std::chrono::milliseconds current_base() const { return base_; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds base_;
  std::mt19937_64 random_;
};

}  // namespace lattice::client
