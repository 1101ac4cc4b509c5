// Twenty real kernels on one machine, each writing 500 keys into one store: they converge,
// and the test reports how long it took and what each node sent.
#include <gtest/gtest.h>

#include <thread>

#include "harness/cluster.h"
#include "integration/replication_support.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

TEST(ReplicationScale, TwentyKernelsEachWriting500KeysConverge) {
  constexpr size_t kNodes = 20;
  constexpr size_t kKeysPerNode = 500;
  ClusterOptions options;
  options.nodes = kNodes;
  // Twenty kernels share two cores: reconcile less often than the other tests.
  options.sync_interval = 5000ms;
  auto created = Cluster::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  Cluster& cluster = **created;
  ASSERT_TRUE(cluster.StartAll().ok());
  auto meshed = cluster.MakeMesh();
  ASSERT_TRUE(meshed.ok()) << meshed;
  auto store = CreateStoreEverywhere(cluster, 0, "shared", Range(kNodes));
  ASSERT_TRUE(store.ok()) << store.status();

  cluster.relay().ResetCounters();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> writers;
  std::vector<size_t> acked(kNodes);
  for (size_t i = 0; i < kNodes; ++i) {
    writers.emplace_back([&, i] {
      acked[i] = WriteKeys(cluster, i, *store, "n" + std::to_string(i) + "-", kKeysPerNode, 2).size();
    });
  }
  for (auto& w : writers) w.join();
  for (size_t i = 0; i < kNodes; ++i) ASSERT_EQ(acked[i], kKeysPerNode) << "node " << i;
  auto converged = cluster.WaitForConvergence(*store, 600s);
  ASSERT_TRUE(converged.ok()) << converged;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  uint64_t total = 0;
  uint64_t most = 0;
  for (size_t from = 0; from < kNodes; ++from) {
    uint64_t sent = 0;
    for (size_t to = 0; to < kNodes; ++to) {
      if (to != from) sent += cluster.relay().BytesSent(from, to);
    }
    total += sent;
    most = std::max(most, sent);
  }
  std::printf("20 kernels x 500 keys: converged in %.1f s; %.2f MB sent per node on average, "
              "%.2f MB at most\n",
              seconds, total / 1e6 / kNodes, most / 1e6);
  auto status = StoreStatus(cluster, kNodes - 1, *store);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["witnessed"].get<uint64_t>(), kNodes * kKeysPerNode);
  for (size_t writer : {size_t{0}, size_t{7}, kNodes - 1}) {
    EXPECT_EQ(ValueOf(cluster, 3, *store, "n" + std::to_string(writer) + "-499"), "v499");
  }
}

}  // namespace
}  // namespace lattice::testing
