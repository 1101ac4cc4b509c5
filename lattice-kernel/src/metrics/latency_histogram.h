// A latency histogram with fixed buckets, recorded into by many threads without a lock:
// what Admin.Metrics reports for every RPC method.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

namespace lattice::kernel::metrics {

// Upper bounds of the buckets, 100 µs to 10 s in steps of about 2.5, in nanoseconds so an
// observation is placed by integer comparison. Fixed: a scraper compares them across nodes
// and across kernel versions.
inline constexpr std::array<int64_t, 16> kLatencyBoundsNs = {
    100'000,     250'000,     500'000,       1'000'000,     2'500'000,     5'000'000,
    10'000'000,  25'000'000,  50'000'000,    100'000'000,   250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

struct HistogramSnapshot {
  std::vector<double> upper_bounds;         // seconds, ascending
  std::vector<uint64_t> cumulative_counts;  // observations <= each bound
  uint64_t count = 0;                       // every observation, the largest bound's too
  double sum_seconds = 0;
};

// Thread-safe. Observe is a few relaxed atomic additions; a Snapshot taken while others
// record may miss an observation in flight, but its buckets and count always agree (the count
// is the buckets' sum), so the cumulative counts never exceed it.
class LatencyHistogram {
 public:
  // A negative duration (a clock that stepped back) counts as zero.
  void Observe(std::chrono::nanoseconds elapsed);
  HistogramSnapshot Snapshot() const;

 private:
  // One per bound, then one for what lies above the largest.
  std::array<std::atomic<uint64_t>, kLatencyBoundsNs.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace lattice::kernel::metrics
