// Replication between nodes in one process over the in-memory transport: joins, gossip,
// anti-entropy after lost messages and partitions, dependency fetches, bootstrap, forks,
// unusable payloads and revocation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lattice/common/hex.h"
#include "lattice/common/ids.h"
#include "state/kv_state.h"
#include "unit/replication/mesh_fixture.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;

class ReplicationTest : public MeshTest {
 protected:
  void SetUp() override {
    options_.sync_interval = 300ms;
    options_.tick = 50ms;
    options_.min_dial_backoff = 50ms;
    options_.max_dial_backoff = 500ms;
    options_.misbehaviour_backoff = 2s;
  }

  // Creates a kv store in n0's mesh and waits until every node has it.
  std::string CreateStore(const std::string& name) {
    auto d = nodes_[0]->node->CreateStore(name, StoreType::kKv, nodes_[0]->node->own_mesh_id());
    EXPECT_TRUE(d.ok()) << d.status();
    std::string id = FormatStoreId(d->id);
    EXPECT_TRUE(Eventually([&] {
      for (auto& n : nodes_) {
        if (StoreOf(*n, id) == nullptr) return false;
        for (const auto& record : n->replicator->Bootstraps()) {
          if (FormatStoreId(record.store_id()) == id && !record.done()) return false;
        }
      }
      return true;
    })) << "the new store did not reach every node";
    return id;
  }
};

TEST_F(ReplicationTest, JoinedNodesReplicateWritesBothWaysAndAgreeOnPeers) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  Put(*nodes_[1], store, "from-1", "one");
  Put(*nodes_[2], store, "from-2", "two");
  Put(*nodes_[0], store, "from-0", "zero");
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  for (auto& n : nodes_) {
    EXPECT_EQ(Get(*n, store, "from-0"), "zero") << n->name;
    EXPECT_EQ(Get(*n, store, "from-1"), "one") << n->name;
    EXPECT_EQ(Get(*n, store, "from-2"), "two") << n->name;
  }
  // Every node lists the same three active members with their names.
  for (auto& n : nodes_) {
    std::set<std::string> names;
    for (const auto& view : n->replicator->Peers(nodes_[0]->node->own_mesh_id())) {
      if (view.member.status == "active") names.insert(view.member.name);
    }
    EXPECT_EQ(names, (std::set<std::string>{"n0", "n1", "n2"})) << n->name;
  }
}

TEST_F(ReplicationTest, AnInviteIsSingleUseAndExpires) {
  AddNode("a");
  AddNode("b");
  AddNode("c");
  auto invite = nodes_[0]->replicator->Invite(nodes_[0]->node->own_mesh_id(), 60'000);
  ASSERT_TRUE(invite.ok());
  ASSERT_TRUE(nodes_[1]->replicator->Join(invite->token, "b", 10s).ok());
  auto again = nodes_[2]->replicator->Join(invite->token, "c", 5s);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.status().message()), ::testing::HasSubstr("already used"));
  auto short_lived = nodes_[0]->replicator->Invite(nodes_[0]->node->own_mesh_id(), 1);
  ASSERT_TRUE(short_lived.ok());
  std::this_thread::sleep_for(5ms);  // the invite's own 1 ms lifetime, not a wait for an event
  auto expired = nodes_[2]->replicator->Join(short_lived->token, "c", 5s);
  ASSERT_FALSE(expired.ok());
  EXPECT_THAT(std::string(expired.status().message()), ::testing::HasSubstr("expired"));
}

TEST_F(ReplicationTest, ALostPushArrivesThroughPeriodicAntiEntropy) {
  MakeMesh(2);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  network_->DropNextPayloads("n0", "n1", 1);
  Put(*nodes_[0], store, "lost", "but found");
  // Nothing else is written: only the periodic reconciliation can bring it.
  EXPECT_TRUE(Eventually([&] { return Get(*nodes_[1], store, "lost") == "but found"; }));
}

