// Admin.Metrics against real kernels: writes raise a store's applied count and Kv.Put's
// latency histogram, open watches are counted, only the admin cookie or a token with the
// metrics right may read them, lattice-ctl shows them, a failing daemon's restarts show, and
// two kernels in a mesh count the bytes and round trips of their links.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "harness/cluster.h"
#include "harness/kernel_process.h"
#include "lattice/client/watch_canceller.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

const v1::StoreMetrics* FindStore(const v1::MetricsResponse& metrics, const std::string& name) {
  for (const auto& store : metrics.stores()) {
    if (store.name() == name) return &store;
  }
  return nullptr;
}

const v1::RpcMetrics* FindRpc(const v1::MetricsResponse& metrics, const std::string& service,
                              const std::string& method) {
  for (const auto& rpc : metrics.rpcs()) {
    if (rpc.service() == service && rpc.method() == method) return &rpc;
  }
  return nullptr;
}

uint64_t OpenWatches(const v1::MetricsResponse& metrics, const std::string& kind) {
  for (const auto& watch : metrics.watch_streams()) {
    if (watch.kind() == kind) return watch.open();
  }
  return 0;
}

class KernelMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.Start().ok());
    auto admin = kernel_.Connect();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    ASSERT_TRUE(admin_->CreateStore("m", "kv").ok());
  }

  // A client whose token holds `rights` on `stores`.
  std::unique_ptr<client::Client> WithToken(const std::vector<std::string>& rights,
                                            const std::vector<std::string>& stores) {
    v1::CreateTokenRequest request;
    request.set_name("scraper");
    for (const auto& store : stores) request.add_stores(store);
    for (const auto& right : rights) request.add_rights(right);
    auto created = admin_->CreateToken(request);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return nullptr;
    auto client = kernel_.Connect(created->token());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  ScratchDir dir_;
  KernelProcess kernel_{dir_.path()};
  std::unique_ptr<client::Client> admin_;
};

TEST_F(KernelMetrics, WritesRaiseAppliedAndThePutLatencyHistogram) {
  auto before = admin_->Metrics();
  ASSERT_TRUE(before.ok()) << before.status();
  const v1::StoreMetrics* store_before = FindStore(*before, "m");
  ASSERT_NE(store_before, nullptr);
  EXPECT_EQ(store_before->type(), "kv");
  EXPECT_EQ(store_before->floating(), 0u);

  constexpr int kPuts = 25;
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_TRUE(admin_->Put("m", "k" + std::to_string(i), "v").ok());
  }
  auto after = admin_->Metrics();
  ASSERT_TRUE(after.ok()) << after.status();
  const v1::StoreMetrics* store_after = FindStore(*after, "m");
  ASSERT_NE(store_after, nullptr);
  EXPECT_GE(store_after->intentions_applied(), store_before->intentions_applied() + kPuts);

  const v1::RpcMetrics* put = FindRpc(*after, "Kv", "Put");
  ASSERT_NE(put, nullptr);
  const v1::Histogram& latency = put->latency_seconds();
  EXPECT_GE(latency.count(), static_cast<uint64_t>(kPuts));
  EXPECT_GE(put->calls(), static_cast<uint64_t>(kPuts));
  EXPECT_EQ(put->errors(), 0u);
  EXPECT_GT(latency.sum(), 0.0);
  // Fixed buckets from 100 µs to 10 s; cumulative counts never fall nor pass the count.
  ASSERT_EQ(latency.upper_bounds_size(), latency.cumulative_counts_size());
  ASSERT_GE(latency.upper_bounds_size(), 2);
  EXPECT_DOUBLE_EQ(latency.upper_bounds(0), 0.0001);
  EXPECT_DOUBLE_EQ(latency.upper_bounds(latency.upper_bounds_size() - 1), 10.0);
  for (int i = 1; i < latency.upper_bounds_size(); ++i) {
    EXPECT_LT(latency.upper_bounds(i - 1), latency.upper_bounds(i));
    EXPECT_LE(latency.cumulative_counts(i - 1), latency.cumulative_counts(i));
  }
  EXPECT_LE(latency.cumulative_counts(latency.cumulative_counts_size() - 1), latency.count());

  // The Metrics call of `before` had ended by the time `after` was asked.
  const v1::RpcMetrics* metrics_rpc = FindRpc(*after, "Admin", "Metrics");
  ASSERT_NE(metrics_rpc, nullptr);
  EXPECT_GE(metrics_rpc->calls(), 1u);
  EXPECT_FALSE(after->node_id().empty());
  EXPECT_GT(after->started_ms(), 0u);
  EXPECT_GE(after->uptime_ms(), before->uptime_ms());
}

