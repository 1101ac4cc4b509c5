// What a node lacks while a store's pushes are in flight is nearly always on its way to it
// from the node that wrote it. These tests delay one node's pushes to another and check
// that neither a reconciliation nor a dependency fetch brings the same intention a second
// time meanwhile, and that a reconciliation someone waits for still fetches at once.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "lattice/v1/intention.pb.h"
#include "lattice/v1/replication.pb.h"
#include "replication/peer_message.h"
#include "replication/replication_limits.h"
#include "state/kv_state.h"
#include "unit/replication/mesh_fixture.h"

namespace lattice::kernel::testing {
namespace {

using namespace std::chrono_literals;

// Longer than any delay below: a fetch waits for the pushes at most this long.
constexpr auto kGapHold = 8s;
// How late the delayed node's pushes arrive.
constexpr auto kPushDelay = 3s;

class PushesInFlightTest : public MeshTest {
 protected:
  void SetUp() override {
    UseQuickTimings();
    // Pushes never settle within a test, so reconciliations run only once their hold has
    // passed (every 300 ms + 500 ms): several of them while a delayed push is on its way,
    // each finding it missing where it is late.
    options_.sync_settle = 60s;
    options_.max_sync_hold = 500ms;
    options_.max_gap_hold = kGapHold;
  }

  // Writes on `from` until one of its writes reaches `to` in a push. Then pushes flow
  // between them (just after a mesh forms two nodes can hold two links for a moment, and a
  // push sent on the one being closed is lost), and `to` has received a push of the store,
  // which holds its fetches from here on.
  bool Pushing(MeshNode& from, MeshNode& to, const std::string& store);

  // n0 writes "top" over "base"; how long until n2 holds both (nullopt: not in 20 s).
  std::optional<std::chrono::steady_clock::duration> TopReachesN2WithBase(
      const std::string& store) {
    auto written = std::chrono::steady_clock::now();
    Put(*nodes_[0], store, "top", "t");
    if (!Eventually([&] {
          return Get(*nodes_[2], store, "top") == "t" && Get(*nodes_[2], store, "base") == "b";
        })) {
      return std::nullopt;
    }
    return std::chrono::steady_clock::now() - written;
  }

  // The hash of the intention that last wrote `key` on `n`.
  std::string HeadOf(MeshNode& n, const std::string& store, const std::string& key) {
    auto heads = ReadHeads(StoreOf(n, store)->db(), key);
    if (!heads.ok() || heads->heads_size() == 0) return "";
    return heads->heads(0).hash();
  }

  int written_ = 0;
};

// Watches what `from` sends to `to` (dropping nothing) and counts what `counts` finds in
// each message.
std::shared_ptr<std::atomic<int>> Watch(net::InMemoryNetwork& network, const std::string& from,
                                        const std::string& to,
                                        std::function<int(const v1::PeerMessage&)> counts) {
  auto seen = std::make_shared<std::atomic<int>>(0);
  network.DropPayloadsWhere(from, to, [seen, counts](std::string_view payload) {
    v1::PeerMessage message;
    if (message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      *seen += counts(message);
    }
    return false;
  });
  return seen;
}

// Intentions of `store_id` written by `author`, in pushes and fetch answers.
std::function<int(const v1::PeerMessage&)> IntentionsOf(const std::string& store_id,
                                                        const std::string& author) {
  return [store_id, author](const v1::PeerMessage& message) {
    const auto& intentions = message.has_push() ? message.push().intentions()
                                                : message.fetched().intentions();
    int found = 0;
    for (const auto& intention : intentions) {
      v1::Intention body;
      found += body.ParseFromString(intention.body()) && body.store_id() == store_id &&
               body.author() == author;
    }
    return found;
  };
}

// Fetch requests that ask for `hash`.
std::function<int(const v1::PeerMessage&)> RequestsFor(const std::string& hash) {
  return [hash](const v1::PeerMessage& message) {
    int found = 0;
    for (const auto& asked : message.fetch().hashes()) found += asked == hash;
    return found;
  };
}

bool PushesInFlightTest::Pushing(MeshNode& from, MeshNode& to, const std::string& store) {
  std::string store_id = StoreOf(from, store)->id();
  auto pushed = Watch(*network_, from.name, to.name, [store_id](const v1::PeerMessage& message) {
    return message.push().store_id() == store_id ? message.push().intentions_size() : 0;
  });
  bool ok = Eventually([&] {
    std::string key = "warm-up-" + std::to_string(written_++);
    Put(from, store, key, "x");
    return Eventually([&] { return Get(to, store, key) == "x"; }) && pushed->load() > 0;
  });
  network_->DropPayloadsWhere(from.name, to.name, {});
  return ok;
}

TEST_F(PushesInFlightTest, WhatAReconciliationFindsWhileItsPushIsOnTheWayIsNotSentAgain) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  ASSERT_TRUE(Pushing(*nodes_[2], *nodes_[1], store));
  auto n0_to_n1 = Watch(*network_, "n0", "n1",
                        IntentionsOf(StoreOf(*nodes_[1], store)->id(), nodes_[2]->id()));
  network_->SetDelay("n2", "n1", kPushDelay);
  auto written = std::chrono::steady_clock::now();
  Put(*nodes_[2], store, "x", "late");
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[1], store, "x") == "late"; }));
  EXPECT_GE(std::chrono::steady_clock::now() - written, kPushDelay)
      << "only n2's own push brought it to n1";
  // n0 and n1 reconciled several times while the push was on its way and found n1 lacking
  // it: n0 offered it or n1 deferred its fetch, and neither sent it.
  EXPECT_EQ(n0_to_n1->load(), 0);
  network_->SetDelay("n2", "n1", 0s);
  ASSERT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
}

