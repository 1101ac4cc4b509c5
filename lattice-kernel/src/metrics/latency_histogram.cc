#include "metrics/latency_histogram.h"

#include <algorithm>

namespace lattice::kernel::metrics {

void LatencyHistogram::Observe(std::chrono::nanoseconds elapsed) {
  int64_t ns = std::max<int64_t>(0, elapsed.count());
  auto bound = std::lower_bound(kLatencyBoundsNs.begin(), kLatencyBoundsNs.end(), ns);
  buckets_[static_cast<size_t>(bound - kLatencyBoundsNs.begin())].fetch_add(
      1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

HistogramSnapshot LatencyHistogram::Snapshot() const {
  HistogramSnapshot snapshot;
  snapshot.upper_bounds.reserve(kLatencyBoundsNs.size());
  snapshot.cumulative_counts.reserve(kLatencyBoundsNs.size());
  uint64_t running = 0;
  for (size_t i = 0; i < kLatencyBoundsNs.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.upper_bounds.push_back(static_cast<double>(kLatencyBoundsNs[i]) / 1e9);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running + buckets_.back().load(std::memory_order_relaxed);
  snapshot.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return snapshot;
}

}  // namespace lattice::kernel::metrics