TEST_F(KernelMetrics, FailedCallsCountAsErrors) {
  auto missing = admin_->Get("no-such-store", "k");
  ASSERT_FALSE(missing.ok());
  auto metrics = admin_->Metrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const v1::RpcMetrics* get = FindRpc(*metrics, "Kv", "Get");
  ASSERT_NE(get, nullptr);
  EXPECT_GE(get->errors(), 1u);
  EXPECT_GE(get->calls(), get->errors());
}

TEST_F(KernelMetrics, OnlyTheMetricsRightOrTheAdminCookieMayReadThem) {
  auto reader = WithToken({"read", "write", "watch"}, {"m"});
  ASSERT_NE(reader, nullptr);
  auto refused = reader->Metrics();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_NE(std::string(refused.status().message()).find("metrics right"), std::string::npos)
      << refused.status();

  // A scraper's token names no store at all.
  auto scraper = WithToken({"metrics"}, {});
  ASSERT_NE(scraper, nullptr);
  auto metrics = scraper->Metrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(FindStore(*metrics, "m"), nullptr);
  // ...and it reaches nothing else.
  auto get = scraper->Get("m", "k");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), absl::StatusCode::kPermissionDenied);

  auto both = WithToken({"read", "metrics"}, {"m"});
  ASSERT_NE(both, nullptr);
  EXPECT_TRUE(both->Metrics().ok());

  // Any other right still needs a store.
  v1::CreateTokenRequest storeless;
  storeless.set_name("nothing");
  storeless.add_rights("read");
  auto created = admin_->CreateToken(storeless);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(KernelMetrics, OpenWatchesAreCountedUntilTheyEnd) {
  client::WatchCanceller canceller;
  std::atomic<bool> ended{false};
  std::thread watcher([&] {
    v1::KvWatchRequest request;
    request.set_store("m");
    request.set_from_now(true);
    (void)admin_->WatchKv(request, [](const v1::KvWatchResponse&) { return true; }, &canceller);
    ended = true;
  });
  auto watches = [&] {
    auto metrics = admin_->Metrics();
    return metrics.ok() ? OpenWatches(*metrics, "kv") : 999;
  };
  EXPECT_TRUE(WaitFor([&] { return watches() == 1; }, 10s));
  canceller.Cancel();
  watcher.join();
  EXPECT_TRUE(ended);
  EXPECT_TRUE(WaitFor([&] { return watches() == 0; }, 10s));
  auto metrics = admin_->Metrics();
  ASSERT_TRUE(metrics.ok());
  std::vector<std::string> kinds;
  for (const auto& watch : metrics->watch_streams()) kinds.push_back(watch.kind());
  EXPECT_EQ(kinds, (std::vector<std::string>{"kv", "chat", "presence", "fs"}));
}