TEST_F(PushesInFlightTest, ADependencyAPushCitesIsNotFetchedWhenItsOwnPushBringsIt) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  ASSERT_TRUE(Pushing(*nodes_[1], *nodes_[2], store));
  ASSERT_TRUE(Pushing(*nodes_[0], *nodes_[2], store));
  // n1's write reaches n2 late; n0 writes on top of it, and its push reaches n2 at once:
  // n2 holds an intention whose dependency is still on its way.
  network_->SetDelay("n1", "n2", kPushDelay);
  Put(*nodes_[1], store, "base", "b");
  std::string base = HeadOf(*nodes_[1], store, "base");
  ASSERT_FALSE(base.empty());
  auto asked_n0 = Watch(*network_, "n2", "n0", RequestsFor(base));
  auto asked_n1 = Watch(*network_, "n2", "n1", RequestsFor(base));
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[0], store, "base") == "b"; }));
  auto took = TopReachesN2WithBase(store);
  ASSERT_TRUE(took.has_value());
  EXPECT_LT(*took, kGapHold) << "the push brought base";
  EXPECT_EQ(asked_n0->load() + asked_n1->load(), 0)
      << "n2 waited for the push of the dependency instead of fetching it";
  network_->SetDelay("n1", "n2", 0s);
  EXPECT_TRUE(WaitConverged(All(), store)) << Describe(All(), store);
}

TEST_F(PushesInFlightTest, ADependencyThatNoPushBringsIsFetchedOnceTheHoldHasPassed) {
  options_.sync_interval = std::chrono::hours(1);
  options_.max_gap_hold = 1s;
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  network_->Cut("n1", "n2");
  ASSERT_TRUE(Eventually([&] {
    for (const auto& view : nodes_[1]->replicator->Peers("")) {
      if (view.member.node_id == nodes_[2]->id()) return !view.connected;
    }
    return true;
  }));
  // n0's forward of base to n2 is lost.
  std::string author = nodes_[1]->id();
  network_->DropPayloadsWhere("n0", "n2", [author](std::string_view payload) {
    v1::PeerMessage message;
    if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return false;
    for (const auto& intention : message.push().intentions()) {
      v1::Intention body;
      if (body.ParseFromString(intention.body()) && body.author() == author) return true;
    }
    return false;
  });
  Put(*nodes_[1], store, "base", "b");
  std::string base = HeadOf(*nodes_[1], store, "base");
  auto asked = Watch(*network_, "n2", "n0", RequestsFor(base));
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[0], store, "base") == "b"; }));
  auto took = TopReachesN2WithBase(store);
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, options_.max_gap_hold);
  EXPECT_EQ(asked->load(), 1) << "asked for once, after the hold";
}

TEST_F(PushesInFlightTest, AReconciliationSomeoneWaitsForFetchesAtOnce) {
  MakeMesh(3);
  std::string store = CreateStore("notes");
  ASSERT_TRUE(WaitConverged(All(), store));
  Put(*nodes_[0], store, "before", "b");
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[1], store, "before") == "b"; }));
  network_->SetDelay("n2", "n1", std::chrono::minutes(10));
  Put(*nodes_[2], store, "x", "late");
  ASSERT_TRUE(Eventually([&] { return Get(*nodes_[0], store, "x") == "late"; }));
  auto reports = nodes_[1]->replicator->SyncNow(StoreOf(*nodes_[1], store)->id(),
                                                nodes_[0]->id(), 20s);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].ok) << reports[0].error;
  EXPECT_EQ(Get(*nodes_[1], store, "x"), "late") << "the sync brought it, not the push";
  network_->SetDelay("n2", "n1", 0s);
}

TEST(IntentionOffer, AnOfferOfTooManyHashesOrOfMalformedOnesIsRefused) {
  v1::PeerMessage message;
  message.mutable_offer()->set_store_id(std::string(16, 's'));
  for (size_t i = 0; i <= replication::limits::kMaxHashesPerFetch; ++i) {
    message.mutable_offer()->add_hashes(std::string(32, 'h'));
  }
  auto parsed = replication::ParsePeerMessage(message.SerializeAsString());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("offer"), std::string::npos) << parsed.status();
  message.mutable_offer()->mutable_hashes()->DeleteSubrange(1, message.offer().hashes_size() - 1);
  EXPECT_TRUE(replication::ParsePeerMessage(message.SerializeAsString()).ok());
  message.mutable_offer()->set_hashes(0, std::string(31, 'h'));
  EXPECT_FALSE(replication::ParsePeerMessage(message.SerializeAsString()).ok());
}

}  // namespace
}  // namespace lattice::kernel::testing
