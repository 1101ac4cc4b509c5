// Real kernels on loopback, joined into a mesh with lattice-ctl, linked through the
// fault-injecting relay: joins, writes everywhere, partitions, a star, lost frames.
#include <gtest/gtest.h>

#include "harness/cluster.h"
#include "integration/replication_support.h"

namespace lattice::testing {
namespace {

using namespace std::chrono_literals;

TEST(ReplicationMesh, JoinedNodesSeeEveryWriteAndAgreeOnPeers) {
  auto cluster = StartMesh(3);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "notes", Range(3));
  ASSERT_TRUE(store.ok()) << store.status();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(cluster->Ctl(i, {"kv", "put", *store, "from-" + std::to_string(i), "v" + std::to_string(i)}).exit_code, 0);
  }
  ASSERT_TRUE(cluster->WaitForConvergence(*store, 30s).ok());
  for (size_t reader = 0; reader < 3; ++reader) {
    for (size_t writer = 0; writer < 3; ++writer) {
      EXPECT_EQ(ValueOf(*cluster, reader, *store, "from-" + std::to_string(writer)),
                "v" + std::to_string(writer));
    }
  }
  // `peer list` agrees on every node: the same three active members, all connected.
  std::set<std::string> expected;
  for (size_t i = 0; i < 3; ++i) expected.insert(*cluster->NodeId(i));
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster->WaitForPeersConnected(i, 2, 20s).ok()) << cluster->LogTail(i);
    auto peers = cluster->CtlJson(i, {"peer", "list", "--mesh", *store});
    ASSERT_TRUE(peers.ok()) << peers.status();
    std::set<std::string> active;
    for (const auto& p : (*peers)["peers"]) {
      if (p["status"] == "active") active.insert(p["node_id"].get<std::string>());
      if (!p.value("self", false)) {
        EXPECT_TRUE(p["connected"].get<bool>()) << p.dump();
      }
    }
    EXPECT_EQ(active, expected) << "node " << i;
  }
}

TEST(ReplicationMesh, PartitionedNodesConvergeAfterHealWithTheSameConflicts) {
  auto cluster = StartMesh(3);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "notes", Range(3));
  ASSERT_TRUE(store.ok()) << store.status();
  cluster->relay().Cut(2, 0);
  cluster->relay().Cut(2, 1);
  ASSERT_EQ(cluster->Ctl(0, {"kv", "put", *store, "same", "majority"}).exit_code, 0);
  ASSERT_EQ(cluster->Ctl(2, {"kv", "put", *store, "same", "minority"}).exit_code, 0);
  ASSERT_EQ(cluster->Ctl(1, {"kv", "put", *store, "only-left", "l"}).exit_code, 0);
  ASSERT_EQ(cluster->Ctl(2, {"kv", "put", *store, "only-right", "r"}).exit_code, 0);
  ASSERT_TRUE(cluster->WaitForConvergence(*store, {0, 1}, 20s).ok());
  EXPECT_EQ(ValueOf(*cluster, 0, *store, "only-right"), "");
  cluster->relay().Heal(2, 0);
  cluster->relay().Heal(2, 1);
  // No manual sync: reconnection and anti-entropy do it.
  auto converged = cluster->WaitForConvergence(*store, 30s);
  ASSERT_TRUE(converged.ok()) << converged;
  std::set<std::string> heads_everywhere;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ValueOf(*cluster, i, *store, "only-left"), "l");
    EXPECT_EQ(ValueOf(*cluster, i, *store, "only-right"), "r");
    auto inspect = cluster->CtlJson(i, {"kv", "inspect", *store, "same"});
    ASSERT_TRUE(inspect.ok()) << inspect.status();
    EXPECT_TRUE((*inspect)["conflicted"].get<bool>()) << inspect->dump();
    heads_everywhere.insert((*inspect)["heads"].dump());
  }
  EXPECT_EQ(heads_everywhere.size(), 1u) << "the same heads on every node";
}