TEST_F(KernelMetrics, CtlPrintsThemAndCreatesAStorelessMetricsToken) {
  ASSERT_TRUE(admin_->Put("m", "k", "v").ok());
  CommandResult text = kernel_.Ctl({"metrics"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Kv.Put"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("APPLIED"), std::string::npos) << text.out;

  CommandResult json = kernel_.Ctl({"--json", "metrics"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto document = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << json.out;
  ASSERT_TRUE(document.contains("stores")) << json.out;
  ASSERT_TRUE(document.contains("rpcs")) << json.out;
  bool found = false;
  for (const auto& store : document["stores"]) {
    if (store["name"] != "m") continue;
    found = true;
    EXPECT_TRUE(store["intentions_applied"].is_number_unsigned()) << store.dump();
    EXPECT_GE(store["intentions_applied"].get<uint64_t>(), 1u);
  }
  EXPECT_TRUE(found) << json.out;

  CommandResult created = kernel_.Ctl({"--json", "token", "create", "scraper", "--rights", "metrics"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto token = nlohmann::json::parse(created.out, nullptr, false);
  ASSERT_TRUE(token.contains("token")) << created.out;
  CommandResult scraped =
      kernel_.Ctl({"--token", token["token"].get<std::string>(), "metrics"});
  EXPECT_EQ(scraped.exit_code, 0) << scraped.err;

  CommandResult storeless = kernel_.Ctl({"token", "create", "x", "--rights", "read"});
  EXPECT_NE(storeless.exit_code, 0);
  EXPECT_NE(storeless.err.find("--store"), std::string::npos) << storeless.err;
}

TEST(KernelMetricsServices, AnInstanceThatKeepsFailingShowsItsRestarts) {
  ScratchDir dir;
  std::string services = dir.path() + "/services";
  ASSERT_EQ(::mkdir(services.c_str(), 0700), 0);
  // An operator's directory may name an absolute binary: one that fails at once.
  std::ofstream(services + "/false.toml")
      << "schema_version = 1\nid = \"test.false\"\nbinary = \"/bin/false\"\n"
         "store_type = \"kv\"\n[token]\nrights = [\"read\"]\n"
         "[invocation]\nstore_flag = \"--store\"\n"
         "[restart]\nbackoff_initial_ms = 50\nstart_limit_burst = 3\n";
  KernelProcess kernel(dir.path(), {"--services-dir", services});
  ASSERT_TRUE(kernel.Start().ok());
  auto admin = kernel.Connect();
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto store = (*admin)->CreateStore("jobs", "kv");
  ASSERT_TRUE(store.ok()) << store.status();
  CommandResult declared = kernel.Ctl({"service", "declare", "test.false", "--store", "jobs", "--local"});
  ASSERT_EQ(declared.exit_code, 0) << declared.err;

  v1::ServiceInstanceMetrics seen;
  bool restarted = WaitFor(
      [&] {
        auto metrics = (*admin)->Metrics();
        if (!metrics.ok()) return false;
        for (const auto& instance : metrics->service_instances()) {
          if (instance.service_id() != "test.false" || instance.store_id() != store->id()) continue;
          seen = instance;
          return instance.restarts() >= 1;
        }
        return false;
      },
      20s);
  EXPECT_TRUE(restarted) << seen.DebugString();
  EXPECT_FALSE(seen.status().empty());
}

TEST(KernelMetricsMesh, LinksCountBytesAndRoundTripsPerPeer) {
  ClusterOptions options;
  options.nodes = 2;
  auto cluster = Cluster::Create(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  Cluster& mesh = **cluster;
  ASSERT_TRUE(mesh.StartAll().ok());
  ASSERT_TRUE(mesh.MakeMesh().ok());
  auto a = mesh.Client(0);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b_id = mesh.NodeId(1);
  ASSERT_TRUE(b_id.ok()) << b_id.status();
  ASSERT_TRUE((*a)->CreateStore("shared", "kv").ok());
  ASSERT_TRUE((*a)->Put("shared", "k", "v").ok());

  v1::PeerMetrics seen;
  bool counted = WaitFor(
      [&] {
        auto metrics = (*a)->Metrics();
        if (!metrics.ok() || metrics->peers_connected() < 1) return false;
        for (const auto& peer : metrics->peers()) {
          if (peer.node_id() != *b_id) continue;
          seen = peer;
          return peer.connected() && peer.sync_bytes_sent() > 0 &&
                 peer.sync_bytes_received() > 0 && peer.sync_round_trips() > 0;
        }
        return false;
      },
      60s);
  EXPECT_TRUE(counted) << seen.DebugString() << mesh.LogTail(0);
}

}  // namespace
}  // namespace lattice::testing
