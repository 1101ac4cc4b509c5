// Per-client flood control: a token bucket of lines. A line costs one token; the bucket
// holds `burst` tokens and refills at `per_second`. A client out of tokens is not cut off at
// once: its lines wait (the penalty) until the bucket refills, and only when the waiting
// lines exceed limits::kMaxRecvQueueBytes is it disconnected (see tcp_server.cc).
#pragma once

#include <cstdint>

#include "limits.h"

namespace lattice::irc {

// Plain value owned by one connection; not thread-safe. Times are steady milliseconds.
class FloodGate {
 public:
  FloodGate(double burst = limits::kFloodBurstLines,
            double per_second = limits::kFloodLinesPerSecond, int64_t now_ms = 0);

  // Takes one token when there is one.
  bool TryTake(int64_t now_ms);

  // Milliseconds until a token is available (0 when one is).
  int64_t MsUntilToken(int64_t now_ms);

  double tokens() const { return tokens_; }

 private:
  void Refill(int64_t now_ms);

  double burst_;
  double per_ms_;
  double tokens_;
  int64_t last_ms_;
};

}  // namespace lattice::irc
