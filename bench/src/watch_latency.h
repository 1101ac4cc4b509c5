// Put-to-watch-event latency: one client keeps a Kv.Watch stream open on a prefix while
// another puts keys under it one at a time; each sample runs from the start of the Put call
// to the arrival of its event on the stream. The two clients may be on one kernel or on two
// kernels of a mesh (then the latency includes replication).
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

using ConnectFn = std::function<absl::StatusOr<std::unique_ptr<client::Client>>()>;

// `connect_writer` and `connect_watcher` each make a new client (its own channel): the puts
// go through the first, the watch through the second. `store` must name the same store on
// both kernels (its id does).
absl::StatusOr<WatchLatencyResult> MeasureWatchLatency(const ConnectFn& connect_writer,
                                                       const ConnectFn& connect_watcher,
                                                       const std::string& store,
                                                       size_t value_bytes,
                                                       std::chrono::milliseconds warmup,
                                                       std::chrono::milliseconds duration);

// Both clients on the one kernel `connect` reaches.
inline absl::StatusOr<WatchLatencyResult> MeasureWatchLatency(
    const ConnectFn& connect, const std::string& store, size_t value_bytes,
    std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  return MeasureWatchLatency(connect, connect, store, value_bytes, warmup, duration);
}

}  // namespace lattice::bench
