// The kernel's RPC counters: histogram buckets by Prometheus's `le` rule, consistent
// snapshots under concurrent recording, and the method table behind the interceptor.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "lattice/v1/store_protocol.pb.h"
#include "metrics/latency_histogram.h"
#include "metrics/rpc_metrics.h"

namespace lattice::kernel::metrics {
namespace {

using namespace std::chrono_literals;

TEST(LatencyHistogram, AnObservationOnABoundCountsInThatBucket) {
  LatencyHistogram histogram;
  histogram.Observe(100us);   // exactly the first bound: le="0.0001"
  histogram.Observe(101us);   // the next bucket
  histogram.Observe(3ms);     // le="0.005"
  histogram.Observe(11s);     // beyond every bound: only in the count
  histogram.Observe(-5ms);    // a clock that stepped back: zero
  HistogramSnapshot snapshot = histogram.Snapshot();
  ASSERT_EQ(snapshot.upper_bounds.size(), kLatencyBoundsNs.size());
  ASSERT_EQ(snapshot.cumulative_counts.size(), kLatencyBoundsNs.size());
  EXPECT_DOUBLE_EQ(snapshot.upper_bounds.front(), 0.0001);
  EXPECT_DOUBLE_EQ(snapshot.upper_bounds[1], 0.00025);
  EXPECT_DOUBLE_EQ(snapshot.upper_bounds.back(), 10.0);
  EXPECT_EQ(snapshot.cumulative_counts[0], 2u);  // the zero and the 100 µs
  EXPECT_EQ(snapshot.cumulative_counts[1], 3u);
  EXPECT_EQ(snapshot.cumulative_counts[4], 3u);  // le="0.0025"
  EXPECT_EQ(snapshot.cumulative_counts[5], 4u);  // le="0.005"
  EXPECT_EQ(snapshot.cumulative_counts.back(), 4u);
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_NEAR(snapshot.sum_seconds, 0.0001 + 0.000101 + 0.003 + 11, 1e-9);
}

TEST(LatencyHistogram, EmptyHasEveryBucketAtZero) {
  LatencyHistogram histogram;
  HistogramSnapshot snapshot = histogram.Snapshot();
  EXPECT_EQ(snapshot.count, 0u);
  EXPECT_EQ(snapshot.sum_seconds, 0.0);
  for (uint64_t c : snapshot.cumulative_counts) EXPECT_EQ(c, 0u);
}

TEST(LatencyHistogram, SnapshotsWhileThreadsRecordStayConsistent) {
  LatencyHistogram histogram;
  constexpr int kThreads = 4;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) histogram.Observe(std::chrono::microseconds((i * 37 + t) % 20000));
    });
  }
  for (int round = 0; round < 200; ++round) {
    HistogramSnapshot snapshot = histogram.Snapshot();
    for (size_t i = 1; i < snapshot.cumulative_counts.size(); ++i) {
      ASSERT_LE(snapshot.cumulative_counts[i - 1], snapshot.cumulative_counts[i]);
    }
    ASSERT_LE(snapshot.cumulative_counts.back(), snapshot.count);
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(histogram.Snapshot().count, static_cast<uint64_t>(kThreads) * kEach);
}

TEST(RpcMetrics, KnowsEveryMethodOfItsServicesByTheirGrpcPath) {
  // The services' descriptors are in the generated pool once their file is linked in, as
  // the kernel's server links it.
  ASSERT_NE(v1::PutRequest::descriptor(), nullptr);
  RpcMetrics metrics({"lattice.v1.Kv", "lattice.v1.NoSuchService", "lattice.v1.Admin"});
  MethodMetrics* put = metrics.Find("/lattice.v1.Kv/Put");
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->service, "Kv");
  EXPECT_EQ(put->method, "Put");
  EXPECT_FALSE(put->streaming);
  MethodMetrics* watch = metrics.Find("/lattice.v1.Kv/Watch");
  ASSERT_NE(watch, nullptr);
  EXPECT_TRUE(watch->streaming);
  ASSERT_NE(metrics.Find("/lattice.v1.Admin/Metrics"), nullptr);
  EXPECT_EQ(metrics.Find("/lattice.v1.Chat/Post"), nullptr);
  EXPECT_EQ(metrics.Find("/lattice.v1.Kv/Nope"), nullptr);
  EXPECT_EQ(metrics.Find(""), nullptr);
  // Services in the order given, methods in the .proto's order.
  ASSERT_FALSE(metrics.methods().empty());
  EXPECT_EQ(metrics.methods().front()->service, "Kv");
  EXPECT_EQ(metrics.methods().front()->method, "Get");
  EXPECT_EQ(metrics.methods().back()->service, "Admin");
}

}  // namespace
}  // namespace lattice::kernel::metrics
