// GET /metrics's rendering: exposition format 0.0.4 line by line (HELP/TYPE before samples,
// label escaping, histogram shape), and the whole output read back by the reference Python
// client's parser.
#include "src/metrics/prometheus_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/process.h"

namespace lattice::web::metrics {
namespace {

v1::MetricsResponse SampleResponse() {
  v1::MetricsResponse m;
  m.set_node_id("ab12");
  m.set_node_name("node \"one\"");
  m.set_version("0.1.0");
  m.set_uptime_ms(90'500);
  m.set_started_ms(1'700'000'000'000);
  m.set_peers_connected(1);
  auto* store = m.add_stores();
  store->set_store_id("0b3e9d7c-0000-4000-8000-000000000001");
  store->set_name("notes\\with \"quotes\"\nand a line");
  store->set_type("kv");
  store->set_mesh_id("0b3e9d7c-0000-4000-8000-000000000000");
  store->set_intentions_applied(42);
  store->set_floating(3);
  store->set_noops(1);
  auto* peer = m.add_peers();
  peer->set_node_id("cd34");
  peer->set_name("laptop");
  peer->set_connected(true);
  peer->set_sync_bytes_sent(18'446'744'073'709'551'615ull);  // uint64 max prints exactly
  peer->set_sync_bytes_received(2048);
  peer->set_sync_round_trips(7);
  for (const char* kind : {"kv", "chat", "fs"}) {
    auto* watch = m.add_watch_streams();
    watch->set_kind(kind);
    watch->set_open(kind == std::string("kv") ? 2 : 0);
  }
  auto* put = m.add_rpcs();
  put->set_service("Kv");
  put->set_method("Put");
  put->set_calls(10);
  put->set_errors(1);
  auto* latency = put->mutable_latency_seconds();
  for (double bound : {0.0001, 0.001, 0.01, 10.0}) latency->add_upper_bounds(bound);
  for (uint64_t count : {1, 4, 9, 9}) latency->add_cumulative_counts(count);
  latency->set_count(10);
  latency->set_sum(12.5);
  auto* watch = m.add_rpcs();  // a stream: no histogram
  watch->set_service("Kv");
  watch->set_method("Watch");
  watch->set_calls(3);
  watch->set_in_flight(2);
  auto* instance = m.add_service_instances();
  instance->set_service_id("lattice.irc-gateway");
  instance->set_store_id("0b3e9d7c-0000-4000-8000-000000000002");
  instance->set_status("running");
  instance->set_restarts(2);
  return m;
}

WebCounters SampleWeb() {
  WebCounters web;
  web.open_http_connections = 5;
  web.open_sse_streams = 2;
  web.requests_by_class = std::array<uint64_t, 5>{0, 100, 3, 7, 1};
  return web;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool HasLine(const std::string& text, const std::string& line) {
  for (const auto& l : Lines(text)) {
    if (l == line) return true;
  }
  return false;
}

TEST(EscapeLabelValue, EscapesBackslashQuoteAndLineFeedOnly) {
  EXPECT_EQ(EscapeLabelValue("plain ünïcode"), "plain ünïcode");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
  EXPECT_EQ(EscapeLabelValue(""), "");
}

TEST(FormatSampleValue, ShortestRoundTripAndSpecialValues) {
  EXPECT_EQ(FormatSampleValue(0.0001), "0.0001");
  EXPECT_EQ(FormatSampleValue(2.5), "2.5");
  EXPECT_EQ(FormatSampleValue(10), "10");
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(RenderPrometheus, EveryFamilyHasHelpAndTypeBeforeItsSamplesOnce) {
  std::string text = RenderPrometheus(SampleResponse(), SampleWeb());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::set<std::string> declared;
  std::string current;
  for (const auto& line : Lines(text)) {
    ASSERT_FALSE(line.empty()) << "no blank lines";
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(declared.insert(name).second) << "family declared twice: " << name;
      current = name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, current.size()), current);
      continue;
    }
    ASSERT_NE(line[0], '#') << line;
    EXPECT_EQ(line.rfind("lattice_", 0), 0u) << line;
    // A sample belongs to the family declared last (a histogram's suffixes included).
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(current, 0), 0u) << line << " after family " << current;
  }
}

TEST(RenderPrometheus, LabelValuesAreEscaped) {
  std::string text = RenderPrometheus(SampleResponse(), SampleWeb());
  EXPECT_TRUE(HasLine(
      text,
      "lattice_store_intentions_applied_total{store_id=\"0b3e9d7c-0000-4000-8000-000000000001\","
      "store=\"notes\\\\with \\\"quotes\\\"\\nand a line\",type=\"kv\","
      "mesh_id=\"0b3e9d7c-0000-4000-8000-000000000000\"} 42"))
      << text;
  EXPECT_TRUE(HasLine(text,
                      "lattice_kernel_info{node_id=\"ab12\",node_name=\"node \\\"one\\\"\","
                      "version=\"0.1.0\"} 1"))
      << text;
}

TEST(RenderPrometheus, HistogramHasCumulativeBucketsEndingInInfThenSumAndCount) {
  std::string text = RenderPrometheus(SampleResponse(), SampleWeb());
  std::vector<std::string> expected = {
      "lattice_rpc_latency_seconds_bucket{service=\"Kv\",method=\"Put\",le=\"0.0001\"} 1",
      "lattice_rpc_latency_seconds_bucket{service=\"Kv\",method=\"Put\",le=\"0.001\"} 4",
      "lattice_rpc_latency_seconds_bucket{service=\"Kv\",method=\"Put\",le=\"0.01\"} 9",
      "lattice_rpc_latency_seconds_bucket{service=\"Kv\",method=\"Put\",le=\"10\"} 9",
      "lattice_rpc_latency_seconds_bucket{service=\"Kv\",method=\"Put\",le=\"+Inf\"} 10",
      "lattice_rpc_latency_seconds_sum{service=\"Kv\",method=\"Put\"} 12.5",
      "lattice_rpc_latency_seconds_count{service=\"Kv\",method=\"Put\"} 10",
  };
  auto lines = Lines(text);
  auto first = std::find(lines.begin(), lines.end(), expected[0]);
  ASSERT_NE(first, lines.end()) << text;
  ASSERT_GE(static_cast<size_t>(lines.end() - first), expected.size());
  EXPECT_EQ(std::vector<std::string>(first, first + static_cast<long>(expected.size())), expected);
  EXPECT_TRUE(HasLine(text, "# TYPE lattice_rpc_latency_seconds histogram"));
  // A stream is counted but has no histogram.
  EXPECT_TRUE(HasLine(text, "lattice_rpc_in_flight{service=\"Kv\",method=\"Watch\"} 2"));
  EXPECT_EQ(text.find("method=\"Watch\",le="), std::string::npos);
}

TEST(RenderPrometheus, ABrokenHistogramStillRendersAValidOne) {
  v1::MetricsResponse m;
  auto* rpc = m.add_rpcs();
  rpc->set_service("Kv");
  rpc->set_method("Get");
  auto* h = rpc->mutable_latency_seconds();
  for (double bound : {0.001, 0.01, 0.1}) h->add_upper_bounds(bound);
  for (uint64_t count : {5, 3, 99}) h->add_cumulative_counts(count);  // falls, then passes count
  h->set_count(6);
  std::string text = RenderPrometheus(m, {});
  EXPECT_TRUE(HasLine(text, "lattice_rpc_latency_seconds_bucket{service=\"Kv\",method=\"Get\",le=\"0.01\"} 5"));
  EXPECT_TRUE(HasLine(text, "lattice_rpc_latency_seconds_bucket{service=\"Kv\",method=\"Get\",le=\"0.1\"} 6"));
}

TEST(RenderPrometheus, CountersPrintExactlyAndWebFiguresAppear) {
  std::string text = RenderPrometheus(SampleResponse(), SampleWeb());
  EXPECT_TRUE(HasLine(text,
                      "lattice_peer_sync_sent_bytes_total{peer=\"cd34\",peer_name=\"laptop\"} "
                      "18446744073709551615"));
  EXPECT_TRUE(HasLine(text, "lattice_kernel_uptime_seconds 90.5"));
  EXPECT_TRUE(HasLine(text, "lattice_watch_streams_open{kind=\"kv\"} 2"));
  EXPECT_TRUE(HasLine(text, "lattice_web_http_connections_open 5"));
  EXPECT_TRUE(HasLine(text, "lattice_web_sse_streams_open 2"));
  EXPECT_TRUE(HasLine(text, "lattice_web_http_requests_total{class=\"4xx\"} 7"));
  EXPECT_TRUE(HasLine(text,
                      "lattice_service_restarts_total{service=\"lattice.irc-gateway\","
                      "store_id=\"0b3e9d7c-0000-4000-8000-000000000002\"} 2"));
}

TEST(RenderPrometheus, RequestCountsAreLeftOutUntilTheServerCountsThem) {
  WebCounters web = SampleWeb();
  web.requests_by_class.reset();
  std::string text = RenderPrometheus(SampleResponse(), web);
  EXPECT_EQ(text.find("lattice_web_http_requests_total"), std::string::npos) << text;
  EXPECT_TRUE(HasLine(text, "lattice_web_http_connections_open 5"));
}

// The reference parser reads the output back with the same families, types and values.
TEST(RenderPrometheus, ThePythonClientsParserReadsItBack) {
  std::string text = RenderPrometheus(SampleResponse(), SampleWeb());
  auto result = lattice::testing::RunCommand({LATTICE_PYTHON3, LATTICE_PROMETHEUS_PARSE_SCRIPT}, text);
  ASSERT_EQ(result.exit_code, 0) << result.err << "\n" << text;
  auto families = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(families.is_array()) << result.out;
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& family : families) by_name[family["name"].get<std::string>()] = family;

