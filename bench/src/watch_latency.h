// Put-to-watch-event latency: one client keeps a Kv.Watch stream open on a prefix while
// another puts keys under it one at a time; each sample runs from the start of the Put call
// to the arrival of its event on the stream.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lattice/client.h"

namespace lattice::bench {

struct WatchLatencyResult {
  std::vector<double> latencies_us;  // one per counted put: Put call start to event arrival
  std::vector<double> put_us;        // the same puts' own call durations
  uint64_t lost = 0;                 // puts whose event did not arrive within the timeout
};

// `connect` makes a new client (its own channel); one is used for the watch, one for puts.
absl::StatusOr<WatchLatencyResult> MeasureWatchLatency(
    const std::function<absl::StatusOr<std::unique_ptr<client::Client>>()>& connect,
    const std::string& store, size_t value_bytes, std::chrono::milliseconds warmup,
    std::chrono::milliseconds duration);

}  // namespace lattice::bench
