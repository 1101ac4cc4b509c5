// Real kernels on loopback: a node killed in a write storm, a node that was offline while
// thousands of intentions were written, and bootstraps of a large store, whole and
// interrupted.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "harness/cluster.h"
#include "integration/replication_support.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Cluster> MakeCluster(size_t nodes, std::chrono::milliseconds sync = 1000ms) {
  ClusterOptions options;
  options.nodes = nodes;
  options.sync_interval = sync;
  auto cluster = Cluster::Create(options);
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  return cluster.ok() ? *std::move(cluster) : nullptr;
}

uint64_t Witnessed(Cluster& cluster, size_t node, const std::string& store) {
  auto status = StoreStatus(cluster, node, store);
  return status.ok() ? (*status)["witnessed"].get<uint64_t>() : 0;
}

TEST(ReplicationRecovery, ANodeKilledInAWriteStormConvergesAndLosesNoAcknowledgedWrite) {
  auto cluster = MakeCluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->StartAll().ok());
  ASSERT_TRUE(cluster->MakeMesh().ok());
  auto store = CreateStoreEverywhere(*cluster, 0, "storm", Range(3));
  ASSERT_TRUE(store.ok()) << store.status();
  // Writers on the doomed node and on a survivor; the doomed node dies mid-storm.
  std::vector<std::string> acked_victim;
  std::vector<std::string> acked_survivor;
  std::thread victim([&] { acked_victim = WriteKeys(*cluster, 1, *store, "victim-", 4000, 4); });
  std::thread survivor([&] { acked_survivor = WriteKeys(*cluster, 0, *store, "survivor-", 1500, 4); });
  ASSERT_TRUE(WaitFor([&] { return Witnessed(*cluster, 1, *store) >= 500; }, 60s));
  cluster->Kill(1);
  victim.join();
  survivor.join();
  ASSERT_GT(acked_victim.size(), 0u);
  ASSERT_LT(acked_victim.size(), 4000u) << "the kill should land mid-storm";
  ASSERT_TRUE(cluster->Start(1).ok()) << cluster->LogTail(1);
  auto converged = cluster->WaitForConvergence(*store, 90s);
  ASSERT_TRUE(converged.ok()) << converged;
  for (size_t reader = 0; reader < 3; ++reader) {
    for (const auto& key : acked_victim) {
      ASSERT_FALSE(ValueOf(*cluster, reader, *store, key).empty())
          << "node " << reader << " lacks acknowledged " << key;
    }
    for (const auto& key : acked_survivor) {
      ASSERT_FALSE(ValueOf(*cluster, reader, *store, key).empty())
          << "node " << reader << " lacks acknowledged " << key;
    }
  }
  EXPECT_EQ(cluster->Ctl(1, {"debug", "verify", *store}).exit_code, 0);
}