TEST(ReplicationMesh, AStarOfOneHubAndFourLeavesConverges) {
  auto cluster = StartMesh(5);
  ASSERT_NE(cluster, nullptr);
  for (int a = 1; a < 5; ++a) {
    for (int b = a + 1; b < 5; ++b) cluster->relay().Cut(a, b);
  }
  auto store = CreateStoreEverywhere(*cluster, 0, "notes", Range(5));
  ASSERT_TRUE(store.ok()) << store.status();
  for (size_t i = 1; i < 5; ++i) {
    ASSERT_EQ(cluster->Ctl(i, {"kv", "put", *store, "leaf" + std::to_string(i), "here"}).exit_code, 0);
  }
  auto converged = cluster->WaitForConvergence(*store, 30s);
  ASSERT_TRUE(converged.ok()) << converged;
  for (size_t reader = 1; reader < 5; ++reader) {
    for (size_t leaf = 1; leaf < 5; ++leaf) {
      EXPECT_EQ(ValueOf(*cluster, reader, *store, "leaf" + std::to_string(leaf)), "here");
    }
  }
  for (int a = 1; a < 5; ++a) {
    for (int b = a + 1; b < 5; ++b) EXPECT_EQ(cluster->relay().Connections(a, b), 0u);
  }
}

TEST(ReplicationMesh, LostFramesAndAGapLongerThanAFetchWindowAreRepaired) {
  auto cluster = StartMesh(2, 1000ms);
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "notes", Range(2));
  ASSERT_TRUE(store.ok()) << store.status();
  // A lost frame breaks the authenticated stream: the link closes, comes back, and the
  // reconciliation on reconnect brings what the lost frame carried.
  cluster->relay().DropNextFrames(0, 1, 1);
  ASSERT_EQ(cluster->Ctl(0, {"kv", "put", *store, "after-loss", "arrives"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return ValueOf(*cluster, 1, *store, "after-loss") == "arrives"; }, 30s))
      << cluster->LogTail(1);
  // Node 1 misses more than a fetch request can carry (1024 hashes) while cut off.
  cluster->relay().Cut(0, 1);
  auto acked = WriteKeys(*cluster, 0, *store, "gap-", 2500);
  ASSERT_EQ(acked.size(), 2500u);
  cluster->relay().Heal(0, 1);
  auto converged = cluster->WaitForConvergence(*store, 60s);
  ASSERT_TRUE(converged.ok()) << converged;
  EXPECT_EQ(ValueOf(*cluster, 1, *store, "gap-2499"), "v2499");
  EXPECT_GE(cluster->relay().FramesDropped(0, 1), 1u);
}

TEST(ReplicationMesh, StoreSyncWaitReconcilesNowAndFailsWhenThePeerIsUnreachable) {
  // No periodic anti-entropy within the test: only `store sync` reconciles.
  auto cluster = StartMesh(2, std::chrono::hours(1));
  ASSERT_NE(cluster, nullptr);
  auto store = CreateStoreEverywhere(*cluster, 0, "notes", Range(2));
  ASSERT_TRUE(store.ok()) << store.status();
  auto peer = cluster->NodeId(1);
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(cluster->WaitForPeersConnected(0, 1, 20s).ok());

  // Node 1 takes part in reconciliations once it has bootstrapped the new store from node 0
  // (it refuses them until then, and node 0 makes the store durable within its sync bound).
  CommandResult synced;
  ASSERT_TRUE(WaitFor(
      [&] {
        synced = cluster->Ctl(0, {"--json", "store", "sync", *store, "--wait"});
        return synced.exit_code == 0 || synced.err.find("still bootstrapping") == std::string::npos;
      },
      20s))
      << synced.err;
  ASSERT_EQ(synced.exit_code, 0) << synced.err;
  auto report = nlohmann::json::parse(synced.out);
  EXPECT_TRUE(report["ok"].get<bool>()) << synced.out;
  ASSERT_EQ(report["results"].size(), 1u) << synced.out;
  EXPECT_EQ(report["results"][0]["node_id"], *peer);
  EXPECT_TRUE(report["results"][0]["ok"].get<bool>());
  EXPECT_GE(report["results"][0]["rounds"].get<uint64_t>(), 1u);
  auto status = StoreStatus(*cluster, 0, *store);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ((*status)["peers"].size(), 1u);
  EXPECT_GT((*status)["peers"][0]["last_sync_ms"].get<uint64_t>(), 0u);

  // Unreachable: a sync with that peer cannot finish, and says so with a non-zero exit.
  cluster->relay().Cut(0, 1);
  ASSERT_TRUE(WaitFor([&] { return cluster->relay().Connections(0, 1) == 0; }, 20s));
  CommandResult failed =
      cluster->Ctl(0, {"store", "sync", *store, "--peer", *peer, "--wait", "--timeout", "3s"});
  EXPECT_NE(failed.exit_code, 0) << failed.out;
  EXPECT_FALSE(failed.err.empty() && failed.out.empty());
  cluster->relay().Heal(0, 1);
}

}  // namespace
}  // namespace lattice::testing