TEST_F(ReplicationTest, PartitionedWritesConvergeAfterHealWithConflictsEverywhere) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  network_->Cut("n2", "n0");
  network_->Cut("n2", "n1");
  Put(*nodes_[0], store, "same", "from the majority");
  Put(*nodes_[2], store, "same", "from the minority");
  Put(*nodes_[1], store, "left", "l");
  Put(*nodes_[2], store, "right", "r");
  ASSERT_TRUE(WaitConverged({nodes_[0].get(), nodes_[1].get()}, store));
  EXPECT_EQ(Get(*nodes_[0], store, "right"), "");
  network_->Heal("n2", "n0");
  network_->Heal("n2", "n1");
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  std::set<std::string> heads_seen;
  for (auto& n : nodes_) {
    EXPECT_EQ(Get(*n, store, "left"), "l");
    EXPECT_EQ(Get(*n, store, "right"), "r");
    auto heads = ReadHeads(StoreOf(*n, store)->db(), "same");
    ASSERT_TRUE(heads.ok());
    EXPECT_EQ(heads->heads_size(), 2) << n->name << " should show the conflict";
    std::string both;
    for (const auto& h : heads->heads()) both += ToHex(h.hash());
    heads_seen.insert(both);
  }
  EXPECT_EQ(heads_seen.size(), 1u) << "the same heads, in the same order, on every node";
}

TEST_F(ReplicationTest, AStarOfOneHubAndFourLeavesConverges) {
  MakeMesh(5);  // n0 is the hub: every leaf joined through it
  std::string store = CreateStore("notes");
  // Leaves reach each other only through the hub.
  for (int a = 1; a < 5; ++a) {
    for (int b = a + 1; b < 5; ++b) network_->Cut("n" + std::to_string(a), "n" + std::to_string(b));
  }
  for (int i = 1; i < 5; ++i) Put(*nodes_[i], store, "leaf" + std::to_string(i), "v");
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  for (auto& n : nodes_) {
    for (int i = 1; i < 5; ++i) EXPECT_EQ(Get(*n, store, "leaf" + std::to_string(i)), "v");
  }
}

TEST_F(ReplicationTest, AMissingDependencyOfAnotherAuthorIsFetched) {
  // No periodic reconciliation: only the fetch of the missing dependency can fill the gap.
  options_.sync_interval = std::chrono::hours(1);
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  // n1's write never reaches n2 directly, and n0's push of it to n2 is lost too; n0 then
  // writes on top of it, so n2 receives an intention whose dependency it lacks.
  network_->Cut("n1", "n2");
  network_->DropNextPayloads("n0", "n2", 1);
  Put(*nodes_[1], store, "base", "b");
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[0], store, "base") == "b"; }));
  Put(*nodes_[0], store, "top", "t");
  EXPECT_TRUE(Eventually([&] {
    return Get(*nodes_[2], store, "top") == "t" && Get(*nodes_[2], store, "base") == "b";
  }));
  EXPECT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
}

TEST_F(ReplicationTest, AStoppedNodeCatchesUpAndAJoinerBootstrapsEverything) {
  MakeMesh(2);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  StopNode(*nodes_[1]);
  for (int i = 0; i < 300; ++i) Put(*nodes_[0], store, "k" + std::to_string(i), "v");
  StartNode(*nodes_[1]);
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  EXPECT_EQ(Get(*nodes_[1], store, "k299"), "v");
  // A third node joins later and receives the root and the store by bootstrap.
  AddNode("late");
  Join(*nodes_[0], *nodes_.back());
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
  ASSERT_TRUE(WaitConverged(All(), FormatStoreId(nodes_[0]->node->own_mesh_id())));
  // The store came by bootstrap (its progress is saved just after the last chunk applies).
  EXPECT_TRUE(Eventually([&] {
    for (const auto& record : nodes_.back()->replicator->Bootstraps()) {
      if (FormatStoreId(record.store_id()) == store) return record.done() && record.received() == 300;
    }
    return false;
  }));
}

}  // namespace
}  // namespace lattice::kernel::testing
