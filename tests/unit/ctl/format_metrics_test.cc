// `lattice-ctl metrics`: quantiles read off fixed buckets, byte counts, and the tables.
#include "format_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace lattice::ctl {
namespace {

v1::Histogram Buckets() {
  v1::Histogram h;
  for (double bound : {0.001, 0.01, 0.1}) h.add_upper_bounds(bound);
  for (uint64_t count : {50, 98, 99}) h.add_cumulative_counts(count);
  h.set_count(100);
  h.set_sum(1.5);
  return h;
}

TEST(HistogramQuantileBound, TheFirstBucketHoldingTheRank) {
  v1::Histogram h = Buckets();
  EXPECT_DOUBLE_EQ(HistogramQuantileBound(h, 0.5), 0.001);   // rank 50 of 100
  EXPECT_DOUBLE_EQ(HistogramQuantileBound(h, 0.51), 0.01);
  EXPECT_DOUBLE_EQ(HistogramQuantileBound(h, 0.99), 0.1);
  EXPECT_TRUE(std::isinf(HistogramQuantileBound(h, 1.0)));    // one beyond every bound
  EXPECT_DOUBLE_EQ(HistogramQuantileBound(h, 0.0), 0.001);    // at least the first
  EXPECT_LT(HistogramQuantileBound(v1::Histogram(), 0.5), 0);
}

TEST(FormatLatencyBound, UnitsForPeople) {
  EXPECT_EQ(FormatLatencyBound(0.00025), "<=250us");
  EXPECT_EQ(FormatLatencyBound(0.0025), "<=2.5ms");
  EXPECT_EQ(FormatLatencyBound(10), "<=10s");
  EXPECT_EQ(FormatLatencyBound(-1), "-");
  EXPECT_EQ(FormatLatencyBound(std::numeric_limits<double>::infinity()), "beyond the largest bucket");
}

TEST(FormatByteCount, BinaryUnits) {
  EXPECT_EQ(FormatByteCount(0), "0 B");
  EXPECT_EQ(FormatByteCount(1023), "1023 B");
  EXPECT_EQ(FormatByteCount(1536), "1.5 KiB");
  EXPECT_EQ(FormatByteCount(3ull << 20), "3.0 MiB");
}

TEST(MetricsText, ShowsCalledMethodsOnlyAndEveryTable) {
  v1::MetricsResponse m;
  m.set_node_name("n1");
  m.set_node_id("abcdef0123456789");
  m.set_uptime_ms(61'000);
  auto* store = m.add_stores();
  store->set_name("notes");
  store->set_type("kv");
  store->set_store_id("0b3e9d7c-0000-4000-8000-000000000001");
  store->set_intentions_applied(42);
  auto* called = m.add_rpcs();
  called->set_service("Kv");
  called->set_method("Put");
  called->set_calls(100);
  *called->mutable_latency_seconds() = Buckets();
  auto* idle = m.add_rpcs();
  idle->set_service("Kv");
  idle->set_method("Inspect");
  auto* watch = m.add_watch_streams();
  watch->set_kind("kv");
  watch->set_open(2);
  auto* peer = m.add_peers();
  peer->set_node_id("cd34cd34cd34cd34");
  peer->set_name("laptop");
  peer->set_connected(true);
  peer->set_sync_bytes_sent(2048);
  std::string text = MetricsText(m);
  EXPECT_NE(text.find("notes"), std::string::npos) << text;
  EXPECT_NE(text.find("42"), std::string::npos) << text;
  EXPECT_NE(text.find("Kv.Put"), std::string::npos) << text;
  EXPECT_NE(text.find("<=1ms"), std::string::npos) << text;  // p50
  EXPECT_NE(text.find("15ms"), std::string::npos) << text;  // mean 1.5 s / 100
  EXPECT_EQ(text.find("Kv.Inspect"), std::string::npos) << text;
  EXPECT_NE(text.find("kv 2"), std::string::npos) << text;
  EXPECT_NE(text.find("2.0 KiB"), std::string::npos) << text;
  EXPECT_NE(text.find("1m 1s"), std::string::npos) << text;

  nlohmann::json json = MetricsJson(m);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["stores"][0]["intentions_applied"], 42);
  EXPECT_EQ(json["node_name"], "n1");
  EXPECT_EQ(json["rpcs"][0]["latency_seconds"]["count"], 100);
  EXPECT_EQ(json["rpcs"][0]["latency_seconds"]["cumulative_counts"], nlohmann::json({50, 98, 99}));
  EXPECT_FALSE(json["rpcs"][1].contains("latency_seconds"));
  EXPECT_EQ(json["watch_streams"][0]["open"], 2);
  EXPECT_EQ(json["peers"][0]["sync_bytes_sent"], 2048);
}

}  // namespace
}  // namespace lattice::ctl
