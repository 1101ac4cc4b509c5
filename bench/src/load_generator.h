// The one load generator of the benchmarks: N client threads, each with its own connection
// (or handle), each calling its operation back to back for a fixed window. The kernel, the
// gRPC floor and the LevelDB baselines are all driven through it, so their figures differ
// only in what sits behind the operation.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice::bench {

struct LoadOptions {
  int clients = 1;
  // Calls in the warm-up are made but not counted (connections, caches, thread start-up).
  std::chrono::milliseconds warmup{300};
  std::chrono::milliseconds duration{3000};
  // Called on the coordinating thread as the measured window opens and closes (e.g. to read
  // a server's CPU time). Either may be empty.
  std::function<void()> at_window_start;
  std::function<void()> at_window_end;
  // Calls in the window that take longer than this are listed (LoadResult::slow_calls), with
  // when they started, to line them up with a server's log; 0: none are.
  std::chrono::microseconds slow_call{0};
};

// A call slower than LoadOptions::slow_call.
struct SlowCall {
  std::chrono::system_clock::time_point started;
  double us = 0;
};

// One call of one client. Returns its status; a failed call is counted, not retried.
using Operation = std::function<absl::Status()>;
// Builds client `index`'s operation (and its connection), on that client's own thread,
// before the clock starts.
using OperationFactory = std::function<absl::StatusOr<Operation>(int index)>;

struct LoadResult {
  uint64_t ops = 0;           // calls that completed inside the measured window
  uint64_t errors = 0;        // failed calls inside the window
  std::string first_error;
  double seconds = 0;         // length of the measured window
  std::vector<double> latencies_us;  // of every counted call, unsorted
  std::vector<SlowCall> slow_calls;  // in the order they ended, per client

  double rate() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  // Nearest-rank percentile of the latencies (p in [0, 100]); 0 when there are none.
  double PercentileUs(double p) const;
};

// Runs `options.clients` threads against `factory`'s operations. Fails when any client
// cannot be built; calls that fail inside the window only show in `errors`.
absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const OperationFactory& factory);

// Nearest-rank percentile of `values` (sorted in place).
double Percentile(std::vector<double>& values, double p);

}  // namespace lattice::bench
