// Presence between nodes in one process (real nodes and replicators on the in-memory
// network): an announcement reaches the other nodes of its store within moments, so do its
// changes and its withdrawal, a node that links later is sent what is live, an entry whose
// announcer stops renewing it goes everywhere, and nothing of it enters the store's log.
#include <gtest/gtest.h>

#include "lattice/common/ids.h"
#include "presence/presence_hub.h"
#include "unit/replication/mesh_fixture.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;

class PresenceGossipTest : public MeshTest {
 protected:
  void SetUp() override {
    UseQuickTimings();
  }

  // Creates a chat store in n0's mesh and waits until every node has it; its raw id.
  std::string CreateStore(const std::string& name) {
    auto d = nodes_[0]->node->CreateStore(name, StoreType::kChat, nodes_[0]->node->own_mesh_id());
    EXPECT_TRUE(d.ok()) << d.status();
    EXPECT_TRUE(Eventually([&] {
      for (auto& n : nodes_) {
        if (n->node->StoreById(d->id) == nullptr) return false;
      }
      return true;
    })) << "the new store did not reach every node";
    return d->id;
  }

  // The value of `origin`'s live entry `key` in `store` as `n` holds it; nullopt when none.
  std::optional<std::string> Seen(MeshNode& n, const std::string& store, const std::string& origin,
                                  const std::string& key) {
    for (const auto& a : n.replicator->presence_hub().LiveAnnouncements(store)) {
      if (a.origin() == origin && a.key() == key) return a.value();
    }
    return std::nullopt;
  }
};

TEST_F(PresenceGossipTest, AnnouncementsChangesAndWithdrawalsReachTheOtherNodes) {
  MakeMesh(3);
  std::string store = CreateStore("irc");
  auto& hub = nodes_[0]->replicator->presence_hub();
  uint64_t log_before = nodes_[1]->node->StoreById(store)->last_witness();
  ASSERT_TRUE(hub.Announce(store, "member/#lobby/alice", "", 60'000).ok());
  for (size_t i : {1, 2}) {
    EXPECT_TRUE(Eventually([&] {
      return Seen(*nodes_[i], store, nodes_[0]->id(), "member/#lobby/alice") == "";
    }, 5s)) << "node " << i << " did not see the announcement";
  }
  ASSERT_TRUE(hub.Announce(store, "member/#lobby/alice", "away", 60'000).ok());
  EXPECT_TRUE(Eventually([&] {
    return Seen(*nodes_[2], store, nodes_[0]->id(), "member/#lobby/alice") == "away";
  }, 5s));
  ASSERT_TRUE(hub.Announce(store, "member/#lobby/alice", "", 0).ok());
  for (size_t i : {1, 2}) {
    EXPECT_TRUE(Eventually([&] {
      return !Seen(*nodes_[i], store, nodes_[0]->id(), "member/#lobby/alice");
    }, 5s)) << "node " << i << " kept a withdrawn entry";
  }
  // Presence is never written to the store.
  EXPECT_EQ(nodes_[1]->node->StoreById(store)->last_witness(), log_before);
}

TEST_F(PresenceGossipTest, ANodeThatLinksLaterIsSentWhatIsLive) {
  MakeMesh(2);
  std::string store = CreateStore("irc");
  ASSERT_TRUE(nodes_[0]->replicator->presence_hub().Announce(store, "member/#lobby/alice", "", 60'000).ok());
  ASSERT_TRUE(nodes_[1]->replicator->presence_hub().Announce(store, "member/#lobby/bob", "", 60'000).ok());
  ASSERT_TRUE(Eventually([&] {
    return Seen(*nodes_[0], store, nodes_[1]->id(), "member/#lobby/bob").has_value();
  }, 5s));
  // n2 joins after both announced (and neither renews): it hears both, n1's through n0 or
  // from n1 itself.
  AddNode("n2");
  Join(*nodes_[0], *nodes_[2]);
  ASSERT_TRUE(Eventually([&] { return nodes_[2]->node->StoreById(store) != nullptr; }));
  // Its links may have come up before it held the store: it asks once it does.
  EXPECT_TRUE(Eventually([&] {
    return Seen(*nodes_[2], store, nodes_[0]->id(), "member/#lobby/alice").has_value() &&
           Seen(*nodes_[2], store, nodes_[1]->id(), "member/#lobby/bob").has_value();
  }, 5s));
}

TEST_F(PresenceGossipTest, AnEntryAnnouncedBeforeAPeerHeldItsStoreReachesItOnceItDoes) {
  MakeMesh(3);
  ASSERT_TRUE(Eventually([&] {
    for (auto& n : nodes_) {
      if (n->replicator->connected_count() != 2) return false;
    }
    return true;
  }));
  // Announced at once: the other nodes do not hold the store yet and drop the gossip.
  auto d = nodes_[0]->node->CreateStore("irc", StoreType::kChat, nodes_[0]->node->own_mesh_id());
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(
      nodes_[0]->replicator->presence_hub().Announce(d->id, "member/#lobby/alice", "", 60'000).ok());
  for (size_t i : {1, 2}) {
    EXPECT_TRUE(Eventually([&] {
      return Seen(*nodes_[i], d->id, nodes_[0]->id(), "member/#lobby/alice").has_value();
    }, 5s)) << "node " << i << " never got the entry announced before it held the store";
  }
}

TEST_F(PresenceGossipTest, AnEntryNotRenewedGoesOnEveryNode) {
  MakeMesh(2);
  std::string store = CreateStore("irc");
  ASSERT_TRUE(nodes_[0]->replicator->presence_hub().Announce(store, "away/alice", "lunch", 1000).ok());
  ASSERT_TRUE(Eventually([&] {
    return Seen(*nodes_[1], store, nodes_[0]->id(), "away/alice") == "lunch";
  }, 5s));
  EXPECT_TRUE(Eventually([&] {
    return !Seen(*nodes_[1], store, nodes_[0]->id(), "away/alice") &&
           !Seen(*nodes_[0], store, nodes_[0]->id(), "away/alice");
  }, 5s));
}

}  // namespace
}  // namespace lattice::kernel::testing
