// Twenty real kernels on one machine, each writing 500 keys into one store: they converge,
// and the test reports how long it took and what each node sent, beside the bytes of the
// intentions each node had to receive (issue 18: at most 1.5x).
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <thread>

#include "harness/cluster.h"
#include "integration/replication_support.h"
#include "lattice/common/hex.h"
#include "lattice/common/status.h"
#include "node/node.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

// The encoded bytes of `store`'s signed intentions in a stopped kernel's data directory, by
// author (hex).
absl::StatusOr<std::map<std::string, uint64_t>> IntentionBytesByAuthor(
    const std::string& data_dir, const std::string& store) {
  kernel::NodeOptions options;
  options.data_dir = data_dir;
  LATTICE_ASSIGN_OR_RETURN(auto node, kernel::Node::Open(options));
  LATTICE_ASSIGN_OR_RETURN(auto descriptor, node->Resolve(store));
  kernel::Store* opened = node->StoreById(descriptor.id);
  if (opened == nullptr) return absl::NotFoundError("store " + store + " is not open");
  std::map<std::string, uint64_t> bytes;
  LATTICE_RETURN_IF_ERROR(opened->ReadLog(
      0, std::numeric_limits<size_t>::max(),
      [&](uint64_t, const kernel::DecodedIntention& intention, bool) {
        bytes[ToHex(intention.body.author())] += intention.signed_intention.ByteSizeLong();
        return true;
      }));
  return bytes;
}

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

  std::vector<uint64_t> sent(kNodes);
  uint64_t total = 0;
  uint64_t most = 0;
  for (size_t from = 0; from < kNodes; ++from) {
    for (size_t to = 0; to < kNodes; ++to) {
      if (to != from) sent[from] += cluster.relay().BytesSent(from, to);
    }
    total += sent[from];
    most = std::max(most, sent[from]);
  }
  std::printf("20 kernels x 500 keys: converged in %.1f s; %.2f MB sent per node on average, "
              "%.2f MB at most\n",
              seconds, total / 1e6 / kNodes, most / 1e6);
  std::vector<std::string> ids(kNodes);
  for (size_t i = 0; i < kNodes; ++i) ids[i] = cluster.NodeId(i).value_or("");
  // Each node's two writers may have had their writes built into one intention together
  // (writes queued at once share one), so there are between half as many intentions as keys
  // and as many; every node holds the same ones.
  auto written = StoreStatus(cluster, 0, *store);
  auto status = StoreStatus(cluster, kNodes - 1, *store);
  ASSERT_TRUE(written.ok());
  ASSERT_TRUE(status.ok());
  uint64_t witnessed = (*status)["witnessed"].get<uint64_t>();
  EXPECT_EQ(witnessed, (*written)["witnessed"].get<uint64_t>());
  EXPECT_GE(witnessed, kNodes * kKeysPerNode / 2);
  EXPECT_LE(witnessed, kNodes * kKeysPerNode);
  for (size_t writer : {size_t{0}, size_t{7}, kNodes - 1}) {
    EXPECT_EQ(ValueOf(cluster, 3, *store, "n" + std::to_string(writer) + "-499"), "v499");
  }
  // Each node had to receive every intention but its own: the minimum it could be sent,
  // which is also, summed over the nodes, the minimum all of them could send.
  ASSERT_EQ(cluster.Stop(0), 0);
  auto by_author = IntentionBytesByAuthor(cluster.kernel(0).data_dir(), *store);
  ASSERT_TRUE(by_author.ok()) << by_author.status();
  uint64_t all = 0;
  for (const auto& [author, bytes] : *by_author) all += bytes;
  double needed = 0, worst = 0;
  for (size_t i = 0; i < kNodes; ++i) {
    uint64_t own = by_author->count(ids[i]) ? by_author->at(ids[i]) : 0;
    needed += static_cast<double>(all - own) / kNodes;
    worst = std::max(worst, static_cast<double>(sent[i]) / static_cast<double>(all - own));
  }
  std::printf("bytes sent per node / bytes of the intentions it had to receive (%.2f MB): "
              "%.2fx on average, %.2fx at most\n",
              needed / 1e6, total / needed / kNodes, worst);
}

}  // namespace
}  // namespace lattice::testing