TEST(ReplicationRecovery, AnOfflineNodeCatchesUpReceivingRoughlyWhatItLacked) {
  auto cluster = MakeCluster(2);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->StartAll().ok());
  ASSERT_TRUE(cluster->MakeMesh().ok());
  auto store = CreateStoreEverywhere(*cluster, 0, "notes", Range(2));
  ASSERT_TRUE(store.ok()) << store.status();
  // A common history both hold, sent once: its bytes say what one intention costs. One
  // writer, so each key is an intention of its own (writes queued together share one).
  cluster->relay().ResetCounters();
  ASSERT_EQ(WriteKeys(*cluster, 0, *store, "base-", 10'000, 1).size(), 10'000u);
  ASSERT_TRUE(cluster->WaitForConvergence(*store, 120s).ok());
  uint64_t bytes_for_base = cluster->relay().BytesSent(0, 1);
  ASSERT_EQ(cluster->Stop(1), 0);
  ASSERT_EQ(WriteKeys(*cluster, 0, *store, "missed-", 10'000, 1).size(), 10'000u);
  cluster->relay().ResetCounters();
  ASSERT_TRUE(cluster->Start(1).ok());
  auto converged = cluster->WaitForConvergence(*store, 120s);
  ASSERT_TRUE(converged.ok()) << converged;
  uint64_t bytes_for_catch_up = cluster->relay().BytesSent(0, 1);
  std::printf("catch-up: %llu bytes for 10000 missed intentions (the base of 10000 took %llu)\n",
              static_cast<unsigned long long>(bytes_for_catch_up),
              static_cast<unsigned long long>(bytes_for_base));
  EXPECT_EQ(ValueOf(*cluster, 1, *store, "missed-9999"), "v9999");
  // Roughly what it lacked, not the whole store (which would be twice the base).
  EXPECT_LT(bytes_for_catch_up, bytes_for_base * 13 / 10);
}

TEST(ReplicationRecovery, ABootstrapOf25000WritesCompletesAndAnInterruptedOneResumes) {
  auto cluster = MakeCluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->Start(0).ok());
  ASSERT_TRUE(cluster->Start(1).ok());
  ASSERT_TRUE(cluster->Start(2).ok());
  CommandResult created = cluster->Ctl(0, {"store", "create", "big", "--type", "kv"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string store = created.out.substr(0, 36);
  ASSERT_EQ(WriteKeys(*cluster, 0, store, "k", 25'000, 16).size(), 25'000u);
  // Writes queued together share an intention: the store holds between 25000 / 16 and 25000.
  const uint64_t intentions = Witnessed(*cluster, 0, store);
  ASSERT_GE(intentions, 25'000u / 16);

  // Whole: node 1 joins and bootstraps everything.
  cluster->relay().ResetCounters();
  auto token = cluster->Invite(0);
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(cluster->Join(1, *token, "one").ok());
  ASSERT_TRUE(cluster->WaitForConvergence(store, {0, 1}, 180s).ok());
  uint64_t whole_bytes = cluster->relay().BytesSent(0, 1);
  EXPECT_EQ(Witnessed(*cluster, 1, store), intentions);

  // Interrupted: node 2 is killed a third of the way in, then started again. Node 1 is
  // kept from node 2 so the bootstrap can only come from node 0.
  cluster->relay().Cut(1, 2);
  cluster->relay().ResetCounters();
  token = cluster->Invite(0);
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(cluster->Join(2, *token, "two").ok());
  uint64_t before_kill = 0;
  ASSERT_TRUE(WaitFor([&] {
    before_kill = Witnessed(*cluster, 2, store);
    return before_kill >= intentions / 3;
  }, 120s)) << cluster->LogTail(2);
  cluster->Kill(2);
  ASSERT_LT(before_kill, intentions) << "the kill should land mid-bootstrap";
  ASSERT_TRUE(cluster->Start(2).ok());
  ASSERT_TRUE(cluster->WaitForConvergence(store, {0, 2}, 180s).ok());
  EXPECT_EQ(Witnessed(*cluster, 2, store), intentions);
  uint64_t interrupted_bytes = cluster->relay().BytesSent(0, 2);
  std::printf("bootstrap of 25000 writes in %llu intentions: %llu bytes whole, %llu interrupted "
              "at %llu and resumed\n",
              static_cast<unsigned long long>(intentions), static_cast<unsigned long long>(whole_bytes),
              static_cast<unsigned long long>(interrupted_bytes),
              static_cast<unsigned long long>(before_kill));
  // It resumed where it stopped instead of fetching the store again.
  EXPECT_LT(interrupted_bytes, whole_bytes * 5 / 4);
  auto status = cluster->CtlJson(2, {"status"});
  ASSERT_TRUE(status.ok());
  for (const auto& bootstrap : (*status)["bootstraps"]) {
    EXPECT_TRUE(bootstrap["done"].get<bool>()) << bootstrap.dump();
  }
}

}  // namespace
}  // namespace lattice::testing