  // The parser names a counter family without _total, and a histogram without suffixes.
  ASSERT_TRUE(by_name.count("lattice_store_intentions_applied")) << result.out;
  EXPECT_EQ(by_name["lattice_store_intentions_applied"]["type"], "counter");
  const auto& applied = by_name["lattice_store_intentions_applied"]["samples"][0];
  EXPECT_EQ(applied[1]["store"], "notes\\with \"quotes\"\nand a line");
  EXPECT_EQ(applied[2], 42);

  ASSERT_TRUE(by_name.count("lattice_rpc_latency_seconds")) << result.out;
  const auto& histogram = by_name["lattice_rpc_latency_seconds"];
  EXPECT_EQ(histogram["type"], "histogram");
  std::vector<std::string> les;
  for (const auto& sample : histogram["samples"]) {
    if (sample[0] == "lattice_rpc_latency_seconds_bucket") les.push_back(sample[1]["le"]);
  }
  EXPECT_EQ(les, (std::vector<std::string>{"0.0001", "0.001", "0.01", "10", "+Inf"}));

  EXPECT_EQ(by_name["lattice_kernel_info"]["samples"][0][1]["node_name"], "node \"one\"");
  EXPECT_EQ(by_name["lattice_web_http_requests"]["type"], "counter");
  EXPECT_EQ(by_name["lattice_watch_streams_open"]["type"], "gauge");
}

}  // namespace
}  // namespace lattice::web::metrics
